"""How long personal data is kept, and the daily `coop purge` that removes it after.

- Guests (registrations without an account): their names, address and e-mails go
  `GUEST_DATA_DAYS` (90) after their event; what stays is anonymous (counts, amounts).
- The outbox: an e-mail sent or given up on is deleted `OUTBOX_KEEP_DAYS` (30) after it
  left; its only use after that would be to answer "did my mail go out?". A mail still
  waiting to go is never deleted.

Services flush; the caller commits.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Event, OutboxMessage, OutboxStatus, Registration, utcnow
from .privacy import anonymise_registration


def guest_data_days() -> int:
    """How many days after their event guests' names and addresses are kept."""
    return current_app.config["GUEST_DATA_DAYS"]


def outbox_keep_days() -> int:
    """How many days an e-mail is kept after it was sent (or given up on)."""
    return current_app.config["OUTBOX_KEEP_DAYS"]


def purge_guests(days: int | None = None, now: datetime | None = None) -> int:
    """Anonymise guests' registrations (no account) for events that ended more than
    `days` ago, e-mails about them included; return how many were anonymised.

    Registrations made with an account are left: their owner keeps or deletes them.
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=guest_data_days() if days is None else days)
    rows = db.session.scalars(
        sa.select(Registration)
        .join(Registration.event)
        .where(
            Registration.user_id.is_(None),
            # Walk-ins at the door gave a name but no address.
            sa.or_(Registration.contact_email != "", Registration.contact_name != ""),
            Event.ends_at < cutoff,
        )
        .options(sa.orm.selectinload(Registration.attendees))
    ).all()
    for registration in rows:
        anonymise_registration(registration)
    db.session.flush()
    return len(rows)


def purge_mail(days: int | None = None, now: datetime | None = None) -> int:
    """Delete the e-mails sent, or given up on, more than `days` (OUTBOX_KEEP_DAYS) ago;
    return how many. Refuses nothing, and never touches a mail still waiting to go."""
    now = now or utcnow()
    cutoff = now - timedelta(days=outbox_keep_days() if days is None else days)
    left_at = sa.func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at)
    return db.session.execute(
        sa.delete(OutboxMessage).where(
            OutboxMessage.status.in_((OutboxStatus.SENT, OutboxStatus.FAILED)),
            left_at < cutoff,
        ),
        execution_options={"synchronize_session": False},
    ).rowcount
