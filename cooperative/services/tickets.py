"""Each person's ticket: its link and its QR code, on the ticket page and in the mail.

The QR code holds the ticket's own link (`/t/<ticket>`): scanned at the door it opens the
ticket with the check-in button for the event's organisers.
"""

import base64
import io

import segno

from ..models import Attendee, Registration, RegistrationStatus
from .mail import external_url


def ticket_url(attendee: Attendee) -> str:
    """The ticket's absolute link, as its QR code holds it."""
    return external_url("registrations.ticket", ticket=attendee.ticket)


def ticket_qr(attendee: Attendee) -> segno.QRCode:
    """The ticket's QR code (error correction M: still readable from a cracked screen)."""
    return segno.make(ticket_url(attendee), error="m")


def qr_png(attendee: Attendee) -> bytes:
    """The ticket's QR code as a PNG image, big enough to scan from a phone's screen."""
    buffer = io.BytesIO()
    ticket_qr(attendee).save(buffer, kind="png", scale=6, border=2)
    return buffer.getvalue()


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
    """The tickets' QR codes as inline outbox attachments, shown in the mail's HTML part."""
    return [
        {
            "filename": f"ticket-{attendee.id}.png",
            "content_type": "image/png",
            "encoding": "base64",
            "content": base64.b64encode(qr_png(attendee)).decode("ascii"),
            "content_id": content_id(attendee),
        }
        for attendee in attendees
    ]
