"""Event series through HTTP: the organisers' pages (permissions, bad input, the
two-step change, cancelling a date) and the public side (the list shows a series once,
the event page its other dates and EventSeries data, the series' calendar file)."""

import json
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from dateutil.rrule import rrulestr
from icalendar import Calendar

from cooperative.extensions import db
from cooperative.models import (
    Event,
    EventSeries,
    EventStatus,
    OutboxMessage,
    utcnow,
)
from cooperative.services.recurrence import MONTHLY_RHYTHM, Rhythm
from tests.conftest import forget_pages, post_form
from tests.factories import make_collective, make_organiser, make_registration, make_user
from tests.series_fixtures import AMSTERDAM, TUESDAY, make_series

EMAILS = {
    "member": "member@example.org",
    "host_organiser": "host@example.org",
    "other_organiser": "other@example.org",
    "admin": "admin@example.org",
}


def next_tuesday(weeks_ahead: int = 1) -> date:
    today = utcnow().astimezone(AMSTERDAM).date()
    return today + timedelta(days=7 * weeks_ahead + (TUESDAY - today.weekday()) % 7)


@pytest.fixture
def world(app):
    """Two collectives, a person of each role, and a weekly series of the first, its
    dates made 4 weeks ahead, Ada registered for its second date."""
    with app.app_context(), app.test_request_context():
        host = make_collective("zonnedak", "Zonnedak")
        other = make_collective("voedselbank", "Voedselbank")
        make_user(email=EMAILS["member"], name="Mila Member")
        make_organiser(host, email=EMAILS["host_organiser"], name="Hans Host")
        make_organiser(other, email=EMAILS["other_organiser"], name="Olga Other")
        make_user(email=EMAILS["admin"], name="Ada Admin", is_admin=True)
        series = make_series(host.id, next_tuesday(), horizon_weeks=4)
        events = db.session.scalars(
            sa.select(Event).where(Event.series_id == series.id).order_by(Event.starts_at)
        ).all()
        make_registration(events[1], people=("Ada",), email="ada@example.org")
        return SimpleNamespace(
            host_id=host.id,
            other_id=other.id,
            series_id=series.id,
            event_ids=[event.id for event in events],
            slugs=[event.slug for event in events],
            days=[event.occurrence_date for event in events],
        )


def log_in(client, auth, role: str) -> None:
    client.get("/?lang=en")
    if role != "anonymous":
        assert auth.login(email=EMAILS[role]).status_code in (302, 303)


def series_data(collective_id, **overrides) -> dict:
    """A complete, valid series form: Tuesdays 18:00-21:00 with one meal."""
    data = {
        "title": "Buurtmaaltijd",
        "summary": "Samen eten.",
        "description": "",
        "audience": "Iedereen",
        "collective_id": str(collective_id),
        "frequency": "weekly",
        "weekday": str(TUESDAY),
        "interval": "1",
        "week": "1",
        "first_date": next_tuesday().isoformat(),
        "until": "",
        "exceptions": "",
        "horizon_weeks": "4",
        "start_time": "18:00",
        "end_time": "21:00",
        "venue": "Buurthuis De Meent",
        "address": "Voorbeeldstraat 4, Amsterdam",
        "capacity": "30",
        "ticket_price": "0",
        "payment_mode": "door",
        "max_party_size": "6",
        "meals-0-id": "",
        "meals-0-name": "Diner",
        "meals-0-price": "5",
        "meals-0-capacity": "25",
        "meals-0-diets": "vegan",
        "meals-0-signup_hours_before": "6",
        "save": "1",
    }
    data.update(overrides)
    return data


# --- Who may ---------------------------------------------------------------------------------


def _pages(world) -> list[str]:
    base = f"/manage/series/{world.series_id}"
    return [base, f"{base}/edit", f"{base}/dates/{world.days[0].isoformat()}/cancel"]


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 302),
        ("member", 403),
        ("other_organiser", 403),
        ("host_organiser", 200),
        ("admin", 200),
    ],
)
def test_only_the_collectives_organisers_and_admins_manage_its_series(
    client, auth, world, role, expected
):
    log_in(client, auth, role)
    for url in _pages(world):
        assert client.get(url).status_code == expected, url
    index = client.get("/manage/series/")
    assert index.status_code == (expected if role in ("anonymous", "member") else 200)
    if index.status_code == 200:
        assert ("Buurtmaaltijd" in index.get_data(as_text=True)) == (expected == 200)


def test_another_organiser_can_neither_change_nor_cancel(client, auth, world, app):
    log_in(client, auth, "other_organiser")
    base = f"/manage/series/{world.series_id}"
    changed = post_form(client, f"{base}/edit", series_data(world.other_id, title="Gekaapt"))
    cancelled = post_form(client, f"{base}/dates/{world.days[0].isoformat()}/cancel")
    assert (changed.status_code, cancelled.status_code) == (403, 403)
    # Nor make a series for a collective they do not organise for.
    response = post_form(client, "/manage/series/new", series_data(world.host_id))
    assert response.status_code == 422
    assert "You can only choose a collective you organise for." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(EventSeries, world.series_id).title == "Buurtmaaltijd"
        assert db.session.get(Event, world.event_ids[0]).status == EventStatus.PUBLISHED
        assert db.session.scalar(sa.select(sa.func.count(EventSeries.id))) == 1


# --- Making a series -------------------------------------------------------------------------


def test_an_organiser_makes_a_monthly_series_and_its_dates_go_online(client, auth, world, app):
    log_in(client, auth, "host_organiser")
    assert client.get("/manage/series/new").status_code == 200
    data = series_data(
        world.host_id,
        title="Repair café",
        frequency="monthly",
        weekday="5",
        week="2",
        horizon_weeks="20",
        first_date=date.today().isoformat(),
        reminder_hours="6",
    )
    response = post_form(client, "/manage/series/new", data)
    assert response.status_code == 303
    with app.app_context():
        series = db.session.scalar(sa.select(EventSeries).where(EventSeries.title == "Repair café"))
        assert series.rule == "FREQ=MONTHLY;BYDAY=+2SA"
        assert response.headers["Location"].endswith(f"/manage/series/{series.id}")
        events = db.session.scalars(sa.select(Event).where(Event.series_id == series.id)).all()
        assert len(events) >= 4
        for event in events:
            local = event.starts_at.astimezone(AMSTERDAM)
            assert (local.weekday(), 8 <= local.day <= 14, local.hour) == (5, True, 18)
            assert event.status == EventStatus.PUBLISHED
            assert event.reminder_hours == 6
            assert event.meal_options[0].signup_deadline == event.starts_at - timedelta(hours=6)
        assert series.template["meals"][0]["price_cents"] == 500
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Every second Saturday of the month" in page
    assert page.count("Cancel this date</a>") == len(events)
    # The form comes back filled in as saved.
    form = client.get(f"/manage/series/{series.id}/edit").get_data(as_text=True)
    assert 'value="Repair café"' in form and 'value="6"' in form


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"end_time": "17:00"}, "The end must be after the start, on the same day."),
        ({"start_time": "6 uur"}, "Please write a time, for example 18:00."),
        ({"first_date": "2030-02-31"}, "Please write a date, for example 2030-06-12."),
        ({"first_date": ""}, "Please fill in a date."),
        ({"until": "2020-01-01"}, "The last date cannot be before the first."),
        ({"exceptions": "2030-12-29\nmorgen"}, "“morgen” is not a date."),
        ({"weekday": "9"}, "Please choose a weekday from the list."),
        ({"interval": "0"}, "Please write a number from 1 to 12."),
        ({"horizon_weeks": "53"}, "Please write a number from 1 to 52."),
        ({"week": "5"}, "Please choose from the list."),
        ({"frequency": "daily"}, "Please choose how often."),
        ({"meals-0-signup_hours_before": "-1"}, "Please write a number from 0 to 336."),
        ({"title": ""}, "Please give the event a title."),
        ({"reminder_hours": "-2"}, "Please write a number of hours from 0 to"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_the_typing_kept(
    client, auth, world, app, overrides, message
):
    log_in(client, auth, "host_organiser")
    data = series_data(world.host_id, summary="Mijn eigen tekst", **overrides)
    response = post_form(client, "/manage/series/new", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert 'value="Mijn eigen tekst"' in page
    for name, value in overrides.items():
        if value and "\n" not in value and name != "frequency":  # radio buttons keep known values
            assert value in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(EventSeries.id))) == 1


def test_meals_are_added_and_removed_with_the_typing_kept(client, auth, world):
    log_in(client, auth, "host_organiser")
    data = series_data(world.host_id, title="Getypt")
    data.pop("save")
    added = post_form(client, "/manage/series/new", {**data, "add_meal": "1"})
    assert added.status_code == 200
    assert 'name="meals-1-name"' in added.get_data(as_text=True)
    removed = post_form(client, "/manage/series/new", {**data, "remove_meal": "0"})
    page = removed.get_data(as_text=True)
    assert 'name="meals-0-name"' not in page and 'value="Getypt"' in page


# --- Changing a series: two steps when people registered ---------------------------------------


def _changed(world, **overrides):
    return series_data(
        world.host_id, first_date=world.days[0].isoformat(), venue="De Tuin", **overrides
    )


def _venues(app, world):
    with app.app_context():
        return [db.session.get(Event, event_id).venue for event_id in world.event_ids]


def test_htmx_saves_send_the_whole_page_on(client, auth, world, app):
    log_in(client, auth, "host_organiser")
    htmx = {"HX-Request": "true", "HX-Target": "series-form"}
    data = series_data(world.host_id, title="Soepavond")
    response = post_form(client, "/manage/series/new", data, headers=htmx)
    assert response.status_code == 204
    with app.app_context():
        made = db.session.scalar(sa.select(EventSeries).where(EventSeries.title == "Soepavond"))
    assert response.headers["HX-Redirect"] == f"/manage/series/{made.id}"
    edit = f"/manage/series/{made.id}/edit"
    response = post_form(client, edit, {**data, "capacity": "x"}, headers=htmx)
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<form id="series-form"'), "only the form"
    response = post_form(client, edit, {**data, "venue": "De Tuin"}, headers=htmx)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/manage/series/{made.id}"


def test_a_change_touching_registered_dates_asks_first_and_changes_nothing(
    client, auth, world, app
):
    log_in(client, auth, "host_organiser")
    response = post_form(client, f"/manage/series/{world.series_id}/edit", _changed(world))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "People have registered for 1 date this change touches." in page
    assert f'href="/manage/events/{world.event_ids[1]}/attendees"' in page
    assert 'name="registered_dates"' in page and 'value="De Tuin"' in page
    assert set(_venues(app, world)) == {"Buurthuis De Meent"}


def test_leaving_registered_dates_changes_only_the_others(client, auth, world, app):
    log_in(client, auth, "host_organiser")
    data = _changed(world, registered_dates="keep")
    response = post_form(client, f"/manage/series/{world.series_id}/edit", data)
    assert response.status_code == 303
    venues = _venues(app, world)
    assert venues[1] == "Buurthuis De Meent"
    assert {venues[0], *venues[2:]} == {"De Tuin"}
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count(OutboxMessage.id)).where(
                    OutboxMessage.subject.like("Gewijzigd%")
                )
            )
            == 0
        )


def test_confirming_changes_registered_dates_and_mails_their_people(client, auth, world, app):
    log_in(client, auth, "host_organiser")
    data = _changed(world, registered_dates="change")
    response = post_form(client, f"/manage/series/{world.series_id}/edit", data)
    assert response.status_code == 303
    assert set(_venues(app, world)) == {"De Tuin"}
    with app.app_context():
        (mail,) = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.subject.like("Gewijzigd%"))
        ).all()
        assert mail.to_address == "ada@example.org"
        assert "De Tuin" in mail.body_text


# --- Cancelling one date ----------------------------------------------------------------------


def test_cancelling_a_date_asks_then_cancels_and_mails(client, auth, world, app):
    log_in(client, auth, "host_organiser")
    url = f"/manage/series/{world.series_id}/dates/{world.days[1].isoformat()}/cancel"
    assert "1 party will get an e-mail" in client.get(url).get_data(as_text=True)
    response = post_form(client, url)
    assert response.status_code == 303
    with app.app_context():
        event = db.session.get(Event, world.event_ids[1])
        assert event.status == EventStatus.CANCELLED
        assert (
            world.days[1].isoformat()
            in db.session.get(EventSeries, world.series_id).exception_dates
        )
        mails = db.session.scalars(sa.select(OutboxMessage.to_address)).all()
        assert "ada@example.org" in mails
    again = post_form(client, url, follow_redirects=True)
    assert "This date is cancelled already." in again.get_data(as_text=True)


def test_cancelling_a_day_outside_the_series_is_not_found(client, auth, world):
    log_in(client, auth, "host_organiser")
    base = f"/manage/series/{world.series_id}/dates"
    wednesday = (world.days[0] + timedelta(days=1)).isoformat()
    assert client.get(f"{base}/{wednesday}/cancel").status_code == 404
    assert client.get(f"{base}/morgen/cancel").status_code == 404
    assert post_form(client, f"{base}/{wednesday}/cancel").status_code == 404


# --- The public side ---------------------------------------------------------------------------


def _json_ld(page: str) -> list[dict]:
    return [
        json.loads(block)
        for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    ]


def test_the_event_page_links_the_other_dates_and_describes_the_series(client, world):
    page = client.get(f"/events/{world.slugs[0]}?lang=en").get_data(as_text=True)
    assert "Every Tuesday" in page
    for slug in world.slugs[1:]:
        assert f'href="/events/{slug}"' in page
    assert f'href="/events/series/{world.series_id}.ics"' in page
    (series,) = [data for data in _json_ld(page) if data["@type"] == "EventSeries"]
    assert series["eventSchedule"]["byDay"] == "https://schema.org/Tuesday"
    assert series["eventSchedule"]["repeatFrequency"] == "P1W"
    assert series["eventSchedule"]["startTime"] == "18:00:00"
    assert len(series["subEvent"]) == len(world.slugs)
    assert series["organizer"]["name"] == "Zonnedak"


def test_the_list_shows_a_series_once_with_its_rhythm(client, world, app):
    page = client.get("/events?lang=en").get_data(as_text=True)
    assert page.count("Every Tuesday") == 1
    assert f'href="/events/{world.slugs[0]}"' in page
    assert f'href="/events/{world.slugs[1]}"' not in page
    assert "1 event found" in page


def test_list_queries_do_not_grow_with_series(client, world, app, count_queries):
    client.get("/events")

    def count() -> int:
        forget_pages(app)
        with count_queries as counted:
            assert client.get("/events").status_code == 200
        return counted.count

    one = count()
    with app.app_context(), app.test_request_context():
        for weeks in (1, 2, 3):
            make_series(world.host_id, next_tuesday(weeks), title=f"Reeks {weeks}")
        make_series(
            world.other_id, date.today(), rhythm=Rhythm(MONTHLY_RHYTHM, 5, week=2), title="Café"
        )
    assert count() == one
    page = client.get("/events?lang=en").get_data(as_text=True)
    assert page.count("Every Tuesday") == 4
    assert "Every second Saturday of the month" in page


def test_the_series_calendar_file_has_the_rule_and_its_exceptions(client, auth, world, app):
    log_in(client, auth, "host_organiser")
    url = f"/manage/series/{world.series_id}/dates/{world.days[2].isoformat()}/cancel"
    assert post_form(client, url).status_code == 303
    response = client.get(f"/events/series/{world.series_id}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    (entry,) = calendar.walk("VEVENT")
    assert entry["RRULE"]["FREQ"] == ["WEEKLY"] and entry["RRULE"]["BYDAY"] == ["TU"]
    start = entry.decoded("DTSTART")
    assert (str(start.tzinfo), start.hour, start.date()) == ("Europe/Amsterdam", 18, world.days[0])
    assert entry["DTSTART"].params["TZID"] == "Europe/Amsterdam"
    assert calendar.walk("VTIMEZONE")
    skipped = {moment.dt.date() for moment in entry["EXDATE"].dts}
    assert skipped == {world.days[2]}
    # The rule, read back by dateutil, gives the dates the site made.
    rule = rrulestr(entry["RRULE"].to_ical().decode(), dtstart=start)
    count = len(world.days)
    assert [moment.date() for moment in rule[:count]] == world.days


def test_a_series_of_an_unpublished_collective_has_no_calendar_file(client, app):
    with app.app_context(), app.test_request_context():
        hidden = make_collective("geheim", "Geheim", is_published=False)
        series_id = make_series(hidden.id, next_tuesday()).id
    assert client.get(f"/events/series/{series_id}.ics").status_code == 404
    assert client.get("/events/series/999.ics").status_code == 404


def test_the_organisers_list_of_series_takes_the_same_queries_for_more_series(
    client, auth, world, app, count_queries
):
    log_in(client, auth, "host_organiser")
    client.get("/manage/series/")

    def count() -> int:
        with count_queries as counted:
            assert client.get("/manage/series/").status_code == 200
        return counted.count

    one = count()
    with app.app_context(), app.test_request_context():
        for weeks in (1, 2, 3):
            make_series(world.host_id, next_tuesday(weeks), title=f"Reeks {weeks}")
        make_series(world.other_id, next_tuesday(), title="Niet van Hans")
    assert count() == one
    page = client.get("/manage/series/").get_data(as_text=True)
    assert page.count("Every Tuesday") == 4
    assert "Niet van Hans" not in page
