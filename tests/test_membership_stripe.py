"""Membership paid through Stripe, over HTTP against the fake Stripe server: joining a
yearly plan, approval and rejection (with the refund), renewal and lapse from the daily
job with time moved forward, and a Checkout page that expires unpaid."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Membership,
    MembershipStatus,
    OutboxMessage,
    Payment,
    PaymentStatus,
    User,
    utcnow,
)
from tests.conftest import deliver_webhook, post_form
from tests.factories import make_plan, make_user

JOIN_DATA = {
    "display_name": "Ada L.",
    "registered_name": "Ada Lovelace",
    "street": "Javastraat",
    "house_number": "12-2",
    "postcode": "1094 HB",
    "city": "Amsterdam",
    "country": "NL",
    "neighbourhood": "Oost",
    "visibility": "members",
    "privacy": "y",
    "pay_by": "online",
}
YEAR = timedelta(days=365)


# --- helpers ---------------------------------------------------------------------------


def logged_in(app, email: str, locale: str = "en"):
    """A client of its own, logged in as a new account with this address."""
    with app.app_context():
        make_user(email, name=email.split("@")[0].title(), locale=locale)
    client = app.test_client()
    response = post_form(
        client, "/auth/login", {"email": email, "password": "correct horse battery"}
    )
    assert response.status_code == 303
    return client


def admin_client(app):
    with app.app_context():
        make_user("admin@example.org", name="Admin", is_admin=True, locale="en")
    client = app.test_client()
    post_form(
        client, "/auth/login", {"email": "admin@example.org", "password": "correct horse battery"}
    )
    return client


def session_of(response) -> str:
    """The Checkout Session id in the address the app sent the person to."""
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "/pay/cs_" in location, location
    return location.rsplit("/", 1)[1]


def join_online(client, slug: str = "lid") -> str:
    """Join a plan, choosing to pay online; returns the Checkout Session id."""
    return session_of(post_form(client, f"/join/{slug}?lang=en", JOIN_DATA))


def pay(client, fake_stripe, session_id: str) -> str:
    """Pay on the Checkout page and deliver the webhook; returns the return address."""
    back = fake_stripe.pay(session_id)
    completed = only_event(fake_stripe, "checkout.session.completed", session_id)
    assert deliver_webhook(client, fake_stripe, completed).json["outcome"] == (
        "checkout.session.completed"
    )
    return back


def only_event(fake_stripe, kind: str, session_id: str) -> dict:
    [event] = [e for e in fake_stripe.held_events(kind) if e["data"]["object"]["id"] == session_id]
    return event


def visit(client, address: str):
    """Follow an absolute address back into the app (e.g. Stripe's return address)."""
    parts = urlsplit(address)
    return client.get(f"{parts.path}?{parts.query}", follow_redirects=True)


def membership_of(app, email: str) -> Membership:
    with app.app_context():
        return db.session.scalar(
            sa.select(Membership)
            .join(User, Membership.user_id == User.id)
            .where(User.email == email)
            .options(sa.orm.joinedload(Membership.plan))
        )


def payments_of(app, membership_id: int) -> list[Payment]:
    with app.app_context():
        return db.session.scalars(
            sa.select(Payment).where(Payment.membership_id == membership_id).order_by(Payment.id)
        ).all()


def mails(app, to: str) -> list[OutboxMessage]:
    with app.app_context():
        return db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.to_address == to)
            .order_by(OutboxMessage.id)
        ).all()


def subjects(app, to: str) -> list[str]:
    return [message.subject for message in mails(app, to)]


def move_time_forward(app, membership_id: int, days: float) -> None:
    """Make it `days` later for this membership: its dates move back by that much."""
    with app.app_context():
        membership = db.session.get(Membership, membership_id)
        membership.started_at -= timedelta(days=days)
        membership.ends_at -= timedelta(days=days)
        db.session.commit()


def end_in(app, membership_id: int, left: timedelta) -> None:
    """Move time forward until the membership ends in `left` (negative: ended that long ago)."""
    ends = membership_of_id(app, membership_id).ends_at
    move_time_forward(app, membership_id, (ends - utcnow() - left) / timedelta(days=1))


def membership_of_id(app, membership_id: int) -> Membership:
    with app.app_context():
        return db.session.get(Membership, membership_id)


def run_daily_job(runner) -> str:
    result = runner.invoke(args=["coop", "membership-reminders"])
    assert result.exit_code == 0, result.output
    return result.output.strip()


@pytest.fixture
def yearly_plan(app):
    with app.app_context():
        make_plan("lid", fee_cents=2500, period="yearly", name_en="Member", name_nl="Lid")


@pytest.fixture
def approval_plan(app):
    with app.app_context():
        make_plan(
            "collectief",
            fee_cents=5000,
            period="yearly",
            needs_approval=True,
            name_en="Collective",
            name_nl="Collectief",
        )


# --- 1. joining a paid yearly plan -------------------------------------------------------


def test_joining_a_paid_yearly_plan_sends_the_person_to_checkout(app, fake_stripe, yearly_plan):
    client = logged_in(app, "ada@example.org")
    session_id = join_online(client)

    [create] = [r for r in fake_stripe.requests if r.path == "/v1/checkout/sessions"]
    params = create.params
    assert params["customer_email"] == "ada@example.org"
    assert params["locale"] == "en"
    assert params["mode"] == "payment"
    assert [
        (
            item["price_data"]["product_data"]["name"],
            item["quantity"],
            item["price_data"]["unit_amount"],
            item["price_data"]["currency"],
        )
        for item in params["line_items"]
    ] == [("Membership: Member", "1", "2500", "eur")]
    assert params["success_url"] == "http://localhost/account/?session_id={CHECKOUT_SESSION_ID}"
    assert params["cancel_url"] == "http://localhost/account/?checkout=cancelled"
    assert fake_stripe.sessions[session_id]["amount_total"] == 2500

    waiting = membership_of(app, "ada@example.org")
    assert waiting.status == MembershipStatus.PENDING_PAYMENT and waiting.number is None
    [payment] = payments_of(app, waiting.id)
    assert (payment.status, payment.amount_cents, payment.stripe_checkout_session_id) == (
        PaymentStatus.OPEN,
        2500,
        session_id,
    )
    assert params["metadata"] == {"payment_id": str(payment.id)}
    assert subjects(app, "ada@example.org") == []
    page = client.get("/account/?lang=en").get_data(as_text=True)
    assert "Waiting for your payment" in page and "Pay €25.00 online" in page


def test_paying_makes_an_active_member_welcomed_once_even_when_the_webhook_comes_again(
    app, fake_stripe, yearly_plan
):
    client = logged_in(app, "ada@example.org")
    session_id = join_online(client)
    back = fake_stripe.pay(session_id)
    completed = only_event(fake_stripe, "checkout.session.completed", session_id)

    assert deliver_webhook(client, fake_stripe, completed).json["outcome"] == (
        "checkout.session.completed"
    )
    assert deliver_webhook(client, fake_stripe, completed).json["outcome"] == "duplicate"
    page = visit(client, back + "&lang=en").get_data(as_text=True)

    member = membership_of(app, "ada@example.org")
    assert member.status == MembershipStatus.ACTIVE and member.number == 1
    assert member.ends_at - member.started_at == YEAR
    [payment] = payments_of(app, member.id)
    assert payment.status == PaymentStatus.PAID and payment.stripe_payment_intent_id
    assert "Member number" in page and "Pay €25.00 online" not in page
    [welcome] = mails(app, "ada@example.org")
    assert welcome.subject == "Welcome as a member of MeentCoop"
    assert "Your member number is 1." in welcome.body_text


def test_coming_back_before_the_webhook_welcomes_once(app, fake_stripe, yearly_plan):
    first = logged_in(app, "first@example.org")
    pay(first, fake_stripe, join_online(first))  # number 1 is taken

    client = logged_in(app, "ada@example.org")
    session_id = join_online(client)
    back = fake_stripe.pay(session_id)
    page = visit(client, back + "&lang=en").get_data(as_text=True)
    assert "Member number" in page
    assert membership_of(app, "ada@example.org").status == MembershipStatus.ACTIVE

    late = only_event(fake_stripe, "checkout.session.completed", session_id)
    assert deliver_webhook(client, fake_stripe, late).status_code == 200

    member = membership_of(app, "ada@example.org")
    assert member.number == 2
    assert subjects(app, "ada@example.org") == ["Welcome as a member of MeentCoop"]
    assert [p.status for p in payments_of(app, member.id)] == [PaymentStatus.PAID]
    assert fake_stripe.refunds == {}


# --- 2. a paid plan that needs approval --------------------------------------------------


def test_paid_applications_wait_for_approval_a_rejection_refunds_and_says_why(
    app, fake_stripe, approval_plan
):
    ada = logged_in(app, "ada@example.org", locale="nl")
    bob = logged_in(app, "bob@example.org", locale="en")
    pay(ada, fake_stripe, join_online(ada, "collectief"))
    pay(bob, fake_stripe, join_online(bob, "collectief"))

    for email in ("ada@example.org", "bob@example.org"):
        waiting = membership_of(app, email)
        assert waiting.status == MembershipStatus.PENDING_APPROVAL and waiting.number is None
        assert len(mails(app, email)) == 1  # "we have received your application"
    page = bob.get("/account/?lang=en").get_data(as_text=True)
    assert "Waiting for approval by the board" in page and "Pay €50.00 online" not in page

    admin = admin_client(app)
    ada_id = membership_of(app, "ada@example.org").id
    page = admin.get(f"/admin/members/{ada_id}?lang=en").get_data(as_text=True)
    assert "Reject" in page and "Record a bank transfer" not in page  # paid already

    no_reason = post_form(
        admin, f"/admin/members/{ada_id}/decide?lang=en", {"action": "reject", "reason": " "}
    )
    assert no_reason.status_code == 422
    assert "Please give a reason: the person will read it." in no_reason.get_data(as_text=True)
    assert fake_stripe.refunds == {}

    reason = "We only take collectives from Amsterdam."
    rejected = post_form(
        admin, f"/admin/members/{ada_id}/decide?lang=en", {"action": "reject", "reason": reason}
    )
    assert rejected.status_code == 303

    turned_down = membership_of(app, "ada@example.org")
    assert turned_down.status == MembershipStatus.CANCELLED and turned_down.number is None
    [payment] = payments_of(app, ada_id)
    assert payment.status == PaymentStatus.REFUNDED and payment.refunded_cents == 5000
    [refund] = fake_stripe.refunds.values()
    assert (refund["payment_intent"], refund["amount"]) == (payment.stripe_payment_intent_id, 5000)
    letter = mails(app, "ada@example.org")[-1]
    # Ada reads Dutch; the admin worked in English.
    assert letter.body_text.startswith("Hallo Ada,")
    assert reason in letter.body_text
    page = ada.get("/account/?lang=en").get_data(as_text=True)
    assert reason in page and "Not accepted" in page and "Pay €50.00 online" not in page

    bob_id = membership_of(app, "bob@example.org").id
    approved = post_form(
        admin, f"/admin/members/{bob_id}/decide?lang=en", {"action": "approve", "reason": ""}
    )
    assert approved.status_code == 303
    member = membership_of(app, "bob@example.org")
    assert member.status == MembershipStatus.ACTIVE and member.number == 1
    assert [p.status for p in payments_of(app, bob_id)] == [PaymentStatus.PAID]
    assert len(fake_stripe.refunds) == 1
    welcome = mails(app, "bob@example.org")[-1]
    assert welcome.body_text.startswith("Hello Bob,")
    assert "Your member number is 1." in welcome.body_text


def test_rejecting_before_payment_closes_the_checkout_page_and_charges_nothing(
    app, fake_stripe, approval_plan
):
    ada = logged_in(app, "ada@example.org")
    session_id = join_online(ada, "collectief")
    admin = admin_client(app)
    ada_id = membership_of(app, "ada@example.org").id

    post_form(admin, f"/admin/members/{ada_id}/decide", {"action": "reject", "reason": "Nee."})

    assert membership_of(app, "ada@example.org").status == MembershipStatus.CANCELLED
    assert fake_stripe.sessions[session_id]["status"] == "expired"
    with pytest.raises(ValueError):
        fake_stripe.pay(session_id)
    assert [p.status for p in payments_of(app, ada_id)] == [PaymentStatus.EXPIRED]
    assert fake_stripe.payment_intents == {} and fake_stripe.refunds == {}
    # Stripe's own word that the page expired changes nothing more.
    expired = only_event(fake_stripe, "checkout.session.expired", session_id)
    assert deliver_webhook(ada, fake_stripe, expired).status_code == 200
    assert membership_of(app, "ada@example.org").status == MembershipStatus.CANCELLED


def test_rejecting_a_former_members_new_application_refunds_only_the_new_fee(
    app, runner, fake_stripe, yearly_plan, approval_plan
):
    ada = logged_in(app, "ada@example.org")
    pay(ada, fake_stripe, join_online(ada))
    ada_id = membership_of(app, "ada@example.org").id
    end_in(app, ada_id, -timedelta(days=31))
    assert run_daily_job(runner) == "Reminded 0 members, 1 memberships lapsed."

    # She applies again, for the plan that needs approval, and pays its fee.
    pay(ada, fake_stripe, join_online(ada, "collectief"))
    assert membership_of(app, "ada@example.org").status == MembershipStatus.PENDING_APPROVAL
    admin = admin_client(app)
    post_form(admin, f"/admin/members/{ada_id}/decide", {"action": "reject", "reason": "Nee."})

    old, new = payments_of(app, ada_id)
    assert (old.amount_cents, old.status) == (2500, PaymentStatus.PAID), "last year's fee is hers"
    assert (new.amount_cents, new.status) == (5000, PaymentStatus.REFUNDED)
    assert [r["amount"] for r in fake_stripe.refunds.values()] == [5000]


# --- 3. renewal and lapse ------------------------------------------------------------------


def test_the_renewal_reminder_links_to_paying_and_paying_extends_from_the_old_end(
    app, runner, fake_stripe, yearly_plan
):
    ada = logged_in(app, "ada@example.org")
    pay(ada, fake_stripe, join_online(ada))
    ada_id = membership_of(app, "ada@example.org").id

    end_in(app, ada_id, timedelta(days=15))
    assert run_daily_job(runner) == "Reminded 0 members, 0 memberships lapsed."
    page = ada.get("/account/?lang=en").get_data(as_text=True)
    assert "Pay €25.00 online" not in page, "not due yet"

    end_in(app, ada_id, timedelta(days=14))
    assert run_daily_job(runner) == "Reminded 1 members, 0 memberships lapsed."
    assert run_daily_job(runner) == "Reminded 0 members, 0 memberships lapsed."
    reminders = [m for m in mails(app, "ada@example.org") if "ends soon" in m.subject]
    assert len(reminders) == 1
    text = reminders[0].body_text
    assert "€25.00" in text and "30 more days" in text
    link = text.split("http://localhost", 1)[1].split()[0]
    assert link == "/account/"

    old_end = membership_of_id(app, ada_id).ends_at
    page = ada.get(link + "?lang=en").get_data(as_text=True)
    assert "Pay €25.00 online" in page and 'action="/account/membership/pay"' in page
    session_id = session_of(post_form(ada, "/account/membership/pay"))
    assert fake_stripe.sessions[session_id]["amount_total"] == 2500
    pay(ada, fake_stripe, session_id)

    renewed = membership_of_id(app, ada_id)
    assert renewed.status == MembershipStatus.ACTIVE and renewed.number == 1
    assert renewed.ends_at == old_end + YEAR
    assert renewed.renewal_reminded_at is None
    assert [p.status for p in payments_of(app, ada_id)] == [PaymentStatus.PAID] * 2
    assert subjects(app, "ada@example.org")[-1] == "Your membership is renewed"
    assert run_daily_job(runner) == "Reminded 0 members, 0 memberships lapsed."
    page = ada.get("/account/?lang=en").get_data(as_text=True)
    assert "Pay €25.00 online" not in page
    # Nothing is owed now: the pay button sends no one to Stripe.
    assert post_form(ada, "/account/membership/pay").headers["Location"] == "/account/"


def test_past_the_end_and_the_grace_the_membership_lapses_and_paying_restores_it(
    app, runner, fake_stripe, yearly_plan
):
    ada = logged_in(app, "ada@example.org")
    pay(ada, fake_stripe, join_online(ada))
    ada_id = membership_of(app, "ada@example.org").id

    end_in(app, ada_id, -timedelta(days=29))
    assert run_daily_job(runner) == "Reminded 1 members, 0 memberships lapsed."
    assert membership_of_id(app, ada_id).status == MembershipStatus.ACTIVE, "in the grace"

    end_in(app, ada_id, -timedelta(days=30, hours=1))
    assert run_daily_job(runner) == "Reminded 0 members, 1 memberships lapsed."
    assert run_daily_job(runner) == "Reminded 0 members, 0 memberships lapsed."
    lapsed = membership_of_id(app, ada_id)
    assert lapsed.status == MembershipStatus.LAPSED and lapsed.number == 1
    assert subjects(app, "ada@example.org")[-1] == "Your membership has ended"
    assert subjects(app, "ada@example.org").count("Your membership has ended") == 1

    page = ada.get("/account/?lang=en").get_data(as_text=True)
    assert "Ended: the yearly fee was not paid" in page and "Pay €25.00 online" in page
    pay(ada, fake_stripe, session_of(post_form(ada, "/account/membership/pay")))

    back = membership_of_id(app, ada_id)
    assert back.status == MembershipStatus.ACTIVE and back.number == 1
    assert back.ends_at - utcnow() == pytest.approx(YEAR, abs=timedelta(minutes=5))
    assert subjects(app, "ada@example.org")[-1] == "Your membership is renewed"


# --- 4. a Checkout page that expires --------------------------------------------------------


def test_an_expired_checkout_leaves_the_membership_waiting_with_a_new_way_to_pay(
    app, fake_stripe, yearly_plan
):
    ada = logged_in(app, "ada@example.org")
    first = join_online(ada)
    fake_stripe.expire_session(first)
    expired = only_event(fake_stripe, "checkout.session.expired", first)
    assert deliver_webhook(ada, fake_stripe, expired).json["outcome"] == "checkout.session.expired"

    waiting = membership_of(app, "ada@example.org")
    assert waiting.status == MembershipStatus.PENDING_PAYMENT and waiting.number is None
    assert [p.status for p in payments_of(app, waiting.id)] == [PaymentStatus.EXPIRED]
    assert fake_stripe.payment_intents == {} and fake_stripe.charges == {}
    assert subjects(app, "ada@example.org") == []
    page = ada.get("/account/?lang=en").get_data(as_text=True)
    assert "Waiting for your payment" in page and "Pay €25.00 online" in page

    second = session_of(post_form(ada, "/account/membership/pay"))
    assert second != first and fake_stripe.sessions[second]["amount_total"] == 2500
    pay(ada, fake_stripe, second)
    member = membership_of(app, "ada@example.org")
    assert member.status == MembershipStatus.ACTIVE and member.number == 1
    assert [p.status for p in payments_of(app, member.id)] == [
        PaymentStatus.EXPIRED,
        PaymentStatus.PAID,
    ]


def test_coming_back_from_an_expired_page_without_a_webhook_offers_to_pay_again(
    app, fake_stripe, yearly_plan
):
    ada = logged_in(app, "ada@example.org")
    first = join_online(ada)
    fake_stripe.expire_session(first)  # its webhook never arrives

    page = ada.get(f"/account/?session_id={first}&lang=en", follow_redirects=True)
    assert "Pay €25.00 online" in page.get_data(as_text=True)
    waiting = membership_of(app, "ada@example.org")
    assert waiting.status == MembershipStatus.PENDING_PAYMENT
    assert [p.status for p in payments_of(app, waiting.id)] == [PaymentStatus.EXPIRED]

    second = session_of(post_form(ada, "/account/membership/pay"))
    assert second != first
    assert fake_stripe.payment_intents == {}


def test_stripe_down_when_rejecting_changes_nothing_and_says_so(app, fake_stripe, approval_plan):
    ada = logged_in(app, "ada@example.org")
    pay(ada, fake_stripe, join_online(ada, "collectief"))
    ada_id = membership_of(app, "ada@example.org").id
    admin = admin_client(app)
    before = len(mails(app, "ada@example.org"))
    fake_stripe.stop()

    response = post_form(
        admin, f"/admin/members/{ada_id}/decide?lang=en", {"action": "reject", "reason": "Nee."}
    )

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Stripe did not answer; nothing changed. Try again." in body
    assert "Nee." in body, "the reason typed is kept"
    assert membership_of(app, "ada@example.org").status == MembershipStatus.PENDING_APPROVAL
    assert [p.status for p in payments_of(app, ada_id)] == [PaymentStatus.PAID]
    assert len(mails(app, "ada@example.org")) == before


def test_a_payment_that_arrives_after_the_rejection_is_refunded(app, fake_stripe, approval_plan):
    ada = logged_in(app, "ada@example.org")
    session_id = join_online(ada, "collectief")
    fake_stripe.pay(session_id)  # paid at Stripe; the webhook is still on its way
    admin = admin_client(app)
    ada_id = membership_of(app, "ada@example.org").id
    post_form(admin, f"/admin/members/{ada_id}/decide", {"action": "reject", "reason": "Nee."})
    assert membership_of(app, "ada@example.org").status == MembershipStatus.CANCELLED
    assert fake_stripe.refunds == {}

    late = only_event(fake_stripe, "checkout.session.completed", session_id)
    assert deliver_webhook(ada, fake_stripe, late).status_code == 200

    assert membership_of(app, "ada@example.org").status == MembershipStatus.CANCELLED
    [payment] = payments_of(app, ada_id)
    assert payment.status == PaymentStatus.REFUNDED
    assert [r["amount"] for r in fake_stripe.refunds.values()] == [5000]


def test_paying_again_after_the_page_expired_unnoticed_opens_a_new_page(
    app, fake_stripe, yearly_plan
):
    ada = logged_in(app, "ada@example.org")
    first = join_online(ada)
    fake_stripe.expire_session(first)  # no webhook, no return: we have not heard of it

    second = session_of(post_form(ada, "/account/membership/pay"))

    assert second != first and fake_stripe.sessions[second]["status"] == "open"
    waiting = membership_of(app, "ada@example.org")
    assert waiting.status == MembershipStatus.PENDING_PAYMENT
    assert [p.status for p in payments_of(app, waiting.id)] == [
        PaymentStatus.EXPIRED,
        PaymentStatus.OPEN,
    ]
    assert fake_stripe.payment_intents == {}


def test_a_bank_payment_that_fails_later_leaves_the_membership_waiting(
    app, fake_stripe, yearly_plan
):
    ada = logged_in(app, "ada@example.org")
    session_id = join_online(ada)
    fake_stripe.hold_async_payments = True  # the bank answers later, as at Stripe
    fake_stripe.pay(session_id, outcome="async_failure")
    completed = only_event(fake_stripe, "checkout.session.completed", session_id)

    assert deliver_webhook(ada, fake_stripe, completed).json["outcome"] == (
        "waiting for an asynchronous payment"
    )
    fake_stripe.settle_async(session_id)
    failed = only_event(fake_stripe, "checkout.session.async_payment_failed", session_id)
    assert deliver_webhook(ada, fake_stripe, failed).json["outcome"] == (
        "checkout.session.async_payment_failed"
    )

    waiting = membership_of(app, "ada@example.org")
    assert waiting.status == MembershipStatus.PENDING_PAYMENT and waiting.number is None
    assert [p.status for p in payments_of(app, waiting.id)] == [PaymentStatus.EXPIRED]
    assert subjects(app, "ada@example.org") == []
    page = ada.get("/account/?lang=en").get_data(as_text=True)
    assert "Pay €25.00 online" in page
