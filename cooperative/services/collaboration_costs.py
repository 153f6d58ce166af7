"""The costs a collaboration's parties share ("€ 10.000 excl. BTW for the cluster's climate
actions, split by inhabitants"), and paying each party's share.

- Programme staff set a cost: a description, a total in cents, with or without VAT,
  split equally or by the parties' cost keys (`services.cost_split`). Each party gets a
  `CostShare` with its own bank reference. Saving the cost again splits it again over
  the parties it has now; once anything is paid, the amounts stay as they are.
- A party's contact pays its share online (Stripe Checkout, `services.checkout`; the
  payment settles here through `services.payments`) or by bank transfer to the
  cooperative, which collects for the collaboration, with the share's reference;
  programme staff record a transfer that arrived (`bank_transfers.record_transfer`).

Changes to a cost and its shares take the cost's lock (`locking.lock_cost`), so a share
is never paid twice and never split again while a payment arrives. Services flush; the
caller commits.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..locking import lock_cost
from ..models import (
    Collaboration,
    CollaborationParty,
    CostShare,
    CostSplit,
    Payment,
    PaymentProvider,
    PaymentStatus,
    SharedCost,
    User,
    utcnow,
)
from ..refusals import Refused
from . import checkout, payments, stripe_calls
from .bank_transfers import record_transfer
from .cost_split import BadWeight, split, split_equally
from .mail import external_url, queue_mail
from .membership import BankTransfer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CostDetails:
    """What staff fill in for a shared cost. `keys` (party id: weight or None) are the
    parties' cost keys as typed; a party not in it keeps the key it has."""

    description: str
    total_cents: int
    vat_included: bool
    split: CostSplit
    key_name: str = ""
    keys: dict[int, int | None] = field(default_factory=dict)


def payment_reference(cost: SharedCost, party: CollaborationParty) -> str:
    """The reference a party mentions when it transfers its share of `cost`: one per
    cost and party, kept when the cost is split again."""
    return f"MEENTCOOP-K{cost.id:04d}-{party.id:04d}"


def is_paid_into(cost: SharedCost) -> bool:
    """Whether anything was paid towards `cost`: then its split stays as it is."""
    return any(share.paid_cents for share in cost.shares)


def split_is_current(cost: SharedCost) -> bool:
    """Whether `cost`'s shares are the ones to pay: split over exactly the parties its
    collaboration has now, adding up to its total (a party added or removed since asks
    for a new split). A cost paid into keeps its split (it cannot be split again): a
    party that joins later has no share in it, and the others go on paying theirs."""
    if is_paid_into(cost):
        return True
    parties = {party.id for party in cost.collaboration.parties}
    return {share.party_id for share in cost.shares} == parties and (
        sum(share.amount_cents for share in cost.shares) == cost.total_cents
    )


def refuse_unless_current(cost: SharedCost, field: str | None = None) -> None:
    """Refuses paying into `cost` while its split is stale (`split_is_current`): its
    shares' amounts are not what the parties owe until staff split it again."""
    if not split_is_current(cost):
        raise Refused(
            _l(
                "The parties changed since this cost was split: its shares can be paid "
                "once it is split again over the parties now."
            ),
            field,
        )


def save_cost(
    collaboration: Collaboration, details: CostDetails, cost: SharedCost | None = None
) -> SharedCost:
    """Set a new shared cost on `collaboration`, or change `cost`, and split it over the
    collaboration's parties now: one share each, adding up to the total exactly.

    Refuses a total of € 0 or less (`total`), a collaboration without parties (`split`),
    a split by key without saying what the key counts (`key_name`) or where a party's
    key is missing, zero or negative (on that party's key, `keys-<n>-key`), and, once
    anything is paid, a change to the amounts, the parties
    or the VAT (only the description and the key's name may change then), and dropping
    the share of a party that left while it is paying online. Open online payments of
    shares whose amount changes are closed. Flushes."""
    if cost is not None:
        lock_cost(cost)
        db.session.refresh(cost)
    parties = list(collaboration.parties)
    for party in parties:
        if party.id in details.keys:
            party.cost_key = details.keys[party.id]
    if details.total_cents <= 0:
        raise Refused(_l("A shared cost is more than € 0."), "total")
    if not parties:
        raise Refused(_l("Add the parties first: a cost is split among them."), "split")
    if details.split == CostSplit.BY_KEY and not details.key_name:
        raise Refused(_l("Please say what the key counts, for example inhabitants."), "key_name")
    amounts = dict(zip([p.id for p in parties], _amounts(details, parties), strict=True))
    if cost is None:
        cost = SharedCost(collaboration=collaboration, split=details.split, total_cents=0)
        db.session.add(cost)
    elif is_paid_into(cost) and (
        {share.party_id: share.amount_cents for share in cost.shares} != amounts
        or cost.vat_included != details.vat_included
    ):
        raise Refused(
            _l(
                "Something has been paid towards this cost, so its amounts stay as they "
                "are: only the description and the key’s name can change."
            ),
            "total",
        )
    cost.description = details.description
    cost.total_cents = details.total_cents
    cost.vat_included = details.vat_included
    cost.split = details.split
    cost.key_name = details.key_name if details.split == CostSplit.BY_KEY else ""
    db.session.flush()
    _share_out(cost, parties, amounts)
    collaboration.touch()
    db.session.flush()
    return cost


def _amounts(details: CostDetails, parties: list[CollaborationParty]) -> list[int]:
    """Each party's share of the total, in the parties' order."""
    if details.split == CostSplit.EQUAL:
        return split_equally(details.total_cents, len(parties))
    try:
        return split(details.total_cents, [party.cost_key for party in parties])
    except BadWeight as bad:
        raise Refused(
            _l(
                "Give %(party)s a key of 1 or more, or split the cost equally.",
                party=parties[bad.index].organisation.title,
            ),
            f"keys-{bad.index}-key",
        ) from bad


def _share_out(cost: SharedCost, parties: list[CollaborationParty], amounts: dict) -> None:
    """Make `cost`'s shares `amounts` (party id: cents): a party keeps its share row (and
    its reference); a party that left loses its share (nothing was paid on it). The
    contact of each party whose share is new or changed is told by e-mail."""
    existing = {share.party_id: share for share in cost.shares}
    told = []
    for party in parties:
        share = existing.pop(party.id, None)
        if share is None:
            share = CostShare(
                party=party,
                amount_cents=amounts[party.id],
                reference=payment_reference(cost, party),
            )
            cost.shares.append(share)
            told.append(share)
        elif share.amount_cents != amounts[party.id]:
            share.amount_cents = amounts[party.id]
            _close_open_payments(share)
            told.append(share)
    _let_go(*existing.values())
    for share in existing.values():
        cost.shares.remove(share)
    db.session.flush()
    for share in told:
        tell_contact(share)


def tell_contact(share: CostShare) -> None:
    """E-mail the party's contact (in their language) what its share is and how to pay
    it: online from the costs page, or by bank transfer with its reference. Nothing for
    a party without a contact (staff tell them otherwise)."""
    _mail_contact(
        share,
        "cost_share_due",
        _l("Your share of a shared cost: %(cost)s", cost=share.cost.description),
    )


def _mail_contact(share: CostShare, template: str, subject) -> None:
    """E-mail `share`'s party's contact, in their language, with `template` and
    `subject` (a lazy string: translated into their language when queued). Nothing for a
    party without a contact, nor for a share whose party is gone."""
    contact = share.party.contact if share.party is not None else None
    if contact is None:
        return
    queue_mail(
        contact.email,
        subject,
        template,
        contact.locale,
        user=contact,
        share=share,
        cost=share.cost,
        collaboration=share.cost.collaboration,
        party_name=share.party.organisation.title,
        transfer=bank_transfer(share),
        online=payments.online_payments_enabled(),
        costs_url=external_url(
            "collaboration_costs.index", collaboration_id=share.cost.collaboration_id
        ),
    )


def _let_go(*shares: CostShare) -> None:
    """Before `shares` go: refuse while one of their Checkout pages is open (it could
    still be paid), and unlink their closed payments, which paid nothing."""
    for share in shares:
        if _open_payments(share):
            raise Refused(
                _l(
                    "%(party)s is paying its share online right now. Try again once its "
                    "payment page has closed (within a day).",
                    party=_party_name(share),
                )
            )
        db.session.execute(
            sa.update(Payment).where(Payment.cost_share_id == share.id).values(cost_share_id=None),
            execution_options={"synchronize_session": False},
        )


def _party_name(share: CostShare) -> str:
    """The name of `share`'s party, or its reference when the party is gone."""
    return share.party.organisation.title if share.party is not None else share.reference


def party_leaves(party: CollaborationParty) -> None:
    """Before `party` leaves its collaboration (the caller then removes it): every cost
    is split again over the parties that stay, as it was split (equally or by key); with
    none staying, it goes.

    Refuses once anything is paid towards a cost, while the party is paying its share
    online, and (by key) when a party that stays has no key. Flushes."""
    collaboration = party.collaboration
    staying = [other for other in collaboration.parties if other.id != party.id]
    for cost in collaboration.costs:
        lock_cost(cost)
        db.session.refresh(cost)
        if is_paid_into(cost):
            raise Refused(
                _l(
                    "Something has been paid towards %(cost)s: its parties stay as they are.",
                    cost=cost.description,
                )
            )
        if not staying:
            _let_go(*cost.shares)
            db.session.delete(cost)
            continue
        details = CostDetails(
            cost.description, cost.total_cents, cost.vat_included, cost.split, cost.key_name
        )
        amounts = dict(zip([p.id for p in staying], _amounts(details, staying), strict=True))
        _share_out(cost, staying, amounts)
    collaboration.touch()
    db.session.flush()


def remove_cost(cost: SharedCost) -> None:
    """Take a shared cost away (set by mistake). Refuses once anything is paid towards
    it, and while a party is paying its share online. Flushes."""
    lock_cost(cost)
    db.session.refresh(cost)
    if is_paid_into(cost):
        raise Refused(_l("Something has been paid towards this cost: it stays."))
    _let_go(*cost.shares)
    cost.collaboration.touch()
    db.session.delete(cost)
    db.session.flush()


def _open_payments(share: CostShare) -> list[Payment]:
    return list(
        db.session.scalars(
            sa.select(Payment)
            .where(Payment.cost_share_id == share.id, Payment.status == PaymentStatus.OPEN)
            .order_by(Payment.id)
        )
    )


def _close_open_payments(share: CostShare) -> None:
    """Close the share's open Checkout pages (at Stripe after the commit): they are not
    to be paid any more (its amount changed, or it was paid). One paid all the same is
    given back when it arrives (`payment_succeeded`)."""
    if share.id is None:
        return
    stripe_calls.close_pages(_open_payments(share))


def describe(share: CostShare, locale: str) -> str:
    """The share as a line on a Checkout page or a payment: "Share of: <cost>
    (<collaboration>)", in `locale`."""
    with force_locale(locale):
        return str(
            _l(
                "Share of: %(cost)s (%(collaboration)s)",
                cost=share.cost.description,
                collaboration=share.cost.collaboration.title,
            )
        )


def start_payment(share: CostShare, payer: User, now: datetime | None = None):
    """The Checkout page for what `share` still owes, paid by `payer` (its party's
    contact), to be made once the pending payment is committed (see
    `services/checkout.py`). Refuses while the cost's split is stale and when nothing is
    due; raises payments.PaymentUnavailable when Stripe does not answer about an open
    page."""
    now = now or utcnow()
    refuse_unless_current(share.cost)
    due = share.due_cents
    if due <= 0:
        raise Refused(_l("Nothing is due on this share."))
    name = describe(share, payer.locale)
    return checkout.prepare(
        _open_payments(share),
        due,
        [checkout.LineItem(name, due)],
        description=name,
        customer_email=payer.email,
        locale=payer.locale,
        **checkout.return_urls(
            external_url("collaboration_costs.index", collaboration_id=share.cost.collaboration_id)
        ),
        pay_before=now + timedelta(hours=23),
        now=now,
        cost_share=share,
    )


def payment_succeeded(payment: Payment, now: datetime | None = None) -> None:
    """An online payment for a share arrived: the share is paid, once. Money that pays
    for nothing (paid by bank meanwhile, split again, or a split gone stale since a party
    joined or left) goes back, at Stripe after the commit. (A payment whose share was
    taken away is `payments._settle`'s: it is linked to nothing any more.)"""
    now = now or utcnow()
    share = payment.cost_share
    lock_cost(share.cost)
    if not payments.record_paid(payment, now):
        return
    db.session.refresh(share.cost)
    db.session.refresh(share)
    if share.due_cents == payment.amount_cents and split_is_current(share.cost):
        _count_paid(share, payment.amount_cents)
    else:
        log.warning("Payment %s pays for nothing due on cost share %s", payment.id, share.id)
        stripe_calls.refund(payment, payment.amount_cents)
    _close_open_payments(share)
    db.session.flush()


def record_payment(
    share: CostShare, amount_cents: int, staff: User, now: datetime | None = None
) -> Payment:
    """Programme staff saw a party's share arrive by bank transfer: it is paid.

    Refuses (on `amount`) while the cost's split is stale, when nothing is due or the
    amount is not what is due."""
    now = now or utcnow()
    lock_cost(share.cost)
    db.session.refresh(share.cost)
    db.session.refresh(share)
    refuse_unless_current(share.cost, "amount")
    payment = record_transfer(
        share.due_cents,
        amount_cents,
        _l("Nothing is due on this share."),
        staff,
        status=PaymentStatus.PAID,
        description=f"Bank transfer: {share.reference}",
        cost_share=share,
        paid_at=now,
    )
    _count_paid(share, amount_cents)
    _close_open_payments(share)
    db.session.flush()
    return payment


def _count_paid(share: CostShare, amount_cents: int) -> None:
    """Count `amount_cents` as paid on `share`, and thank its party's contact once the
    share is paid in full (their receipt that it arrived)."""
    share.paid_cents += amount_cents
    share.cost.collaboration.touch()
    if share.due_cents == 0:
        _mail_contact(
            share,
            "cost_share_paid",
            _l("Received: your share of %(cost)s", cost=share.cost.description),
        )


def bank_transfer(share: CostShare) -> BankTransfer:
    """Where and what a party transfers for its share: the cooperative's account (empty
    when `BANK_IBAN` is not set), what is due, and the share's reference."""
    config = current_app.config
    return BankTransfer(
        iban=config["BANK_IBAN"],
        account_name=config["BANK_ACCOUNT_NAME"],
        amount_cents=share.due_cents,
        reference=share.reference,
    )


def payments_of(share: CostShare) -> list[Payment]:
    """What was paid towards `share`, oldest first (for staff)."""
    return list(
        db.session.scalars(
            sa.select(Payment)
            .where(Payment.cost_share_id == share.id, Payment.status == PaymentStatus.PAID)
            .order_by(Payment.paid_at, Payment.id)
        )
    )


def share_for_session(user: User, session_id: str) -> Payment | None:
    """The payment made in Checkout session `session_id` for a share whose party's
    contact is `user` (someone else's session finds nothing)."""
    return db.session.scalar(
        sa.select(Payment)
        .join(CostShare, Payment.cost_share_id == CostShare.id)
        .join(CollaborationParty, CostShare.party_id == CollaborationParty.id)
        .where(
            Payment.stripe_checkout_session_id == session_id,
            Payment.provider == PaymentProvider.STRIPE,
            CollaborationParty.contact_user_id == user.id,
        )
    )
