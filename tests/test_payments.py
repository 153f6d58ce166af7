"""Paying online: the real Stripe SDK against the fake Stripe server, webhooks through HTTP."""

import json
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Event,
    OutboxMessage,
    Payment,
    PaymentMode,
    PaymentState,
    PaymentStatus,
    Registration,
    RegistrationStatus,
    StripeEvent,
    utcnow,
)
from cooperative.services import registration as registrations
from cooperative.services.registration import PersonChoice
from tests.conftest import deliver_webhook, post_form
from tests.factories import make_event, make_registration, make_user

REGISTER = "/events/buurtdiner/register"


@pytest.fixture
def event(app):
    """Buurtdiner, paid online only: 3 seats, €5 dinner, €2 entry."""
    with app.app_context():
        event = make_event(
            capacity=3,
            ticket_price_cents=200,
            payment_mode=PaymentMode.ONLINE,
            meals=[{"name": "Diner", "price_cents": 500}],
        )
        return {"id": event.id, "dinner": event.meal_options[0].id}


def register(client, event, *names, email="ada@example.org", dinner=True, **fields):
    data = {"contact_name": names[0], "contact_email": email, "submit": "register", **fields}
    for index, name in enumerate(names):
        data[f"people-{index}-name"] = name
        data[f"people-{index}-meal"] = str(event["dinner"]) if dinner else ""
    return post_form(client, REGISTER + "?lang=en", data)


def session_of(response) -> str:
    """The Checkout Session id in the address the app sent the person to."""
    location = response.headers["Location"]
    assert "/pay/cs_" in location, location
    return location.rsplit("/", 1)[1]


def registration(app, email="ada@example.org") -> Registration:
    with app.app_context():
        return db.session.scalar(
            sa.select(Registration)
            .where(Registration.contact_email == email)
            .order_by(Registration.id.desc())
        )


def payments_of(app, registration_id) -> list[Payment]:
    with app.app_context():
        return db.session.scalars(
            sa.select(Payment).where(Payment.registration_id == registration_id)
        ).all()


def mails(app, to="ada@example.org") -> list[str]:
    with app.app_context():
        return db.session.scalars(
            sa.select(OutboxMessage.subject)
            .where(OutboxMessage.to_address == to)
            .order_by(OutboxMessage.id)
        ).all()


def only_event(fake, kind: str) -> dict:
    [event] = fake.held_events(kind)
    return event


def test_registering_sends_the_person_to_checkout_with_the_right_lines(
    client, app, fake_stripe, event
):
    response = register(client, event, "Ada", "Bob")
    session_id = session_of(response)

    held = registration(app)
    assert held.status == RegistrationStatus.PENDING_PAYMENT
    assert held.payment_state == PaymentState.PENDING
    assert held.amount_due_cents == 2 * (200 + 500)
    assert held.hold_expires_at - utcnow() == pytest.approx(
        timedelta(minutes=30), abs=timedelta(minutes=1)
    )
    [payment] = payments_of(app, held.id)
    assert (payment.stripe_checkout_session_id, payment.amount_cents) == (session_id, 1400)

    [create] = [r for r in fake_stripe.requests if r.path == "/v1/checkout/sessions"]
    params = create.params
    assert params["customer_email"] == "ada@example.org"
    assert params["locale"] == "en"
    assert params["allowed_payment_method_types"] == ["ideal", "card"]
    lines = {
        item["price_data"]["product_data"]["name"]: (
            item["quantity"],
            item["price_data"]["unit_amount"],
        )
        for item in params["line_items"]
    }
    assert lines == {"Entry: Buurtdiner": ("2", "200"), "Diner": ("2", "500")}
    assert fake_stripe.sessions[session_id]["amount_total"] == 1400


def test_paid_by_webhook_then_the_return_page_says_paid(client, app, fake_stripe, event):
    session_id = session_of(register(client, event, "Ada", "Bob"))
    success = fake_stripe.pay(session_id)

    response = deliver_webhook(
        client, fake_stripe, only_event(fake_stripe, "checkout.session.completed")
    )
    assert response.status_code == 200

    paid = registration(app)
    assert paid.status == RegistrationStatus.CONFIRMED
    assert paid.payment_state == PaymentState.PAID
    assert paid.amount_paid_cents == 1400 and paid.hold_expires_at is None
    [payment] = payments_of(app, paid.id)
    assert payment.status == PaymentStatus.PAID and payment.stripe_payment_intent_id

    back = urlsplit(success)
    page = client.get(f"{back.path}?{back.query}", follow_redirects=True)
    assert "Paid. Thank you!" in page.get_data(as_text=True)
    assert mails(app) == ["Your registration: Buurtdiner", "Paid, see you there: Buurtdiner"]


def test_the_return_page_before_the_webhook_confirms_once(client, app, fake_stripe, event):
    session_id = session_of(register(client, event, "Ada"))
    back = urlsplit(fake_stripe.pay(session_id))

    page = client.get(f"{back.path}?{back.query}&lang=en", follow_redirects=True)
    assert "Paid. Thank you!" in page.get_data(as_text=True)
    assert registration(app).status == RegistrationStatus.CONFIRMED

    late = deliver_webhook(
        client, fake_stripe, only_event(fake_stripe, "checkout.session.completed")
    )
    assert late.status_code == 200
    assert registration(app).amount_paid_cents == 700
    assert mails(app).count("Paid, see you there: Buurtdiner") == 1


def test_a_replayed_webhook_is_processed_once(client, app, fake_stripe, event):
    session_id = session_of(register(client, event, "Ada"))
    fake_stripe.pay(session_id)
    completed = only_event(fake_stripe, "checkout.session.completed")

    first = deliver_webhook(client, fake_stripe, completed)
    again = deliver_webhook(client, fake_stripe, completed)

    assert first.json["outcome"] == "checkout.session.completed"
    assert again.status_code == 200 and again.json["outcome"] == "duplicate"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(StripeEvent.id))) == 1
    assert mails(app).count("Paid, see you there: Buurtdiner") == 1


def test_two_deliveries_at_once_are_processed_once(app, fake_stripe, event):
    client = app.test_client()
    session_id = session_of(register(client, event, "Ada"))
    fake_stripe.pay(session_id)
    completed = only_event(fake_stripe, "checkout.session.completed")
    barrier = threading.Barrier(2)
    answers = []

    def deliver():
        own_client = app.test_client()
        barrier.wait(timeout=10)
        answers.append(deliver_webhook(own_client, fake_stripe, completed).json["outcome"])

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(answers) == ["checkout.session.completed", "duplicate"]
    assert registration(app).amount_paid_cents == 700
    assert mails(app).count("Paid, see you there: Buurtdiner") == 1


@pytest.mark.parametrize("signing", ["forged", "missing", "old"])
def test_an_unsigned_or_wrongly_signed_webhook_is_refused(client, app, fake_stripe, event, signing):
    session_id = session_of(register(client, event, "Ada"))
    fake_stripe.pay(session_id)
    completed = only_event(fake_stripe, "checkout.session.completed")

    if signing == "forged":
        response = deliver_webhook(client, fake_stripe, completed, secret="whsec_guess")
    elif signing == "old":
        old = int(utcnow().timestamp()) - 3600
        response = deliver_webhook(client, fake_stripe, completed, timestamp=old)
    else:
        response = client.post(
            "/payments/stripe/webhook", data=json.dumps(completed), content_type="application/json"
        )
    assert response.status_code == 400
    assert registration(app).status == RegistrationStatus.PENDING_PAYMENT
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(StripeEvent.id))) == 0


def test_cancelled_on_the_checkout_page_keeps_the_hold_with_a_pay_button(
    client, app, fake_stripe, event
):
    first = session_of(register(client, event, "Ada"))
    back = urlsplit(fake_stripe.cancel(first))
    page = client.get(f"{back.path}?{back.query}&lang=en", follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "You have not paid yet." in text and "Pay now" in text
    assert "We hold your seats until" in text

    token = registration(app).token
    again = post_form(client, f"/r/{token}/pay")
    assert again.status_code == 303
    assert session_of(again) == first, "the open Checkout page is reused"
    fake_stripe.pay(first)
    deliver_webhook(client, fake_stripe, only_event(fake_stripe, "checkout.session.completed"))
    assert registration(app).payment_state == PaymentState.PAID


def test_an_expired_hold_frees_the_seats_and_promotes_the_waiting_list(
    client, app, runner, fake_stripe, event
):
    session_id = session_of(register(client, event, "Ada", "Bob"))
    with app.app_context():
        waiting = make_registration(
            db.session.get(Event, event["id"]),
            people=[PersonChoice("Wim", event["dinner"]), PersonChoice("Wil", event["dinner"])],
            email="wim@example.org",
            join_waitlist=True,
        )
        assert waiting.status == RegistrationStatus.WAITLISTED
        held = db.session.get(Registration, registration(app).id)
        held.hold_expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()

    result = runner.invoke(args=["coop", "expire-holds"])
    assert "Released 1 expired holds." in result.output

    expired = registration(app)
    assert expired.status == RegistrationStatus.CANCELLED
    assert fake_stripe.sessions[session_id]["status"] == "expired"
    assert mails(app)[-1] == "Your seats were released: Buurtdiner"
    promoted = registration(app, "wim@example.org")
    assert promoted.status == RegistrationStatus.PENDING_PAYMENT, "online only: pay first"
    assert promoted.hold_expires_at - utcnow() == pytest.approx(
        timedelta(hours=24), abs=timedelta(minutes=1)
    )
    # Wim registered without a language: the promotion mail is in Dutch.
    assert mails(app, "wim@example.org")[-1] == "Er is plek voor je: Buurtdiner"

    pay = post_form(client, f"/r/{promoted.token}/pay")
    assert fake_stripe.sessions[session_of(pay)]["amount_total"] == 2 * 700


def test_stripe_expiring_the_session_after_the_hold_releases_it(client, app, fake_stripe, event):
    session_id = session_of(register(client, event, "Ada"))
    with app.app_context():
        db.session.get(Registration, registration(app).id).hold_expires_at = utcnow()
        db.session.commit()
    fake_stripe.expire_session(session_id)
    deliver_webhook(client, fake_stripe, only_event(fake_stripe, "checkout.session.expired"))
    assert registration(app).status == RegistrationStatus.CANCELLED


def test_a_late_payment_with_the_seats_still_free_confirms(client, app, runner, fake_stripe, event):
    session_id = session_of(register(client, event, "Ada"))
    with app.app_context():
        db.session.get(Registration, registration(app).id).hold_expires_at = utcnow()
        db.session.commit()
    runner.invoke(args=["coop", "expire-holds"])
    assert registration(app).status == RegistrationStatus.CANCELLED
    fake_stripe.sessions[session_id]["status"] = "open"  # the page was still open in a tab

    fake_stripe.pay(session_id)
    deliver_webhook(client, fake_stripe, only_event(fake_stripe, "checkout.session.completed"))

    late = registration(app)
    assert late.status == RegistrationStatus.CONFIRMED
    assert late.payment_state == PaymentState.PAID and late.cancelled_at is None
    assert fake_stripe.refunds == {}


def test_a_late_payment_for_seats_now_taken_is_refunded(client, app, runner, fake_stripe, event):
    session_id = session_of(register(client, event, "Ada", "Bob"))
    with app.app_context():
        db.session.get(Registration, registration(app).id).hold_expires_at = utcnow()
        db.session.commit()
    runner.invoke(args=["coop", "expire-holds"])
    with app.app_context():
        make_registration(
            db.session.get(Event, event["id"]), people=("X", "Y"), email="xy@example.org"
        )
    fake_stripe.sessions[session_id]["status"] = "open"

    fake_stripe.pay(session_id)
    deliver_webhook(client, fake_stripe, only_event(fake_stripe, "checkout.session.completed"))

    late = registration(app)
    assert late.status == RegistrationStatus.CANCELLED and late.amount_paid_cents == 0
    [refund] = fake_stripe.refunds.values()
    assert refund["amount"] == 1400
    [payment] = payments_of(app, late.id)
    assert payment.status == PaymentStatus.REFUNDED and payment.refunded_cents == 1400
    assert mails(app)[-1] == "Your payment is refunded: Buurtdiner"


def paid_registration(client, app, fake_stripe, event, *names) -> Registration:
    session_id = session_of(register(client, event, *names))
    fake_stripe.pay(session_id)
    deliver_webhook(client, fake_stripe, fake_stripe.held_events("checkout.session.completed")[-1])
    paid = registration(app)
    assert paid.payment_state == PaymentState.PAID
    return paid


def test_cancelling_a_paid_registration_refunds_it(client, app, fake_stripe, event):
    paid = paid_registration(client, app, fake_stripe, event, "Ada", "Bob")

    post_form(client, f"/r/{paid.token}/cancel")

    cancelled = registration(app)
    assert cancelled.status == RegistrationStatus.CANCELLED
    assert cancelled.payment_state == PaymentState.REFUNDED
    [refund] = fake_stripe.refunds.values()
    assert refund["amount"] == 1400
    assert payments_of(app, paid.id)[0].status == PaymentStatus.REFUNDED


def test_cancelling_one_paid_person_refunds_their_part(client, app, fake_stripe, event):
    paid = paid_registration(client, app, fake_stripe, event, "Ada", "Bob")
    with app.app_context():
        bob = db.session.get(Registration, paid.id).attendees[1].id

    post_form(client, f"/r/{paid.token}/cancel", {"attendee": str(bob)})

    rest = registration(app)
    assert rest.status == RegistrationStatus.CONFIRMED
    assert (rest.amount_due_cents, rest.amount_paid_cents) == (700, 700)
    [refund] = fake_stripe.refunds.values()
    assert refund["amount"] == 700
    payment = payments_of(app, paid.id)[0]
    assert payment.status == PaymentStatus.PAID and payment.refunded_cents == 700


def test_no_refund_after_the_refund_deadline(client, app, fake_stripe, event):
    paid = paid_registration(client, app, fake_stripe, event, "Ada")
    with app.app_context():
        db.session.get(Event, event["id"]).refund_until = utcnow() - timedelta(minutes=1)
        db.session.commit()
    page = client.get(f"/r/{paid.token}?lang=en").get_data(as_text=True)
    assert "The refund deadline has passed" in page

    post_form(client, f"/r/{paid.token}/cancel")
    assert registration(app).status == RegistrationStatus.CANCELLED
    assert fake_stripe.refunds == {}


def test_stripe_timing_out_keeps_the_hold_and_a_retry_works(
    client, app, fake_stripe, event, monkeypatch
):
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT_SECONDS", 0.3)
    fake_stripe.timeout_next_requests(2, 2.0)  # the SDK tries twice

    response = register(client, event, "Ada")
    assert response.status_code == 303 and response.headers["Location"].startswith("/r/")
    page = client.get(response.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "Online payment does not work right now." in page
    held = registration(app)
    assert held.status == RegistrationStatus.PENDING_PAYMENT
    # Nothing paid: the payment waits, committed without a page, for the retry.
    [pending] = payments_of(app, held.id)
    assert (pending.status, pending.stripe_checkout_session_id) == (PaymentStatus.OPEN, None)
    assert fake_stripe.payment_intents == {}

    retry = post_form(client, f"/r/{held.token}/pay")
    assert session_of(retry) in fake_stripe.sessions
    [payment] = payments_of(app, held.id)
    assert (payment.id, payment.stripe_checkout_session_id) == (pending.id, session_of(retry))
    # The requests Stripe got before it timed out are carried out late (now): with the
    # retry's idempotency key, they give back the retry's session, not a second one.
    fake_stripe.release()
    assert list(fake_stripe.sessions) == [session_of(retry)]
    keys = {r.headers["idempotency-key"] for r in fake_stripe.requests}
    assert len(keys) == 1


def test_both_ways_lets_the_person_choose_the_door(client, app, fake_stripe, event):
    with app.app_context():
        db.session.get(Event, event["id"]).payment_mode = PaymentMode.BOTH
        db.session.commit()
    page = client.get("/events/buurtdiner?lang=en").get_data(as_text=True)
    assert "How do you pay?" in page

    response = register(client, event, "Ada", pay_method="door")
    assert response.headers["Location"].startswith("/r/")
    door = registration(app)
    assert door.status == RegistrationStatus.CONFIRMED
    assert door.payment_state == PaymentState.DUE_AT_DOOR
    assert not fake_stripe.sessions


def test_without_stripe_keys_everyone_pays_at_the_door(client, app, event):
    page = client.get("/events/buurtdiner?lang=en").get_data(as_text=True)
    assert "How do you pay?" not in page and "You pay at the door." in page
    response = register(client, event, "Ada")
    assert response.headers["Location"].startswith("/r/")
    assert registration(app).payment_state == PaymentState.DUE_AT_DOOR
    assert client.post("/payments/stripe/webhook", data="{}").status_code == 404


def test_a_free_registration_never_goes_to_stripe(client, app, fake_stripe, event):
    with app.app_context():
        db.session.get(Event, event["id"]).ticket_price_cents = 0
        db.session.commit()
    response = register(client, event, "Ada", dinner=False)
    assert response.headers["Location"].startswith("/r/")
    assert registration(app).status == RegistrationStatus.CONFIRMED
    assert not fake_stripe.sessions


def test_the_pay_button_refuses_a_registration_that_owes_nothing(client, app, fake_stripe, event):
    with app.app_context():
        confirmed = registrations.register(
            db.session.get(Event, event["id"]), "Ada", "ada@example.org", [PersonChoice("Ada")]
        )
        confirmed.status = RegistrationStatus.CONFIRMED
        db.session.commit()
        token = confirmed.token
    response = post_form(client, f"/r/{token}/pay?lang=en")
    assert response.status_code == 303
    page = client.get(f"/r/{token}?lang=en").get_data(as_text=True)
    assert "This registration is not waiting for a payment." in page
    assert not fake_stripe.sessions


def test_cancelling_the_event_refunds_what_was_paid_online(client, app, auth, fake_stripe, event):
    paid = paid_registration(client, app, fake_stripe, event, "Ada", "Bob")
    with app.app_context():
        make_user(email="admin@example.org", is_admin=True)
    auth.login("admin@example.org")

    response = post_form(client, f"/manage/events/{event['id']}/cancel")

    assert response.status_code == 303
    cancelled = registration(app)
    assert cancelled.status == RegistrationStatus.CANCELLED
    assert cancelled.payment_state == PaymentState.REFUNDED
    assert [r["amount"] for r in fake_stripe.refunds.values()] == [1400]
    assert payments_of(app, paid.id)[0].status == PaymentStatus.REFUNDED
