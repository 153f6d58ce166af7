"""Registering a party for an event: seats, meals, prices, the waiting list, cancelling;
a module for each job.

Every workflow here that can change who holds a seat first locks the event row
(`locking.lock_event`), then counts and writes inside the same transaction, so two people
can never take the last seat at once. Nothing here calls Stripe while the lock is held:
refunds and closed Checkout pages are recorded (`stripe_calls`) and made after the
commit, and a Checkout page is made once its pending payment is committed
(`services/checkout.py`). The caller commits; these functions only flush.
"""

from .changes import cancel, cancel_attendee, update_attendee
from .holds import expire_holds, payment_failed, payment_succeeded, start_payment
from .notices import mail_party, resend_link, waitlist_position
from .refunds import check_stripe_answers, refund_everything
from .signup import (
    PWYC_MAX_CENTS,
    AlreadyRegistered,
    PersonChoice,
    check_members_only,
    meal_price,
    must_pay_online,
    price_cents,
    promote_waitlist,
    register,
    takes_online_payment,
)
from .tokens import find_attendee, find_registration, new_secret

__all__ = [
    "PWYC_MAX_CENTS",
    "AlreadyRegistered",
    "PersonChoice",
    "cancel",
    "cancel_attendee",
    "check_members_only",
    "check_stripe_answers",
    "expire_holds",
    "find_attendee",
    "find_registration",
    "mail_party",
    "meal_price",
    "must_pay_online",
    "new_secret",
    "payment_failed",
    "payment_succeeded",
    "price_cents",
    "promote_waitlist",
    "refund_everything",
    "register",
    "resend_link",
    "start_payment",
    "takes_online_payment",
    "update_attendee",
    "waitlist_position",
]
