"""The e-mails a party gets, and its place on the waiting list they mention."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import (
    Registration,
    RegistrationStatus,
)
from .. import tickets
from ..calendar import event_calendar
from ..mail import external_url, queue_mail


def waitlist_position(registration: Registration) -> int | None:
    """1 for the first party waiting, 2 for the next...; None when not waiting."""
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    return db.session.scalar(
        sa.select(sa.func.count(Registration.id)).where(
            Registration.event_id == registration.event_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            Registration.id <= registration.id,
        )
    )


def resend_link(registration: Registration) -> None:
    """E-mail a registration's private link again (to its own address only)."""
    notify(registration, "registration_link")


SUBJECTS = {
    "registration_received": lambda title: _l("Your registration: %(title)s", title=title),
    "registration_link": lambda title: _l("Your registration link: %(title)s", title=title),
    "registration_promoted": lambda title: _l("A place for you: %(title)s", title=title),
    "registration_cancelled": lambda title: _l("Cancelled: %(title)s", title=title),
    "registration_paid": lambda title: _l("Paid, see you there: %(title)s", title=title),
    "registration_expired": lambda title: _l("Your seats were released: %(title)s", title=title),
    "registration_refunded": lambda title: _l("Your payment is refunded: %(title)s", title=title),
    "event_reminder": lambda title: _l("Reminder: %(title)s", title=title),
    "waitlist_reminder": lambda title: _l("Still on the waiting list: %(title)s", title=title),
}


def notify(registration: Registration, template: str, **context) -> None:
    """E-mail the party's contact, in their language, with the event's calendar file and,
    for a confirmed party, each person's ticket with its QR code (in an HTML part)."""
    event = registration.event
    ticket_holders = tickets.mailed_tickets(registration)
    attachments = tickets.ticket_images(ticket_holders)
    if registration.status != RegistrationStatus.CANCELLED:
        attachments.append(
            {
                "filename": f"{event.slug}.ics",
                "content_type": "text/calendar",
                "content": event_calendar([event]).decode(),
            }
        )
    mail_party(
        registration,
        SUBJECTS[template](event.title),
        template,
        attachments=attachments,
        html_template="tickets" if ticket_holders else None,
        tickets=[
            (attendee, tickets.content_id(attendee), tickets.ticket_url(attendee))
            for attendee in ticket_holders
        ],
        position=waitlist_position(registration),
        **context,
    )


def mail_party(registration: Registration, subject, template: str, **context) -> None:
    """E-mail a party's contact, in the party's language, about its registration: the
    template gets the registration, its event, and the links to the party's own page and
    the event's."""
    event = registration.event
    queue_mail(
        registration.contact_email,
        subject,
        template,
        registration.locale,
        registration=registration,
        event=event,
        manage_url=external_url("registrations.manage", token=registration.token),
        event_url=external_url("events.show", slug=event.slug),
        **context,
    )
