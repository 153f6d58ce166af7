"""Sending a person to Stripe's Checkout page: the commits around the call to Stripe.

Not a blueprint: the views that take payments (registrations, joining, the account page)
share this. See `services/checkout.py` for why the page is made between two commits.
"""

from collections.abc import Callable

from flask import flash, redirect, request
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..forms.fields import checkout_session_id
from ..models import Payment
from ..refusals import Refused
from ..services import checkout, payments
from .going_back import roll_back_to


def go_to_checkout(prepare: Callable[[], checkout.Checkout]) -> str:
    """The address of the Checkout page for what `prepare` sets up (a service that
    flushes the pending payment).

    The pending payment is committed first; Stripe is called with no transaction open;
    its session is stored in a short transaction of its own. Raises Refused (from
    `prepare`, or when the payment was closed while Stripe made its page) and
    PaymentUnavailable, after which the committed pending payment is tried again, with
    the same idempotency key, by the next attempt. The caller rolls back on either.
    """
    pending = prepare()
    db.session.commit()
    if pending.url:
        return pending.url
    session = checkout.create_session(pending)
    still_open = checkout.record_session(pending, session)
    db.session.commit()
    if not still_open:
        raise Refused(_l("This payment was closed meanwhile. Nothing was charged."))
    return session.url


def checkout_or_back(prepare: Callable[[], checkout.Checkout], back: str, unavailable):
    """A redirect (303) to Stripe's Checkout page for what `prepare` sets up (see
    `go_to_checkout`), or, all rolled back, to `back`: with the refusal flashed as
    information, or with `unavailable` flashed as an error when Stripe does not answer."""
    try:
        url = go_to_checkout(prepare)
    except Refused as refusal:
        return roll_back_to(back, refusal.message, "info")
    except payments.PaymentUnavailable:
        return roll_back_to(back, unavailable)
    return redirect(url, code=303)


def back_from_checkout(here: str, payment_of: Callable[[str], Payment | None], not_paid_yet):
    """Where a person lands coming back from Stripe's Checkout page, or None for a plain
    visit. With `?session_id=`, the payment `payment_of(session_id)` finds (looked up only
    when the id is shaped like Stripe's: never a NUL, never 10 MB of text) is brought up to
    date with Stripe and committed; with `?checkout=cancelled`, `not_paid_yet` is flashed.
    Either way the answer is a redirect (303) to `here`, the page at its plain address.
    PaymentUnavailable from Stripe is not caught."""
    session_id = request.args.get("session_id", "")
    if session_id:
        payment = checkout_session_id(session_id) and payment_of(session_id)
        if payment:
            payments.sync_checkout(payment)
            db.session.commit()
        return redirect(here, code=303)
    if request.args.get("checkout") == "cancelled":
        flash(not_paid_yet, "info")
        return redirect(here, code=303)
    return None
