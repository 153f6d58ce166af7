"""Money an admin saw arrive on the bank account: the one rule for what may be recorded
(exactly what is owed, and only when something is) and the payment that records it, for
a membership fee and for shares alike."""

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Payment, PaymentProvider, User
from ..money import format_euros
from ..refusals import Refused


def record_transfer(
    owed_cents: int, amount_cents: int, nothing_owed, admin: User, **payment
) -> Payment:
    """Add (and flush) the payment by bank transfer of `amount_cents` that `admin` saw
    arrive, with the `payment` fields given (status, description, what it pays for).

    Refuses (on `amount`) when nothing is owed (`nothing_owed` says so) and when the
    amount is not `owed_cents`."""
    if owed_cents <= 0:
        raise Refused(nothing_owed, "amount")
    if amount_cents != owed_cents:
        raise Refused(
            _l("The amount owed is %(amount)s.", amount=format_euros(owed_cents)), "amount"
        )
    recorded = Payment(
        provider=PaymentProvider.BANK_TRANSFER,
        amount_cents=amount_cents,
        currency="EUR",
        recorded_by_id=admin.id,
        **payment,
    )
    db.session.add(recorded)
    db.session.flush()
    return recorded
