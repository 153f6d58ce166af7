"""Event series on the public pages: the calendar file people subscribe to, and what the
event pages and the event list show of a series (its rhythm in words, its other dates,
schema.org `EventSeries` data)."""

import sqlalchemy as sa
from flask import Blueprint, Response, abort, g

from ..extensions import db
from ..i18n import local_zone
from ..models import Collective, Event, EventSeries
from ..services.mail import external_url
from ..services.recurrence import MONTHLY_RHYTHM, describe_rule, rhythm_of
from ..services.series import other_dates
from ..services.series_calendar import series_calendar
from .events import event_in_brief

bp = Blueprint("series", __name__, url_prefix="/events/series")

SCHEMA = "https://schema.org/"
SCHEMA_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def public_series(series_id: int) -> EventSeries:
    """The series, when its collective is published; 404 otherwise."""
    series = db.session.scalar(
        sa.select(EventSeries)
        .join(Collective, EventSeries.collective_id == Collective.id)
        .where(EventSeries.id == series_id, Collective.is_published)
    )
    if series is None:
        abort(404)
    return series


@bp.get("/<int:series_id>.ics")
def calendar(series_id: int):
    """The series as one repeating calendar entry (RRULE), to subscribe to."""
    series = public_series(series_id)
    upcoming = db.session.scalar(Event.upcoming().where(Event.series_id == series.id).limit(1))
    url = external_url("events.show", slug=upcoming.slug) if upcoming else None
    return Response(
        series_calendar(series, url),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'inline; filename="series-{series.id}.ics"'},
    )


@bp.app_template_global("series_rhythm")
def series_rhythm(series: EventSeries) -> str:
    """ "Every Tuesday" / "Elke dinsdag"; empty for a rule the site does not describe."""
    return describe_rule(series.rule)


@bp.app_template_global("series_other_dates")
def series_other_dates(event: Event) -> list[Event]:
    """The other upcoming dates of `event`'s series (one query per request and event)."""
    kept = g.setdefault("series_other_dates", {})
    if event.id not in kept:
        kept[event.id] = other_dates(event)
    return kept[event.id]


def _schedule(series: EventSeries) -> dict:
    zone = local_zone()
    rhythm = rhythm_of(series.rule)
    schedule = {
        "@type": "Schedule",
        "startDate": series.first_date.isoformat(),
        "startTime": series.start_time.isoformat(timespec="seconds"),
        "duration": f"PT{series.duration_minutes}M",
        "scheduleTimezone": zone.key,
    }
    if rhythm is not None:
        schedule["byDay"] = SCHEMA + SCHEMA_DAYS[rhythm.weekday]
        if rhythm.frequency == MONTHLY_RHYTHM:
            schedule["repeatFrequency"] = "P1M"
            schedule["byMonthWeek"] = rhythm.week
        else:
            schedule["repeatFrequency"] = f"P{rhythm.interval}W"
    if series.until:
        schedule["endDate"] = series.until.isoformat()
    if series.exception_dates:
        schedule["exceptDate"] = list(series.exception_dates)
    return schedule


@bp.app_template_global("series_structured_data")
def series_structured_data(event: Event) -> dict:
    """`event`'s series as a schema.org `EventSeries` with its schedule and its upcoming
    dates (`subEvent`), for `<script type="application/ld+json">`."""
    series = event.series
    dates = sorted([event, *series_other_dates(event)], key=lambda each: each.starts_at)
    data = {
        "@context": "https://schema.org",
        "@type": "EventSeries",
        "name": series.title,
        "url": external_url("events.show", slug=event.slug),
        "eventSchedule": _schedule(series),
        "subEvent": [event_in_brief(each) for each in dates],
    }
    collective = event.host
    if collective is not None:
        data["organizer"] = {
            "@type": "Organization",
            "@id": external_url("collectives.show", slug=collective.slug),
            "name": collective.name,
        }
    return data
