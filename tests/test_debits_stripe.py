"""Joining and buying shares by direct debit through Stripe, against the fake Stripe with
signed webhooks: the applicant gives the mandate in Checkout's setup mode while joining
and comes back; what joining costs is announced and, on its debit date, debited as a
payment intent made after the commit; `payment_intent.succeeded` admits the member with
the share paid, `payment_intent.payment_failed` tells them to pay another way. Shares
bought by debit under a Stripe mandate are paid when the debit is."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Collection,
    CollectionPurpose,
    CollectionStatus,
    MandateKind,
    MembershipStatus,
    PaymentProvider,
    PaymentStatus,
    SepaMandate,
    Share,
    SharePurchase,
    utcnow,
)
from cooperative.services import membership as memberships
from cooperative.services import sepa, sepa_stripe, shares
from tests.conftest import deliver_webhook, post_form
from tests.factories import make_plan
from tests.sepa_fixtures import subjects, yearly_member
from tests.share_factories import make_member_share_class, make_share_class
from tests.test_membership_stripe import JOIN_DATA, logged_in, membership_of
from tests.test_sepa_stripe import give_mandate_at_stripe, login, only_event

TOTAL = 3500


@pytest.fixture
def plan(app):
    with app.app_context():
        make_member_share_class()
        make_plan("lid", fee_cents=1000, period="yearly", name_en="Member", name_nl="Lid")


def join_at_stripe(client, fake_stripe) -> str:
    """Join choosing direct debit: off to Stripe's setup page, set it up, the webhook
    and the way back; returns the setup session id."""
    page = client.get("/join/lid?lang=en").get_data(as_text=True)
    assert 'value="direct_debit"' in page and 'name="iban"' not in page
    assert "page of our payment provider Stripe" in page
    response = post_form(client, "/join/lid?lang=en", {**JOIN_DATA, "pay_by": "direct_debit"})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith(fake_stripe.url + "/pay/cs_")
    session_id = location.rsplit("/", 1)[1]
    back = fake_stripe.pay(session_id)
    completed = only_event(fake_stripe, "checkout.session.completed", session_id)
    assert deliver_webhook(client, fake_stripe, completed).json["outcome"] == "mandate kept"
    parts = urlsplit(back)
    assert parts.path == "/account/mandate"
    assert client.get(f"{parts.path}?{parts.query}").status_code == 303
    return session_id


def debit_on_its_date(app, fake_stripe, purpose: CollectionPurpose) -> dict:
    """The debit date comes: the daily submission sends the payment intent (after the
    commit); returns it."""
    with app.app_context():
        collection = db.session.scalar(sa.select(Collection).where(Collection.purpose == purpose))
        assert collection.status == CollectionStatus.SCHEDULED
        assert sepa_stripe.submit_due(today=collection.debit_date - timedelta(days=1)) == 0
        assert sepa_stripe.submit_due(today=collection.debit_date) == 1
        db.session.commit()
    [intent] = fake_stripe.payment_intents.values()
    return intent


def settle(client, fake_stripe, intent: dict, outcome: str) -> str:
    fake_stripe.settle_debit(intent["id"], outcome)
    kind = "payment_intent.succeeded" if outcome == "succeeded" else "payment_intent.payment_failed"
    return deliver_webhook(client, fake_stripe, only_event(fake_stripe, kind, intent["id"])).json[
        "outcome"
    ]


def test_joining_with_a_mandate_at_stripe_is_debited_and_admits_the_member(app, plan, fake_stripe):
    client = logged_in(app, "ada@example.org")
    session_id = join_at_stripe(client, fake_stripe)
    created = [r for r in fake_stripe.requests if r.path == "/v1/checkout/sessions"][0].params
    assert created["mode"] == "setup" and created["metadata"]["pays"] == "join"
    with app.app_context():
        membership = membership_of(app, "ada@example.org")
        assert membership.status == MembershipStatus.PENDING_PAYMENT
        mandate = db.session.scalar(sa.select(SepaMandate))
        assert mandate.kind == MandateKind.STRIPE
        assert mandate.stripe_checkout_session_id == session_id
        collection = db.session.scalar(sa.select(Collection))
        assert (collection.purpose, collection.amount_cents) == (CollectionPurpose.JOIN, TOTAL)
        assert collection.debit_date == sepa.earliest_debit_date()
        assert subjects("ada@example.org")[-2:] == [
            "Your direct debit mandate",
            "Your payment will be debited",
        ]
    page = client.get("/account/?lang=en").get_data(as_text=True)
    assert "What joining costs, €35.00, will be debited on" in page

    intent = debit_on_its_date(app, fake_stripe, CollectionPurpose.JOIN)
    assert (intent["amount"], intent["status"]) == (TOTAL, "processing")
    assert settle(client, fake_stripe, intent, "succeeded") == "payment_intent.succeeded"
    with app.app_context():
        membership = membership_of(app, "ada@example.org")
        assert membership.status == MembershipStatus.ACTIVE and membership.number == 1
        collection = db.session.scalar(sa.select(Collection))
        assert collection.status == CollectionStatus.PAID
        payment = collection.payment
        assert (payment.provider, payment.status) == (PaymentProvider.STRIPE, PaymentStatus.PAID)
        assert payment.stripe_payment_intent_id == intent["id"]
        [share] = db.session.scalars(sa.select(Share)).all()
        assert share.paid_at is not None and share.payment_id == payment.id
        assert "Welcome as a member of MeentCoop" in subjects("ada@example.org")


def test_a_failed_join_debit_at_stripe_tells_the_applicant(app, plan, fake_stripe):
    client = logged_in(app, "ada@example.org")
    join_at_stripe(client, fake_stripe)
    intent = debit_on_its_date(app, fake_stripe, CollectionPurpose.JOIN)
    assert settle(client, fake_stripe, intent, "failed") == "payment_intent.payment_failed"
    with app.app_context():
        membership = membership_of(app, "ada@example.org")
        assert membership.status == MembershipStatus.PENDING_PAYMENT
        assert memberships.amount_due(membership) == TOTAL
        assert db.session.scalar(sa.select(Collection.status)) == CollectionStatus.FAILED
        assert subjects("ada@example.org")[-1] == "Your payment could not be debited"
        assert db.session.scalar(sa.select(sa.func.count(Share.id))) == 0
    page = client.get("/account/?lang=en").get_data(as_text=True)
    assert "Pay €35.00 online" in page


def test_stripe_away_when_joining_by_debit_leaves_the_applicant_a_way_on(app, plan, fake_stripe):
    client = logged_in(app, "ada@example.org")
    fake_stripe.stop()
    response = post_form(
        client,
        "/join/lid?lang=en",
        {**JOIN_DATA, "pay_by": "direct_debit"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Direct debit through Stripe does not work right now" in page
    assert "To pay: €35.00." in page
    with app.app_context():
        assert membership_of(app, "ada@example.org").status == MembershipStatus.PENDING_PAYMENT
        assert db.session.scalar(sa.select(sa.func.count(SepaMandate.id))) == 0


def test_shares_bought_by_debit_under_a_stripe_mandate_are_paid_when_it_is(app, fake_stripe):
    with app.app_context():
        class_id = make_share_class().id
        yearly_member("ada@example.org", utcnow() + timedelta(days=365))
    client = login(app, "ada@example.org")
    give_mandate_at_stripe(client, fake_stripe)
    response = post_form(
        client,
        "/account/shares/?lang=en",
        {"share_class": class_id, "quantity": "1", "pay_by": "direct_debit"},
    )
    assert response.status_code == 303
    intent = debit_on_its_date(app, fake_stripe, CollectionPurpose.SHARES)
    assert intent["amount"] == 10000
    assert settle(client, fake_stripe, intent, "succeeded") == "payment_intent.succeeded"
    with app.app_context():
        purchase = db.session.scalar(sa.select(SharePurchase))
        assert shares.amount_owed(purchase) == 0
        [share] = purchase.shares
        assert share.payment.share_purchase_id == purchase.id
        assert share.payment.membership_id is None
