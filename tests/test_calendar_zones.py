"""The time zone written into a calendar file covers every time the file shows: a
volunteer's task in another year than its event, a series up to its last date or, with
no end, up to 2037."""

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from cooperative.extensions import db
from cooperative.models import OutboxMessage, utcnow
from cooperative.services.series_calendar import series_calendar
from tests.factories import AMSTERDAM, make_collective, make_event
from tests.ical import offset_in_file, zone_onsets
from tests.series_fixtures import make_series
from tests.volunteer_fixtures import guest_signup, make_task

SUMMER = timedelta(hours=2)


@pytest.fixture(autouse=True)
def ctx(app):
    with app.test_request_context("/?lang=en"):
        yield


def test_a_task_in_the_summer_before_a_winter_event_shows_at_its_summer_time():
    year = utcnow().year + 2
    event = make_event()
    event.starts_at = datetime(year, 1, 10, 19, tzinfo=AMSTERDAM)
    event.ends_at = event.starts_at + timedelta(hours=3)
    db.session.commit()
    task = make_task(
        event, starts_after=datetime(year - 1, 7, 1, 10, tzinfo=AMSTERDAM) - event.starts_at
    )
    guest_signup(task)
    [message] = db.session.scalars(sa.select(OutboxMessage)).all()
    [attachment] = message.attachments
    calendar = Calendar.from_ical(attachment["content"])
    [entry] = calendar.walk("VEVENT")
    start = entry.decoded("DTSTART")
    assert (start.year, start.month, start.hour) == (year - 1, 7, 10)
    assert offset_in_file(calendar, start) == SUMMER


def test_a_series_has_its_zone_from_its_first_to_its_last_date():
    first = date(utcnow().year + 1, 1, 5)
    series = make_series(make_collective().id, first, until=date(first.year + 1, 8, 31))
    calendar = Calendar.from_ical(series_calendar(series))
    years = {onset.year for onset, _ in zone_onsets(calendar)}
    assert years == {first.year, first.year + 1}
    # A day in the series' last summer, at its 18:00.
    last_summer = datetime(first.year + 1, 8, 25, 18, tzinfo=AMSTERDAM)
    assert offset_in_file(calendar, last_summer) == SUMMER


def test_a_series_with_no_end_has_its_zone_up_to_2037():
    first = date(utcnow().year + 1, 1, 5)
    series = make_series(make_collective().id, first)
    calendar = Calendar.from_ical(series_calendar(series))
    years = {onset.year for onset, _ in zone_onsets(calendar)}
    assert min(years) == first.year and max(years) == 2037
    assert offset_in_file(calendar, datetime(2037, 7, 7, 18, tzinfo=AMSTERDAM)) == SUMMER
