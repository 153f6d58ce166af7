"""Sending a person to Stripe's Checkout page: the commits around the call to Stripe.

Not a blueprint: the views that take payments (registrations, joining, the account page)
share this. See `services/checkout.py` for why the page is made between two commits.
"""

from collections.abc import Callable

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..refusals import Refused
from ..services import checkout


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
