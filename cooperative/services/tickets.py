"""Each person's ticket: its link and its QR code, on the ticket page and in the mail.

The QR code holds the ticket's own link (`/t/<ticket>`): scanned at the door it opens the
ticket with the check-in button for the event's organisers.
"""

from ..models import Attendee, Registration, RegistrationStatus
from .mail import external_url


def ticket_url(attendee: Attendee) -> str:
    """The ticket's absolute link, as its QR code holds it."""
    return external_url("registrations.ticket", ticket=attendee.ticket)


def content_id(attendee: Attendee) -> str:
    """The Content-ID of the ticket's QR image in an e-mail (without the angle brackets)."""
    return f"ticket-{attendee.id}@tickets.meentcoop"


def mailed_tickets(registration: Registration) -> list[Attendee]:
    """The people whose ticket a mail about this registration carries: each active person
    of a confirmed party; nobody while it waits for payment or a seat, or is cancelled."""
    if registration.status != RegistrationStatus.CONFIRMED:
        return []
    return list(registration.active_attendees)


def ticket_images(attendees: list[Attendee]) -> list[dict]:
    """The tickets' QR codes as inline outbox attachments, shown in the mail's HTML part:
    each holds its ticket's link, drawn as a QR code when the mail is sent."""
    return [
        {
            "filename": f"ticket-{attendee.id}.png",
            "content_type": "image/png",
            "encoding": "qr",
            "content": ticket_url(attendee),
            "content_id": content_id(attendee),
        }
        for attendee in attendees
    ]
