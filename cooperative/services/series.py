"""Event series: make their occurrences ahead of time, change them, cancel one date.

An occurrence is an ordinary `Event` (made and changed with `services.events`), with the
series' id and the local date the rule gave it; a unique constraint on the two keeps one
event per date, however many workers make occurrences at once. `create_occurrences` is
the periodic job (the worker schedules it); making or changing a series runs it for that
series at once. These functions flush; the caller commits.
"""

from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..i18n import local_zone, long_date
from ..locking import lock_series
from ..models import (
    Event,
    EventSeries,
    EventStatus,
    PaymentMode,
    Registration,
    RegistrationStatus,
    utcnow,
)
from ..refusals import Refused
from ..slugs import free_slug
from . import events as event_service
from .events import EVENT_FIELDS, MEAL_FIELDS, SLUG_MAX_LENGTH, EventPlan, MealPlan
from .recurrence import occurs_on, start_times
from .registration import mail_party

# The fields of EventPlan an occurrence copies from the series' template: those of an
# event but its own title and the series' collective.
TEMPLATE_FIELDS = tuple(name for name in EVENT_FIELDS if name not in ("title", "collective_id"))


@dataclass
class SeriesSettings:
    """A series as the organiser wants it: the columns of `EventSeries` that they choose.
    `template` holds TEMPLATE_FIELDS and `meals` (MEAL_FIELDS, `diets` and
    `signup_minutes_before`, the meal's deadline before each start, or None)."""

    collective_id: int
    title: str
    rule: str
    first_date: date
    start_time: time
    duration_minutes: int
    until: date | None = None
    exception_dates: list[str] = field(default_factory=list)
    horizon_weeks: int = 8
    template: dict = field(default_factory=dict)

    @classmethod
    def of(cls, series: EventSeries) -> "SeriesSettings":
        return cls(**{f.name: getattr(series, f.name) for f in fields(cls)})

    def apply_to(self, series: EventSeries) -> None:
        for f in fields(self):
            setattr(series, f.name, getattr(self, f.name))


def occurrence_plan(settings, start: datetime, event: Event | None = None) -> EventPlan:
    """The event the series makes for the start time `start`; for an existing `event`,
    with its web address and its meals' ids (matched by position, so people who chose a
    meal keep it)."""
    template = settings.template
    existing = [option.id for option in event.meal_options] if event is not None else []
    meals = []
    for position, meal in enumerate(template.get("meals", [])):
        minutes = meal.get("signup_minutes_before")
        meals.append(
            MealPlan(
                **{name: meal.get(name) for name in MEAL_FIELDS},
                diets=list(meal.get("diets", [])),
                signup_deadline=start - timedelta(minutes=minutes) if minutes is not None else None,
                id=existing[position] if position < len(existing) else None,
            )
        )
    copied = {name: template[name] for name in TEMPLATE_FIELDS if name in template}
    copied["payment_mode"] = PaymentMode(copied.get("payment_mode", PaymentMode.DOOR))
    return EventPlan(
        title=settings.title,
        slug=event.slug if event is not None else "",
        starts_at=start,
        ends_at=start + timedelta(minutes=settings.duration_minutes),
        collective_id=settings.collective_id,
        meals=meals,
        **copied,
    )


def start_of(settings, day: date) -> datetime:
    """When the occurrence on the local date `day` starts (aware, local)."""
    return datetime.combine(day, settings.start_time, local_zone())


def save_series(settings: SeriesSettings) -> EventSeries:
    """Make a new series and its first occurrences (published at once)."""
    series = EventSeries()
    settings.apply_to(series)
    db.session.add(series)
    db.session.flush()
    create_occurrences(series=series)
    return series


def create_occurrences(
    now: datetime | None = None, series: EventSeries | None = None
) -> list[Event]:
    """Make the occurrences of every series (or only `series`) that start from `now` up to
    its horizon and do not exist yet, as published events; return them.

    Skips the exception dates and the days after the end date (both in the rule's
    expansion). Idempotent: a date that has an event (also a cancelled one) is not made
    again. Workers take turns per series (`locking.lock_series`); should two still make
    the same date, the unique constraint on series and date refuses the second, and only
    that date's savepoint is rolled back. This is the job the worker runs; it flushes,
    the caller commits (which lets the next worker in).
    """
    now = now or utcnow()
    query = sa.select(EventSeries).order_by(EventSeries.id)
    if series is not None:
        query = query.where(EventSeries.id == series.id)
    made = []
    for each in db.session.scalars(query).all():
        made.extend(_fill(each, now))
    return made


def existing_dates(series: EventSeries) -> set[date]:
    return set(
        db.session.scalars(sa.select(Event.occurrence_date).where(Event.series_id == series.id))
    )


def _fill(series: EventSeries, now: datetime) -> list[Event]:
    zone = local_zone()
    lock_series(series)  # a second worker waits here, then sees this one's dates
    db.session.flush()
    db.session.refresh(series)  # and the series as the last change left it
    existing = existing_dates(series)
    made = []
    for start in start_times(series, now, now + timedelta(weeks=series.horizon_weeks), zone):
        day = start.date()
        if day in existing:
            continue
        plan = occurrence_plan(series, start)
        plan.slug = free_slug(Event.slug, f"{series.title} {day}", SLUG_MAX_LENGTH, "event")
        try:
            with db.session.begin_nested():
                event = event_service.save_event(plan)
                event.series_id, event.occurrence_date = series.id, day
                db.session.flush()
                event_service.publish(event)
        except (IntegrityError, Refused):
            # Another worker made this date (or took its web address) a moment ago.
            continue
        made.append(event)
    return made


def future_occurrences(series: EventSeries, now: datetime | None = None) -> sa.Select:
    """The series' events that have not started, not cancelled, soonest first."""
    return (
        sa.select(Event)
        .where(
            Event.series_id == series.id,
            Event.starts_at > (now or utcnow()),
            Event.status != EventStatus.CANCELLED,
        )
        .order_by(Event.starts_at, Event.id)
    )


def active_party_counts(event_ids) -> dict[int, int]:
    """How many parties (not cancelled, waiting ones too) each event has: one query."""
    if not event_ids:
        return {}
    rows = db.session.execute(
        sa.select(Registration.event_id, sa.func.count(Registration.id))
        .where(
            Registration.event_id.in_(event_ids),
            Registration.status != RegistrationStatus.CANCELLED,
        )
        .group_by(Registration.event_id)
    )
    return dict(rows.all())


CHANGE, DROP = "change", "drop"


@dataclass
class OccurrenceChange:
    """What changing the series does to one future occurrence: `change` it, or `drop` it
    (its date is no longer in the series); `parties` registered for it."""

    event: Event
    action: str
    parties: int

    @property
    def registered(self) -> bool:
        return self.parties > 0


def review_change(
    series: EventSeries, settings: SeriesSettings, now: datetime | None = None
) -> list[OccurrenceChange]:
    """The future occurrences that `settings` would change or drop, soonest first.

    An occurrence changes when the event the new settings make for its date differs from
    the one the old settings made (so an occurrence changed by hand is left alone unless
    the series itself changes); it drops when its date is no longer in the rule, is an
    exception, or comes after the end date."""
    zone = local_zone()
    old = SeriesSettings.of(series)
    events = db.session.scalars(
        future_occurrences(series, now).options(sa.orm.selectinload(Event.meal_options))
    ).all()
    parties = active_party_counts([event.id for event in events])
    changes = []
    for event in events:
        day = event.occurrence_date
        kept = (
            occurs_on(settings, day, zone)
            and day.isoformat() not in settings.exception_dates
            and (settings.until is None or day <= settings.until)
        )
        if not kept:
            action = DROP
        elif occurrence_plan(old, start_of(old, day), event) != occurrence_plan(
            settings, start_of(settings, day), event
        ):
            action = CHANGE
        else:
            continue
        changes.append(OccurrenceChange(event, action, parties.get(event.id, 0)))
    return changes


@dataclass
class ChangeOutcome:
    changed: list[Event] = field(default_factory=list)
    dropped: list[Event] = field(default_factory=list)
    kept: list[Event] = field(default_factory=list)  # registered ones left as they were
    made: list[Event] = field(default_factory=list)
    mailed: int = 0


def change_series(
    series: EventSeries,
    settings: SeriesSettings,
    include_registered: bool = False,
    now: datetime | None = None,
) -> ChangeOutcome:
    """Save `settings` on the series and carry them to its future occurrences.

    Occurrences nobody registered for change (or, when their date left the series, are
    deleted, or cancelled when they had registrations once). Those with registrations
    change only with `include_registered`, and their people are e-mailed (a dropped one
    is cancelled with `events.cancel_event`, which e-mails them); otherwise they stay as
    they are. New dates are made. Refuses what `events.save_event` refuses for one of
    the dates (seats below those taken, a chosen meal removed, a new entry price),
    naming the date; raises PaymentUnavailable when refunds cannot be checked.
    """
    now = now or utcnow()
    changes = review_change(series, settings, now)
    # Stripe is asked once, for every date to be cancelled, before anything is written:
    # not while an earlier date is locked (nor, on SQLite, while the series is written).
    event_service.check_refunds_answer(
        [
            change.event
            for change in changes
            if change.action == DROP and change.registered and include_registered
        ],
        now,
    )
    settings.apply_to(series)
    outcome = ChangeOutcome()
    for change in changes:
        event = change.event
        if change.registered and not include_registered:
            outcome.kept.append(event)
        elif change.action == DROP:
            if change.registered or _ever_registered(event):
                cancelled = event_service.cancel_event(event, now, stripe_checked=True)
                outcome.mailed += len(cancelled)
            else:
                db.session.delete(event)
            outcome.dropped.append(event)
        else:
            try:
                event_service.save_event(
                    occurrence_plan(settings, start_of(settings, event.occurrence_date), event),
                    event,
                )
            except Refused as refusal:
                raise Refused(
                    _l(
                        "%(date)s: %(reason)s",
                        date=long_date(event.starts_at),
                        reason=refusal.message,
                    ),
                    field=refusal.field,
                ) from refusal
            if change.registered:
                outcome.mailed += _tell_changed(event)
            outcome.changed.append(event)
    db.session.flush()
    outcome.made = create_occurrences(now, series)
    return outcome


def _ever_registered(event: Event) -> bool:
    return db.session.scalar(sa.select(sa.exists().where(Registration.event_id == event.id)))


def _tell_changed(event: Event) -> int:
    """E-mail each party of `event` (also those waiting) that the series changed it."""
    parties = event_service.active_registrations(event)
    for registration in parties:
        mail_party(registration, _l("Changed: %(title)s", title=event.title), "series_changed")
    return len(parties)


def cancel_date(series: EventSeries, day: date, now: datetime | None = None) -> list[Registration]:
    """Cancel the series on the local date `day`: its event is cancelled (every party is
    e-mailed, `events.cancel_event`) and the date becomes an exception, so it is not
    made again. Returns the registrations cancelled.

    Refuses a day the rule does not give, a day already cancelled, and one that has
    started; raises PaymentUnavailable when refunds cannot be checked."""
    now = now or utcnow()
    zone = local_zone()
    if not occurs_on(series, day, zone) or (series.until and day > series.until):
        raise Refused(_l("The series has no date on %(date)s.", date=long_date(day)))
    if start_of(series, day) <= now:
        raise Refused(_l("This date has begun or passed, so it cannot be cancelled."))
    event = db.session.scalar(
        sa.select(Event).where(Event.series_id == series.id, Event.occurrence_date == day)
    )
    live = event is not None and event.status != EventStatus.CANCELLED
    if day.isoformat() in series.exception_dates and not live:
        raise Refused(_l("This date is cancelled already."))
    cancelled = event_service.cancel_event(event, now) if live else []
    if day.isoformat() not in series.exception_dates:
        series.exception_dates = sorted([*series.exception_dates, day.isoformat()])
    db.session.flush()
    return cancelled


def other_dates(event: Event, now: datetime | None = None, limit: int = 8) -> list[Event]:
    """The other published occurrences of `event`'s series that have not ended, soonest
    first (at most `limit`); empty for an event outside a series."""
    if event.series_id is None:
        return []
    return db.session.scalars(
        Event.upcoming(now)
        .where(Event.series_id == event.series_id, Event.id != event.id)
        .limit(limit)
    ).all()
