"""The Stripe route of the dues: mandates given through Stripe Checkout in setup mode, and
collections debited as payment intents on the saved `sepa_debit` payment method.

Stripe keeps the IBAN and the mandate; we keep their ids. As for every payment, a
webhook is a prompt to ask Stripe, never the answer: the session, payment intent or
dispute is fetched from Stripe before anything is locked, and each event is handled once.
A debit is recorded as a `StripeCall` when its collection is submitted and created at
Stripe after the commit (`stripe_calls`), with an idempotency key; its result comes
by webhook (`payment_intent.succeeded` / `payment_intent.payment_failed`). A dispute
on a SEPA debit is the member's bank taking the money back: a reversal. The Stripe SDK is
imported where it is called, as in `payments`.
"""

import logging
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..i18n import current_locale
from ..ids import row_id
from ..models import (
    Collection,
    CollectionStatus,
    MandateKind,
    MandateStatus,
    Membership,
    Payment,
    PaymentProvider,
    SepaMandate,
    StripeCall,
    StripeEvent,
    utcnow,
)
from ..refusals import Refused
from . import debits, dues, payments, sepa, stripe_calls
from .mail import external_url

log = logging.getLogger(__name__)

INTENT_EVENTS = {"payment_intent.succeeded", "payment_intent.payment_failed"}
DISPUTE_EVENT = "charge.dispute.created"
SETUP_EVENT = "checkout.session.completed"
# A setup session's metadata `pays`: the mandate was given while joining.
JOIN = "join"


def start_setup(
    membership: Membership | None, now: datetime | None = None, *, joining: bool = False
) -> str:
    """The address of a Stripe Checkout page (setup mode, SEPA Direct Debit only) where
    the member gives their mandate; `joining`: what joining costs is debited under it
    once it is kept (`settle_setup`). Refuses what `sepa.check_may_give` refuses; raises
    payments.PaymentUnavailable when Stripe does not answer."""
    import stripe

    now = now or utcnow()
    membership = sepa.check_may_give(membership)
    user = membership.user
    page = external_url("mandate.show")
    metadata = {"membership_id": str(membership.id)}
    if joining:
        metadata["pays"] = JOIN
    try:
        session = payments.stripe_client().v1.checkout.sessions.create(
            params={
                "mode": "setup",
                "currency": "eur",
                "allowed_payment_method_types": ["sepa_debit"],
                "customer_creation": "always",
                "customer_email": user.email,
                "locale": current_locale() if current_locale() in ("nl", "en") else "auto",
                "client_reference_id": f"membership-{membership.id}",
                "metadata": metadata,
                "setup_intent_data": {"metadata": metadata},
                "success_url": page + "?session_id={CHECKOUT_SESSION_ID}",
                "cancel_url": page + "?checkout=cancelled",
            },
            options={"idempotency_key": f"mandate-{membership.id}-{int(now.timestamp())}"},
        )
    except stripe.StripeError as error:
        log.warning("Stripe refused or did not answer a setup session: %s", error)
        raise payments.PaymentUnavailable(str(error)) from error
    return session.url


def metadata_of(stripe_object) -> dict:
    """A Stripe object's metadata as a plain dict (empty when it has none)."""
    metadata = getattr(stripe_object, "metadata", None)
    return metadata.to_dict() if metadata else {}


def fetch_setup(session_id: str):
    """Stripe's own word on a setup session, its SetupIntent and payment method expanded;
    None when Stripe does not know it. Raises PaymentUnavailable when Stripe is away."""
    import stripe

    try:
        return payments.stripe_client().v1.checkout.sessions.retrieve(
            session_id, params={"expand": ["setup_intent", "setup_intent.payment_method"]}
        )
    except stripe.InvalidRequestError as error:
        if error.http_status == 404:
            return None
        raise payments.PaymentUnavailable(str(error)) from error
    except stripe.StripeError as error:
        raise payments.PaymentUnavailable(str(error)) from error


def settle_setup(session, now: datetime | None = None) -> str:
    """Keep the mandate of a completed setup session (fetched from Stripe); returns what
    was done. Once: a session kept already, or a member with a mandate in force, is
    left alone."""
    now = now or utcnow()
    if session is None or session.mode != "setup":
        return payments.UNKNOWN
    if session.status != "complete":
        return payments.STILL_OPEN
    intent = session.setup_intent
    if intent is None or isinstance(intent, str) or intent.status != "succeeded":
        return payments.WAITING
    membership_id = row_id(metadata_of(session).get("membership_id"))
    membership = db.session.get(Membership, membership_id) if membership_id else None
    if membership is None:
        log.warning("Setup session %s names no membership of ours", session.id)
        return payments.UNKNOWN
    known = db.session.scalar(
        sa.select(SepaMandate.id).where(SepaMandate.stripe_checkout_session_id == session.id)
    )
    if known is not None or sepa.active_mandate(membership) is not None:
        return "kept already"
    method = intent.payment_method
    mandate = SepaMandate(
        membership=membership,
        kind=MandateKind.STRIPE,
        status=MandateStatus.ACTIVE,
        reference=sepa.next_reference(membership),
        iban="",
        iban_last4=(method.sepa_debit.last4 or "")[:4],
        account_holder=(method.billing_details.name or membership.user.name)[:70],
        signed_on=sepa.local_today(now),
        stripe_checkout_session_id=session.id,
        stripe_customer_id=intent.customer or session.customer,
        stripe_payment_method_id=method.id,
        stripe_mandate_id=intent.mandate,
    )
    try:
        with db.session.begin_nested():
            db.session.add(mandate)
    except IntegrityError:  # the webhook and the return page at once: one keeps it
        return "kept already"
    sepa.mail_member(membership, "mandate_given", mandate=mandate)
    if metadata_of(session).get("pays") == JOIN:
        try:  # given while joining: what joining costs is debited under it
            debits.collect_join(membership, now)
        except Refused as refusal:  # paid another way meanwhile, or turned down
            log.info("No join debit for membership %s: %s", membership.id, refusal.message)
    return "mandate kept"


# --- debits ---------------------------------------------------------------------------


def submit_due(today: date | None = None, now: datetime | None = None) -> int:
    """Send Stripe the collections under Stripe mandates whose debit date has come:
    each gets an open payment and a debit recorded for after the commit. Those no longer
    owed (or whose mandate ended) are cancelled. Returns how many were submitted."""
    now = now or utcnow()
    today = today or sepa.local_today(now)
    due = db.session.scalars(
        sa.select(Collection)
        .join(Collection.mandate)
        .where(
            Collection.status == CollectionStatus.SCHEDULED,
            Collection.debit_date <= today,
            SepaMandate.kind == MandateKind.STRIPE,
        )
        .options(
            so.contains_eager(Collection.mandate),
            so.joinedload(Collection.membership).joinedload(Membership.plan),
            so.joinedload(Collection.membership).joinedload(Membership.user),
        )
        .order_by(Collection.id)
    ).all()
    submitted = 0
    for collection in due:
        if not dues.still_owed(collection):
            dues.cancel(collection, "not owed any more, or the mandate ended")
            continue
        # Flushed: the payment's id names the debit's idempotency key.
        payment = dues.new_payment(collection, PaymentProvider.STRIPE)
        collection.status = CollectionStatus.SUBMITTED
        collection.submitted_at = now
        stripe_calls.debit(payment)
        submitted += 1
    db.session.flush()
    return submitted


def create_debit(call: StripeCall) -> None:
    """Create and confirm the payment intent of `call`'s collection at Stripe, off
    session, on the mandate's saved payment method (called after the commit, in the
    call's own session). Raises stripe.StripeError."""
    session = so.object_session(call)
    payment = call.payment
    collection = session.scalar(sa.select(Collection).where(Collection.payment_id == payment.id))
    mandate = collection.mandate
    metadata = {"payment_id": str(payment.id), "collection_id": str(collection.id)}
    intent = payments.stripe_client().v1.payment_intents.create(
        params={
            "amount": payment.amount_cents,
            "currency": "eur",
            "customer": mandate.stripe_customer_id,
            "payment_method": mandate.stripe_payment_method_id,
            "mandate": mandate.stripe_mandate_id,
            "allowed_payment_method_types": ["sepa_debit"],
            "off_session": True,
            "confirm": True,
            "description": payment.description,
            "metadata": metadata,
        },
        options={"idempotency_key": call.idempotency_key},
    )
    payment.stripe_payment_intent_id = intent.id


def debit_refused(call: StripeCall, error: Exception) -> None:
    """Stripe refused a debit outright (no payment intent was made: the mandate is no
    longer active there, say): its collection failed, and the member is told, as for a
    debit the bank returns. Nothing for a collection no longer waiting."""
    collection = db.session.scalar(
        sa.select(Collection).where(Collection.payment_id == call.payment_id)
    )
    if collection is None or collection.status != CollectionStatus.SUBMITTED:
        return
    dues.record_failed(collection, getattr(error, "user_message", None) or str(error))


def detach(mandate: SepaMandate) -> None:
    """After a Stripe mandate ended here (and the commit): detach its payment method at
    Stripe, which ends the mandate there too. Best effort: a Stripe that does not answer
    is logged; nothing is debited under an ended mandate anyway."""
    import stripe

    if mandate.kind != MandateKind.STRIPE or not mandate.stripe_payment_method_id:
        return
    try:
        payments.stripe_client().v1.payment_methods.detach(
            mandate.stripe_payment_method_id,
            options={"idempotency_key": f"detach-{mandate.reference}"},
        )
    except stripe.StripeError as error:
        log.warning("Could not detach the payment method of mandate %s: %s", mandate.id, error)


# --- webhooks -------------------------------------------------------------------------


def concerns(event) -> bool:
    """Whether a (verified) event is for this module: a setup session completed, a
    payment intent settled, a dispute opened."""
    if event.type in INTENT_EVENTS or event.type == DISPUTE_EVENT:
        return True
    return event.type == SETUP_EVENT and getattr(event.data.object, "mode", None) == "setup"


def handle_event(event) -> str:
    """Ask Stripe about the event's object (before anything is locked), note the event
    as handled (once: a second delivery is a duplicate), and act on Stripe's answer.
    Raises payments.PaymentUnavailable when Stripe does not answer."""
    import stripe

    object_id = getattr(event.data.object, "id", None)
    if not isinstance(object_id, str):
        return payments.UNKNOWN
    client = payments.stripe_client()
    try:
        if event.type == SETUP_EVENT:
            fetched = fetch_setup(object_id)
        elif event.type == DISPUTE_EVENT:
            fetched = client.v1.disputes.retrieve(object_id)
        else:
            fetched = client.v1.payment_intents.retrieve(object_id)
    except stripe.StripeError as error:
        raise payments.PaymentUnavailable(str(error)) from error
    try:
        with db.session.begin_nested():
            db.session.add(StripeEvent(id=event.id, type=event.type))
    except IntegrityError:
        return "duplicate"
    if event.type == SETUP_EVENT:
        return settle_setup(fetched)
    if event.type == DISPUTE_EVENT:
        return settle_dispute(fetched)
    return settle_intent(fetched)


def _collection_of(intent) -> Collection | None:
    """Our collection of a payment intent fetched from Stripe, or None for one of ours
    that is no collection (a Checkout payment) or one we do not know."""
    collection_id = row_id(metadata_of(intent).get("collection_id"))
    if collection_id is None:
        return None
    collection = db.session.get(Collection, collection_id)
    if collection is None or collection.payment is None:
        return None
    payment = collection.payment
    if payment.stripe_payment_intent_id is None:  # the webhook came before the call ended
        payment.stripe_payment_intent_id = intent.id
    if payment.stripe_payment_intent_id != intent.id:
        return None
    return collection


def settle_intent(intent, now: datetime | None = None) -> str:
    """Record what Stripe says about a collection's payment intent: paid (the membership
    renews), failed (the member is told), or still processing. An amount that differs
    from ours confirms nothing and is logged for the treasurer."""
    now = now or utcnow()
    collection = _collection_of(intent)
    if collection is None:
        return "ignored"
    if collection.status != CollectionStatus.SUBMITTED:
        return "settled already"
    if intent.status == "succeeded":
        if intent.amount != collection.amount_cents or intent.currency != "eur":
            log.error(
                "Collection %s: Stripe debited %s %s, we asked %s eur",
                collection.id,
                intent.amount,
                intent.currency,
                collection.amount_cents,
            )
            return payments.MISMATCH
        dues.settle_paid(collection, now)
        return "payment_intent.succeeded"
    if intent.status in payments.FAILED_INTENT_STATES:
        error = intent.last_payment_error
        reason = (getattr(error, "message", None) or getattr(error, "code", None)) or ""
        dues.record_failed(collection, reason, now)
        return "payment_intent.payment_failed"
    return payments.WAITING


def settle_dispute(dispute, now: datetime | None = None) -> str:
    """A dispute on a collection's debit: the member's bank took the money back."""
    intent = dispute.payment_intent
    intent_id = intent if isinstance(intent, str) else getattr(intent, "id", None)
    collection = db.session.scalar(
        sa.select(Collection)
        .join(Collection.payment)
        .where(Payment.stripe_payment_intent_id == intent_id)
    )
    if collection is None or collection.status != CollectionStatus.PAID:
        return "ignored"
    try:
        dues.record_reversal(collection, dispute.reason or "disputed", now)
    except Refused as refusal:
        log.error("Dispute %s on collection %s: %s", dispute.id, collection.id, refusal)
        return "refused: " + str(refusal.message)
    return DISPUTE_EVENT
