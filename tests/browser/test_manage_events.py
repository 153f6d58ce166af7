"""An organiser plans an event with a meal in a real browser, and publishes it.

Checked with axe-core on every organisers' page visited, in Dutch and in English. The
Dutch run finds things by their ids and names, so it holds before and after the Dutch
catalog translates the new words; the English run finds fields by their labels.
"""

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from cooperative.extensions import db
from cooperative.models import Event, EventStatus
from tests.browser.conftest import open_menu
from tests.factories import make_collective, make_organiser


@pytest.fixture
def organiser(app):
    with app.app_context():
        collective = make_collective("zonnedak-oost", "Zonnedak Oost")
        make_organiser(collective, email="olga@example.org")


def log_in(page, live_server, lang: str) -> None:
    page.goto(f"{live_server}/auth/login?lang={lang}")
    page.locator("#email").fill("olga@example.org")
    page.locator("#password").fill("correct horse battery")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile("/account/$"))


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_an_organiser_creates_and_publishes_an_event_with_a_meal(
    page, live_server, app, organiser, assert_accessible, lang
):
    english = lang == "en"

    def field(label: str, field_id: str):
        """An input found by its label in English (so labels must be tied to it)."""
        return page.get_by_label(label, exact=True) if english else page.locator(f"#{field_id}")

    log_in(page, live_server, lang)
    open_menu(page)
    page.locator('nav a[href="/manage/events"]').click()
    expect(page).to_have_url(re.compile("/manage/events$"))
    assert_accessible(page)

    page.locator('main a[href="/manage/events/new"]').click()
    expect(page).to_have_url(re.compile("/manage/events/new$"))
    assert_accessible(page)

    field("Title", "title").fill("Soep en zon")
    field("Summary", "summary").fill("Samen eten en praten over zonnepanelen.")
    field("Starts", "starts_at").fill("2030-06-12T17:30")
    field("Ends", "ends_at").fill("2030-06-12T21:00")
    field("Venue", "venue").fill("Buurthuis Oost")
    field("Number of seats", "capacity").fill("40")

    # The meal is added in place by htmx: the page is not loaded again.
    page.evaluate("window.stillTheSamePage = true")
    add_meal = (
        page.get_by_role("button", name="Add a meal")
        if english
        else page.locator('button[name="add_meal"]')
    )
    add_meal.click()
    meal_name = field("Name of the meal", "meals-0-name")
    expect(meal_name).to_be_visible()
    expect(meal_name).to_be_focused()
    assert page.evaluate("window.stillTheSamePage === true")
    expect(field("Title", "title")).to_have_value("Soep en zon")
    expect(field("Starts", "starts_at")).to_have_value("2030-06-12T17:30")
    assert_accessible(page)

    save = (
        page.get_by_role("button", name="Save as draft")
        if english
        else page.locator('main button[name="save"]:not(.visually-hidden)')
    )
    # Saving without the meal's name: the message comes next to it, and the focus too.
    save.click()
    expect(page.locator("#meals-0-name-error")).to_be_visible()
    expect(meal_name).to_be_focused()
    expect(field("Venue", "venue")).to_have_value("Buurthuis Oost")
    assert page.evaluate("window.stillTheSamePage === true")
    assert_accessible(page)

    meal_name.fill("Soep vanaf 17:30")
    field("Price per meal", "meals-0-price").fill("4,50")
    field("Number of meals", "meals-0-capacity").fill("30")
    page.locator("#meals-0-diets-0").check()  # vegetarian
    save.click()

    expect(page).to_have_url(re.compile(r"/manage/events/\d+/edit$"))
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(".event-status-draft")).to_be_visible()
    assert_accessible(page)

    page.locator('main form[action$="/publish"] button').click()
    expect(page.locator(".event-status-published")).to_be_visible()
    assert_accessible(page)
    with app.app_context():
        event = db.session.scalar(sa.select(Event).where(Event.title == "Soep en zon"))
        assert event.status == EventStatus.PUBLISHED
        assert [(m.name, m.price_cents) for m in event.meal_options] == [("Soep vanaf 17:30", 450)]

    page.locator('main a[href$="/cancel"]').click()
    expect(page).to_have_url(re.compile(r"/manage/events/\d+/cancel$"))
    assert_accessible(page)
    page.go_back()

    page.locator('main a[href="/events/soep-en-zon"]').click()
    expect(page).to_have_url(re.compile("/events/soep-en-zon$"))
    expect(page.get_by_role("heading", name="Soep en zon", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Soep vanaf 17:30")).to_be_visible()
