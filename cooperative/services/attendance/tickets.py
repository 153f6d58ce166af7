"""Tickets as typed or scanned at the door: the short code, and finding the ticket."""

import re

import sqlalchemy as sa

from ...extensions import db
from ...models import Attendee, Event, Registration

# A ticket as typed or scanned: `<id>-<secret>` (at least its first 4 characters), alone or
# at the end of the ticket's address.
_TICKET_RE = re.compile(r"(?:.*/t/)?([0-9]{1,18})-([A-Za-z0-9_-]{4,64})/?")

SHORT_CODE_LENGTH = 6


def short_code(attendee: Attendee) -> str:
    """The ticket's code as printed for people to read out or type: `<id>-<6 characters>`."""
    return f"{attendee.id}-{attendee.ticket_code[:SHORT_CODE_LENGTH]}"


def parse_ticket(text: str) -> tuple[int, str] | None:
    """(attendee id, start of the secret) from a typed code or a scanned ticket address."""
    match = _TICKET_RE.fullmatch((text or "").strip())
    return (int(match.group(1)), match.group(2)) if match else None


def ticket_matches(ticket: tuple[int, str]):
    attendee_id, secret = ticket
    # The id finds the ticket; the characters after it only confirm it, so a code typed
    # with the wrong capitals on a phone still matches.
    return sa.and_(
        Attendee.id == attendee_id,
        sa.func.lower(sa.func.substr(Attendee.ticket_code, 1, len(secret))) == secret.lower(),
    )


def find_ticket(event: Event, code: str) -> Attendee | None:
    """The attendee of `event` whose ticket this typed or scanned code is, or None.

    Takes the whole ticket, its address, or its short code (`<id>-<first characters>`).
    Only organisers of the event use this, and they see the whole list anyway.
    """
    ticket = parse_ticket(code)
    if ticket is None:
        return None
    return db.session.scalar(
        sa.select(Attendee)
        .join(Registration, Attendee.registration_id == Registration.id)
        .where(Registration.event_id == event.id, ticket_matches(ticket))
    )
