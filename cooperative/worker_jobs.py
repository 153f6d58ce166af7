"""Every job the worker (`flask --app cooperative coop worker`) runs by itself, with its
schedule: the one list of them. A new periodic job is one more line in JOBS.

Schedules are in Europe/Amsterdam time (the cooperative's zone, BABEL_DEFAULT_TIMEZONE).
The daily jobs stay clear of 02:00-03:00, the hour that is skipped in March and happens
twice in October. The frequent ones repeat on a fixed grid (counted from 1 January 2000),
so every worker on every host agrees on their due times, and runs each of them once
(cooperative/worker.py, services/job_runs.py).

A job's function runs in an app context with its own database session; it may commit
as it goes (the outbox commits each message), and what it leaves is committed after it.
It returns a line for the log when it did something, None when there was nothing to do.
Each must be safe to run again at its next due time after a failure half-way.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from .config import TIME_ZONE
from .extensions import db
from .refusals import Refused

ZONE = ZoneInfo(TIME_ZONE)
GRID_START = datetime(2000, 1, 1, tzinfo=ZONE)


@dataclass(frozen=True)
class Job:
    """A periodic job: its name (the key of its row in `worker_jobs`), when it is due,
    and what it does."""

    name: str
    trigger: BaseTrigger
    run: Callable[[], str | None]


def every(*, seconds: int = 0, minutes: int = 0) -> IntervalTrigger:
    """Due every so many seconds or minutes, on a grid all workers share."""
    return IntervalTrigger(seconds=seconds, minutes=minutes, start_date=GRID_START, timezone=ZONE)


def daily(hour: int, minute: int) -> CronTrigger:
    """Due once a day at hour:minute in Amsterdam."""
    return CronTrigger(hour=hour, minute=minute, timezone=ZONE)


def _counted(report: str, counts: tuple[int, ...]) -> str | None:
    return report.format(*counts) if any(counts) else None


def send_mail() -> str | None:
    """Deliver the e-mails waiting in the outbox (services/mail.py)."""
    from .services import mail

    return _counted("sent {} e-mails, {} failed", mail.send_pending())


def send_stripe() -> str | None:
    """Make the Stripe calls that are due: refunds, Checkout closings, debits."""
    from .services import stripe_calls

    return _counted("made {} Stripe calls, {} failed", stripe_calls.send_due())


def expire_holds() -> str | None:
    """Release unpaid holds whose time is up (seats go back, the waiting list moves)."""
    from .services import registration

    return _counted("released {} expired holds", (registration.expire_holds(),))


def event_reminders() -> str | None:
    """Remind the people registered (and waiting) and the volunteers before their event,
    and send each kitchen its summary when the meals' sign-up closes (services/reminders.py,
    services/volunteer_mail.py)."""
    from .services import reminders, volunteer_mail

    counts = (
        reminders.send_event_reminders(),
        volunteer_mail.volunteer_reminders(),
        reminders.send_kitchen_summaries(),
    )
    return _counted(
        "reminded {} registrations and {} volunteers, sent {} kitchen summaries", counts
    )


def series_dates() -> str | None:
    """Make the dates of every event series up to its horizon (services/series.py)."""
    from .services import series

    return _counted("made {} dates of event series", (len(series.create_occurrences()),))


def membership_reminders() -> str | None:
    """Remind yearly members whose end is near; lapse those past their grace period."""
    from .services import membership

    return _counted("reminded {} members, {} lapsed", membership.send_reminders_and_lapse())


def collect_dues() -> str | None:
    """The daily dues run by SEPA direct debit at the earliest debit date (as `coop
    collect-dues` without a date): a day with nobody owing makes no run. Then send Stripe
    the debits whose date has come."""
    from .services import dues, sepa, sepa_stripe

    made = 0
    try:
        made = len(dues.run_dues(sepa.earliest_debit_date()).collections)
    except Refused:  # nobody owes on that day, or it is no bank day: nothing to do
        db.session.rollback()
    else:
        db.session.commit()
    submitted = sepa_stripe.submit_due()
    return _counted("made {} collections, sent {} debits to Stripe", (made, submitted))


def purge() -> str | None:
    """Remove the personal data no longer needed (as `coop purge`)."""
    from .services import retention

    counts = (
        retention.purge_guests(),
        retention.purge_guest_slots(),
        retention.purge_mail(),
        retention.purge_former_members(),
        retention.purge_register(),
        retention.purge_mandates(),
        retention.purge_announcement_recipients(),
    )
    return _counted(
        "purged {} guest registrations, {} guest volunteers' slots, {} e-mails, "
        "{} former members' profiles, {} register entries, {} mandates, "
        "{} announcements' recipients",
        counts,
    )


JOBS: list[Job] = [
    Job("send-mail", every(seconds=5), send_mail),
    Job("send-stripe", every(minutes=1), send_stripe),
    Job("expire-holds", every(minutes=1), expire_holds),
    Job("event-reminders", every(minutes=5), event_reminders),
    Job("purge", daily(3, 30), purge),
    Job("series-dates", daily(4, 15), series_dates),
    Job("membership-reminders", daily(6, 15), membership_reminders),
    Job("collect-dues", daily(6, 45), collect_dues),
]
