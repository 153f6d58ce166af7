"""Issue 15: every way a membership ends reaches its shares through one path
(`register.mark_shares_for_repayment`): a cancellation, an end by the cooperative or by
death, and lapsing (the fee not paid, or dues the bank took back); a lapsed member who
pays again holds the shares again."""

from datetime import UTC, date, datetime, timedelta

import pytest

from cooperative.extensions import db
from cooperative.models import (
    Collection,
    CollectionStatus,
    LeavingWay,
    MembershipStatus,
    PaymentProvider,
    PaymentStatus,
)
from cooperative.services import (
    dues,
    register,
    share_changes,
    share_payments,
    share_totals,
    shares,
)
from cooperative.services import membership as memberships
from tests.factories import make_admin
from tests.sepa_fixtures import FEE, yearly_member
from tests.share_factories import make_share_class

ENDS = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def ctx(app):
    with app.test_request_context("/?lang=en"):
        yield


def member_with_shares(quantity=2):
    membership = yearly_member("ada@example.org", ENDS)
    admin = make_admin()
    purchase = shares.buy(membership, make_share_class(), quantity, now=ENDS - timedelta(days=90))
    share_payments.record_payment(purchase, shares.amount_owed(purchase), admin, now=ENDS)
    db.session.commit()
    return membership, purchase.shares, admin


def test_lapsing_marks_the_shares_for_repayment_after_that_financial_year(ctx):
    membership, held, _ = member_with_shares()
    just_before = ENDS + memberships.grace_period() - timedelta(minutes=1)
    assert memberships.send_reminders_and_lapse(just_before)[1] == 0
    assert [share.repayment_due_on for share in held] == [None, None]
    lapse_at = ENDS + memberships.grace_period()
    assert memberships.send_reminders_and_lapse(lapse_at)[1] == 1
    db.session.commit()
    assert membership.status == MembershipStatus.LAPSED
    assert membership.leaving_way == LeavingWay.LAPSED
    assert [share.repayment_due_on for share in held] == [date(2026, 12, 31)] * 2
    assert held[0].history[-1].kind == "to_repay"
    # The next day's job marks nothing twice.
    memberships.send_reminders_and_lapse(lapse_at + timedelta(days=1))
    assert [e.kind for e in held[0].history].count("to_repay") == 1


def test_a_lapse_in_december_waits_for_that_years_end(ctx):
    membership, held, _ = member_with_shares(1)
    membership.ends_at = datetime(2026, 12, 31, 22, 0, tzinfo=UTC) - memberships.grace_period()
    db.session.commit()
    # 23:00 on 31 December in Amsterdam: still 2026.
    memberships.send_reminders_and_lapse(datetime(2026, 12, 31, 22, 0, tzinfo=UTC))
    assert held[0].repayment_due_on == date(2026, 12, 31)


def test_a_lapsed_member_who_pays_again_holds_the_shares_again(ctx):
    membership, held, admin = member_with_shares()
    lapse_at = ENDS + memberships.grace_period()
    memberships.send_reminders_and_lapse(lapse_at)
    db.session.commit()
    memberships.record_bank_transfer(membership, FEE, admin, now=lapse_at + timedelta(days=3))
    db.session.commit()
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.leaving_way is None
    assert [share.repayment_due_on for share in held] == [None, None]
    assert [e.kind for e in held[0].history][-2:] == ["to_repay", "kept"]
    assert share_totals.holding(membership) == (2, 20000, 0)


def test_a_repaid_share_stays_repaid_when_the_member_comes_back(ctx):
    membership, held, admin = member_with_shares()
    lapse_at = datetime(2027, 1, 1, 10, 0, tzinfo=UTC)
    membership.ends_at = lapse_at - memberships.grace_period()
    db.session.commit()
    memberships.send_reminders_and_lapse(lapse_at)
    share_changes.record_repayment(held[0], admin, now=datetime(2028, 1, 2, 10, tzinfo=UTC))
    db.session.commit()
    memberships.record_bank_transfer(membership, FEE, admin, now=datetime(2028, 1, 3, tzinfo=UTC))
    assert held[0].repaid_at is not None and held[0].repayment_due_on is not None
    assert held[1].repayment_due_on is None


def test_a_cancelled_member_who_lapses_keeps_the_shares_marked_when_paying(ctx):
    membership, held, admin = member_with_shares()
    register.cancel(membership, now=ENDS - timedelta(days=60))  # leaves on 31 December
    lapse_at = ENDS + memberships.grace_period()
    memberships.send_reminders_and_lapse(lapse_at)
    assert membership.status == MembershipStatus.LAPSED
    memberships.record_bank_transfer(membership, FEE, admin, now=lapse_at + timedelta(days=1))
    assert [share.repayment_due_on for share in held] == [date(2026, 12, 31)] * 2


@pytest.mark.parametrize("way", [LeavingWay.ENDED_BY_COOPERATIVE, LeavingWay.DECEASED])
def test_an_end_without_notice_marks_the_shares(ctx, way):
    membership, held, _ = member_with_shares()
    register.end_membership(membership, way, date(2026, 6, 2), now=datetime(2026, 6, 3, tzinfo=UTC))
    assert membership.status == MembershipStatus.CANCELLED
    assert [share.repayment_due_on for share in held] == [date(2026, 12, 31)] * 2


def test_dues_taken_back_after_the_grace_period_lapse_the_member_and_mark_the_shares(ctx):
    membership, held, _ = member_with_shares()
    payment = memberships.record_bank_transfer(membership, FEE, make_admin("b@example.org"))
    run_day = ENDS.date()
    from cooperative.models import CollectionRun, SepaMandate

    mandate = SepaMandate(
        membership=membership,
        kind="own",
        reference="MEENT-000001-01",
        iban="NL02ABNA0123456789",
        iban_last4="6789",
        account_holder="Ada",
        signed_on=run_day,
    )
    run = CollectionRun(debit_date=run_day)
    collection = Collection(
        run=run,
        membership=membership,
        mandate=mandate,
        payment=payment,
        amount_cents=FEE,
        debit_date=run_day,
        period_ends_at=ENDS,
        status=CollectionStatus.PAID,
        end_to_end_id="MEENT-DUES-00000001",
    )
    db.session.add_all([mandate, run, collection])
    db.session.commit()
    assert payment.provider == PaymentProvider.BANK_TRANSFER
    assert payment.status == PaymentStatus.PAID
    reversed_at = ENDS + memberships.grace_period() + timedelta(days=1)
    dues.record_reversal(collection, "MD06", now=reversed_at)
    assert membership.status == MembershipStatus.LAPSED
    assert membership.leaving_way == LeavingWay.LAPSED
    assert [share.repayment_due_on for share in held] == [date(2026, 12, 31)] * 2
