"""The fake Stripe's SEPA Direct Debit, through the real SDK: setup-mode Checkout, the
SetupIntent with its payment method and mandate, off-session debits that process and then
succeed or fail, disputes, detaching; every event signed as Stripe signs."""

import pytest
import stripe

from tests import test_fake_stripe
from tests.test_fake_stripe import API_KEY, browse

receiver = test_fake_stripe.receiver
fake = test_fake_stripe.fake
client = test_fake_stripe.client


def setup_params(**changes):
    params = {
        "mode": "setup",
        "currency": "eur",
        "allowed_payment_method_types": ["sepa_debit"],
        "customer_creation": "always",
        "customer_email": "ada@example.org",
        "metadata": {"membership_id": "7"},
        "setup_intent_data": {"metadata": {"membership_id": "7"}},
        "success_url": "http://127.0.0.1:5000/account/mandate?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:5000/account/mandate?checkout=cancelled",
    }
    params.update(changes)
    return params


def set_up(fake, client):
    """A completed setup session, fetched with its SetupIntent and payment method."""
    session = client.v1.checkout.sessions.create(params=setup_params())
    fake.pay(session.id)
    return client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["setup_intent", "setup_intent.payment_method"]}
    )


def debit(client, session, **changes):
    intent = session.setup_intent
    params = {
        "amount": 2500,
        "currency": "eur",
        "customer": intent.customer,
        "payment_method": intent.payment_method.id,
        "mandate": intent.mandate,
        "allowed_payment_method_types": ["sepa_debit"],
        "off_session": True,
        "confirm": True,
        "metadata": {"collection_id": "3"},
    }
    params.update(changes)
    return client.v1.payment_intents.create(params=params, options={"idempotency_key": "d-3"})


def test_a_setup_session_makes_a_mandate_and_sends_signed_events(fake, client, receiver):
    session = client.v1.checkout.sessions.create(params=setup_params())
    assert (session.mode, session.status, session.setup_intent) == ("setup", "open", None)
    page = browse(session.url)
    assert page.status_code == 200 and "Set up SEPA Direct Debit" in page.text
    paying = browse(f"{fake.url}/pay/{session.id}/pay", method="POST")
    assert paying.status_code == 303
    assert paying.headers["Location"].endswith(f"session_id={session.id}")
    assert [event.type for event in receiver.events] == [
        "setup_intent.succeeded",
        "checkout.session.completed",
    ]
    assert receiver.events[1].data.object.mode == "setup"

    done = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["setup_intent", "setup_intent.payment_method"]}
    )
    intent = done.setup_intent
    assert (done.status, intent.status, intent.customer) == ("complete", "succeeded", done.customer)
    assert intent.metadata.to_dict() == {"membership_id": "7"}
    method = intent.payment_method
    assert (method.type, method.sepa_debit.last4) == ("sepa_debit", "3000")
    assert method.billing_details.name == "Jenny Rosen"
    mandate = client.v1.mandates.retrieve(intent.mandate)
    assert (mandate.status, mandate.type, mandate.payment_method) == (
        "active",
        "multi_use",
        method.id,
    )
    assert client.v1.setup_intents.retrieve(intent.id).payment_method == method.id


def test_setup_mode_refuses_line_items_and_a_missing_currency(client):
    with pytest.raises(stripe.InvalidRequestError, match="line_items"):
        client.v1.checkout.sessions.create(
            params=setup_params(
                line_items=[
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": "eur",
                            "unit_amount": 500,
                            "product_data": {"name": "x"},
                        },
                    }
                ]
            )
        )
    params = setup_params()
    del params["currency"], params["allowed_payment_method_types"]
    with pytest.raises(stripe.InvalidRequestError, match="currency"):
        client.v1.checkout.sessions.create(params=params)


def test_a_debit_processes_then_succeeds_or_fails_with_signed_events(fake, client, receiver):
    session = set_up(fake, client)
    intent = debit(client, session)
    assert (intent.status, intent.amount, intent.metadata["collection_id"]) == (
        "processing",
        2500,
        "3",
    )
    assert debit(client, session).id == intent.id  # the same key: Stripe's first answer
    fake.wait_for_deliveries()
    assert receiver.events[-1].type == "payment_intent.processing"

    fake.settle_debit(intent.id, "succeeded")
    assert receiver.events[-1].type == "payment_intent.succeeded"
    assert client.v1.payment_intents.retrieve(intent.id).status == "succeeded"
    fake.dispute_debit(intent.id)
    disputed = receiver.events[-1]
    assert disputed.type == "charge.dispute.created"
    assert client.v1.disputes.retrieve(disputed.data.object.id).payment_intent == intent.id

    with pytest.raises(stripe.IdempotencyError):
        debit(client, session, amount=3000)  # another amount under the same key


def test_a_failed_debit_says_why(fake, client, receiver):
    session = set_up(fake, client)
    intent = client.v1.payment_intents.create(
        params={
            "amount": 2500,
            "currency": "eur",
            "customer": session.setup_intent.customer,
            "payment_method": session.setup_intent.payment_method.id,
            "off_session": True,
            "confirm": True,
        }
    )
    fake.settle_debit(intent.id, "failed")
    failed = receiver.events[-1]
    assert failed.type == "payment_intent.payment_failed"
    assert failed.data.object.last_payment_error.code == "insufficient_funds"
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"
    with pytest.raises(ValueError):
        fake.settle_debit(intent.id, "succeeded")  # settled once


def test_stripe_refuses_a_debit_it_would_refuse(fake, client):
    session = set_up(fake, client)
    method = session.setup_intent.payment_method.id
    base = {
        "amount": 2500,
        "currency": "eur",
        "customer": session.setup_intent.customer,
        "payment_method": method,
        "off_session": True,
        "confirm": True,
    }
    for changes, message in [
        ({"customer": "cus_someone_else"}, "another customer"),
        ({"amount": 20}, "at least"),
        ({"currency": "usd"}, "eur"),
        ({"confirm": False}, "confirmed off session"),
        ({"mandate": "mandate_unknown"}, "No such mandate"),
    ]:
        with pytest.raises(stripe.InvalidRequestError, match=message):
            client.v1.payment_intents.create(params={**base, **changes})
    client.v1.payment_methods.detach(method)
    assert client.v1.mandates.retrieve(session.setup_intent.mandate).status == "inactive"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.create(params=base)
    assert fake.payment_intents == {}


def test_only_the_right_key_gets_in(fake):
    wrong = stripe.StripeClient(
        API_KEY + "x", base_addresses={"api": fake.url}, max_network_retries=0
    )
    with pytest.raises(stripe.AuthenticationError):
        wrong.v1.setup_intents.retrieve("seti_test_x")
