"""The fake Stripe answers the real SDK, serves its checkout page and signs its webhooks."""

import json
import threading
import time
from dataclasses import dataclass, field

import pytest
import requests
import stripe
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.fake_stripe import FakeStripe

API_KEY = "sk_test_cooperative"
WEBHOOK_SECRET = "whsec_test_cooperative"


@dataclass
class Receiver:
    """A tiny webhook endpoint: verifies each event as the app will and remembers it."""

    url: str = ""
    received: list = field(default_factory=list)
    events: list = field(default_factory=list)


@pytest.fixture
def receiver():
    box = Receiver()

    def endpoint(environ, start_response):
        request = Request(environ)
        body = request.get_data()
        signature = request.headers.get("Stripe-Signature")
        box.received.append((body, signature))
        try:
            event = stripe.Webhook.construct_event(body, signature, WEBHOOK_SECRET)
        except (ValueError, stripe.SignatureVerificationError):
            return Response("bad signature", status=400)(environ, start_response)
        box.events.append(event)
        return Response("ok")(environ, start_response)

    server = make_server("127.0.0.1", 0, endpoint, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    box.url = f"http://127.0.0.1:{server.server_port}/payments/webhook"
    yield box
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake(receiver):
    with FakeStripe(receiver.url, webhook_secret=WEBHOOK_SECRET, api_key=API_KEY) as fake:
        yield fake


@pytest.fixture
def client(fake):
    return stripe.StripeClient(API_KEY, base_addresses={"api": fake.url}, max_network_retries=0)


def session_params(**changes):
    params = {
        "mode": "payment",
        "allowed_payment_method_types": ["ideal", "card"],
        "line_items": [
            {
                "quantity": 2,
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 500,
                    "product_data": {"name": "Diner"},
                },
            },
            {
                "quantity": 1,
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 350,
                    "product_data": {"name": "Diner, pay what you can"},
                },
            },
        ],
        "customer_email": "ada@example.org",
        "locale": "nl",
        "client_reference_id": "payment-12",
        "metadata": {"payment_id": "12"},
        "success_url": "http://127.0.0.1:5000/r/abc?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:5000/r/abc/cancelled",
        "expires_at": int(time.time()) + 3600,
        "payment_intent_data": {"metadata": {"payment_id": "12"}},
    }
    params.update(changes)
    return params


def browse(url, method="GET"):
    """Open a page like a browser that does not follow redirects."""
    with requests.Session() as session:
        session.trust_env = False  # straight to 127.0.0.1, whatever proxy is configured
        return session.request(method, url, allow_redirects=False, timeout=5)


def test_creating_a_session_adds_up_the_line_items(fake, client):
    session = client.v1.checkout.sessions.create(
        params=session_params(), options={"idempotency_key": "payment-12-try-1"}
    )

    assert session.id.startswith("cs_test_")
    assert session.url == f"{fake.url}/pay/{session.id}"
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert session.amount_total == 2 * 500 + 350
    assert session.currency == "eur"
    assert session.payment_intent is None
    assert session.metadata.to_dict() == {"payment_id": "12"}
    assert session.customer_email == "ada@example.org"
    assert session.livemode is False

    method, path, params = fake.requests[-1]
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert params["line_items"][0]["price_data"]["unit_amount"] == "500"
    assert params["line_items"][1]["price_data"]["product_data"]["name"] == (
        "Diner, pay what you can"
    )
    assert params["locale"] == "nl"
    assert fake.requests[-1].headers["idempotency-key"] == "payment-12-try-1"
    assert fake.requests[-1].headers["authorization"] == f"Bearer {API_KEY}"

    again = client.v1.checkout.sessions.retrieve(session.id)
    assert (again.id, again.amount_total, again.status) == (session.id, 1350, "open")


def test_the_same_idempotency_key_replays_the_first_answer(fake, client):
    options = {"idempotency_key": "payment-12-try-1"}
    # The same parameters twice: each call of session_params() reads the clock for
    # expires_at, and on a busy machine a second may tick between two calls.
    params = session_params()
    first = client.v1.checkout.sessions.create(params=params, options=options)
    second = client.v1.checkout.sessions.create(params=params, options=options)

    assert second.id == first.id
    assert len(fake.sessions) == 1
    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create(params={**params, "locale": "en"}, options=options)


def test_paying_on_the_checkout_page_redirects_and_sends_a_signed_event(fake, client, receiver):
    session = client.v1.checkout.sessions.create(params=session_params())

    page = browse(session.url)
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert "€13.50" in page.text
    assert "2 × Diner" in page.text
    assert f'action="/pay/{session.id}/pay"' in page.text
    assert f'action="/pay/{session.id}/cancel"' in page.text

    paying = browse(f"{fake.url}/pay/{session.id}/pay", method="POST")
    assert paying.status_code == 303
    assert paying.headers["Location"] == f"http://127.0.0.1:5000/r/abc?session_id={session.id}"

    [event] = receiver.events
    assert event.type == "checkout.session.completed"
    assert event.data.object.id == session.id
    assert event.data.object.payment_status == "paid"
    assert event.data.object.metadata["payment_id"] == "12"
    assert fake.deliveries[-1].status == 200

    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status, paid.url) == ("complete", "paid", None)
    intent = client.v1.payment_intents.retrieve(paid.payment_intent)
    assert intent.id.startswith("pi_test_")
    assert (intent.amount, intent.amount_received, intent.currency) == (1350, 1350, "eur")
    assert intent.status == "succeeded"
    assert intent.metadata.to_dict() == {"payment_id": "12"}

    again = browse(session.url)
    assert again.status_code == 400
    assert "already complete" in again.text


def test_a_tampered_or_wrongly_signed_event_fails_verification(fake, client, receiver):
    session = client.v1.checkout.sessions.create(params=session_params())
    fake.pay(session.id)
    [(body, signature)] = receiver.received

    assert stripe.Webhook.construct_event(body, signature, WEBHOOK_SECRET).id
    tampered = body.replace(b'"paid"', b'"unpaid"')
    assert tampered != body
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered, signature, WEBHOOK_SECRET)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, signature, "whsec_someone_else")
    assert fake.sign(body, timestamp=int(signature.split(",")[0][2:])) == signature

    forged = fake.send_event(fake.events[0], secret="whsec_someone_else")
    stale = fake.send_event(fake.events[0], timestamp=int(time.time()) - 3600)
    assert (forged.status, stale.status) == (400, 400)
    assert len(receiver.events) == 1


def test_cancel_goes_back_without_changing_the_session(fake, client, receiver):
    session = client.v1.checkout.sessions.create(params=session_params())

    cancelling = browse(f"{fake.url}/pay/{session.id}/cancel", method="POST")

    assert cancelling.status_code == 303
    assert cancelling.headers["Location"] == "http://127.0.0.1:5000/r/abc/cancelled"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert receiver.events == []


def test_refunds_are_limited_to_what_was_paid(fake, client):
    session = client.v1.checkout.sessions.create(params=session_params())
    fake.pay(session.id)
    intent_id = client.v1.checkout.sessions.retrieve(session.id).payment_intent

    refund = client.v1.refunds.create(
        params={"payment_intent": intent_id, "amount": 500, "metadata": {"payment_id": "12"}}
    )
    assert refund.id.startswith("re_test_")
    assert (refund.amount, refund.payment_intent, refund.status) == (500, intent_id, "succeeded")
    assert refund.metadata.to_dict() == {"payment_id": "12"}

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 1000})
    assert too_much.value.http_status == 400
    assert too_much.value.code == "amount_too_large"
    assert "€8.50" in too_much.value.user_message

    rest = client.v1.refunds.create(params={"payment_intent": intent_id})
    assert rest.amount == 850
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 1})
    assert again.value.code == "charge_already_refunded"
    assert fake.charges[fake.payment_intents[intent_id]["latest_charge"]]["refunded"] is True


def test_expiring_sessions_through_the_api_and_as_stripe_does(fake, client, receiver):
    session = client.v1.checkout.sessions.create(params=session_params())
    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    assert fake.wait_for_deliveries()
    assert [e.type for e in receiver.events] == ["checkout.session.expired"]
    assert (
        receiver.events[0].request.idempotency_key == fake.requests[-1].headers["idempotency-key"]
    )

    with pytest.raises(stripe.InvalidRequestError, match='status of "expired"'):
        client.v1.checkout.sessions.expire(session.id)
    too_late = browse(f"{fake.url}/pay/{session.id}/pay", method="POST")
    assert too_late.status_code == 400
    assert "expired" in too_late.text

    fake.deliver_webhooks = False
    other = client.v1.checkout.sessions.create(params=session_params())
    fake.expire_session(other.id)
    assert client.v1.checkout.sessions.retrieve(other.id).status == "expired"
    assert [e["type"] for e in fake.pending_events] == ["checkout.session.expired"]
    assert len(receiver.events) == 1

    [delivery] = fake.send_pending()
    assert delivery.ok
    assert receiver.events[-1].data.object.id == other.id
    assert fake.pending_events == []


def test_a_completed_session_cannot_be_expired(fake, client):
    session = client.v1.checkout.sessions.create(params=session_params())
    fake.pay(session.id)

    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.checkout.sessions.expire(session.id)
    assert error.value.http_status == 400
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"


def test_delayed_payments_complete_unpaid_then_succeed_or_fail(fake, client, receiver):
    fake.payment_outcome = "async_success"
    fake.hold_async_payments = True
    session = client.v1.checkout.sessions.create(params=session_params())
    fake.pay(session.id)

    held = client.v1.checkout.sessions.retrieve(session.id)
    assert (held.status, held.payment_status) == ("complete", "unpaid")
    assert client.v1.payment_intents.retrieve(held.payment_intent).status == "processing"
    fake.settle_async(session.id)
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"

    fake.hold_async_payments = False
    failing = client.v1.checkout.sessions.create(params=session_params())
    fake.pay(failing.id, outcome="async_failure")
    assert [(e.type, e.data.object.payment_status) for e in receiver.events] == [
        ("checkout.session.completed", "unpaid"),
        ("checkout.session.async_payment_succeeded", "paid"),
        ("checkout.session.completed", "unpaid"),
        ("checkout.session.async_payment_failed", "unpaid"),
    ]


def test_stripe_shaped_errors_for_what_stripe_refuses(client):
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.checkout.sessions.retrieve("cs_test_nothing")
    assert (unknown.value.http_status, unknown.value.code) == (404, "resource_missing")
    with pytest.raises(stripe.InvalidRequestError) as unknown_intent:
        client.v1.payment_intents.retrieve("pi_test_nothing")
    assert unknown_intent.value.http_status == 404

    params = session_params()
    del params["line_items"]
    with pytest.raises(stripe.InvalidRequestError, match="Missing required param: line_items"):
        client.v1.checkout.sessions.create(params=params)

    # Removed in API version 2026-09-30, the SDK's version is later.
    with pytest.raises(stripe.InvalidRequestError) as removed:
        client.v1.checkout.sessions.create(
            params=session_params(payment_method_types=["ideal", "card"])
        )
    assert removed.value.param == "payment_method_types"
    with pytest.raises(stripe.InvalidRequestError, match="Invalid locale"):
        client.v1.checkout.sessions.create(params=session_params(locale="frisian"))
    with pytest.raises(stripe.InvalidRequestError, match="at least 30 minutes"):
        client.v1.checkout.sessions.create(params=session_params(expires_at=int(time.time())))

    with pytest.raises(stripe.InvalidRequestError, match="No such payment_intent"):
        client.v1.refunds.create(params={"payment_intent": "pi_test_nothing"})


def test_a_wrong_api_key_gets_401(fake):
    wrong = stripe.StripeClient(
        "sk_test_wrong", base_addresses={"api": fake.url}, max_network_retries=0
    )
    with pytest.raises(stripe.AuthenticationError) as error:
        wrong.v1.checkout.sessions.create(params=session_params())
    assert error.value.http_status == 401
    assert json.loads(error.value.http_body)["error"]["type"] == "invalid_request_error"
    assert fake.sessions == {}


def test_a_hanging_api_gives_the_client_a_connection_error(fake):
    impatient = stripe.StripeClient(
        API_KEY,
        base_addresses={"api": fake.url},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=0.2),
    )
    fake.timeout_next_requests(1, seconds=1.0)

    started = time.monotonic()
    with pytest.raises(stripe.APIConnectionError):
        impatient.v1.checkout.sessions.create(params=session_params())
    assert time.monotonic() - started < 0.9

    session = impatient.v1.checkout.sessions.create(params=session_params())
    assert session.status == "open"
