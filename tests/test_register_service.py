"""The member register's rules on the services: the address and postcode, the consent to
notices by e-mail, the written admission, cancellation and its end date, the ends an
admin records, the entry outliving the account, and the purge after ten years."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    LeavingWay,
    Membership,
    MembershipPlan,
    MembershipStatus,
    OutboxMessage,
    Payment,
    User,
    utcnow,
)
from cooperative.refusals import Refused
from cooperative.services import admission, privacy, register, retention
from cooperative.services import membership as memberships
from tests.factories import make_admin, make_plan, make_user

ADDRESS = register.Address("Ada Lovelace", "Javastraat", "12-2", "1094hb", "Amsterdam", "NL")


def joined(email="resident@example.org", plan=None, **kw) -> Membership:
    user = make_user(email)
    plan = plan or db.session.scalar(sa.select(MembershipPlan)) or make_plan()
    membership = memberships.join(user, plan, address=ADDRESS, **kw)
    db.session.commit()
    return membership


@pytest.mark.parametrize(
    ("typed", "country", "kept"),
    [
        ("1094hb", "NL", "1094 HB"),
        ("1094 HB", "NL", "1094 HB"),
        (" 1094   hb ", "NL", "1094 HB"),
        ("B-1000", "BE", "B-1000"),
        ("SW1A 1AA", "GB", "SW1A 1AA"),
    ],
)
def test_postcodes_are_written_one_way(app, typed, country, kept):
    with app.app_context():
        assert register.normalise_postcode(typed, country) == kept


@pytest.mark.parametrize(
    "typed", ["0094 HB", "109 HB", "10944 HB", "1094 H", "1094 SS", "1094-HB", ""]
)
def test_a_bad_dutch_postcode_is_refused_on_its_field(app, typed):
    with app.app_context(), pytest.raises(Refused) as refused:
        register.normalise_postcode(typed, "NL")
    assert refused.value.field == "postcode"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"registered_name": "  "}, "registered_name"),
        ({"street": ""}, "street"),
        ({"house_number": ""}, "house_number"),
        ({"city": ""}, "city"),
        ({"country": "Nederland"}, "country"),
        ({"country": ""}, "country"),
    ],
)
def test_an_address_needs_every_part(app, change, field):
    address = register.Address(**{**ADDRESS.__dict__, **change})
    with app.app_context(), pytest.raises(Refused) as refused:
        register.checked_address(address)
    assert refused.value.field == field


def test_joining_registers_the_address_and_the_consent_with_its_day(app):
    with app.app_context():
        membership = joined(email_notices=True)
        assert (membership.registered_name, membership.postcode, membership.country) == (
            "Ada Lovelace",
            "1094 HB",
            "NL",
        )
        given = membership.email_notices_consent_at
        assert given is not None
        register.set_email_notices(membership, True, utcnow() + timedelta(days=3))
        assert membership.email_notices_consent_at == given  # the first day stays
        register.set_email_notices(membership, False)
        assert membership.email_notices_consent_at is None


def test_admission_is_written_with_number_date_and_a_pdf(app):
    with app.app_context():
        now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        user = make_user()
        membership = memberships.join(user, make_plan(), now, address=ADDRESS)
        db.session.commit()
        assert membership.admitted_on == date(2026, 3, 2)
        assert membership.admission_letter_sent_at == now
        [mail] = db.session.scalars(sa.select(OutboxMessage)).all()
        assert "1" in mail.body_text and "2 maart 2026" in mail.body_text
        [letter] = mail.attachments
        assert (
            letter["content_type"] == "application/pdf" and letter["filename"] == "admission-1.pdf"
        )


def test_notice_ends_at_the_financial_year_end_after_four_weeks(app, monkeypatch):
    with app.app_context():
        assert register.notice_end_date(date(2026, 12, 3)) == date(2026, 12, 31)
        # Four weeks from 4 December is 1 January: the next year's end.
        assert register.notice_end_date(date(2026, 12, 4)) == date(2027, 12, 31)
        monkeypatch.setitem(app.config, "FINANCIAL_YEAR_END", "06-30")
        assert register.notice_end_date(date(2026, 6, 2)) == date(2026, 6, 30)
        assert register.notice_end_date(date(2026, 6, 3)) == date(2027, 6, 30)
        monkeypatch.setitem(app.config, "MEMBERSHIP_LEAVE_AT_YEAR_END", False)
        monkeypatch.setitem(app.config, "MEMBERSHIP_NOTICE_WEEKS", 2)
        assert register.notice_end_date(date(2026, 6, 3)) == date(2026, 6, 17)


def test_cancelling_acknowledges_at_once_and_the_daily_job_ends_it(app):
    with app.app_context():
        membership = joined()
        now = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
        assert register.cancel(membership, now=now) == date(2026, 12, 31)
        db.session.commit()
        assert membership.cancellation_received_on == date(2026, 5, 1)
        assert membership.cancellation_acknowledged_at == now
        assert membership.leaving_way == LeavingWay.CANCELLED_BY_MEMBER
        assert membership.status == MembershipStatus.ACTIVE  # a member until the end
        mail = db.session.scalars(
            sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())
        ).first()
        assert "31 december 2026" in mail.body_text and "1 mei 2026" in mail.body_text
        assert mail.attachments[0]["filename"] == "cancellation-1.pdf"
        with pytest.raises(Refused):
            register.cancel(membership, now=now)  # once
        memberships.send_reminders_and_lapse(datetime(2026, 12, 30, 22, 0, tzinfo=UTC))
        assert membership.status == MembershipStatus.ACTIVE  # 30 December in Amsterdam
        memberships.send_reminders_and_lapse(datetime(2026, 12, 30, 23, 30, tzinfo=UTC))
        assert membership.status == MembershipStatus.CANCELLED  # 31 December has come
        assert membership.left_at.astimezone(register.local_zone()).date() == date(2026, 12, 31)


def test_a_letter_cannot_be_dated_in_the_future_nor_cancel_what_is_not_active(app):
    with app.app_context():
        membership = joined()
        with pytest.raises(Refused) as refused:
            register.cancel(membership, register.today() + timedelta(days=1))
        assert refused.value.field == "received_on"
        membership.status = MembershipStatus.LAPSED
        with pytest.raises(Refused):
            register.cancel(membership)


def test_a_letter_received_long_ago_ends_the_membership_at_once(app):
    with app.app_context():
        membership = joined()
        assert register.cancel(membership, date(2020, 1, 2)) == date(2020, 12, 31)
        assert membership.status == MembershipStatus.CANCELLED


def test_a_yearly_member_who_cancelled_gets_no_renewal_reminder(app):
    with app.app_context():
        membership = joined(plan=make_plan("jaar", fee_cents=2500, period="yearly"))
        memberships.record_bank_transfer(membership, 2500, make_admin())
        register.cancel(membership)
        db.session.commit()
        reminded, _ = memberships.send_reminders_and_lapse(membership.ends_at - timedelta(days=3))
        assert reminded == 0


def test_an_admin_records_an_end_without_notice(app):
    with app.app_context():
        membership = joined()
        with pytest.raises(Refused) as refused:
            register.end_membership(membership, LeavingWay.LAPSED, register.today())
        assert refused.value.field == "way"
        with pytest.raises(Refused) as refused:
            register.end_membership(
                membership, LeavingWay.DECEASED, register.today() + timedelta(days=1)
            )
        assert refused.value.field == "on"
        register.end_membership(membership, LeavingWay.DECEASED, date(2026, 2, 3))
        assert membership.status == MembershipStatus.CANCELLED
        assert (membership.leaving_way, membership.leaves_on) == (
            LeavingWay.DECEASED,
            date(2026, 2, 3),
        )


def test_lapsing_is_recorded_as_the_way_of_leaving(app):
    with app.app_context():
        membership = joined(plan=make_plan("jaar", fee_cents=2500, period="yearly"))
        memberships.record_bank_transfer(membership, 2500, make_admin())
        db.session.commit()
        memberships.send_reminders_and_lapse(membership.ends_at + timedelta(days=31))
        assert membership.leaving_way == LeavingWay.LAPSED


def test_deleting_the_account_keeps_the_register_entry_without_what_the_law_does_not_ask(app):
    with app.app_context():
        membership = joined(email_notices=True)
        membership_id = membership.id
        user = db.session.get(User, membership.user_id)
        privacy.delete_account(user, "correct horse battery")
        db.session.commit()
        db.session.expire_all()
        entry = db.session.get(Membership, membership_id)
        assert entry.user_id is None and entry.number == 1
        assert (entry.registered_name, entry.street, entry.postcode) == (
            "Ada Lovelace",
            "Javastraat",
            "1094 HB",
        )
        assert entry.admitted_on is not None and entry.email_notices_consent_at is None
        # Without an account the member is on the letter list.
        assert db.session.scalars(register.letter_list_query()).all() == [entry]


def test_deleting_the_account_deletes_an_application_nobody_decided_on(app):
    with app.app_context():
        user = make_user()
        memberships.join(user, make_plan(needs_approval=True), address=ADDRESS)
        db.session.commit()
        privacy.delete_account(user, "correct horse battery")
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(Membership.id))) == 0


def test_a_turned_down_application_is_kept_after_the_account_goes(app):
    with app.app_context():
        user = make_user()
        membership = memberships.join(user, make_plan(needs_approval=True), address=ADDRESS)
        admission.reject(membership, make_admin(), "Not from the neighbourhood")
        db.session.commit()
        privacy.delete_account(user, "correct horse battery")
        db.session.commit()
        [kept] = db.session.scalars(sa.select(Membership)).all()
        assert kept.user_id is None and kept.status == MembershipStatus.CANCELLED


def test_the_purge_keeps_entries_ten_years_after_leaving_then_deletes_them(app, runner):
    with app.app_context():
        old = joined("old@example.org")
        recent = joined("recent@example.org")
        current = joined("current@example.org")
        now = utcnow()
        old.status = recent.status = MembershipStatus.CANCELLED
        old.left_at = now - timedelta(days=365 * 10 + 3)
        recent.left_at = now - timedelta(days=365 * 10 - 3)
        payment = Payment(
            provider="bank_transfer",
            status="paid",
            amount_cents=100,
            currency="EUR",
            description="",
            membership=old,
        )
        db.session.add(payment)
        db.session.commit()
        kept_ids = {recent.id, current.id}
    result = runner.invoke(args=["coop", "purge"])
    assert "Removed 1 member register entries" in result.output
    with app.app_context():
        assert set(db.session.scalars(sa.select(Membership.id))) == kept_ids
        assert db.session.scalars(sa.select(Payment)).one().membership_id is None
        assert retention.purge_register(years=0) == 1  # the recent one, with no term left


def test_a_cancellation_without_an_account_is_not_acknowledged_by_e_mail(app):
    with app.app_context():
        membership = joined()
        privacy.delete_account(membership.user, "correct horse battery")
        db.session.commit()
        db.session.expire_all()
        entry = db.session.scalars(sa.select(Membership)).one()
        mails = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))
        register.cancel(entry, register.today() - timedelta(days=1))
        assert entry.cancellation_received_on is not None
        assert entry.cancellation_acknowledged_at is None  # the admin writes a letter
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == mails


def test_joining_again_after_leaving_is_a_new_admission_with_the_same_number(app):
    with app.app_context():
        membership = joined()
        register.end_membership(membership, LeavingWay.ENDED_BY_COOPERATIVE, date(2026, 1, 5))
        db.session.commit()
        user = membership.user
        later = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
        again = memberships.join(user, membership.plan, later, address=ADDRESS)
        assert again.id == membership.id and again.number == 1
        assert again.admitted_on == date(2026, 9, 1)
        assert (again.leaving_way, again.leaves_on, again.status) == (
            None,
            None,
            MembershipStatus.ACTIVE,
        )


def test_a_lapsed_member_who_pays_is_no_longer_recorded_as_left(app):
    with app.app_context():
        membership = joined(plan=make_plan("jaar", fee_cents=2500, period="yearly"))
        admin = make_admin()
        memberships.record_bank_transfer(membership, 2500, admin)
        memberships.send_reminders_and_lapse(membership.ends_at + timedelta(days=31))
        assert membership.leaving_way == LeavingWay.LAPSED
        memberships.record_bank_transfer(membership, 2500, admin)
        assert membership.status == MembershipStatus.ACTIVE and membership.leaving_way is None


def test_the_daily_job_handles_entries_without_an_account(app):
    with app.app_context():
        membership = joined(plan=make_plan("jaar", fee_cents=2500, period="yearly"))
        memberships.record_bank_transfer(membership, 2500, make_admin())
        db.session.commit()
        ends_at, membership_id = membership.ends_at, membership.id
        privacy.delete_account(membership.user, "correct horse battery")
        db.session.commit()
        mails = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))
        memberships.send_reminders_and_lapse(ends_at - timedelta(days=3))
        assert memberships.send_reminders_and_lapse(ends_at + timedelta(days=31)) == (0, 1)
        entry = db.session.get(Membership, membership_id)
        assert (entry.status, entry.leaving_way) == (MembershipStatus.LAPSED, LeavingWay.LAPSED)
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == mails
        assert retention.purge_former_members(days=0) == 0  # nothing but the register left
