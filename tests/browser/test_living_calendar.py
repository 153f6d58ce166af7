"""Issue 17 in a browser, the living calendar: an organiser makes a weekly series (in
English, fields found by their labels) and its dates show on the organiser's page, once
with their rhythm in the public list, and link each other on the event page; a member
signs up for a kitchen slot on an event page and gives it up on the account page (in
Dutch). axe-core and a phone's width on every kind of page (`check_page`)."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from playwright.sync_api import expect

from cooperative.extensions import db
from cooperative.models import Event, EventSeries, TaskSignup
from tests.browser.conftest import log_in, log_out
from tests.factories import make_collective, make_event, make_member, make_organiser
from tests.volunteer_fixtures import make_task

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TUESDAY = 1


def next_tuesday():
    """The first Tuesday after today, in Amsterdam."""
    today = datetime.now(AMSTERDAM).date()
    return today + timedelta(days=(TUESDAY - today.weekday()) % 7 or 7)


def test_an_organiser_makes_a_weekly_series(page, live_server, app, check_page):
    with app.app_context():
        collective = make_collective("zonnedak-oost", "Zonnedak Oost")
        make_organiser(collective, email="olga@example.org", locale="en")
    first = next_tuesday()
    log_in(page, live_server, "olga@example.org", next_path="/manage/series/new", lang="en")
    expect(page).to_have_url(re.compile("/manage/series/new$"))
    check_page(page)

    def field(label: str):
        return page.get_by_label(label, exact=True)

    field("Title").fill("Soepavond")
    field("Summary").fill("Elke week samen soep eten.")
    page.get_by_label("Every week, or every few weeks").check()
    field("Weekday").select_option(label="Tuesday")
    field("Starting from").fill(first.isoformat())
    # A bad end: the last date before the first.
    field("Last date").fill((first - timedelta(days=7)).isoformat())
    field("Starts at").fill("18:30")
    field("Ends at").fill("21:00")
    field("Venue").fill("Buurthuis Oost")
    field("Number of seats").fill("30")
    page.get_by_role("button", name="Add a meal").click()
    expect(field("Name of the meal")).to_be_focused()
    field("Name of the meal").fill("Soep met brood")
    field("Price per meal").fill("3,50")
    field("Number of meals").fill("25")

    save = page.get_by_role("button", name="Save and put the dates online")
    save.click()
    until_error = page.locator("#until-error")
    expect(until_error).to_have_text("The last date cannot be before the first.")
    expect(field("Last date")).to_be_focused()
    expect(field("Last date")).to_have_attribute("aria-invalid", "true")
    expect(field("Title")).to_have_value("Soepavond")
    expect(field("Starting from")).to_have_value(first.isoformat())
    expect(field("Name of the meal")).to_have_value("Soep met brood")
    expect(page).to_have_url(re.compile("/manage/series/new$"))
    check_page(page)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(EventSeries.id))) == 0

    # Without an end: a series that goes on.
    field("Last date").fill("")
    save.click()
    expect(page).to_have_url(re.compile(r"/manage/series/\d+$"))
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.get_by_role("heading", name="Soepavond", level=1)).to_be_visible()
    with app.app_context():
        series = db.session.scalar(sa.select(EventSeries))
        events = db.session.scalars(
            sa.select(Event).where(Event.series_id == series.id).order_by(Event.starts_at)
        ).all()
        days = [event.occurrence_date for event in events]
        slugs = [event.slug for event in events]
        assert [(m.name, m.price_cents) for m in events[0].meal_options] == [
            ("Soep met brood", 350)
        ]
    # Eight weeks ahead: seven or eight Tuesdays, a week apart, from the first.
    assert len(days) in (7, 8)
    assert days == [first + timedelta(weeks=week) for week in range(len(days))]
    dates = page.locator("ul.manage-events > li")
    expect(dates).to_have_count(len(days))
    expect(dates.first.locator("time")).to_have_attribute(
        "datetime", re.compile(f"^{first.isoformat()}T")
    )
    expect(page.locator("main")).to_contain_text("Every Tuesday, 18:30")
    check_page(page)

    # The public list: the series once, with its rhythm.
    page.goto(f"{live_server}/events?lang=en")
    cards = page.locator("li.event-card", has_text="Soepavond")
    expect(cards).to_have_count(1)
    expect(cards.locator(".series-rhythm")).to_contain_text("Every Tuesday")
    expect(cards.locator("h3 a")).to_have_attribute("href", f"/events/{slugs[0]}")
    check_page(page)

    # An occurrence's page links the other dates.
    cards.get_by_role("link", name="All dates").click()
    expect(page).to_have_url(re.compile(f"/events/{slugs[0]}#series-dates$"))
    others = page.locator("#series-dates .series-date-list a")
    expect(others).to_have_count(len(days) - 1)
    expect(page.locator("#series-dates")).to_contain_text("Every Tuesday")
    check_page(page)
    others.first.click()
    expect(page).to_have_url(re.compile(f"/events/{slugs[1]}$"))
    expect(page.get_by_role("heading", name="Soepavond", level=1)).to_be_visible()
    expect(page.locator(f'#series-dates a[href="/events/{slugs[0]}"]')).to_be_visible()
    log_out(page)


def test_a_member_signs_up_for_a_kitchen_slot_and_gives_it_up(page, live_server, app, check_page):
    with app.app_context():
        collective = make_collective("zonnedak", "Zonnedak")
        event = make_event(collective_id=collective.id, title="Buurtdiner", slug="buurtdiner")
        task_id = make_task(event, name="Koken", slots=2).id
        make_member("mia@example.org", name="Mia Member", locale="nl")
    log_in(page, live_server, "mia@example.org", next_path="/events/buurtdiner", lang="nl")
    expect(page).to_have_url(re.compile("/events/buurtdiner$"))
    task = page.locator(f"#task-{task_id}")
    expect(task.get_by_role("heading", name="Koken")).to_be_visible()
    expect(task).to_contain_text("nog 2 plekken")
    check_page(page)

    task.locator("form button[type=submit]").click()
    expect(page).to_have_url(re.compile("/events/buurtdiner#tasks$"))
    expect(page.locator(".flash-success")).to_contain_text("Koken")
    expect(task).to_contain_text("nog 1 plek")
    expect(task.locator("form")).to_have_count(0)  # no second sign-up button
    with app.app_context():
        signup = db.session.scalar(sa.select(TaskSignup).where(TaskSignup.task_id == task_id))
        assert signup.user.email == "mia@example.org" and signup.cancelled_at is None
    check_page(page)

    task.locator('a[href="/account/#tasks-title"]').click()
    expect(page).to_have_url(re.compile("/account/#tasks-title$"))
    mine = page.locator(".task-slots li")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("Koken: Buurtdiner")
    check_page(page)

    mine.locator("form button[type=submit]").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(".task-slots li")).to_have_count(0)
    with app.app_context():
        signup = db.session.scalar(sa.select(TaskSignup).where(TaskSignup.task_id == task_id))
        assert signup.cancelled_at is not None
    page.goto(f"{live_server}/events/buurtdiner")
    expect(page.locator(f"#task-{task_id}")).to_contain_text("nog 2 plekken")
    log_out(page)
