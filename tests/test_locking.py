"""Locks: no call to Stripe while an event is locked, a lock waited for at most a few
seconds ("busy, try again", never a 500), and refunds Stripe missed made later."""

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cooperative import errors
from cooperative.extensions import db
from cooperative.locking import LockTimeout, NotInTransaction, lock_event
from cooperative.models import (
    Event,
    OutboxMessage,
    OutboxStatus,
    Payment,
    PaymentState,
    PaymentStatus,
    Registration,
    RegistrationStatus,
    StripeCall,
    StripeCallStatus,
    utcnow,
)
from cooperative.services import mail, stripe_calls
from tests.conftest import csrf_token, post_form
from tests.test_payments import REGISTER, event, paid_registration, register, registration

__all__ = ["event"]  # the fixture, shared with test_payments

# How long a request may take while Stripe holds another one for 5-10 s: it must not
# wait for Stripe. A fraction of a second on a quiet machine; the margin is for a busy one.
NO_WAIT = 2.5


def wait_for(condition, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.02)


def calls(app) -> list[StripeCall]:
    with app.app_context():
        return db.session.scalars(sa.select(StripeCall).order_by(StripeCall.id)).all()


def test_a_registration_goes_through_while_a_refund_waits_on_stripe(
    app, client, fake_stripe, event
):
    """Ada cancels; Stripe takes 10 s to answer her refund. Meanwhile Bob registers for
    the same event in under a second: the refund is made after the event's lock is let go."""
    ada = paid_registration(client, app, fake_stripe, event, "Ada")
    fake_stripe.answer_after(10, "/v1/refunds")
    answers = {}

    def ada_cancels():
        answers["ada"] = post_form(app.test_client(), f"/r/{ada.token}/cancel")

    cancelling = threading.Thread(target=ada_cancels)
    cancelling.start()
    wait_for(lambda: any(r.path == "/v1/refunds" for r in fake_stripe.requests))

    bob = app.test_client()
    form = {
        "csrf_token": csrf_token(bob),
        "contact_name": "Bob",
        "contact_email": "bob@example.org",
        "people-0-name": "Bob",
        "people-0-meal": str(event["dinner"]),
        "submit": "register",
    }
    started = time.monotonic()
    response = bob.post(REGISTER, data=form)
    took = time.monotonic() - started

    assert response.status_code == 303 and "/pay/cs_" in response.headers["Location"]
    assert took < NO_WAIT, f"Bob waited {took:.1f} s for Ada's refund"
    assert cancelling.is_alive(), "Ada's refund was still on its way"
    fake_stripe.release()
    cancelling.join(timeout=30)
    assert answers["ada"].status_code == 303
    assert registration(app).status == RegistrationStatus.CANCELLED
    [refund] = fake_stripe.refunds.values()
    assert refund["amount"] == 700
    assert [call.status for call in calls(app)] == [StripeCallStatus.SENT]


def test_a_refund_stripe_misses_after_the_commit_is_made_by_coop_send_stripe(
    app, client, runner, fake_stripe, event, monkeypatch
):
    """Stripe answers before the cancellation, then times out on the refund itself: the
    party is cancelled and its refund made later, once, by `coop send-stripe`."""
    ada = paid_registration(client, app, fake_stripe, event, "Ada", "Bob")
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT_SECONDS", 0.3)
    fake_stripe.answer_after(1.0, "/v1/refunds")

    response = post_form(client, f"/r/{ada.token}/cancel")

    assert response.status_code == 303
    cancelled = registration(app)
    assert cancelled.status == RegistrationStatus.CANCELLED
    assert cancelled.payment_state == PaymentState.REFUNDED
    [call] = calls(app)
    assert (call.status, call.attempts, call.amount_cents) == (StripeCallStatus.PENDING, 1, 1400)
    assert "Timeout" in call.last_error or "Connection" in call.last_error

    fake_stripe.answer_after(0)
    # Stripe carried out the request the SDK gave up on: the retry's key finds it.
    wait_for(lambda: len(fake_stripe.refunds) == 1)
    assert "sent 0, failed 0" in runner.invoke(args=["coop", "send-stripe"]).output
    with app.app_context():
        db.session.get(StripeCall, call.id).next_attempt_at = utcnow()
        db.session.commit()
    assert "sent 1, failed 0" in runner.invoke(args=["coop", "send-stripe"]).output

    [refund] = fake_stripe.refunds.values()
    assert refund["amount"] == 1400
    keys = {r.headers.get("idempotency-key") for r in fake_stripe.requests if "refunds" in r.path}
    assert keys == {call.idempotency_key}
    [call] = calls(app)
    assert (call.status, call.attempts) == (StripeCallStatus.SENT, 2)


def test_a_refund_recorded_in_a_transaction_rolled_back_is_never_made(
    app, client, fake_stripe, event
):
    ada = paid_registration(client, app, fake_stripe, event, "Ada")
    with app.app_context():
        payment = db.session.scalar(sa.select(Payment).where(Payment.registration_id == ada.id))
        stripe_calls.refund(payment, 700)
        db.session.flush()
        db.session.rollback()
        db.session.commit()
        assert db.session.get(Payment, payment.id).status == PaymentStatus.PAID
    assert calls(app) == [] and fake_stripe.refunds == {}


def hold_event_lock(app, event_id):
    """Another connection holding the event's lock, as a slow transaction would."""
    with app.app_context():
        connection = db.engine.connect()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.execute(sa.select(Event.id).where(Event.id == event_id).with_for_update())
    return connection


@pytest.fixture
def short_lock_wait(app, monkeypatch):
    """Locks waited for 0.2 s; afterwards the pool's connections start afresh (30 s)."""
    monkeypatch.setitem(app.config, "LOCK_TIMEOUT_SECONDS", 0.2)
    monkeypatch.setitem(app.config, "SQLITE_BUSY_TIMEOUT_SECONDS", 0.2)
    yield
    with app.app_context():
        db.engine.dispose()


def test_an_event_locked_too_long_answers_try_again_not_500(app, client, event, short_lock_wait):
    holder = hold_event_lock(app, event["id"])
    try:
        started = time.monotonic()
        response = register(client, event, "Ada")
        took = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()

    assert response.status_code == 503
    # Our 5 s, or the rest of the rate limiter's window on this form, if longer.
    assert int(response.headers["Retry-After"]) >= 5
    page = response.get_data(as_text=True)
    assert "Many people are doing this at once" in page
    assert "Please try again in a few seconds." in page
    assert took < 2, "waited for the lock timeout, not the usual 30 s"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0
    assert register(client, event, "Ada").status_code == 303, "free again: it works"


def test_the_api_says_busy_in_json(app):
    with app.test_request_context("/api/v1/events"):
        response = errors.render_busy(LockTimeout("held"))
    assert response.status_code == 503
    assert response.get_json() == {"error": "busy, try again"}
    assert response.headers["Retry-After"] == "5"


def test_lock_event_refuses_a_connection_that_commits_each_statement(app, event):
    with app.app_context():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        with pytest.raises(NotInTransaction):
            lock_event(db.session.get(Event, event["id"]))
        db.session.rollback()


def test_lock_event_waits_at_most_the_lock_timeout(app, event, short_lock_wait):
    with app.app_context():
        holder = hold_event_lock(app, event["id"])
        try:
            started = time.monotonic()
            with pytest.raises(LockTimeout):
                lock_event(db.session.get(Event, event["id"]))
            assert time.monotonic() - started < 2
            db.session.rollback()
        finally:
            holder.rollback()
            holder.close()
        lock_event(db.session.get(Event, event["id"]))
        db.session.rollback()


class WritingTransport:
    """A mail server that, while it takes a message, lets another connection write the
    message's row, waiting 0.2 s at most: it fails if the worker holds a lock meanwhile."""

    def __init__(self) -> None:
        self.sent = []

    def send(self, email) -> None:
        with db.engine.connect() as other:
            if other.dialect.name == "sqlite":
                other.exec_driver_sql("PRAGMA busy_timeout = 200")
            else:
                other.exec_driver_sql("SET lock_timeout = 200")
            other.execute(sa.update(OutboxMessage).values(last_error="read by another"))
            other.commit()
            other.invalidate()  # not back into the pool with its short wait
        self.sent.append(email["To"])

    def close(self) -> None:
        pass


def queue(app, to="ada@example.org") -> int:
    with app.app_context():
        message = OutboxMessage(
            to_address=to,
            subject="Hallo",
            body_text="Hallo.",
            attachments=[],
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=utcnow(),
        )
        db.session.add(message)
        db.session.commit()
        return message.id


def test_the_mail_worker_holds_no_lock_while_the_mail_server_answers(app, monkeypatch):
    message_id = queue(app)
    transport = WritingTransport()
    monkeypatch.setattr(mail, "_transport", lambda: transport)
    with app.app_context():
        assert mail.send_pending() == (1, 0)
        message = db.session.get(OutboxMessage, message_id)
        assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)
    assert transport.sent == ["ada@example.org"]


def test_a_message_claimed_by_a_worker_that_crashed_is_sent_after_the_claim_runs_out(
    app, monkeypatch
):
    message_id = queue(app)
    transport = WritingTransport()
    monkeypatch.setattr(mail, "_transport", lambda: transport)
    with app.app_context():
        assert mail._claim(message_id) is not None  # then the worker died
        db.session.remove()
        assert mail.send_pending() == (0, 0), "claimed: another worker leaves it"
        message = db.session.get(OutboxMessage, message_id)
        message.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert mail.send_pending() == (1, 0)
    assert transport.sent == ["ada@example.org"]


def test_a_savepoint_released_sends_nothing_until_the_transaction_commits(
    app, client, fake_stripe, event
):
    """A savepoint (`begin_nested`, as a series makes its dates) is no commit: a refund
    recorded before it goes to Stripe when the transaction commits, not while it still
    holds its locks (on SQLite the sending session would wait for the write lock)."""
    paid = paid_registration(client, app, fake_stripe, event, "Ada")
    with app.app_context():
        payment = db.session.scalars(
            sa.select(Payment).where(Payment.registration_id == paid.id)
        ).one()
        stripe_calls.refund(payment, payment.amount_cents)
        with db.session.begin_nested():
            db.session.get(Registration, paid.id).contact_name = "Ada Lovelace"
        assert not any(r.path == "/v1/refunds" for r in fake_stripe.requests)
        db.session.commit()
    assert [r.path for r in fake_stripe.requests if r.path == "/v1/refunds"] == ["/v1/refunds"]
    assert [call.status for call in calls(app)] == [StripeCallStatus.SENT]
