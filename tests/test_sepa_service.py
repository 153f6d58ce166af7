"""Dues by direct debit on the services, each rule at its edges: IBANs and mandates, the
creditor identifier, the pre-notification days, who owes on the debit date, never two
collections for one member and year, an ended mandate, and results (paid renews the
membership, failed tells the member, a reversal within 8 weeks puts them back to pay)."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from cooperative.config import from_environment
from cooperative.extensions import db
from cooperative.models import (
    Collection,
    CollectionRun,
    CollectionStatus,
    MandateStatus,
    Membership,
    MembershipStatus,
    Payment,
    PaymentProvider,
    PaymentStatus,
    SepaMandate,
    utcnow,
)
from cooperative.refusals import Refused
from cooperative.sepa_ids import InvalidIdentifier, checked_creditor_id
from cooperative.services import dues, sepa, sepa_file
from cooperative.services import membership as memberships
from tests import sepa_fixtures
from tests.factories import make_plan, make_user
from tests.sepa_fixtures import (
    FEE,
    MEMBER_IBAN,
    debit_day,
    due_member,
    last_body,
    subjects,
    with_mandate,
    yearly_member,
)

YEAR = timedelta(days=365)

creditor = sepa_fixtures.creditor


# --- mandates and identifiers -----------------------------------------------------------


def test_a_good_iban_is_kept_compact_with_a_reference_and_a_copy_by_mail(app, creditor):
    with app.app_context():
        membership = yearly_member("ada@example.org", utcnow() + YEAR)
        mandate = sepa.give_mandate(membership, " nl02 abna 0123 4567 89 ", "Ada  Lovelace", True)
        db.session.commit()
        assert mandate.iban == MEMBER_IBAN
        assert mandate.iban_last4 == "6789"
        assert mandate.account_holder == "Ada Lovelace"
        assert mandate.reference == f"MEENT-{membership.id:06d}-01"
        assert mandate.signed_on == sepa.local_today()
        assert subjects("ada@example.org")[-1] == "Your direct debit mandate"
        body = last_body("ada@example.org")
        assert "NL57ZZZ999999999999" in body and mandate.reference in body


@pytest.mark.parametrize(
    "iban",
    [
        "NL02ABNA0123456788",  # a check digit off
        "NL02ABNA012345678",  # one digit short
        "XX02ABNA0123456789",  # no such country
        "not an iban",
    ],
)
def test_a_bad_iban_is_refused_on_its_field(app, creditor, iban):
    with app.app_context():
        membership = yearly_member("ada@example.org", utcnow() + YEAR)
        with pytest.raises(Refused) as refused:
            sepa.give_mandate(membership, iban, "Ada", True)
        assert refused.value.field == "iban"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Collection)) == 0


def test_no_consent_no_holder_or_no_membership_is_refused(app, creditor):
    with app.app_context():
        membership = yearly_member("ada@example.org", utcnow() + YEAR)
        with pytest.raises(Refused) as refused:
            sepa.give_mandate(membership, MEMBER_IBAN, "Ada", False)
        assert refused.value.field == "consent"
        with pytest.raises(Refused) as refused:
            sepa.give_mandate(membership, MEMBER_IBAN, "   ", True)
        assert refused.value.field == "account_holder"
        with pytest.raises(Refused):
            sepa.give_mandate(None, MEMBER_IBAN, "Ada", True)
        membership.status = MembershipStatus.LAPSED
        with pytest.raises(Refused):
            sepa.give_mandate(membership, MEMBER_IBAN, "Ada", True)


def test_one_mandate_at_a_time_and_a_new_one_after_ending_gets_the_next_reference(app, creditor):
    with app.app_context():
        membership = yearly_member("ada@example.org", utcnow() + YEAR)
        first = with_mandate(membership)
        with pytest.raises(Refused):
            sepa.give_mandate(membership, MEMBER_IBAN, "Ada", True)
        sepa.end_mandate(first)
        db.session.commit()
        assert first.status == MandateStatus.ENDED and first.ended_at is not None
        with pytest.raises(Refused):
            sepa.end_mandate(first)
        second = with_mandate(membership)
        assert second.reference.endswith("-02")


def test_without_a_creditor_identifier_no_own_mandate_is_taken(app):
    with app.app_context():
        membership = yearly_member("ada@example.org", utcnow() + YEAR)
        assert sepa.route() is None
        with pytest.raises(Refused):
            sepa.give_mandate(membership, MEMBER_IBAN, "Ada", True)


def test_the_creditor_identifier_is_checked(monkeypatch, tmp_path):
    assert checked_creditor_id("de98 zzz0 9999 9999 99") == "DE98ZZZ09999999999"
    for wrong in ("DE99ZZZ09999999999", "NL57ZZZ", "57NLZZZ999999999999"):
        with pytest.raises(InvalidIdentifier):
            checked_creditor_id(wrong)
    monkeypatch.setenv("SEPA_CREDITOR_ID", "NL58ZZZ999999999999")
    with pytest.raises(RuntimeError, match="SEPA_CREDITOR_ID"):
        from_environment(str(tmp_path))
    monkeypatch.setenv("SEPA_CREDITOR_ID", "NL57ZZZ999999999999")
    assert from_environment(str(tmp_path))["SEPA_CREDITOR_ID"] == "NL57ZZZ999999999999"


# --- the dues run -----------------------------------------------------------------------


def test_the_debit_date_is_at_least_the_prenotification_days_away(app, creditor):
    with app.app_context():
        now = utcnow()
        due_member("ada@example.org", debit_day(now, 14))
        with pytest.raises(Refused) as refused:
            dues.run_dues(sepa.earliest_debit_date(now) - timedelta(days=1), now=now)
        assert refused.value.field == "debit_date"
        run = dues.run_dues(debit_day(now, 14), now=now)
        db.session.commit()
        assert len(run.collections) == 1
        assert run.collections[0].prenotified_at == now


def test_a_dues_run_is_refused_on_a_day_banks_do_not_debit(app, creditor):
    """The service itself refuses, whoever calls it (the admin's form, the command)."""
    with app.app_context():
        now = utcnow()
        earliest = sepa.earliest_debit_date(now)
        saturday = earliest + timedelta(days=(5 - earliest.weekday()) % 7)
        due_member("ada@example.org", saturday + timedelta(days=3))
        with pytest.raises(Refused) as refused:
            dues.run_dues(saturday, now=now)
        assert refused.value.field == "debit_date"
        assert db.session.scalar(sa.select(sa.func.count(CollectionRun.id))) == 0


def test_the_prenotification_days_are_a_setting(app, creditor, monkeypatch):
    monkeypatch.setitem(app.config, "SEPA_PRENOTIFICATION_DAYS", 20)
    with app.app_context():
        now = utcnow()
        due_member("ada@example.org", debit_day(now, 20))
        with pytest.raises(Refused):
            dues.run_dues(sepa.earliest_debit_date(now) - timedelta(days=1), now=now)
        assert len(dues.run_dues(debit_day(now, 20), now=now).collections) == 1


def test_only_members_due_by_the_debit_date_with_a_mandate_in_force_are_collected(app, creditor):
    with app.app_context():
        now = utcnow()
        day = debit_day(now)
        due = due_member("due@example.org", day)  # due on the very day
        due_member("later@example.org", day, offset=timedelta(seconds=1))  # a second later
        due_member("nomandate@example.org", day, mandate=False)
        ended = due_member("ended@example.org", day)
        sepa.end_mandate(sepa.active_mandate(ended))
        once = make_user("once@example.org", locale="en")
        once_membership = memberships.join(once, make_plan("eenmalig", fee_cents=FEE))
        memberships.activate(once_membership)
        db.session.commit()
        run = dues.run_dues(day, now=now)
        db.session.commit()
        assert [c.membership_id for c in run.collections] == [due.id]
        collection = run.collections[0]
        assert collection.amount_cents == FEE
        assert collection.period_ends_at == due.ends_at
        assert collection.status == CollectionStatus.SCHEDULED
        assert collection.sequence_type == "FRST"
        assert collection.end_to_end_id == f"MEENT-DUES-{collection.id:08d}"
        assert subjects("due@example.org")[-1] == "Your dues will be debited"
        body = last_body("due@example.org")
        assert "€25.00" in body and "6789" in body and "NL57ZZZ999999999999" in body
        assert subjects("later@example.org")[-1] != "Your dues will be debited"


def test_never_two_collections_for_one_member_and_year(app, creditor):
    with app.app_context():
        now = utcnow()
        membership = due_member("ada@example.org", debit_day(now))
        dues.run_dues(debit_day(now), now=now)
        db.session.commit()
        with pytest.raises(Refused):
            dues.run_dues(debit_day(now, 15), now=now)
        db.session.rollback()
        first = db.session.scalar(sa.select(Collection))
        # The constraint is the last guard, whatever the code above it does.
        db.session.add(
            Collection(
                run_id=first.run_id,
                membership_id=membership.id,
                mandate_id=first.mandate_id,
                amount_cents=FEE,
                debit_date=first.debit_date,
                period_ends_at=membership.ends_at,
                end_to_end_id="another",
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_an_ended_mandate_cancels_what_was_announced_and_is_not_sent(app, creditor):
    with app.app_context():
        now = utcnow()
        ada = due_member("ada@example.org", debit_day(now))
        due_member("bob@example.org", debit_day(now))
        run = dues.run_dues(debit_day(now), now=now)
        db.session.commit()
        sepa.end_mandate(sepa.active_mandate(ada))
        db.session.commit()
        assert sepa_file.make_file(run, now) == 1
        db.session.commit()
        states = {c.membership_id: c.status for c in run.collections}
        assert states[ada.id] == CollectionStatus.CANCELLED
        assert MEMBER_IBAN in run.file_xml
        assert run.file_xml.count("<DrctDbtTxInf>") == 1


def test_a_member_who_paid_another_way_is_not_debited(app, creditor):
    with app.app_context():
        now = utcnow()
        ada = due_member("ada@example.org", debit_day(now))
        due_member("bob@example.org", debit_day(now))
        run = dues.run_dues(debit_day(now), now=now)
        db.session.commit()
        ada.ends_at = ada.ends_at + YEAR  # a transfer renewed it meanwhile
        db.session.commit()
        assert sepa_file.make_file(run, now) == 1
        assert {c.membership_id: c.status for c in run.collections}[ada.id] == (
            CollectionStatus.CANCELLED
        )


# --- results ------------------------------------------------------------------------------


def submitted_collection(email: str, days_ago: int = 30):
    """A collection run `days_ago` days back, debited 14 days after, its file made."""
    run_at = utcnow() - timedelta(days=days_ago)
    day = debit_day(run_at)
    due_member(email, day)
    run = dues.run_dues(day, now=run_at)
    sepa_file.make_file(run, run_at)
    db.session.commit()
    return run.collections[0]


def at(day, hours: int = 10):
    return sepa.start_of(day) + timedelta(hours=hours)


def test_paid_renews_the_membership_once_and_not_before_the_debit_date(app, creditor):
    with app.app_context():
        collection = submitted_collection("ada@example.org")
        membership = collection.membership
        old_end = membership.ends_at
        with pytest.raises(Refused):
            dues.record_result(collection, "paid", now=at(collection.debit_date - timedelta(1)))
        dues.record_result(collection, "paid", now=at(collection.debit_date))
        db.session.commit()
        assert collection.status == CollectionStatus.PAID
        assert membership.ends_at == old_end + YEAR
        payment = db.session.scalar(sa.select(Payment))
        assert (payment.provider, payment.status) == (
            PaymentProvider.SEPA_DEBIT,
            PaymentStatus.PAID,
        )
        assert collection.payment_id == payment.id
        assert subjects("ada@example.org")[-1] == "Your membership is renewed"
        with pytest.raises(Refused):
            dues.record_result(collection, "paid", now=at(collection.debit_date))
        assert membership.ends_at == old_end + YEAR


def test_all_paid_marks_every_submitted_collection_of_the_file(app, creditor):
    with app.app_context():
        run_at = utcnow() - timedelta(days=30)
        day = debit_day(run_at)
        due_member("ada@example.org", day)
        due_member("bob@example.org", day)
        run = dues.run_dues(day, now=run_at)
        sepa_file.make_file(run, run_at)
        db.session.commit()
        with pytest.raises(Refused):
            dues.record_all_paid(run, now=at(day - timedelta(days=1)))
        assert len(dues.record_all_paid(run, now=at(day))) == 2
        db.session.commit()
        assert {c.status for c in run.collections} == {CollectionStatus.PAID}


def test_failed_tells_the_member_kindly_and_leaves_them_to_pay(app, creditor):
    with app.app_context():
        collection = submitted_collection("ada@example.org")
        dues.record_result(collection, "failed", "AM04 insufficient funds", now=utcnow())
        db.session.commit()
        assert collection.status == CollectionStatus.FAILED
        assert collection.reason == "AM04 insufficient funds"
        assert subjects("ada@example.org")[-1] == "Your dues could not be debited"
        assert memberships.amount_due(collection.membership) == FEE
        with pytest.raises(Refused):
            dues.record_result(collection, "reversed", now=utcnow())


def test_a_debit_of_a_deleted_account_fails_without_a_mail(app, creditor):
    """The register keeps the membership of a deleted account (art. 2:61 BW); a debit sent
    before it may still fail: recorded, with nobody to e-mail."""
    from cooperative.services import privacy

    with app.app_context():
        collection = submitted_collection("ada@example.org")
        privacy.delete_account(collection.membership.user, "correct horse battery")
        db.session.commit()
        mailed = subjects("ada@example.org")
        dues.record_result(collection, "failed", "MD07 debtor deceased", now=utcnow())
        db.session.commit()
        assert collection.status == CollectionStatus.FAILED
        assert collection.membership.user is None
        assert subjects("ada@example.org") == mailed


def test_a_reversal_within_8_weeks_puts_the_member_back_to_pay(app, creditor):
    with app.app_context():
        collection = submitted_collection("ada@example.org")
        membership = collection.membership
        period_end = membership.ends_at
        dues.record_result(collection, "paid", now=at(collection.debit_date))
        db.session.commit()
        assert memberships.amount_due(membership) == 0
        dues.record_result(collection, "reversed", "MD06 refund requested", now=utcnow())
        db.session.commit()
        assert collection.status == CollectionStatus.REVERSED
        assert membership.ends_at == period_end
        assert membership.status == MembershipStatus.ACTIVE  # still in its grace period
        assert memberships.amount_due(membership) == FEE
        assert collection.payment.status == PaymentStatus.REFUNDED
        assert subjects("ada@example.org")[-1] == "Your dues were returned by your bank"
        assert "reply to this e-mail" in last_body("ada@example.org")


def test_a_reversal_comes_at_most_8_weeks_after_the_debit_date(app, creditor):
    with app.app_context():
        collection = submitted_collection("ada@example.org", days_ago=100)
        dues.record_result(collection, "paid", now=at(collection.debit_date))
        db.session.commit()
        with pytest.raises(Refused):
            dues.record_result(
                collection, "reversed", now=at(collection.debit_date + timedelta(days=57))
            )
        dues.record_result(
            collection, "reversed", now=at(collection.debit_date + timedelta(days=56))
        )
        db.session.commit()
        assert collection.status == CollectionStatus.REVERSED
        # 56 days after the debit the old year ended past its grace: the membership lapses.
        assert collection.membership.status == MembershipStatus.LAPSED


def test_the_next_collection_under_a_used_mandate_is_recurring(app, creditor):
    with app.app_context():
        collection = submitted_collection("ada@example.org", days_ago=100)
        dues.record_result(collection, "paid", now=at(collection.debit_date))
        db.session.commit()
        assert collection.sequence_type == "FRST"
        membership = collection.membership
        run_at = membership.ends_at - timedelta(days=30)
        run = dues.run_dues(debit_day(run_at, 20), now=run_at)
        assert run.collections[0].sequence_type == "RCUR"


def test_two_runs_at_once_make_one_collection_per_member(app, creditor):
    with app.app_context():
        now = utcnow()
        day = debit_day(now)
        for name in ("ada", "bob", "cas"):
            due_member(f"{name}@example.org", day)
    barrier = threading.Barrier(2)
    outcomes: list = []

    def run() -> None:
        barrier.wait(timeout=30)
        with app.app_context():
            try:
                outcomes.append(len(dues.run_dues(day, now=now).collections))
                db.session.commit()
            except Refused as refusal:
                db.session.rollback()
                outcomes.append(refusal)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes, key=str)[0] == 3
    assert isinstance(sorted(outcomes, key=str)[1], Refused)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Collection)) == 3


def test_a_member_told_of_the_debit_gets_no_pay_here_reminder_until_the_mandate_ends(app, creditor):
    with app.app_context():
        now = utcnow()
        membership = due_member("ada@example.org", debit_day(now))
        dues.run_dues(debit_day(now), now=now)
        db.session.commit()
        reminder_time = membership.ends_at - timedelta(days=13)
        assert memberships.send_reminders_and_lapse(reminder_time) == (0, 0)
        sepa.end_mandate(sepa.active_mandate(membership))
        db.session.commit()
        assert memberships.send_reminders_and_lapse(reminder_time) == (1, 0)
        assert subjects("ada@example.org")[-1] == "Your membership ends soon"


def test_a_reference_never_comes_back_after_the_ended_mandates_are_purged(app, creditor):
    """SEPA forbids reusing a mandate reference: the sequence counts on after the purge
    deleted every ended mandate (it once counted the mandates left: -01 came back)."""
    from cooperative.services import retention

    with app.app_context():
        membership = yearly_member("ada@example.org", utcnow() + YEAR)
        for _ in range(2):
            sepa.end_mandate(with_mandate(membership))
            db.session.commit()
        later = utcnow() + 8 * YEAR
        assert retention.purge_mandates(now=later) == 2
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(SepaMandate.id))) == 0
        third = with_mandate(membership)
        assert third.reference == f"MEENT-{membership.id:06d}-03"
        assert db.session.get(Membership, membership.id).mandates_given == 3


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        ("2027-03-25", True),  # the Thursday before Easter
        ("2027-03-26", False),  # Good Friday
        ("2027-03-29", False),  # Easter Monday
        ("2027-03-30", True),
        ("2027-05-01", False),  # a Saturday anyway
        ("2026-05-01", False),  # 1 May on a Friday
        ("2026-12-24", True),
        ("2026-12-25", False),
        ("2026-12-26", False),
        ("2027-01-01", False),
        ("2027-12-27", True),  # Christmas on a weekend is not moved to Monday
        ("2027-03-06", False),  # a Saturday
        ("2027-03-07", False),  # a Sunday
        ("2027-03-08", True),
    ],
)
def test_target_business_days(day, open_):
    from datetime import date

    assert sepa.is_target_day(date.fromisoformat(day)) is open_


@pytest.mark.parametrize(
    ("told_on", "earliest"),
    [
        ("2027-02-22", "2027-03-08"),  # 14 days on is a Monday: kept
        ("2027-02-20", "2027-03-08"),  # a Saturday: the Monday after
        ("2027-02-21", "2027-03-08"),  # a Sunday: the Monday after
        ("2027-03-11", "2027-03-25"),  # the Thursday before Easter: kept
        ("2027-03-12", "2027-03-30"),  # Good Friday: past Easter Monday
        ("2027-03-15", "2027-03-30"),  # Easter Monday
        ("2026-12-11", "2026-12-28"),  # Christmas Day, a Friday: the Monday after
        ("2026-12-18", "2027-01-04"),  # New Year's Day, a Friday
        ("2026-04-17", "2026-05-04"),  # 1 May, a Friday
    ],
)
def test_the_earliest_debit_date_is_a_target_business_day(app, told_on, earliest):
    from datetime import UTC, date, datetime

    now = datetime.combine(date.fromisoformat(told_on), datetime.min.time(), UTC)
    with app.app_context():
        assert sepa.earliest_debit_date(now + timedelta(hours=12)).isoformat() == earliest
