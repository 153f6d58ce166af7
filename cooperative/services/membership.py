"""Membership of the cooperative: joining, paying, approval, member numbers, renewal, lapse.

A membership moves through these states:

    join ─┬─ free, no approval ──────────────────────────────► active
          ├─ free, approval ───────────► pending_approval ──► active / cancelled (rejected)
          └─ fee ─► pending_payment ─┬─ paid, no approval ──► active
                                     └─ paid, approval ─────► pending_approval ─► ...

A fee is paid online (Stripe Checkout, through `services.payments`) or by bank transfer,
which an admin records; the board's approval or refusal is `services.admission`. Yearly
plans end a year after they start; 14 days before the end the member is reminded with a
payment link, after the end a grace period (default 30 days) keeps them active, then the
membership lapses. Paying renews from the old end date.

Member numbers are sequential and given once, when a membership first becomes active.
The number is taken under a lock that serialises every number-giver (PostgreSQL: a
transaction-level advisory lock; SQLite: the database's write lock), and the unique
constraint on the column is the last guard. Services flush; the caller commits.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..locking import lock_numbers
from ..models import (
    Membership,
    MembershipPlan,
    MembershipStatus,
    Payment,
    PaymentProvider,
    PaymentStatus,
    PlanPeriod,
    Profile,
    User,
    utcnow,
)
from ..refusals import Refused
from . import checkout, payments, register, shares, stripe_calls
from .bank_transfers import record_transfer
from .mail import external_url, queue_member_mail

YEAR = timedelta(days=365)
# Any fixed number: the key of the advisory lock that member numbers are given under.
NUMBER_LOCK_KEY = 0x4D454D42
CURRENT = (
    MembershipStatus.PENDING_PAYMENT,
    MembershipStatus.PENDING_APPROVAL,
    MembershipStatus.ACTIVE,
)


def grace_period() -> timedelta:
    """How long a yearly membership stays active after its end date, unpaid."""
    return timedelta(days=current_app.config["MEMBERSHIP_GRACE_DAYS"])


def reminder_lead() -> timedelta:
    """How long before the end date the renewal reminder goes out."""
    return timedelta(days=current_app.config["MEMBERSHIP_REMINDER_DAYS"])


def current_membership(user: User) -> Membership | None:
    """The person's latest membership (any state), or None if they never joined."""
    return db.session.scalar(
        sa.select(Membership)
        .where(Membership.user_id == user.id)
        .options(sa.orm.joinedload(Membership.plan))
        .order_by(Membership.id.desc())
        .limit(1)
    )


def is_active_member(user) -> bool:
    """Whether `user` (maybe anonymous) is an active member now."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return (
        db.session.scalar(
            sa.select(Membership.id).where(
                Membership.user_id == user.id, Membership.status == MembershipStatus.ACTIVE
            )
        )
        is not None
    )


def ensure_profile(user: User) -> Profile:
    """The person's profile, made (hidden, no newsletter) if they have none yet."""
    if user.profile is None:
        user.profile = Profile(
            display_name=user.name, neighbourhood="", bio="", offer="", newsletter=False
        )
        db.session.flush()
    return user.profile


def join(
    user: User,
    plan: MembershipPlan,
    now: datetime | None = None,
    *,
    address: register.Address | None = None,
    email_notices: bool = False,
) -> Membership:
    """Start a membership of `plan` for `user`, who has accepted the privacy statement.

    A free plan without approval is active at once (number and welcome e-mail); a free
    plan with approval waits for an admin; a plan with a fee waits for the payment.
    Refuses a plan that is closed, or a person who is already a member or on their way;
    and a bad `address` for the member register (`register.checked_address`).
    """
    now = now or utcnow()
    if not plan.is_active:
        raise Refused(_l("This plan is no longer open for new members."), "plan")
    membership = current_membership(user)
    if membership is not None and membership.status in CURRENT:
        raise Refused(_l("You are already a member, or your application is open."))
    if membership is None:
        membership = Membership(user=user)
        db.session.add(membership)
    # Someone who lapsed or was turned down joins again on the same row: same number.
    membership.plan = plan
    membership.privacy_accepted_at = now
    membership.decided_by_id = None
    membership.decision_note = ""
    membership.renewal_reminded_at = None
    register.enter(membership, user, address, email_notices, now)
    # The required share is paid with the fee; the board may decide first.
    if plan.needs_approval and approve_first():
        membership.status = MembershipStatus.PENDING_APPROVAL
        db.session.flush()
        mail_member(membership, "membership_received")
    elif join_cents(membership) > 0:
        membership.status = MembershipStatus.PENDING_PAYMENT
        db.session.flush()
    elif plan.needs_approval:
        membership.status = MembershipStatus.PENDING_APPROVAL
        db.session.flush()
        mail_member(membership, "membership_received")
    else:
        membership.status = MembershipStatus.PENDING_APPROVAL
        db.session.flush()
        activate(membership, now)
    return membership


def approve_first() -> bool:
    """Whether the board decides before the member pays (MEMBERSHIP_ADMISSION_ORDER)."""
    return current_app.config["MEMBERSHIP_ADMISSION_ORDER"] == "approve-then-pay"


def join_cents(membership: Membership) -> int:
    """What joining costs: the plan's fee and the required shares not held yet."""
    return membership.plan.fee_cents + shares.join_shares_cents(membership)


def amount_due(membership: Membership) -> int:
    """What the member owes now: the plan's fee and the required shares while the first
    payment is awaited, or the fee when a yearly membership is up for renewal (within
    the reminder time or in its grace)."""
    if membership.status == MembershipStatus.PENDING_PAYMENT:
        return join_cents(membership)
    if renewal_due(membership):
        return membership.plan.fee_cents
    return 0


@dataclass(frozen=True)
class BankTransfer:
    """What a member needs to pay by bank transfer: the cooperative's account (empty when
    `BANK_IBAN` is not set), the amount, and the member's own payment reference."""

    iban: str
    account_name: str
    amount_cents: int
    reference: str


def payment_reference(membership: Membership) -> str:
    """The reference a member mentions with every transfer, one per membership (a member
    who joins again keeps their row, so keeps it): the admin finds them by it."""
    return f"MEENTCOOP-{membership.id:05d}"


def bank_transfer(membership: Membership) -> BankTransfer:
    """Where and what `membership` transfers now (amount 0 when nothing is owed)."""
    config = current_app.config
    return BankTransfer(
        iban=config["BANK_IBAN"],
        account_name=config["BANK_ACCOUNT_NAME"],
        amount_cents=amount_due(membership),
        reference=payment_reference(membership),
    )


def ask_for_transfer(membership: Membership) -> None:
    """E-mail a member who chose to pay by bank transfer where to send what they owe.

    Refuses when nothing is owed."""
    if amount_due(membership) <= 0:
        raise Refused(_l("This member owes nothing now."), "amount")
    mail_member(membership, "membership_transfer")


def renewal_due(membership: Membership, now: datetime | None = None) -> bool:
    """Whether an active or lapsed yearly membership can be renewed by paying now."""
    now = now or utcnow()
    if membership.plan.period != PlanPeriod.YEARLY or membership.plan.fee_cents <= 0:
        return False
    if membership.status == MembershipStatus.LAPSED:
        return True
    return (
        membership.status == MembershipStatus.ACTIVE
        and membership.ends_at is not None
        and membership.ends_at - reminder_lead() <= now
    )


def start_payment(membership: Membership, now: datetime | None = None) -> checkout.Checkout:
    """The Checkout page where the member pays what they owe, to be made once the
    pending payment is committed (see `services/checkout.py`).

    Refuses when nothing is owed; raises payments.PaymentUnavailable when Stripe does
    not answer about an open page. Flushes.
    """
    now = now or utcnow()
    amount = amount_due(membership)
    if amount <= 0:
        raise Refused(_l("There is nothing to pay for your membership now."))
    user = membership.user
    with force_locale(user.locale):
        name = str(_l("Membership: %(plan)s", plan=membership.plan.name(user.locale)))
    return checkout.prepare(
        payments_of(membership, PaymentStatus.OPEN, PaymentProvider.STRIPE),
        amount,
        _line_items(membership, name, amount),
        description=name,
        customer_email=user.email,
        locale=user.locale,
        **checkout.return_urls(external_url("account.index")),
        pay_before=now + timedelta(hours=23),
        now=now,
        membership=membership,
    )


def _line_items(membership: Membership, name: str, amount: int) -> list[checkout.LineItem]:
    """The Checkout page's lines: the fee, and each required share when joining."""
    if membership.status != MembershipStatus.PENDING_PAYMENT:
        return [checkout.LineItem(name, amount)]
    locale = membership.user.locale
    lines = [
        checkout.LineItem(share_class.name(locale), share_class.amount_cents)
        for share_class in shares.join_shares_due(membership)
    ]
    if membership.plan.fee_cents:
        lines.insert(0, checkout.LineItem(name, membership.plan.fee_cents))
    return lines


def payments_of(
    membership: Membership, status: PaymentStatus, provider: PaymentProvider | None = None
) -> list[Payment]:
    query = sa.select(Payment).where(
        Payment.membership_id == membership.id, Payment.status == status
    )
    if provider is not None:
        query = query.where(Payment.provider == provider)
    return list(db.session.scalars(query.order_by(Payment.id)))


def _lock(membership: Membership) -> None:
    """Hold the membership row until commit, so a payment is counted once."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            sa.update(Membership).where(Membership.id == membership.id).values(id=Membership.id),
            execution_options={"synchronize_session": False},
        )
    else:
        db.session.execute(
            sa.select(Membership.id).where(Membership.id == membership.id).with_for_update()
        )
    db.session.refresh(membership)


def payment_succeeded(payment: Payment, now: datetime | None = None) -> None:
    """A membership fee arrived (online or recorded by an admin): act on it once.

    A first payment activates the membership, or sends it on to approval; a renewal
    extends it by a year from its old end date (or from today when it had lapsed).
    A payment nobody owes any more (the membership was turned down) is refunded.
    """
    now = now or utcnow()
    membership = payment.membership
    _lock(membership)
    if not payments.record_paid(payment, now):
        return
    status = membership.status
    if status == MembershipStatus.PENDING_PAYMENT:
        shares.issue_join_shares(membership, payment, now)
        if membership.plan.needs_approval and membership.decided_by_id is None:
            membership.status = MembershipStatus.PENDING_APPROVAL
            db.session.flush()
            mail_member(membership, "membership_received")
        else:
            activate(membership, now)
    elif status in (MembershipStatus.ACTIVE, MembershipStatus.LAPSED) and renewal_due(
        membership, now
    ):
        if status == MembershipStatus.ACTIVE and membership.ends_at is not None:
            membership.ends_at = membership.ends_at + YEAR
        else:
            membership.started_at = now
            membership.ends_at = now + YEAR
        if status == MembershipStatus.LAPSED:
            register.come_back(membership, now)  # the shares are theirs again
        membership.renewal_reminded_at = None
        db.session.flush()
        mail_member(membership, "membership_renewed")
    else:
        if payment.provider == PaymentProvider.STRIPE:
            stripe_calls.refund(payment, payment.amount_cents)  # after the commit
        db.session.flush()
    stripe_calls.close_pages(
        other
        for other in payments_of(membership, PaymentStatus.OPEN, PaymentProvider.STRIPE)
        if other.id != payment.id
    )


def activate(membership: Membership, now: datetime | None = None) -> None:
    """Make a membership active: a member number if it has none, dates, a welcome e-mail
    with the written admission (member number and day of admission, and the letter as
    a PDF), recorded as sent."""
    now = now or utcnow()
    membership.status = MembershipStatus.ACTIVE
    membership.left_at = None
    if membership.number is None:
        membership.number = _next_number(membership)
    membership.started_at = now
    membership.ends_at = now + YEAR if membership.plan.period == PlanPeriod.YEARLY else None
    membership.renewal_reminded_at = None
    letters = register.admit(membership, now)  # the admission in writing
    db.session.flush()
    mail_member(membership, "membership_welcome", attachments=letters)


def _next_number(membership: Membership) -> int:
    """The next member number, taken under a lock every number-giver waits for."""
    lock_numbers(NUMBER_LOCK_KEY, membership)
    highest = db.session.scalar(sa.select(sa.func.max(Membership.number)))
    return (highest or 0) + 1


def record_bank_transfer(
    membership: Membership, amount_cents: int, admin: User, now: datetime | None = None
) -> Payment:
    """An admin saw the fee arrive on the bank account: record it and act on it.

    Refuses when nothing is owed or the amount differs from what is owed.
    """
    payment = record_transfer(
        amount_due(membership),
        amount_cents,
        _l("This member owes nothing now."),
        admin,
        status=PaymentStatus.OPEN,
        description=f"Bank transfer: {membership.plan.slug}",
        membership=membership,
    )
    payment_succeeded(payment, now)
    return payment


def send_reminders_and_lapse(now: datetime | None = None) -> tuple[int, int]:
    """The daily job: remind yearly members whose end is near, lapse those past grace.

    Each member is reminded once per period. Returns (reminded, lapsed).
    """
    now = now or utcnow()
    yearly_active = (
        sa.select(Membership)
        .join(Membership.plan)
        .where(
            Membership.status == MembershipStatus.ACTIVE,
            MembershipPlan.period == PlanPeriod.YEARLY,
            Membership.ends_at.is_not(None),
        )
        .options(sa.orm.contains_eager(Membership.plan), sa.orm.joinedload(Membership.user))
    )
    reminded = lapsed = 0
    for membership in db.session.scalars(
        yearly_active.where(Membership.ends_at <= now - grace_period())
    ).all():
        register.lapse(membership, now)
        lapsed += 1
        mail_member(membership, "membership_lapsed")
    for membership in db.session.scalars(
        yearly_active.where(
            Membership.ends_at <= now + reminder_lead(),
            Membership.renewal_reminded_at.is_(None),
            Membership.leaves_on.is_(None),  # no reminder after a cancellation
        )
    ).all():
        if membership.plan.fee_cents <= 0:
            # Nothing to pay: a free yearly plan renews by itself.
            membership.ends_at = membership.ends_at + YEAR
            continue
        membership.renewal_reminded_at = now
        reminded += 1
        db.session.flush()
        mail_member(membership, "membership_reminder")
    register.end_after_notice(now)  # cancellations whose notice has run out
    return reminded, lapsed


SUBJECTS = {
    "membership_welcome": lambda: _l("Welcome as a member of MeentCoop"),
    "membership_received": lambda: _l("We have received your application"),
    "membership_rejected": lambda: _l("About your application for membership"),
    "membership_reminder": lambda: _l("Your membership ends soon"),
    "membership_renewed": lambda: _l("Your membership is renewed"),
    "membership_lapsed": lambda: _l("Your membership has ended"),
    "membership_transfer": lambda: _l("How to pay your membership fee"),
    "membership_approved": lambda: _l("Your application is approved: please pay"),
}


def mail_member(membership: Membership, template: str, attachments=()) -> None:
    """E-mail the member about their membership (`queue_member_mail`)."""
    queue_member_mail(
        membership,
        SUBJECTS[template](),
        template,
        attachments=attachments,
        account_url=external_url("account.index"),
        grace_days=grace_period().days,
        transfer=bank_transfer(membership),
        online=payments.online_payments_enabled(),
    )
