"""The e-mails a volunteer gets: their slot with its private link and calendar file, the
news that a task was removed or its event cancelled, and the reminder the day before.

Every one goes through the outbox (`mail.queue_mail`): in the transaction of the change
that caused it, or (the reminders, a job) committed with the claim of the slot.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..i18n import local_zone
from ..models import Event, EventStatus, Task, TaskSignup, utcnow
from ..models.events import MAX_REMINDER_HOURS
from .calendar import event_entry, event_uid, new_calendar
from .mail import external_url, queue_mail
from .reminders import claim_once


def slot_calendar(signup: TaskSignup) -> bytes:
    """A calendar file with the slot: the event's entry (its place, its link) with the
    task's own times and name, and a UID of its own, so it sits beside the event's."""
    task, event = signup.task, signup.task.event
    calendar = new_calendar(event.title, (task.begins, task.finishes))
    entry = event_entry(event)
    zone = local_zone()
    for key, value in (
        ("uid", f"task-{task.id}-{event_uid(event)}"),
        ("summary", f"{task.name} · {event.title}"),
        ("dtstart", task.begins.astimezone(zone)),
        ("dtend", task.finishes.astimezone(zone)),
    ):
        entry.pop(key, None)
        entry.add(key, value)
    calendar.add_component(entry)
    return calendar.to_ical()


def _send(signup: TaskSignup, template: str, subject, *, calendar: bool, **context) -> None:
    task, event = signup.task, signup.task.event
    attachments = []
    if calendar:
        attachments.append(
            {
                "filename": f"{event.slug}-{task.id}.ics",
                "content_type": "text/calendar",
                "content": slot_calendar(signup).decode(),
            }
        )
    queue_mail(
        signup.address,
        subject,
        template,
        signup.locale,
        attachments=attachments,
        signup=signup,
        task=task,
        event=event,
        leave_url=external_url("volunteers.slot", token=signup.token),
        event_url=external_url("events.show", slug=event.slug),
        **context,
    )


def signed_up(signup: TaskSignup) -> None:
    """Tell the person their slot, with its private link to leave it and a calendar file."""
    _send(
        signup,
        "task_signed_up",
        _l(
            "You help with %(task)s: %(title)s",
            task=signup.task.name,
            title=signup.task.event.title,
        ),
        calendar=True,
    )


def task_removed(signup: TaskSignup) -> None:
    """Tell the person the task they signed up for is gone."""
    _send(
        signup,
        "task_removed",
        _l("Task removed: %(task)s", task=signup.task.name),
        calendar=False,
    )


def event_cancelled(signup: TaskSignup) -> None:
    """Tell the person the event of their task is cancelled, and their slot with it."""
    _send(
        signup,
        "task_event_cancelled",
        _l("Cancelled: %(title)s", title=signup.task.event.title),
        calendar=False,
        events_url=external_url("events.index"),
    )


def volunteer_reminders(now: datetime | None = None) -> int:
    """Remind each volunteer of their slot, once, from the event's `reminder_hours`
    (the setting people's reminders use; 0: none) before the task begins until it
    begins. Not for a cancelled or draft event, a slot given up, nor a slot taken at or
    after that time (its confirmation has just told it all). Returns how many were
    reminded.

    A job, like `reminders.send_event_reminders`, and shaped like it: each slot is
    claimed by a conditional UPDATE of its `reminded_at` and committed with its mail, so
    two workers running this at once send each reminder once (on PostgreSQL the second
    UPDATE waits for the first's commit, then finds the row taken)."""
    now = now or utcnow()
    task_begins = sa.func.coalesce(Task.starts_at, Event.starts_at)
    candidates = db.session.scalars(
        sa.select(TaskSignup)
        .join(Task, TaskSignup.task_id == Task.id)
        .join(Event, Task.event_id == Event.id)
        .where(
            TaskSignup.cancelled_at.is_(None),
            TaskSignup.reminded_at.is_(None),
            Event.status == EventStatus.PUBLISHED,
            Event.reminder_hours > 0,
            task_begins > now,
            task_begins <= now + timedelta(hours=MAX_REMINDER_HOURS),
        )
        .order_by(TaskSignup.id)
        .options(sa.orm.contains_eager(TaskSignup.task).contains_eager(Task.event))
    ).all()
    due = [signup.id for signup in candidates if _reminder_at(signup) <= now]
    db.session.commit()
    sent = 0
    for signup_id in due:
        still = TaskSignup.cancelled_at.is_(None)  # a slot given up meanwhile: no reminder
        if claim_once(TaskSignup.reminded_at, signup_id, now, still):
            signup = db.session.get(TaskSignup, signup_id)
            _send(
                signup,
                "task_reminder",
                _l(
                    "Reminder: %(task)s, %(title)s",
                    task=signup.task.name,
                    title=signup.task.event.title,
                ),
                calendar=False,
            )
            sent += 1
        db.session.commit()
    return sent


def _reminder_at(signup: TaskSignup) -> datetime:
    """When this slot's reminder is due; never for a slot taken after that moment."""
    task = signup.task
    moment = task.begins - timedelta(hours=task.event.reminder_hours)
    return moment if signup.created_at < moment else task.begins
