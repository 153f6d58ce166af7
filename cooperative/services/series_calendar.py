"""A series as one calendar entry with its RRULE, for people who subscribe to it.

The entry starts at the series' first date, at its local start time with the zone's
VTIMEZONE, repeats by the series' own RRULE (its UNTIL is in UTC, as RFC 5545 asks beside
a zoned start), and leaves out the exception dates (EXDATE), cancelled ones included.
"""

from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from dateutil.rrule import rrulestr
from flask import current_app
from icalendar import Event as CalendarEvent
from icalendar import vRecur

from ..i18n import local_zone
from ..models import EventSeries, utcnow
from .calendar import new_calendar
from .mail import external_url
from .recurrence import first_start

# The last day a series with no end has its zone's changes written out for.
OPEN_END = date(2037, 12, 31)


def series_uid(series: EventSeries) -> str:
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    return f"series-{series.id}@{host}"


def series_calendar(series: EventSeries, url: str | None = None) -> bytes:
    """An iCalendar file with the series as one repeating entry; `url` is the page it
    links to (the next date's), else the host collective's page."""
    zone = local_zone()
    # DTSTART must be the first occurrence itself: the first date may come before it.
    start = rrulestr(series.rule, dtstart=first_start(series, zone)).after(
        first_start(series, zone), inc=True
    )
    if start is None:
        return new_calendar(series.title).to_ical()
    # The zone's changes up to the last date, or, for a series with no end, up to the
    # end of 2037 (as far as icalendar works them out).
    last = datetime.combine(series.until or OPEN_END, series.start_time, zone)
    calendar = new_calendar(series.title, (start, last))
    template = series.template
    entry = CalendarEvent()
    entry.add("uid", series_uid(series))
    entry.add("dtstamp", utcnow())
    entry.add("created", series.created_at)
    entry.add("dtstart", start)
    entry.add("dtend", start + timedelta(minutes=series.duration_minutes))
    entry.add("rrule", vRecur.from_ical(series.rule))
    skipped = sorted(series.exceptions)
    if skipped:
        entry.add("exdate", [start.replace(year=d.year, month=d.month, day=d.day) for d in skipped])
    entry.add("summary", series.title)
    url = url or external_url("collectives.show", slug=series.collective.slug)
    description = "\n\n".join(
        part for part in (template.get("summary"), template.get("description")) if part
    )
    entry.add("description", f"{description}\n\n{url}".strip())
    entry.add("url", url)
    location = ", ".join(part for part in (template.get("venue"), template.get("address")) if part)
    if location:
        entry.add("location", location)
    entry.add("status", "CONFIRMED")
    calendar.add_component(entry)
    return calendar.to_ical()
