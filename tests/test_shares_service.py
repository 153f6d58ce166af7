"""The share register's rules, on the services: price, maximum, closed classes, approval,
numbers, payment, repayment at the end of the financial year, transfers, totals."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Membership,
    MembershipStatus,
    Payment,
    PaymentProvider,
    PaymentStatus,
    PurchaseStatus,
    Share,
    ShareEvent,
    ShareHolders,
    SharePurchase,
    ShareTransfer,
    StripeCall,
    TransferStatus,
)
from cooperative.refusals import Refused
from cooperative.services import (
    privacy,
    register,
    share_changes,
    share_payments,
    share_totals,
    shares,
)
from tests.factories import make_admin
from tests.share_factories import make_share_class, membership_of

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def ctx(app):
    """A request in English: refusals are matched by their English words."""
    with app.test_request_context("/?lang=en"):
        yield


def test_the_price_is_the_class_price_at_purchase_time(ctx):
    extra = make_share_class(amount_cents=10000)
    member = membership_of()
    first = shares.buy(member, extra, 2, now=NOW)
    extra.amount_cents = 12500
    second = shares.buy(member, extra, 1, now=NOW)
    db.session.commit()
    assert [s.amount_cents for s in first.shares] == [10000, 10000]
    assert [s.amount_cents for s in second.shares] == [12500]
    assert first.status == PurchaseStatus.ISSUED
    assert shares.amount_owed(first) == 20000
    assert all(isinstance(s.amount_cents, int) for s in first.shares)


def test_numbers_follow_each_other_and_are_never_reused(ctx):
    extra = make_share_class()
    ada, bob = membership_of("ada@example.org"), membership_of("bob@example.org")
    shares.buy(ada, extra, 3, now=NOW)
    shares.buy(bob, extra, 2, now=NOW)
    db.session.commit()
    numbers = list(db.session.scalars(sa.select(Share.number).order_by(Share.number)))
    assert numbers == [1, 2, 3, 4, 5]
    # Repaid shares keep their numbers: the next one is 6, not a freed number.
    share = db.session.scalar(sa.select(Share).where(Share.number == 5))
    share.repaid_at = NOW
    db.session.commit()
    assert [s.number for s in shares.buy(ada, extra, 1, now=NOW).shares] == [6]


def test_the_maximum_per_member_counts_held_and_requested_shares(ctx):
    extra = make_share_class(max_per_member=3)
    member = membership_of()
    shares.buy(member, extra, 2, now=NOW)
    shares.buy(member, extra, 1, now=NOW)  # exactly the maximum
    with pytest.raises(Refused) as refused:
        shares.buy(member, extra, 1, now=NOW)
    assert refused.value.field == "quantity"
    other = membership_of("other@example.org")
    with pytest.raises(Refused):
        shares.buy(other, extra, 4, now=NOW)
    assert len(shares.buy(other, extra, 3, now=NOW).shares) == 3


def test_a_pending_purchase_counts_toward_the_maximum(ctx):
    extra = make_share_class(max_per_member=2, needs_approval=True)
    member = membership_of()
    purchase = shares.buy(member, extra, 2, now=NOW)
    assert purchase.status == PurchaseStatus.PENDING_APPROVAL
    assert purchase.shares == []
    with pytest.raises(Refused):
        shares.buy(member, extra, 1, now=NOW)


def test_no_maximum_means_any_number(ctx):
    extra = make_share_class(max_per_member=None)
    member = membership_of()
    assert len(shares.buy(member, extra, 50, now=NOW).shares) == 50


@pytest.mark.parametrize("quantity", [0, -1, shares.MAX_QUANTITY + 1])
def test_a_quantity_outside_the_limits_is_refused(ctx, quantity):
    extra = make_share_class(max_per_member=None)
    with pytest.raises(Refused):
        shares.buy(membership_of(), extra, quantity, now=NOW)


def test_closed_and_legal_person_classes_and_non_members_are_refused(ctx):
    closed = make_share_class("oud", is_open=False)
    legal = make_share_class("rechtspersoon", holders=ShareHolders.LEGAL_PERSONS)
    member = membership_of()
    with pytest.raises(Refused, match="closed"):
        shares.buy(member, closed, 1, now=NOW)
    with pytest.raises(Refused):
        shares.buy(member, legal, 1, now=NOW)
    member.status = MembershipStatus.LAPSED
    with pytest.raises(Refused):
        shares.buy(member, make_share_class("open"), 1, now=NOW)
    assert db.session.scalar(sa.select(sa.func.count(Share.id))) == 0


def test_approval_issues_and_refusal_needs_a_reason(ctx):
    extra = make_share_class(needs_approval=True)
    member = membership_of()
    admin = make_admin()
    purchase = shares.buy(member, extra, 2, now=NOW)
    with pytest.raises(Refused):
        shares.refuse_purchase(purchase, admin, "  ")
    shares.approve_purchase(purchase, admin, now=NOW)
    assert purchase.status == PurchaseStatus.ISSUED
    assert [s.number for s in purchase.shares] == [1, 2]
    assert purchase.decided_by_id == admin.id
    with pytest.raises(Refused):
        shares.approve_purchase(purchase, admin, now=NOW)
    other = shares.buy(member, extra, 1, now=NOW)
    shares.refuse_purchase(other, admin, "Te veel aandelen dit jaar")
    assert other.status == PurchaseStatus.REFUSED and other.shares == []


def test_nobody_approves_their_own_purchase(ctx):
    extra = make_share_class(needs_approval=True)
    member = membership_of("admin.member@example.org")
    admin_user = member.user
    admin_user.is_admin = True
    purchase = shares.buy(member, extra, 1, now=NOW)
    with pytest.raises(Refused, match="own"):
        shares.approve_purchase(purchase, admin_user, now=NOW)


def test_a_bank_transfer_must_be_the_amount_owed(ctx):
    extra = make_share_class(amount_cents=10000)
    member = membership_of()
    admin = make_admin()
    purchase = shares.buy(member, extra, 2, now=NOW)
    for wrong in (19999, 20001, 0):
        with pytest.raises(Refused) as refused:
            share_payments.record_payment(purchase, wrong, admin, now=NOW)
        assert refused.value.field == "amount"
    payment = share_payments.record_payment(purchase, 20000, admin, now=NOW)
    db.session.commit()
    assert payment.provider == PaymentProvider.BANK_TRANSFER
    assert all(s.paid_at == NOW and s.payment_id == payment.id for s in purchase.shares)
    with pytest.raises(Refused):
        share_payments.record_payment(purchase, 20000, admin, now=NOW)
    kinds = [e.kind for e in purchase.shares[0].history]
    assert kinds == ["issued", "paid"]


@pytest.mark.parametrize(
    ("year_end", "left_on", "due_on"),
    [
        ("12-31", date(2026, 6, 1), date(2026, 12, 31)),
        ("12-31", date(2026, 12, 31), date(2026, 12, 31)),
        ("12-31", date(2027, 1, 1), date(2027, 12, 31)),
        ("06-30", date(2026, 6, 30), date(2026, 6, 30)),
        ("06-30", date(2026, 7, 1), date(2027, 6, 30)),
    ],
)
def test_repayment_is_due_at_the_end_of_the_financial_year(
    app, ctx, monkeypatch, year_end, left_on, due_on
):
    monkeypatch.setitem(app.config, "FINANCIAL_YEAR_END", year_end)
    assert shares.financial_year_end_on_or_after(left_on) == due_on


def _paid_shares(member, admin, quantity=1, share_class=None, now=NOW):
    share_class = share_class or make_share_class()
    purchase = shares.buy(member, share_class, quantity, now=now)
    share_payments.record_payment(purchase, shares.amount_owed(purchase), admin, now=now)
    return purchase.shares


def test_leaving_marks_every_held_share_once_and_repayment_waits_for_the_date(ctx):
    member = membership_of()
    admin = make_admin()
    [share] = _paid_shares(member, admin)
    # 23:30 on 31 December in Amsterdam is still that year: due that same day.
    late = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)
    assert shares.mark_for_repayment(member, late) == [share]
    assert share.repayment_due_on == date(2026, 12, 31)
    assert shares.mark_for_repayment(member, late) == []
    with pytest.raises(Refused, match="after"):
        share_changes.record_repayment(share, admin, now=datetime(2026, 12, 30, 12, tzinfo=UTC))
    share_changes.record_repayment(share, admin, now=late)
    assert share.repaid_at == late and share.repaid_cents == 10000
    with pytest.raises(Refused, match="already"):
        share_changes.record_repayment(share, admin, now=late)
    assert [e.kind for e in share.history] == ["issued", "paid", "to_repay", "repaid"]
    assert share.history[-1].recorded_by_id == admin.id


def test_a_share_not_marked_is_not_repaid(ctx):
    member = membership_of()
    admin = make_admin()
    [share] = _paid_shares(member, admin)
    with pytest.raises(Refused, match="not marked"):
        share_changes.record_repayment(share, admin, now=NOW)


def test_an_unpaid_share_is_closed_with_nothing_repaid(ctx):
    member = membership_of()
    admin = make_admin()
    [share] = shares.buy(member, make_share_class(), 1, now=NOW).shares
    shares.mark_for_repayment(member, NOW)
    share_changes.record_repayment(share, admin, now=datetime(2027, 1, 1, 12, tzinfo=UTC))
    assert share.repaid_cents == 0


def _online_share(member, window_start=NOW):
    extra = make_share_class()
    purchase = shares.buy(member, extra, 1, now=window_start)
    payment = Payment(
        provider=PaymentProvider.STRIPE,
        status=PaymentStatus.OPEN,
        amount_cents=10000,
        share_purchase=purchase,
        stripe_checkout_session_id="cs_test_share",
        stripe_payment_intent_id="pi_test_share",
    )
    db.session.add(payment)
    db.session.flush()
    share_payments.payment_succeeded(payment, window_start)
    return purchase.shares[0], payment


def test_a_stripe_refund_is_possible_within_the_window_only(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "SHARE_REFUND_WINDOW_DAYS", 180)
    member = membership_of()
    admin = make_admin()
    share, payment = _online_share(member)
    assert share.paid_at == NOW and payment.status == PaymentStatus.PAID
    shares.mark_for_repayment(member, NOW)
    assert share_changes.stripe_refund_possible(share, NOW + timedelta(days=180))
    assert not share_changes.stripe_refund_possible(share, NOW + timedelta(days=181))
    late = datetime(2027, 1, 2, 12, tzinfo=UTC)  # due, 215 days and 2 hours after paying
    with pytest.raises(Refused) as refused:
        share_changes.record_repayment(share, admin, share_changes.STRIPE_REFUND, now=late)
    assert refused.value.field == "method"
    monkeypatch.setitem(app.config, "SHARE_REFUND_WINDOW_DAYS", 216)
    share_changes.record_repayment(share, admin, share_changes.STRIPE_REFUND, now=late)
    db.session.flush()
    call = db.session.scalar(sa.select(StripeCall))
    assert call.kind == "refund" and call.amount_cents == 10000
    assert payment.refunded_cents == 10000


def test_a_bank_paid_share_is_never_refunded_through_stripe(ctx):
    member = membership_of()
    admin = make_admin()
    [share] = _paid_shares(member, admin)
    shares.mark_for_repayment(member, NOW)
    assert not share_changes.stripe_refund_possible(share, NOW)


def test_a_transfer_waits_for_the_board_and_is_recorded(ctx):
    ada, bob = membership_of("ada@example.org"), membership_of("bob@example.org")
    admin = make_admin()
    [share] = _paid_shares(ada, admin)
    transfer = share_changes.request_transfer(share, bob, admin, "brief van 1 juni", NOW)
    assert share.membership_id == ada.id
    with pytest.raises(Refused):
        share_changes.request_transfer(share, bob, admin, now=NOW)  # one waits already
    share_changes.approve_transfer(transfer, admin, NOW)
    db.session.commit()
    assert share.membership_id == bob.id
    assert transfer.status == TransferStatus.APPROVED
    event = share.history[-1]
    assert (event.kind, event.from_membership_id, event.to_membership_id) == (
        "transferred",
        ada.id,
        bob.id,
    )
    assert event.recorded_by_id == admin.id
    # A transferred share is never refunded to the new holder through Stripe.
    assert not share_changes.stripe_refund_possible(share, NOW)


def test_transfers_are_refused_at_their_edges(ctx):
    ada, bob = membership_of("ada@example.org"), membership_of("bob@example.org")
    admin = make_admin()
    capped = make_share_class("capped", max_per_member=1)
    [share] = _paid_shares(ada, admin, share_class=capped)
    with pytest.raises(Refused):
        share_changes.request_transfer(share, ada, admin, now=NOW)  # to its own holder
    bob.status = MembershipStatus.LAPSED
    with pytest.raises(Refused):
        share_changes.request_transfer(share, bob, admin, now=NOW)
    bob.status = MembershipStatus.ACTIVE
    _paid_shares(bob, admin, share_class=capped)
    transfer = share_changes.request_transfer(share, bob, admin, now=NOW)
    with pytest.raises(Refused, match="at most 1"):
        share_changes.approve_transfer(transfer, admin, NOW)  # bob holds the maximum
    share_changes.refuse_transfer(transfer, admin, NOW)
    assert transfer.status == TransferStatus.REFUSED and share.membership_id == ada.id
    [unpaid] = shares.buy(ada, make_share_class("extra"), 1, now=NOW).shares
    with pytest.raises(Refused, match="paid"):
        share_changes.request_transfer(unpaid, bob, admin, now=NOW)


def test_nobody_approves_a_transfer_to_or_from_themselves(ctx):
    ada = membership_of("ada@example.org")
    bob = membership_of("bob@example.org")
    bob.user.is_admin = True
    admin = make_admin()
    [share] = _paid_shares(ada, admin)
    transfer = share_changes.request_transfer(share, bob, admin, now=NOW)
    with pytest.raises(Refused, match="own"):
        share_changes.approve_transfer(transfer, bob.user, NOW)


def test_totals_per_class_and_year_and_the_capital(ctx):
    ada, bob = membership_of("ada@example.org"), membership_of("bob@example.org")
    admin = make_admin()
    extra = make_share_class("extra", amount_cents=10000)
    member_share = make_share_class("lid", amount_cents=2500, max_per_member=1)
    _paid_shares(ada, admin, 2, extra, now=datetime(2025, 3, 1, tzinfo=UTC))
    _paid_shares(bob, admin, 1, member_share, now=NOW)
    shares.buy(bob, extra, 1, now=NOW)  # unpaid
    [leaving] = _paid_shares(bob, admin, 1, extra, now=NOW)
    shares.mark_for_repayment(bob, NOW)
    share_changes.record_repayment(leaving, admin, now=datetime(2027, 1, 2, tzinfo=UTC))
    db.session.commit()

    totals = share_totals.totals()
    by_slug = {row.share_class.slug: row for row in totals.classes}
    assert by_slug["extra"].issued == 4
    assert by_slug["extra"].paid_cents == 20000
    assert by_slug["extra"].unpaid == 1 and by_slug["extra"].unpaid_cents == 10000
    assert by_slug["extra"].repaid == 1 and by_slug["extra"].repaid_cents == 10000
    assert by_slug["lid"].to_repay == 1 and by_slug["lid"].capital_cents == 2500
    assert totals.capital_cents == 22500 == share_totals.capital_cents()
    assert totals.member_count == 2
    years = {(y.year, y.share_class.slug): (y.issued, y.repaid) for y in totals.years}
    assert years == {
        (2025, "extra"): (2, 0),
        (2026, "extra"): (2, 0),
        (2026, "lid"): (1, 0),
        (2027, "extra"): (0, 1),
    }


def test_a_deleted_account_leaves_its_shares_in_the_register(ctx):
    member = membership_of(name="Ada Lovelace")
    admin = make_admin()
    _paid_shares(member, admin, 2)
    assert db.session.scalar(sa.select(sa.func.count(ShareEvent.id))) == 4
    privacy.delete_account(member.user, "correct horse battery")
    db.session.commit()
    kept = db.session.get(Membership, member.id)
    assert kept is not None and kept.user_id is None
    assert shares.holder_name(kept) == "Ada Lovelace"
    assert db.session.scalar(sa.select(sa.func.count(Share.id))) == 2
    assert share_totals.capital_cents() == 20000


def test_an_open_application_holding_a_paid_share_is_not_deleted_with_the_account(ctx):
    member = membership_of()
    member.status = MembershipStatus.PENDING_APPROVAL
    member.number = None
    payment = Payment(
        provider=PaymentProvider.BANK_TRANSFER,
        status=PaymentStatus.PAID,
        amount_cents=2500,
        membership=member,
    )
    db.session.add(payment)
    make_share_class("lid", 2500, max_per_member=1, required=True)
    shares.issue_join_shares(member, payment, NOW)
    db.session.commit()
    with pytest.raises(Refused, match="waits for the board"):
        privacy.delete_account(member.user, "correct horse battery")


@pytest.mark.parametrize(
    ("received", "leaves_on", "due_on"),
    [
        # Four weeks' notice ends in this year: repaid after this year's end.
        (datetime(2026, 5, 1, 10, tzinfo=UTC), date(2026, 12, 31), date(2026, 12, 31)),
        # Received on 4 December: the membership ends at the next year's end, and so
        # the shares are repaid after that one.
        (datetime(2026, 12, 4, 10, tzinfo=UTC), date(2027, 12, 31), date(2027, 12, 31)),
    ],
)
def test_cancelling_in_writing_marks_the_shares_for_the_year_the_membership_ends(
    ctx, received, leaves_on, due_on
):
    member = membership_of()
    admin = make_admin()
    held = _paid_shares(member, admin, 2)
    assert register.cancel(member, now=received) == leaves_on
    assert [share.repayment_due_on for share in held] == [due_on, due_on]
    assert held[0].history[-1].kind == "to_repay"


def test_the_member_register_counts_each_members_shares_in_one_query(ctx, count_queries):
    ada, bob = membership_of("ada@example.org"), membership_of("bob@example.org")
    admin = make_admin()
    _paid_shares(ada, admin, 3)
    [repaid] = _paid_shares(bob, admin, 1, share_class=make_share_class("other"))
    repaid.repaid_at = NOW
    db.session.commit()
    ids = (ada.id, bob.id)  # loaded again after the commit, before counting
    with count_queries as counted:
        assert register.shares_held([ada, bob]) == {ids[0]: 3, ids[1]: 0}
    assert counted.count == 1


def _decided_elsewhere(table, row_id: int, status) -> None:
    """Another admin's request decided the row and committed, on its own connection."""
    with db.engine.begin() as connection:
        connection.execute(sa.update(table).where(table.id == row_id).values(status=status))


def test_of_two_admins_deciding_a_purchase_at_once_the_second_finds_it_decided(ctx):
    extra = make_share_class(needs_approval=True)
    member, admin = membership_of(), make_admin()
    purchase = shares.buy(member, extra, 1, now=NOW)
    db.session.commit()
    assert purchase.status == PurchaseStatus.PENDING_APPROVAL  # as this request read it
    _decided_elsewhere(SharePurchase, purchase.id, PurchaseStatus.REFUSED)

    with pytest.raises(Refused):
        shares.approve_purchase(purchase, admin, now=NOW)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Share.id))) == 0
    with pytest.raises(Refused):
        shares.refuse_purchase(purchase, admin, "Nee")


def test_of_two_admins_deciding_a_transfer_at_once_the_second_finds_it_decided(ctx):
    ada, bob = membership_of("ada@example.org"), membership_of("bob@example.org")
    admin = make_admin()
    [share] = _paid_shares(ada, admin)
    transfer = share_changes.request_transfer(share, bob, admin, now=NOW)
    db.session.commit()
    assert transfer.status == TransferStatus.PENDING
    _decided_elsewhere(ShareTransfer, transfer.id, TransferStatus.REFUSED)

    with pytest.raises(Refused):
        share_changes.approve_transfer(transfer, admin, NOW)
    db.session.rollback()
    assert db.session.get(Share, share.id).membership_id == ada.id
