"""No call to Stripe while a write is held (issue 14): a Checkout page is made after its
pending payment is committed, and a membership's rejection sends its refund and closed
pages after the commit, like a registration's cancellation (test_locking.py)."""

import threading
import time

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    MembershipStatus,
    PaymentStatus,
    RegistrationStatus,
    StripeCall,
    StripeCallKind,
    StripeCallStatus,
    utcnow,
)
from tests.conftest import deliver_webhook, post_form
from tests.test_locking import NO_WAIT, calls, wait_for
from tests.test_membership_stripe import (
    admin_client,
    approval_plan,
    join_online,
    logged_in,
    membership_of,
    pay,
    yearly_plan,
)
from tests.test_membership_stripe import payments_of as membership_payments
from tests.test_payments import (
    event,
    only_event,
    payments_of,
    register,
    registration,
    session_of,
)

__all__ = ["approval_plan", "event", "yearly_plan"]  # fixtures

CREATE = "/v1/checkout/sessions"


def creates(fake_stripe) -> int:
    return sum(r.path == CREATE for r in fake_stripe.requests)


def in_background(work) -> tuple[threading.Thread, dict]:
    """Run `work()` in a thread of its own; its answer lands in the dict's "answer"."""
    answers = {}
    thread = threading.Thread(target=lambda: answers.setdefault("answer", work()))
    thread.start()
    return thread, answers


def bob_registers(app, event) -> tuple:
    """Bob registers for the event on a connection of his own; (response, seconds)."""
    bob = app.test_client()
    started = time.monotonic()
    response = register(bob, event, "Bob", email="bob@example.org")
    return response, time.monotonic() - started


# --- Checkout pages --------------------------------------------------------------------


def test_a_registration_goes_through_while_another_checkout_page_waits_on_stripe(
    app, fake_stripe, event
):
    """Stripe takes 5 s to make Ada's Checkout page. Meanwhile her payment is committed
    (another connection sees it, without a page yet) and Bob registers for the same
    event in under a second: no write waits on Stripe."""
    fake_stripe.timeout_next_requests(1, 5.0)
    ada, answers = in_background(lambda: register(app.test_client(), event, "Ada"))
    wait_for(lambda: creates(fake_stripe) == 1)

    held = registration(app)
    [pending] = payments_of(app, held.id)
    assert (pending.status, pending.stripe_checkout_session_id) == (PaymentStatus.OPEN, None)
    response, took = bob_registers(app, event)

    assert response.status_code == 303 and "/pay/cs_" in response.headers["Location"]
    assert took < NO_WAIT, f"Bob waited {took:.1f} s for Ada's Checkout page"
    assert ada.is_alive(), "Ada's page was still being made"
    fake_stripe.release()
    ada.join(timeout=30)
    [payment] = payments_of(app, held.id)
    assert payment.id == pending.id
    assert payment.stripe_checkout_session_id == session_of(answers["answer"])
    assert len(fake_stripe.sessions) == 2


def test_a_registration_goes_through_while_a_membership_checkout_waits_on_stripe(
    app, fake_stripe, event, yearly_plan
):
    ada_client = logged_in(app, "ada@example.org")
    fake_stripe.timeout_next_requests(1, 5.0)
    ada, answers = in_background(lambda: join_online(ada_client))
    wait_for(lambda: creates(fake_stripe) == 1)

    response, took = bob_registers(app, event)

    assert response.status_code == 303 and "/pay/cs_" in response.headers["Location"]
    assert took < NO_WAIT, f"Bob waited {took:.1f} s for Ada's Checkout page"
    assert ada.is_alive()
    fake_stripe.release()
    ada.join(timeout=30)
    waiting = membership_of(app, "ada@example.org")
    assert waiting.status == MembershipStatus.PENDING_PAYMENT
    [payment] = membership_payments(app, waiting.id)
    assert (payment.status, payment.stripe_checkout_session_id) == (
        PaymentStatus.OPEN,
        answers["answer"],
    )


def test_a_registration_cancelled_while_stripe_makes_its_page_gets_the_page_closed(
    app, fake_stripe, event
):
    """Ada cancels in another tab while Stripe is still making her Checkout page: the
    cancellation does not wait for Stripe, her payment stays closed, the new page is
    closed at Stripe after the commit, and she is told, not sent to pay."""
    ada_client = app.test_client()
    fake_stripe.timeout_next_requests(1, 6.0)
    paying, answers = in_background(lambda: register(ada_client, event, "Ada"))
    wait_for(lambda: creates(fake_stripe) == 1)
    token = registration(app).token

    started = time.monotonic()
    cancelled = post_form(app.test_client(), f"/r/{token}/cancel")
    took = time.monotonic() - started
    assert cancelled.status_code == 303 and took < NO_WAIT
    assert registration(app).status == RegistrationStatus.CANCELLED
    fake_stripe.release()
    paying.join(timeout=30)

    response = answers["answer"]
    assert response.status_code == 303
    assert response.headers["Location"] == f"/r/{token}"
    page = ada_client.get(f"/r/{token}?lang=en").get_data(as_text=True)
    assert "This payment was closed meanwhile. Nothing was charged." in page
    [session_id] = fake_stripe.sessions
    [payment] = payments_of(app, registration(app).id)
    assert (payment.status, payment.stripe_checkout_session_id) == (
        PaymentStatus.EXPIRED,
        session_id,
    )
    [call] = calls(app)
    assert (call.kind, call.status) == (StripeCallKind.EXPIRE_CHECKOUT, StripeCallStatus.SENT)
    assert fake_stripe.sessions[session_id]["status"] == "expired"


def test_stripe_refusing_a_page_leaves_the_pending_payment_and_a_retry_uses_it(
    app, client, fake_stripe, event, monkeypatch
):
    fake_stripe.stop()
    response = register(client, event, "Ada")

    assert response.status_code == 303 and response.headers["Location"].startswith("/r/")
    page = client.get(response.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "Online payment does not work right now." in page
    held = registration(app)
    [pending] = payments_of(app, held.id)
    assert (pending.status, pending.stripe_checkout_session_id) == (PaymentStatus.OPEN, None)

    fake_stripe.start()
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", fake_stripe.url)  # a new port
    again = post_form(client, f"/r/{held.token}/pay")
    assert again.status_code == 303
    [payment] = payments_of(app, held.id)
    assert (payment.id, payment.stripe_checkout_session_id) == (pending.id, session_of(again))
    assert creates(fake_stripe) == 1


# --- rejecting a membership ------------------------------------------------------------


def paid_application(app, fake_stripe) -> int:
    """Ada applied for the plan that needs approval and paid €50; her membership's id."""
    ada = logged_in(app, "ada@example.org")
    pay(ada, fake_stripe, join_online(ada, "collectief"))
    return membership_of(app, "ada@example.org").id


def reject(admin, membership_id: int):
    return post_form(
        admin,
        f"/admin/members/{membership_id}/decide?lang=en",
        {"action": "reject", "reason": "Nee."},
    )


def test_a_registration_goes_through_while_a_rejections_refund_waits_on_stripe(
    app, fake_stripe, event, approval_plan
):
    ada_id = paid_application(app, fake_stripe)
    admin = admin_client(app)
    fake_stripe.answer_after(5, "/v1/refunds")
    rejecting, answers = in_background(lambda: reject(admin, ada_id))
    wait_for(lambda: any(r.path == "/v1/refunds" for r in fake_stripe.requests))

    assert membership_of(app, "ada@example.org").status == MembershipStatus.CANCELLED
    response, took = bob_registers(app, event)

    assert response.status_code == 303 and "/pay/cs_" in response.headers["Location"]
    assert took < NO_WAIT, f"Bob waited {took:.1f} s for the refund"
    assert rejecting.is_alive(), "the refund was still on its way"
    fake_stripe.release()
    rejecting.join(timeout=30)
    assert answers["answer"].status_code == 303
    [refund] = fake_stripe.refunds.values()
    assert refund["amount"] == 5000
    assert [(c.kind, c.status) for c in calls(app)] == [
        (StripeCallKind.REFUND, StripeCallStatus.SENT)
    ]


def test_a_refund_stripe_misses_after_the_rejection_is_made_later(
    app, runner, fake_stripe, approval_plan, monkeypatch
):
    """Stripe answers before the rejection, then times out on the refund itself: the
    rejection stands (and is e-mailed), and `coop send-stripe` refunds it later, once."""
    ada_id = paid_application(app, fake_stripe)
    admin = admin_client(app)
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT_SECONDS", 0.3)
    fake_stripe.answer_after(1.0, "/v1/refunds")

    response = reject(admin, ada_id)

    assert response.status_code == 303
    assert membership_of(app, "ada@example.org").status == MembershipStatus.CANCELLED
    [payment] = membership_payments(app, ada_id)
    assert (payment.status, payment.refunded_cents) == (PaymentStatus.REFUNDED, 5000)
    [call] = calls(app)
    assert (call.kind, call.status, call.attempts) == (
        StripeCallKind.REFUND,
        StripeCallStatus.PENDING,
        1,
    )

    fake_stripe.answer_after(0)
    wait_for(lambda: len(fake_stripe.refunds) == 1)  # Stripe did the request it was sent
    with app.app_context():
        db.session.get(StripeCall, call.id).next_attempt_at = utcnow()
        db.session.commit()
    assert "sent 1, failed 0" in runner.invoke(args=["coop", "send-stripe"]).output
    [refund] = fake_stripe.refunds.values()
    assert refund["amount"] == 5000
    assert calls(app)[0].status == StripeCallStatus.SENT


def test_rejecting_with_stripe_down_closes_an_unpaid_page_later(
    app, runner, fake_stripe, approval_plan, monkeypatch
):
    """Nothing to refund, and Stripe is down: the rejection commits at once and the
    Checkout page is closed by `coop send-stripe` when Stripe is back."""
    ada = logged_in(app, "ada@example.org")
    session_id = join_online(ada, "collectief")
    ada_id = membership_of(app, "ada@example.org").id
    admin = admin_client(app)
    fake_stripe.stop()

    response = reject(admin, ada_id)

    assert response.status_code == 303
    assert membership_of(app, "ada@example.org").status == MembershipStatus.CANCELLED
    assert [p.status for p in membership_payments(app, ada_id)] == [PaymentStatus.EXPIRED]
    [call] = calls(app)
    assert (call.kind, call.status) == (StripeCallKind.EXPIRE_CHECKOUT, StripeCallStatus.PENDING)
    assert fake_stripe.sessions[session_id]["status"] == "open"

    fake_stripe.start()
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", fake_stripe.url)  # a new port
    with app.app_context():
        db.session.get(StripeCall, call.id).next_attempt_at = utcnow()
        db.session.commit()
    assert "sent 1, failed 0" in runner.invoke(args=["coop", "send-stripe"]).output
    assert fake_stripe.sessions[session_id]["status"] == "expired"


def test_approving_with_stripe_down_commits(app, fake_stripe, approval_plan):
    ada_id = paid_application(app, fake_stripe)
    admin = admin_client(app)
    fake_stripe.stop()

    response = post_form(
        admin, f"/admin/members/{ada_id}/decide", {"action": "approve", "reason": ""}
    )

    assert response.status_code == 303
    member = membership_of(app, "ada@example.org")
    assert (member.status, member.number) == (MembershipStatus.ACTIVE, 1)
    assert calls(app) == []


def test_no_stripe_call_is_recorded_for_a_rejection_stripe_does_not_answer(
    app, fake_stripe, approval_plan
):
    """Stripe is down before the rejection of a paid application: nothing is written
    (test_membership_stripe.py shows the message), not even a call to send later."""
    ada_id = paid_application(app, fake_stripe)
    fake_stripe.stop()
    assert reject(admin_client(app), ada_id).status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(StripeCall.id))) == 0


# --- a webhook whose amount is not ours -------------------------------------------------


def test_a_refund_for_an_amount_not_ours_that_stripe_misses_is_made_later(
    client, app, runner, fake_stripe, event, monkeypatch
):
    """The webhook's refund of a session that took another amount is recorded with the
    webhook's commit, not made under its write: Stripe timing out on it answers 200 (no
    redelivery needed) and `coop send-stripe` gives the money back later, once."""
    session_id = session_of(register(client, event, "Ada"))
    fake_stripe.sessions[session_id]["amount_total"] = 500
    fake_stripe.pay(session_id)
    completed = only_event(fake_stripe, "checkout.session.completed")
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT_SECONDS", 0.3)
    fake_stripe.answer_after(1.0, "/v1/refunds")

    answer = deliver_webhook(client, fake_stripe, completed)

    assert answer.status_code == 200
    assert answer.json["outcome"] == "refunded: Stripe's amount differs from ours"
    held = registration(app)
    assert held.status == RegistrationStatus.PENDING_PAYMENT and held.amount_paid_cents == 0
    [payment] = payments_of(app, held.id)
    assert payment.status == PaymentStatus.REFUNDED
    [call] = calls(app)
    assert (call.status, call.amount_cents, call.idempotency_key) == (
        StripeCallStatus.PENDING,
        500,
        f"refund-mismatch-{session_id}",
    )

    fake_stripe.answer_after(0)
    wait_for(lambda: len(fake_stripe.refunds) == 1)
    with app.app_context():
        db.session.get(StripeCall, call.id).next_attempt_at = utcnow()
        db.session.commit()
    assert "sent 1, failed 0" in runner.invoke(args=["coop", "send-stripe"]).output
    [refund] = fake_stripe.refunds.values()
    assert refund["amount"] == 500
