"""Changing a party: cancelling it or one of its people, a person's name and diets."""

from datetime import datetime

from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...locking import lock_event
from ...models import (
    HOLDING,
    Attendee,
    PaymentState,
    Registration,
    RegistrationStatus,
    utcnow,
)
from ...refusals import Refused
from .notices import notify
from .refunds import check_stripe_answers, close_open_payments, refund
from .signup import payment_state, promote_waitlist


def _check_changeable(registration: Registration, now: datetime) -> None:
    if registration.status == RegistrationStatus.CANCELLED:
        raise Refused(_l("This registration is cancelled."), field="event")
    if not registration.can_change(now):
        raise Refused(_l("The event has started: this can no longer be changed."), field="event")


def cancel(
    registration: Registration, now: datetime | None = None, *, by_organiser: bool = False
) -> None:
    """Cancel a whole party, free its seats and meals, and promote the waiting list.

    What was paid online is refunded until the event's refund deadline, or always when an
    organiser cancels (raises PaymentUnavailable, changing nothing, when Stripe does not
    answer); an unfinished online payment is closed. Stripe is asked to refund and close
    after the commit, never while the event is locked.
    """
    now = now or utcnow()
    _check_changeable(registration, now)
    check_stripe_answers([registration], now, always=by_organiser)
    lock_event(registration.event)
    held = registration.status in HOLDING
    refund(registration, registration.amount_paid_cents, now, always=by_organiser)
    close_open_payments(registration)
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    registration.hold_expires_at = None
    for attendee in registration.active_attendees:
        attendee.cancelled_at = now
    if registration.payment_state not in (PaymentState.PAID, PaymentState.REFUNDED):
        registration.payment_state = PaymentState.NONE
    db.session.flush()
    notify(registration, "registration_cancelled")
    if held:
        promote_waitlist(registration.event)


def cancel_attendee(attendee: Attendee, now: datetime | None = None) -> None:
    """Cancel one person of a party; the last one cancels the party. Frees their seat.

    Their part of an online payment is refunded until the event's refund deadline (raises
    PaymentUnavailable, changing nothing, when Stripe does not answer).
    """
    now = now or utcnow()
    registration = attendee.registration
    _check_changeable(registration, now)
    if attendee.cancelled_at is not None:
        return
    if len(registration.active_attendees) == 1:
        cancel(registration, now)
        return
    if registration.payment_state == PaymentState.PAID:
        check_stripe_answers([registration], now)
    lock_event(registration.event)
    attendee.cancelled_at = now
    registration.amount_due_cents = sum(
        registration.event.ticket_price_cents + person.meal_price_cents
        for person in registration.active_attendees
    )
    if registration.payment_state == PaymentState.PAID:
        refund(registration, registration.amount_paid_cents - registration.amount_due_cents, now)
    else:
        # The open Checkout page asks for the old amount: close it; "pay now" makes a new one.
        close_open_payments(registration)
        if (
            registration.status == RegistrationStatus.PENDING_PAYMENT
            and not registration.amount_open_cents
        ):
            # Those still coming owe nothing more: no reason to hold their seats any longer.
            registration.status = RegistrationStatus.CONFIRMED
            registration.hold_expires_at = None
        if registration.amount_paid_cents and not registration.amount_open_cents:
            registration.payment_state = PaymentState.PAID
        else:
            registration.payment_state = payment_state(
                registration.status, registration.amount_open_cents
            )
    db.session.flush()
    if registration.status in HOLDING:
        promote_waitlist(registration.event)


def update_attendee(
    attendee: Attendee, name: str, diets: list[str], diet_note: str, now: datetime | None = None
) -> None:
    """Change a person's name, and their diets while their meal's sign-up is open.

    Refuses an empty name, a name or note longer than its column holds (never cut short
    in silence), a diet the meal does not offer, and diet changes after the meal's deadline.
    """
    now = now or utcnow()
    _check_changeable(attendee.registration, now)
    name, diet_note = name.strip(), diet_note.strip()
    if not name:
        raise Refused(_l("Please fill in the name of each person."), field="name")
    if len(name) > Attendee.name.type.length:
        raise Refused(
            _l("Please keep the name under %(count)d characters.", count=Attendee.name.type.length),
            field="name",
        )
    attendee.name = name
    option = attendee.meal_option
    if option is None:
        return
    new_diets = sorted(set(diets))
    if new_diets != sorted(attendee.diets) or diet_note != attendee.diet_note:
        if not option.signup_open(now):
            raise Refused(
                _l("The meal’s sign-up has closed: diets can no longer be changed."),
                field="diets",
            )
        if set(new_diets) - set(option.diets):
            raise Refused(_l("Please choose from the diets this meal offers."), field="diets")
        if len(diet_note) > Attendee.diet_note.type.length:
            raise Refused(
                _l(
                    "Please keep the note under %(count)d characters.",
                    count=Attendee.diet_note.type.length,
                ),
                field="diet_note",
            )
        attendee.diets = new_diets
        attendee.diet_note = diet_note
