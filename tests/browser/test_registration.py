"""A guest registers a party with dinners, sees the tickets, and cancels one person:
with JavaScript (htmx) and without it, checked with axe-core on every page."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_event


@pytest.fixture
def dinner_event(app):
    with app.app_context():
        make_event(
            capacity=10,
            meals=[{"name": "Diner", "price_cents": 500, "capacity": 8}],
        )
    return "/events/buurtdiner"


def fill_party(page, english: bool) -> None:
    """Ada (vegetarian dinner), Bob (vegan dinner), Cas (no dinner)."""
    name = "Name" if english else "Naam"
    page.get_by_label("Your name" if english else "Je naam").fill("Ada de Vries")
    page.get_by_label("Your e-mail address" if english else "Je e-mailadres").fill(
        "ada@example.org"
    )
    people = [("Ada", "Vegetarian", "Vegetarisch"), ("Bob", "Vegan", "Veganistisch"), ("Cas",)]
    for index, person in enumerate(people):
        if index:
            page.get_by_role(
                "button", name="Add a person" if english else "Persoon toevoegen"
            ).click()
        fieldset = page.locator(f"#person-{index}")
        expect(fieldset).to_be_visible()
        fieldset.get_by_label(name, exact=True).fill(person[0])
        if len(person) > 1:
            fieldset.get_by_label(re.compile("^Diner")).check()
            fieldset.get_by_label(person[1] if english else person[2]).check()


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_guest_registers_three_people_and_cancels_one(
    page, live_server, dinner_event, assert_accessible, lang
):
    english = lang == "en"
    page.goto(f"{live_server}{dinner_event}?lang={lang}")
    expect(page.get_by_text("10 seats left" if english else "Nog 10 plaatsen")).to_be_visible()
    assert_accessible(page)

    fill_party(page, english)
    # The new person's name field has the cursor after "Add a person".
    total = page.locator("#registration-total")
    expect(total).to_contain_text("€10.00" if english else "€ 10,00")
    page.locator("#person-0").get_by_label(re.compile("^No meal|^Geen maaltijd")).check()
    expect(total).to_contain_text("€5.00" if english else "€ 5,00")
    page.locator("#person-0").get_by_label(re.compile("^Diner")).check()
    expect(total).to_contain_text("€10.00" if english else "€ 10,00")
    assert_accessible(page)

    page.get_by_role("button", name="Register" if english else "Aanmelden", exact=True).click()
    expect(page).to_have_url(re.compile(r"/r/\d+-"))
    expect(page.locator(".ticket-qr svg")).to_have_count(3)
    expect(page.get_by_text("7 seats left" if english else "Nog 7 plaatsen")).to_be_visible()
    assert_accessible(page)

    page.get_by_role(
        "link", name="Cancel the place of Cas" if english else "Annuleer de plek van Cas"
    ).click()
    assert_accessible(page)
    page.get_by_role("button", name="Yes, cancel" if english else "Ja, annuleren").click()
    expect(page.locator(".ticket-qr svg")).to_have_count(2)
    expect(page.get_by_text("8 seats left" if english else "Nog 8 plaatsen")).to_be_visible()
    assert_accessible(page)


def test_the_same_registration_without_javascript(browser, live_server, dinner_event):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server}{dinner_event}?lang=en")
        fill_party(page, english=True)
        expect(page.locator("#person-2")).to_be_visible()
        # Without JavaScript the total is drawn again by the server on "Add a person";
        # the final amount is on the private page.
        page.get_by_role("button", name="Register", exact=True).click()
        expect(page).to_have_url(re.compile(r"/r/\d+-"))
        expect(page.locator(".ticket-qr svg")).to_have_count(3)
        expect(page.get_by_text("€10.00")).to_be_visible()
        expect(page.get_by_text("7 seats left")).to_be_visible()

        page.get_by_role("link", name="Cancel the place of Cas").click()
        page.get_by_role("button", name="Yes, cancel").click()
        expect(page.get_by_text("8 seats left")).to_be_visible()
    finally:
        context.close()
