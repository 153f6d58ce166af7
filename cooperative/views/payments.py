"""Stripe's webhooks: the one POST without a CSRF token, believed only when signed."""

from flask import Blueprint, current_app, request

from ..extensions import csrf, db
from ..security import any_origin
from ..services import payments

bp = Blueprint("payments", __name__, url_prefix="/payments")


@bp.post("/stripe/webhook")
@csrf.exempt
@any_origin
def stripe_webhook():
    """Act on a Stripe event: 400 for a missing, wrong or out-of-time signature, 503 when
    Stripe cannot be asked how the session stands (Stripe delivers it again later), 200
    once handled."""
    if not payments.online_payments_enabled():
        return {"error": "online payments are not set up"}, 404
    try:
        outcome = payments.handle_webhook(
            request.get_data(), request.headers.get("Stripe-Signature")
        )
    except payments.WebhookRefused:
        db.session.rollback()
        return {"error": "invalid signature"}, 400
    except payments.PaymentUnavailable:
        db.session.rollback()
        return {"error": "Stripe did not answer; deliver it again later"}, 503
    db.session.commit()
    current_app.logger.info("Stripe webhook: %s", outcome)
    return {"received": True, "outcome": outcome}
