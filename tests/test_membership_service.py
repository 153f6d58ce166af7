"""Membership rules on the service: joining each kind of plan, numbers, approval, bank
transfers, renewal reminders and lapse with time moved forward. The members here read
English: their e-mails are checked by subject."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Membership,
    MembershipStatus,
    OutboxMessage,
    Payment,
    PaymentProvider,
    PaymentStatus,
    User,
    utcnow,
)
from cooperative.refusals import Refused
from cooperative.services import admission
from cooperative.services import membership as memberships
from tests.factories import make_plan, make_user


def subjects(to="resident@example.org") -> list[str]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage.subject)
            .where(OutboxMessage.to_address == to)
            .order_by(OutboxMessage.id)
        )
    )


def test_a_free_plan_makes_an_active_member_with_number_one_and_a_welcome(app):
    with app.app_context():
        plan = make_plan("steunlid")
        user = make_user(locale="en")
        membership = memberships.join(user, plan)
        db.session.commit()
        assert membership.status == MembershipStatus.ACTIVE
        assert membership.number == 1
        assert membership.privacy_accepted_at is not None
        assert membership.ends_at is None  # a once plan does not end
        assert subjects() == ["Welcome as a member of MeentCoop"]


def test_numbers_follow_each_other_and_a_second_join_is_refused(app):
    with app.app_context():
        plan = make_plan("steunlid")
        first = memberships.join(make_user("a@example.org"), plan)
        second = memberships.join(make_user("b@example.org"), plan)
        db.session.commit()
        assert (first.number, second.number) == (1, 2)
        with pytest.raises(Refused):
            memberships.join(db.session.get(User, first.user_id), plan)


def test_a_free_plan_with_approval_waits_and_only_another_admin_approves(app):
    with app.app_context():
        plan = make_plan("collectief", needs_approval=True)
        user = make_user(locale="en")
        admin = make_user("admin@example.org", is_admin=True)
        membership = memberships.join(user, plan)
        assert membership.status == MembershipStatus.PENDING_APPROVAL
        assert membership.number is None
        assert subjects() == ["We have received your application"]

        own = memberships.join(admin, plan)
        with pytest.raises(Refused):
            admission.approve(own, admin)

        admission.approve(membership, admin, "Welkom")
        db.session.commit()
        assert membership.status == MembershipStatus.ACTIVE
        assert membership.number == 1
        assert membership.decided_by_id == admin.id


def test_a_rejection_needs_a_reason_and_e_mails_it(app):
    with app.app_context():
        plan = make_plan("collectief", needs_approval=True)
        user = make_user(locale="en")
        admin = make_user("admin@example.org", is_admin=True)
        membership = memberships.join(user, plan)
        with pytest.raises(Refused) as refused:
            admission.reject(membership, admin, "  ")
        assert refused.value.field == "reason"
        admission.reject(membership, admin, "Not a collective in Amsterdam.")
        db.session.commit()
        assert membership.status == MembershipStatus.CANCELLED and membership.number is None
        message = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()[-1]
        assert message.subject == "About your application for membership"
        assert "Not a collective in Amsterdam." in message.body_text


def test_a_paid_plan_waits_for_a_bank_transfer_then_becomes_active_for_a_year(app):
    with app.app_context():
        plan = make_plan("lid", fee_cents=1000, period="yearly")
        user = make_user(locale="en")
        admin = make_user("admin@example.org", is_admin=True)
        membership = memberships.join(user, plan)
        assert membership.status == MembershipStatus.PENDING_PAYMENT
        assert memberships.amount_due(membership) == 1000
        with pytest.raises(Refused):
            memberships.record_bank_transfer(membership, 500, admin)
        payment = memberships.record_bank_transfer(membership, 1000, admin)
        db.session.commit()
        assert payment.provider == PaymentProvider.BANK_TRANSFER
        assert payment.status == PaymentStatus.PAID and payment.recorded_by_id == admin.id
        assert membership.status == MembershipStatus.ACTIVE and membership.number == 1
        assert membership.ends_at - membership.started_at == timedelta(days=365)
        assert memberships.amount_due(membership) == 0


def test_paid_plan_with_approval_goes_to_approval_after_payment(app):
    with app.app_context():
        plan = make_plan("collectief", fee_cents=5000, period="yearly", needs_approval=True)
        membership = memberships.join(make_user(locale="en"), plan)
        admin = make_user("admin@example.org", is_admin=True)
        memberships.record_bank_transfer(membership, 5000, admin)
        assert membership.status == MembershipStatus.PENDING_APPROVAL
        assert membership.number is None


def test_reminder_fourteen_days_before_the_end_then_grace_then_lapse(app):
    with app.app_context():
        plan = make_plan("lid", fee_cents=1000, period="yearly")
        user = make_user(locale="en")
        admin = make_user("admin@example.org", is_admin=True)
        membership = memberships.join(user, plan)
        memberships.record_bank_transfer(membership, 1000, admin)
        db.session.commit()
        ends = membership.ends_at

        assert memberships.send_reminders_and_lapse(ends - timedelta(days=15)) == (0, 0)
        assert memberships.send_reminders_and_lapse(ends - timedelta(days=14)) == (1, 0)
        assert memberships.send_reminders_and_lapse(ends - timedelta(days=13)) == (0, 0)
        reminder = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.subject == "Your membership ends soon")
        ).one()
        assert "http://localhost/account/" in reminder.body_text

        # Still a member during the 30 days of grace, lapsed after.
        assert memberships.send_reminders_and_lapse(ends + timedelta(days=29)) == (0, 0)
        assert membership.status == MembershipStatus.ACTIVE
        assert memberships.send_reminders_and_lapse(ends + timedelta(days=30, minutes=1)) == (0, 1)
        db.session.commit()
        assert membership.status == MembershipStatus.LAPSED
        assert subjects()[-1] == "Your membership has ended"

        # Paying again makes them a member again, with the same number.
        memberships.record_bank_transfer(membership, 1000, admin)
        assert membership.status == MembershipStatus.ACTIVE and membership.number == 1


def test_paying_a_renewal_extends_from_the_old_end_date(app):
    with app.app_context():
        plan = make_plan("lid", fee_cents=1000, period="yearly")
        admin = make_user("admin@example.org", is_admin=True)
        membership = memberships.join(make_user(locale="en"), plan)
        memberships.record_bank_transfer(membership, 1000, admin)
        ends = membership.ends_at
        assert memberships.amount_due(membership) == 0  # not yet due
        memberships.send_reminders_and_lapse(ends - timedelta(days=14))
        membership.ends_at = utcnow() + timedelta(days=10)  # within the reminder time
        ends = membership.ends_at
        memberships.record_bank_transfer(membership, 1000, admin)
        assert membership.ends_at == ends + timedelta(days=365)
        assert membership.renewal_reminded_at is None


def test_grace_period_is_a_setting(app, monkeypatch):
    monkeypatch.setitem(app.config, "MEMBERSHIP_GRACE_DAYS", 3)
    with app.app_context():
        plan = make_plan("lid", fee_cents=1000, period="yearly")
        admin = make_user("admin@example.org", is_admin=True)
        membership = memberships.join(make_user(locale="en"), plan)
        memberships.record_bank_transfer(membership, 1000, admin)
        assert memberships.send_reminders_and_lapse(
            membership.ends_at + timedelta(days=3, minutes=1)
        ) == (0, 1)


def test_twenty_people_joining_at_once_get_twenty_different_numbers(app):
    with app.app_context():
        plan_id = make_plan("steunlid").id
        ids = [make_user(f"p{i}@example.org").id for i in range(20)]
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def join(user_id: int) -> None:
        barrier.wait(timeout=30)
        with app.app_context():
            try:
                from cooperative.models import MembershipPlan

                memberships.join(
                    db.session.get(User, user_id), db.session.get(MembershipPlan, plan_id)
                )
                db.session.commit()
            except BaseException as error:  # noqa: BLE001 - reported below
                db.session.rollback()
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=join, args=(user_id,)) for user_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with app.app_context():
        numbers = sorted(db.session.scalars(sa.select(Membership.number)))
        assert numbers == list(range(1, 21))
        assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0
