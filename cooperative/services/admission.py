"""The board decides on an application: it approves it (the person becomes a member, or
is asked to pay first when the statutes say approve-then-pay) or turns it down with a
reason, refunding what this application paid online (after the commit, `stripe_calls`).

Nobody decides on their own membership. Services flush; the caller commits.
"""

import logging

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Membership, MembershipStatus, PaymentProvider, PaymentStatus, User, utcnow
from ..refusals import Refused
from . import debits, payments, sepa, share_changes, stripe_calls
from . import membership as memberships

log = logging.getLogger(__name__)


def approve(membership: Membership, admin: User, note: str = "", now=None) -> None:
    """An admin approves a membership waiting for approval: it becomes active (or, by
    approve-then-pay, waits for the payment: debited at once under a mandate given while
    joining, `services.debits`).

    Refuses an admin approving their own membership, or one not waiting for approval.
    """
    _check_decision(membership, admin)
    membership.decided_by_id = admin.id
    membership.decision_note = note.strip()
    if memberships.approve_first() and memberships.join_cents(membership) > 0:
        # Approved before paying (MEMBERSHIP_ADMISSION_ORDER): admitted once paid.
        membership.status = MembershipStatus.PENDING_PAYMENT
        db.session.flush()
        memberships.mail_member(membership, "membership_approved")
        if sepa.active_mandate(membership) is not None:
            # The mandate given while joining pays what joining costs (services.debits).
            try:
                debits.collect_join(membership, now)
            except Refused as refusal:  # the approval stands; the member pays another way
                log.info("No join debit for membership %s: %s", membership.id, refusal.message)
        return
    memberships.activate(membership, now)


def reject(membership: Membership, admin: User, reason: str) -> None:
    """An admin turns down a membership with a reason, which is e-mailed to the person.

    A fee paid online for this application is refunded (not the fees of earlier years,
    when a former member applied again) and its unfinished Checkout pages closed, both
    at Stripe after the commit (`stripe_calls`, retried by `coop send-stripe`). Refuses
    without a reason, for one's own membership, or one not waiting for a decision;
    raises PaymentUnavailable, before anything is written, when there is a refund to
    make and Stripe does not answer.
    """
    if not reason.strip():
        raise Refused(_l("Please give a reason: the person will read it."), "reason")
    if membership.user_id == admin.id:
        raise Refused(_l("Nobody decides on their own membership."))
    if membership.status not in (
        MembershipStatus.PENDING_APPROVAL,
        MembershipStatus.PENDING_PAYMENT,
    ):
        raise Refused(_l("This membership is not waiting for a decision."))
    applied_at = membership.privacy_accepted_at
    refunds = [
        payment
        for payment in memberships.payments_of(membership, PaymentStatus.PAID)
        if applied_at is None or payment.paid_at is None or payment.paid_at >= applied_at
    ]
    online = [p for p in refunds if p.provider == PaymentProvider.STRIPE]
    if online:
        # Asked before anything is written: nothing is rejected while Stripe is away.
        payments.check_stripe_answers(online[0])
    membership.status = MembershipStatus.CANCELLED
    # A former member who applied again keeps the day they left.
    membership.left_at = membership.left_at or utcnow()
    membership.decided_by_id = admin.id
    membership.decision_note = reason.strip()
    for payment in refunds:
        stripe_calls.refund(payment, payment.amount_cents - payment.refunded_cents)
    stripe_calls.close_pages(memberships.payments_of(membership, PaymentStatus.OPEN))
    share_changes.application_refused(membership)
    db.session.flush()
    memberships.mail_member(membership, "membership_rejected")


def _check_decision(membership: Membership, admin: User) -> None:
    if membership.user_id == admin.id:
        raise Refused(_l("Nobody decides on their own membership."))
    if membership.status != MembershipStatus.PENDING_APPROVAL:
        raise Refused(_l("This membership is not waiting for approval."))
