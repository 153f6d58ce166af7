"""E-mails that go out by the clock before an event: each party's reminder, and the
kitchen's summary for the organisers. The worker calls both every few minutes with the
time (`coop send-reminders` runs them once); tests pass a frozen `now`.

Each mail is sent once, however many workers run at the same moment: it is claimed by
one conditional UPDATE (`... SET reminded_at = now WHERE reminded_at IS NULL`), and
only the worker whose UPDATE changed the row writes the mail to the outbox, in the same
transaction. On PostgreSQL a second worker's UPDATE waits for the first's commit, then
finds the row taken; on SQLite the writers queue for the database's write lock. These
are jobs, not a request: they commit each claim with its mail, so a long list holds no
lock for long and what was sent stays sent if a later one fails.

The rules (the times themselves live on the Event: `reminder_at`, `kitchen_summary_at`):
- A party is reminded from `reminder_hours` before the start (the event's setting; 0:
  none) until the start: a confirmed party with its tickets, the address, the time and
  what each person eats; a party on the waiting list that it is still waiting, with the
  link to leave the list. Not a party that is cancelled or waiting for its online
  payment (if it is paid before the start, it is reminded then), and not a party that
  registered at or after the reminder time: its confirmation has just told it all.
  A party is reminded at most once: a party promoted from the waiting list after its
  "still waiting" mail gets the promotion's mail, not a second reminder.
- The kitchen's summary (meals per diet, with the notes) goes once, from the event's
  `kitchen_summary_at` until the start, to the organisers of the host collective; when
  it has none, or the event is the cooperative's own, to the admins, who manage it.
- Only published events: a draft or a cancelled event sends nothing.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import (
    CollectiveRole,
    Event,
    EventStatus,
    MealOption,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)
from ..models.events import MAX_REMINDER_HOURS
from .attendance import summary
from .mail import external_url, queue_mail
from .registration.notices import notify

# The parties a reminder is for, and the mail each gets.
REMINDER_MAILS = {
    RegistrationStatus.CONFIRMED: "event_reminder",
    RegistrationStatus.WAITLISTED: "waitlist_reminder",
}


def send_event_reminders(now: datetime | None = None) -> int:
    """Remind the parties whose event's reminder time has come (see the module's rules);
    return how many were reminded. Commits each reminder with its claim."""
    now = now or utcnow()
    reminded = 0
    for event in _events_to_remind(now):
        for registration_id in _parties_to_remind(event):
            # Still confirmed or waiting: a party cancelled meanwhile gets no reminder.
            still = Registration.status.in_(REMINDER_MAILS)
            if claim_once(Registration.reminded_at, registration_id, now, still):
                registration = db.session.get(Registration, registration_id)
                notify(registration, REMINDER_MAILS[registration.status])
                reminded += 1
            db.session.commit()
    return reminded


def _events_to_remind(now: datetime) -> list[Event]:
    """Published events not started whose reminder time has come."""
    soon = db.session.scalars(
        sa.select(Event)
        .where(
            Event.status == EventStatus.PUBLISHED,
            Event.reminder_hours > 0,
            Event.starts_at > now,
            Event.starts_at <= now + timedelta(hours=MAX_REMINDER_HOURS),
        )
        .order_by(Event.starts_at, Event.id)
    ).all()
    return [event for event in soon if event.reminder_at <= now]


def _parties_to_remind(event: Event) -> list[int]:
    """The ids of the event's parties not reminded yet that a reminder is for: confirmed
    or waiting, registered before the reminder time."""
    return db.session.scalars(
        sa.select(Registration.id)
        .where(
            Registration.event_id == event.id,
            Registration.status.in_(REMINDER_MAILS),
            Registration.reminded_at.is_(None),
            Registration.created_at < event.reminder_at,
        )
        .order_by(Registration.id)
    ).all()


def claim_once(stamp, row_id: int, now: datetime, *still) -> bool:
    """Set the column `stamp` (such as `Registration.reminded_at`) of the row `row_id` to
    `now`, if nobody did and the row is `still` as it must be: True when this worker's
    conditional UPDATE did it (and so must send the mail). Shared by every job that
    sends a mail once."""
    table = stamp.class_
    claimed = db.session.execute(
        sa.update(table)
        .where(table.id == row_id, stamp.is_(None), *still)
        .values({stamp: now})
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(claimed)


def send_kitchen_summaries(now: datetime | None = None) -> int:
    """Send the kitchen's summary of each published event whose `kitchen_summary_at` has
    come and that has not started, to its organisers (see the module's rules); return
    how many events' summaries were sent. Commits each with its claim."""
    now = now or utcnow()
    sent = 0
    for event in _events_for_the_kitchen(now):
        still = Event.status == EventStatus.PUBLISHED
        if claim_once(Event.kitchen_summary_sent_at, event.id, now, still):
            db.session.refresh(event)
            _mail_kitchen_summary(event)
            sent += 1
        db.session.commit()
    return sent


def _events_for_the_kitchen(now: datetime) -> list[Event]:
    """Published events with meals, not started, summary not sent, whose time has come.
    No meal's deadline may still be ahead; the rest of the rule is `kitchen_summary_at`."""
    meal = sa.orm.aliased(MealOption)
    candidates = db.session.scalars(
        sa.select(Event)
        .where(
            Event.status == EventStatus.PUBLISHED,
            Event.kitchen_summary_sent_at.is_(None),
            Event.starts_at > now,
            sa.exists().where(MealOption.event_id == Event.id),
            ~sa.exists().where(meal.event_id == Event.id, meal.signup_deadline > now),
        )
        .options(sa.orm.selectinload(Event.meal_options))
        .order_by(Event.starts_at, Event.id)
    ).all()
    return [event for event in candidates if event.kitchen_summary_at <= now]


def kitchen_recipients(event: Event) -> list[User]:
    """Who gets the kitchen's summary: the host collective's organisers; when there are
    none (or no host), the admins, who manage every event."""
    organisers = []
    if event.collective_id is not None:
        organisers = db.session.scalars(
            sa.select(User)
            .join(CollectiveRole, CollectiveRole.user_id == User.id)
            .where(CollectiveRole.collective_id == event.collective_id)
            .order_by(User.id)
        ).all()
    if organisers:
        return list(organisers)
    return list(db.session.scalars(sa.select(User).where(User.is_admin).order_by(User.id)))


def _mail_kitchen_summary(event: Event) -> None:
    """Write the summary, counted now (the attendance list's one count), to the outbox
    for each recipient, in their own language."""
    counts = summary(event)
    kitchen_url = external_url("attendance.kitchen", event_id=event.id)
    for organiser in kitchen_recipients(event):
        queue_mail(
            organiser.email,
            _l("Kitchen summary: %(title)s", title=event.title),
            "kitchen_summary",
            organiser.locale,
            organiser=organiser,
            event=event,
            summary=counts,
            kitchen_url=kitchen_url,
        )
