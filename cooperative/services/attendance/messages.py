"""Messages from the organisers to the parties of an event, by e-mail through the outbox."""

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import HOLDING, Event, OutboxMessage, Registration, RegistrationStatus, User, utcnow
from ...refusals import Refused
from ..registration import mail_party

log = logging.getLogger(__name__)

# A message with the same subject to the same people within this time is a double click.
MESSAGE_REPEAT_WINDOW = timedelta(minutes=10)

AUDIENCES = ("confirmed", "waiting")


def recipients(event: Event, audience: str) -> list[Registration]:
    """The parties a message goes to: those with a place (`confirmed`, also those paying
    online) or those on the waiting list (`waiting`); each once, walk-ins (who left no
    address) left out."""
    statuses = HOLDING if audience == "confirmed" else (RegistrationStatus.WAITLISTED,)
    return db.session.scalars(
        sa.select(Registration)
        .where(
            Registration.event_id == event.id,
            Registration.status.in_(statuses),
            Registration.contact_email != "",
        )
        .order_by(Registration.id)
    ).all()


def message_subject(event: Event, subject: str) -> str:
    return f"{event.title}: {subject}"


def send_message(
    event: Event, audience: str, subject: str, body: str, by: User, now: datetime | None = None
) -> int:
    """E-mail the organisers' message, through the outbox, to every party of `audience`
    (see `recipients`), each in their own language; returns how many parties it goes to.

    Refuses (Refused) an unknown audience, one without anybody, an empty
    subject or message, and the same message sent again within a few minutes (a double
    click).
    """
    now = now or utcnow()
    if audience not in AUDIENCES:
        raise Refused(_l("Please choose who gets the message."), field="audience")
    # One line: a line break in a subject would break the e-mail's header.
    subject, body = " ".join(subject.split()), body.strip()
    if not subject:
        raise Refused(_l("Please write a subject."), field="subject")
    if not body:
        raise Refused(_l("Please write your message."), field="body")
    parties = recipients(event, audience)
    if not parties:
        raise Refused(_l("Nobody would get this message."), field="audience")
    full_subject = message_subject(event, subject)
    sent_before = db.session.scalar(
        sa.select(OutboxMessage.id)
        .where(
            OutboxMessage.subject == full_subject,
            OutboxMessage.to_address == parties[0].contact_email,
            OutboxMessage.created_at >= now - MESSAGE_REPEAT_WINDOW,
        )
        .limit(1)
    )
    if sent_before is not None:
        raise Refused(_l("This message was sent a few minutes ago already."), field="subject")
    for registration in parties:
        mail_party(registration, full_subject, "organiser_message", body=body)
    db.session.flush()
    log.info(
        "Message %r to %d %s parties of event %s sent by user %s",
        subject,
        len(parties),
        audience,
        event.id,
        by.id,
    )
    return len(parties)
