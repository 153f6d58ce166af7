"""Joining takes the required share: the join page shows it beside the plan with the
total, one payment covers both, and MEMBERSHIP_ADMISSION_ORDER decides whether the board
looks before or after the money arrives. Over HTTP, with the fake Stripe server."""

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import MembershipStatus, PaymentStatus, Share
from tests.conftest import post_form
from tests.factories import make_plan
from tests.share_factories import make_member_share_class
from tests.test_membership_stripe import (
    JOIN_DATA,
    admin_client,
    join_online,
    logged_in,
    membership_of,
    pay,
    payments_of,
    subjects,
)


def shares_of(app, membership_id: int) -> list[Share]:
    with app.app_context():
        return db.session.scalars(
            sa.select(Share)
            .where(Share.membership_id == membership_id)
            .options(sa.orm.joinedload(Share.share_class), sa.orm.selectinload(Share.history))
            .order_by(Share.number)
        ).all()


@pytest.fixture
def member_share(app):
    with app.app_context():
        make_member_share_class()


@pytest.fixture
def yearly_plan(app):
    with app.app_context():
        make_plan("lid", fee_cents=1000, period="yearly", name_en="Member", name_nl="Lid")


def test_the_join_pages_show_the_required_share_and_the_total(app, member_share, yearly_plan):
    client = logged_in(app, "ada@example.org")
    plans = client.get("/join?lang=en").get_data(as_text=True)
    assert "Plus one Member share of €25.00" in plans
    page = client.get("/join/lid?lang=en").get_data(as_text=True)
    assert "Member share" in page and "€25.00" in page
    assert "Total" in page and "€35.00" in page


def test_one_payment_covers_fee_and_share_and_the_share_is_issued_paid(
    app, fake_stripe, member_share, yearly_plan
):
    client = logged_in(app, "ada@example.org")
    session_id = join_online(client)
    [create] = [r for r in fake_stripe.requests if r.path == "/v1/checkout/sessions"]
    lines = [
        (item["price_data"]["product_data"]["name"], item["price_data"]["unit_amount"])
        for item in create.params["line_items"]
    ]
    assert lines == [("Membership: Member", "1000"), ("Member share", "2500")]
    assert fake_stripe.sessions[session_id]["amount_total"] == 3500
    waiting = membership_of(app, "ada@example.org")
    assert waiting.status == MembershipStatus.PENDING_PAYMENT
    assert shares_of(app, waiting.id) == []  # no number before the money arrives

    pay(client, fake_stripe, session_id)
    member = membership_of(app, "ada@example.org")
    assert member.status == MembershipStatus.ACTIVE and member.number == 1
    [share] = shares_of(app, member.id)
    [payment] = payments_of(app, member.id)
    assert (share.number, share.amount_cents, share.share_class.slug) == (1, 2500, "ledenaandeel")
    assert share.paid_at is not None and share.payment_id == payment.id
    assert payment.status == PaymentStatus.PAID and payment.amount_cents == 3500
    page = client.get("/account/shares/?lang=en").get_data(as_text=True)
    assert "Member share" in page and "/account/shares/certificate-en.pdf" in page


def test_a_free_plan_with_a_required_share_waits_for_the_bank_transfer(app, member_share):
    with app.app_context():
        make_plan("steunlid", fee_cents=0)
    client = logged_in(app, "ada@example.org")
    joined = post_form(client, "/join/steunlid?lang=en", {**JOIN_DATA, "pay_by": "bank_transfer"})
    assert joined.status_code == 303
    waiting = membership_of(app, "ada@example.org")
    assert waiting.status == MembershipStatus.PENDING_PAYMENT
    assert subjects(app, "ada@example.org") == ["How to pay your membership fee"]
    admin = admin_client(app)
    wrong = post_form(admin, f"/admin/members/{waiting.id}/bank-transfer?lang=en", {"amount": "20"})
    assert wrong.status_code == 422
    right = post_form(admin, f"/admin/members/{waiting.id}/bank-transfer", {"amount": "25,00"})
    assert right.status_code == 303
    member = membership_of(app, "ada@example.org")
    assert member.status == MembershipStatus.ACTIVE
    [share] = shares_of(app, member.id)
    assert share.paid_at is not None and share.amount_cents == 2500


def test_approve_then_pay_the_board_decides_first_and_the_member_is_admitted_once_paid(
    app, fake_stripe, member_share, monkeypatch
):
    monkeypatch.setitem(app.config, "MEMBERSHIP_ADMISSION_ORDER", "approve-then-pay")
    with app.app_context():
        make_plan("collectief", fee_cents=5000, needs_approval=True, name_en="Collective")
    client = logged_in(app, "ada@example.org")
    joined = post_form(client, "/join/collectief?lang=en", JOIN_DATA)
    assert joined.status_code == 303 and "/pay/" not in joined.headers["Location"]
    waiting = membership_of(app, "ada@example.org")
    assert waiting.status == MembershipStatus.PENDING_APPROVAL
    assert payments_of(app, waiting.id) == []

    admin = admin_client(app)
    approved = post_form(admin, f"/admin/members/{waiting.id}/decide", {"action": "approve"})
    assert approved.status_code == 303
    to_pay = membership_of(app, "ada@example.org")
    assert to_pay.status == MembershipStatus.PENDING_PAYMENT and to_pay.number is None
    assert subjects(app, "ada@example.org")[-1] == "Your application is approved: please pay"
    page = client.get("/account/?lang=en").get_data(as_text=True)
    assert "Pay €75.00 online" in page

    session = post_form(client, "/account/membership/pay")
    session_id = session.headers["Location"].rsplit("/", 1)[1]
    pay(client, fake_stripe, session_id)
    member = membership_of(app, "ada@example.org")
    assert member.status == MembershipStatus.ACTIVE and member.number == 1
    assert len(shares_of(app, member.id)) == 1


def test_pay_then_approve_a_rejection_refunds_and_the_share_is_repaid(
    app, fake_stripe, member_share
):
    with app.app_context():
        make_plan("collectief", fee_cents=5000, needs_approval=True, name_en="Collective")
    client = logged_in(app, "ada@example.org")
    pay(client, fake_stripe, join_online(client, "collectief"))
    waiting = membership_of(app, "ada@example.org")
    assert waiting.status == MembershipStatus.PENDING_APPROVAL
    [share] = shares_of(app, waiting.id)
    assert share.paid_at is not None

    admin = admin_client(app)
    post_form(
        admin,
        f"/admin/members/{waiting.id}/decide",
        {"action": "reject", "reason": "Alleen collectieven uit Amsterdam."},
    )
    [share] = shares_of(app, waiting.id)
    assert share.repaid_at is not None and share.repaid_cents == 2500
    assert [event.kind for event in share.history] == ["issued", "paid", "repaid"]
    [refund] = fake_stripe.refunds.values()
    assert refund["amount"] == 7500
