"""Calendar files (RFC 5545) for events: one event, or a feed people subscribe to.

Times are written in the cooperative's time zone (`local_zone`, Europe/Amsterdam) with its
VTIMEZONE, so calendars show the wall-clock
time of the evening whatever zone the reader is in. UIDs are stable: the same event keeps
its UID in every file and feed, so a calendar updates it instead of adding a copy.
"""

from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Timezone
from icalendar import Event as CalendarEvent

from ..i18n import local_zone
from ..models import Event, EventStatus, utcnow
from .mail import external_url


@lru_cache(maxsize=64)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """The VTIMEZONE of the zone `tzid` from `first_year` to `last_year`, worked out from
    the zone database once per process and span. Only ever written out, never changed,
    so every calendar may hold the same one."""
    return Timezone.from_tzid(
        tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
    )


def new_calendar(name: str, moments: Iterable[datetime] = ()) -> Calendar:
    """An empty calendar named `name`, with the local zone's VTIMEZONE for the years of
    `moments` (aware: every time its entries will show, the first and the last at least)
    when there are any. Every confirmation e-mail carries a calendar file: the year of its
    event is a fifth of the zone's text (three observances instead of seventy years of
    changes) and of the time to write it."""
    zone = local_zone()
    calendar = Calendar()
    calendar.add("prodid", "-//MeentCoop//cooperative//NL")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", zone.key)
    years = sorted({moment.astimezone(zone).year for moment in moments})
    if years:
        # Before the entries whose times refer to it.
        calendar.add_component(_vtimezone(zone.key, years[0], years[-1]))
    return calendar


def event_uid(event: Event) -> str:
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    return f"event-{event.id}@{host}"


def event_entry(event: Event) -> CalendarEvent:
    """`event`'s entry, its times in local time (the calendar holds the zone)."""
    entry = CalendarEvent()
    entry.add("uid", event_uid(event))
    entry.add("dtstamp", utcnow())
    zone = local_zone()
    entry.add("dtstart", event.starts_at.astimezone(zone))
    entry.add("dtend", event.ends_at.astimezone(zone))
    entry.add("summary", event.title)
    description = "\n\n".join(part for part in (event.summary, event.description) if part)
    url = external_url("events.show", slug=event.slug)
    entry.add("description", f"{description}\n\n{url}".strip())
    entry.add("url", url)
    location = ", ".join(part for part in (event.venue, event.address) if part)
    if location:
        entry.add("location", location)
    if event.host is not None:
        entry.add(
            "organizer",
            f"mailto:{event.host.contact_email or 'noreply@invalid'}",
            parameters={"cn": event.host.name},
        )
    entry.add("status", "CANCELLED" if event.status == EventStatus.CANCELLED else "CONFIRMED")
    entry.add("created", event.created_at)
    return entry


def event_calendar(events: Iterable[Event], name: str = "MeentCoop") -> bytes:
    """An iCalendar file with `events`, their times in local time with its VTIMEZONE."""
    events = list(events)
    calendar = new_calendar(name, (t for event in events for t in (event.starts_at, event.ends_at)))
    for event in events:
        calendar.add_component(event_entry(event))
    return calendar.to_ical()
