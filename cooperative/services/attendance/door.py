"""Money paid at the door, with who took it and when."""

import logging
from datetime import datetime

from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...locking import lock_event
from ...models import (
    Payment,
    PaymentProvider,
    PaymentState,
    PaymentStatus,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)
from ...money import format_euros
from ...refusals import Refused
from .. import audit

log = logging.getLogger(__name__)


def add_door_payment(
    registration: Registration, amount_cents: int, by: User, now: datetime
) -> Payment:
    payment = Payment(
        registration_id=registration.id,
        provider=PaymentProvider.DOOR,
        status=PaymentStatus.PAID,
        amount_cents=amount_cents,
        description=f"{registration.event.title}: {registration.contact_name}"[:300],
        paid_at=now,
        recorded_by_id=by.id,
        created_at=now,
    )
    db.session.add(payment)
    registration.amount_paid_cents += amount_cents
    if registration.amount_paid_cents >= registration.amount_due_cents:
        registration.payment_state = PaymentState.PAID
    return payment


def record_door_payment(
    registration: Registration,
    amount_cents: int | None,
    by: User,
    *,
    expected_open_cents: int | None = None,
    now: datetime | None = None,
) -> Payment | None:
    """Record money paid at the door for a confirmed party, with who took it and when.

    `expected_open_cents` is what the form showed as still to pay: when that is no longer
    so (the same tap sent twice, or the party changed meanwhile) nothing is recorded and
    None is returned. With the event locked. Refuses (Refused on `amount`) an
    amount that is not a positive euro amount or is more than is still to pay, and (on
    `event`) a party that is not confirmed or owes nothing.
    """
    now = now or utcnow()
    lock_event(registration.event)
    db.session.refresh(registration)
    if registration.status == RegistrationStatus.PENDING_PAYMENT:
        raise Refused(
            _l("This party is paying online. Their seats are held until the payment is done.")
        )
    if registration.status != RegistrationStatus.CONFIRMED:
        raise Refused(_l("Only a party with a place can pay at the door."))
    open_cents = registration.amount_open_cents
    before = audit.snapshot(registration, "amount_paid_cents", "payment_state")
    if expected_open_cents is not None and expected_open_cents != open_cents:
        return None
    if open_cents <= 0:
        if expected_open_cents is not None:
            return None
        raise Refused(_l("This party has nothing left to pay."))
    if amount_cents is None or amount_cents <= 0:
        raise Refused(_l("Please write an amount in euros, like 4,50."), field="amount")
    if amount_cents > open_cents:
        raise Refused(
            _l("Only %(amount)s is still to pay.", amount=format_euros(open_cents)), field="amount"
        )
    payment = add_door_payment(registration, amount_cents, by, now)
    audit.record_registration(
        by,
        "registration.door_payment",
        registration,
        before,
        "amount_paid_cents",
        "payment_state",
        at=now,
    )
    db.session.flush()
    log.info(
        "Door payment of %s cents for party %s recorded by user %s",
        amount_cents,
        registration.id,
        by.id,
    )
    return payment
