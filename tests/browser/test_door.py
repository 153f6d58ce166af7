"""At the door of the launch evening, on a phone: find a party, check it in, take the money,
download the list. Checked with axe-core on every page visited.

The launch evening is the cooperative's own (no host collective), so its organiser is the
cooperative's staff: the demo admin account.
"""

import csv
import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from cooperative.extensions import db
from cooperative.models import Attendee, Event, Payment, PaymentProvider, utcnow
from cooperative.services.demo import seed_demo
from cooperative.services.registration import PersonChoice
from tests.browser.conftest import open_menu
from tests.factories import make_registration

LAUNCH = "lancering-samenwerking-collectieven"


@pytest.fixture
def launch(app):
    """The demo data, and three parties for the launch evening's dinner."""
    with app.app_context():
        seed_demo()
        db.session.commit()
        event = db.session.scalar(sa.select(Event).where(Event.slug == LAUNCH))
        dinner = event.meal_options[0].id
        make_registration(
            event,
            [
                PersonChoice("Fatima Yilmaz", dinner, ["halal"]),
                PersonChoice("Yusuf Yilmaz", dinner, ["halal"]),
                PersonChoice("Elif Yilmaz", dinner, ["vegetarian"], "Geen noten"),
            ],
            email="fatima@example.org",
        )
        make_registration(event, ["Jan de Vries"], email="jan@example.org")
        make_registration(
            event, [PersonChoice("Marieke Bos", dinner, ["vegan"])], email="marieke@example.org"
        )
        return event.id


def log_in(page, live_server) -> None:
    page.goto(f"{live_server}/auth/login?lang=en")
    page.get_by_label("E-mail address").fill("admin@meentcoop.example")
    page.get_by_label("Password", exact=True).fill("demo-admin-2026")
    page.get_by_role("button", name="Log in").click()


def test_an_organiser_checks_in_a_party_and_takes_the_money_at_the_door(
    page, live_server, app, launch, assert_accessible
):
    page.goto(f"{live_server}/auth/login?lang=en")
    assert_accessible(page)
    page.get_by_label("E-mail address").fill("admin@meentcoop.example")
    page.get_by_label("Password", exact=True).fill("demo-admin-2026")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile("/account/$"))
    assert_accessible(page)

    open_menu(page)
    page.get_by_role("link", name="Manage").click()
    expect(page).to_have_url(re.compile("/manage/events$"))
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(r"^Attendance list\W+Lancering")).click()
    expect(page).to_have_url(re.compile(f"/manage/events/{launch}/attendees$"))
    expect(page.get_by_role("heading", name=re.compile("^Attendance: Lancering"))).to_be_visible()
    checked_in = page.locator("#checked-in-count")
    expect(checked_in).to_have_text("0")
    expect(page.locator(".party")).to_have_count(3)
    assert_accessible(page)

    # Search as you type: only the list changes, and the address keeps the search.
    page.get_by_label("Search", exact=True).fill("yilmaz")
    expect(page.locator(".party")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=yilmaz"))
    expect(page.locator("#attendance-status")).to_have_text("1 party, 3 people")
    party = page.locator(".party").first
    expect(party.get_by_role("heading", name="Fatima Yilmaz")).to_be_visible()
    assert_accessible(page)

    check_in_all = party.get_by_role("button", name="Check in all 3 of the party of Fatima Yilmaz")
    box = check_in_all.bounding_box()
    assert box["height"] >= 48  # a big target for a thumb
    check_in_all.click()

    party = page.locator("#party-" + party.get_attribute("id").split("-")[1])
    expect(party.get_by_role("button", name=re.compile("^Undo the check-in of"))).to_have_count(3)
    expect(checked_in).to_have_text("3")  # the counters follow, without reloading the page
    expect(page.locator("#attendance-status")).to_have_text(
        "3 people of the party of Fatima Yilmaz are checked in."
    )
    assert_accessible(page)

    # Fatima pays the three dinners (pay what you can, €5 suggested) at the door.
    party.get_by_role(
        "button", name="Paid €15.00 at the door by the party of Fatima Yilmaz"
    ).click()
    expect(party.locator(".party-payment")).to_have_text("Paid at the door €15.00")
    page.get_by_text("Kitchen and money").click()
    expect(page.locator("#kitchen-summary")).to_contain_text("Received at the door€15.00")
    assert_accessible(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as CSV").click()
    download = download_info.value
    assert download.suggested_filename == f"{LAUNCH}-attendees.csv"
    with open(download.path(), encoding="utf-8-sig", newline="") as spreadsheet:
        rows = list(csv.DictReader(spreadsheet))
    assert [row["Name"] for row in rows] == ["Fatima Yilmaz", "Yusuf Yilmaz", "Elif Yilmaz"]
    assert all(row["Checked in by"] == "Anna Admin" for row in rows)
    assert rows[2]["Note for the kitchen"] == "Geen noten"
    assert rows[0]["Payment"] == "Paid at the door €15.00"

    with app.app_context():
        people = db.session.scalars(sa.select(Attendee).where(Attendee.name.like("% Yilmaz"))).all()
        assert all(person.checked_in_at is not None for person in people)
        [payment] = db.session.scalars(sa.select(Payment)).all()
        assert (payment.provider, payment.amount_cents) == (PaymentProvider.DOOR, 1500)


def test_two_volunteers_see_each_others_check_ins_within_seconds(
    page, browser, live_server, launch, assert_accessible
):
    other = browser.new_context(viewport={"width": 390, "height": 844})
    second = other.new_page()
    second.set_default_timeout(10_000)
    try:
        for phone in (page, second):
            log_in(phone, live_server)
            expect(phone).to_have_url(re.compile("/account/$"))
            phone.goto(f"{live_server}/manage/events/{launch}/attendees")
        expect(page.locator("#checked-in-count")).to_have_text("0")

        second.get_by_role("button", name="Check in Jan de Vries").click()
        expect(second.locator("#checked-in-count")).to_have_text("1")

        # The first phone did nothing: its list and counters poll.
        jan = page.locator(".party", has=page.get_by_role("heading", name="Jan de Vries"))
        expect(jan.get_by_text(re.compile("^In at .*, by Anna Admin$"))).to_be_visible()
        expect(page.locator("#checked-in-count")).to_have_text("1")
        assert_accessible(page)
        # The first phone now offers to undo it, not to check Jan in a second time.
        expect(jan.get_by_role("button", name="Undo the check-in of Jan de Vries")).to_be_visible()
    finally:
        other.close()


def test_a_long_list_in_pages_that_each_poll_themselves(
    page, live_server, app, launch, assert_accessible
):
    """52 more parties: two pages. "Next page" swaps only the list and puts the page in the
    address; the list then polls that page, not the first."""
    with app.app_context():
        event = db.session.get(Event, launch)
        event.capacity = None
        db.session.commit()
        parties = [
            make_registration(event, [f"Gast {number:02d}"], email=f"gast{number}@example.org")
            for number in range(1, 53)
        ]
        last = parties[-1].attendees[0].id
    log_in(page, live_server)
    expect(page).to_have_url(re.compile("/account/$"))
    page.goto(f"{live_server}/manage/events/{launch}/attendees")
    expect(page.locator(".party")).to_have_count(50)
    expect(page.get_by_role("heading", name="55 parties, 57 people")).to_be_visible()

    page.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"/attendees\?page=2$"))
    expect(page.locator(".party")).to_have_count(5)
    # Fatima Yilmaz and Gast 01 to 49 are on the first page.
    expect(page.locator(".party-name").first).to_have_text("Gast 50")
    expect(page.locator("#attendance-status")).to_have_text("55 parties, 57 people. Page 2 of 2")
    expect(page.get_by_role("heading", name="55 parties, 57 people")).to_be_visible()
    assert_accessible(page)

    # Another volunteer checks in Gast 52, on this page: the polling shows it here.
    with app.app_context():
        db.session.get(Attendee, last).checked_in_at = utcnow()
        db.session.commit()
    gast = page.locator(".party", has=page.get_by_role("heading", name="Gast 52"))
    expect(gast.get_by_role("button", name="Undo the check-in of Gast 52")).to_be_visible()
    expect(page.locator(".party")).to_have_count(5)

    page.get_by_role("link", name="Previous page").click()
    expect(page).to_have_url(re.compile(r"/attendees$"))
    expect(page.locator(".party")).to_have_count(50)
