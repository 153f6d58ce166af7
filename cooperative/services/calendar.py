"""Calendar files (RFC 5545) for events: one event, or a feed people subscribe to.

Times are written in Europe/Amsterdam with its VTIMEZONE, so calendars show the wall-clock
time of the evening whatever zone the reader is in. UIDs are stable: the same event keeps
its UID in every file and feed, so a calendar updates it instead of adding a copy.
"""

from collections.abc import Iterable
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app
from icalendar import Calendar, Timezone
from icalendar import Event as CalendarEvent

from ..models import Event, EventStatus, utcnow
from .mail import external_url

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@cache
def _amsterdam_vtimezone() -> bytes:
    """Amsterdam's VTIMEZONE as written in a file, worked out from the zone database once
    (it takes milliseconds, and every confirmation e-mail carries a calendar file)."""
    return Timezone.from_tzid("Europe/Amsterdam").to_ical()


def event_uid(event: Event) -> str:
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    return f"event-{event.id}@{host}"


def _vevent(event: Event) -> CalendarEvent:
    entry = CalendarEvent()
    entry.add("uid", event_uid(event))
    entry.add("dtstamp", utcnow())
    entry.add("dtstart", event.starts_at.astimezone(AMSTERDAM))
    entry.add("dtend", event.ends_at.astimezone(AMSTERDAM))
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
    """An iCalendar file with `events`, their times in Amsterdam time with a VTIMEZONE."""
    calendar = Calendar()
    calendar.add("prodid", "-//MeentCoop//cooperative//NL")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Europe/Amsterdam")
    for event in events:
        calendar.add_component(_vevent(event))
    # The VTIMEZONE goes before the first event. Any text in the file has its line breaks
    # escaped, so only a component starts a line with BEGIN:VEVENT.
    return calendar.to_ical().replace(
        b"\r\nBEGIN:VEVENT\r\n", b"\r\n" + _amsterdam_vtimezone() + b"BEGIN:VEVENT\r\n", 1
    )
