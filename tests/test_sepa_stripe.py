"""Dues through Stripe, end to end against the fake Stripe with signed webhooks: a member
gives a mandate in Checkout's setup mode (`sepa_debit`), the dues run debits it as an
off-session payment intent made after the commit, and `payment_intent.succeeded`,
`payment_intent.payment_failed` and a dispute (the bank's reversal) settle it."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Collection,
    CollectionStatus,
    MandateKind,
    Membership,
    MembershipStatus,
    PaymentProvider,
    PaymentStatus,
    SepaMandate,
    StripeCall,
    StripeCallStatus,
)
from cooperative.services import membership as memberships
from cooperative.services import sepa
from tests import sepa_fixtures
from tests.conftest import deliver_webhook, post_form
from tests.factories import make_admin
from tests.sepa_fixtures import FEE, due_member, subjects

YEAR = timedelta(days=365)


def login(app, email: str):
    client = app.test_client()
    response = post_form(
        client, "/auth/login", {"email": email, "password": "correct horse battery"}
    )
    assert response.status_code == 303
    return client


def only_event(fake, type_: str, object_id: str) -> dict:
    events = [e for e in fake.events_of_type(type_) if e["data"]["object"]["id"] == object_id]
    assert len(events) == 1, f"{len(events)} {type_} events for {object_id}"
    return events[0]


@pytest.fixture
def member(app, fake_stripe):
    """A yearly member due today (they were told 14 days ago), logged in."""
    with app.app_context():
        membership = due_member("ada@example.org", sepa_fixtures.passed_debit_day(), mandate=False)
        membership_id = membership.id
    return login(app, "ada@example.org"), membership_id


def give_mandate_at_stripe(client, fake_stripe) -> str:
    """The member goes to Stripe, sets up SEPA Direct Debit and the webhook arrives;
    returns the session id."""
    page = client.get("/account/mandate?lang=en").get_data(as_text=True)
    assert "Give the mandate at Stripe" in page and 'name="iban"' not in page
    response = post_form(client, "/account/mandate/stripe?lang=en")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith(fake_stripe.url + "/pay/cs_")
    session_id = location.rsplit("/", 1)[1]
    back = fake_stripe.pay(session_id)
    completed = only_event(fake_stripe, "checkout.session.completed", session_id)
    assert deliver_webhook(client, fake_stripe, completed).json["outcome"] == "mandate kept"
    # Coming back to the site after the webhook: nothing is kept twice.
    assert back.startswith("http://localhost/account/mandate?session_id=cs_")
    assert client.get(urlsplit(back).path + "?" + urlsplit(back).query).status_code == 303
    assert deliver_webhook(client, fake_stripe, completed).json["outcome"] == "duplicate"
    return session_id


def debit_today(app, client, fake_stripe):
    """The dues run of 14 days ago comes due: the admin sends the debits to Stripe."""
    with app.app_context():
        sepa_fixtures.run_dues_of(sepa_fixtures.passed_debit_day())
        db.session.commit()
        make_admin("admin@example.org")
    admin = login(app, "admin@example.org")
    assert post_form(admin, "/admin/dues/stripe").status_code == 303
    [intent] = fake_stripe.payment_intents.values()
    return intent


def test_a_mandate_given_at_stripe_is_debited_and_renews_the_membership(app, member, fake_stripe):
    client, membership_id = member
    session_id = give_mandate_at_stripe(client, fake_stripe)
    created = [r for r in fake_stripe.requests if r.path == "/v1/checkout/sessions"][0].params
    assert created["mode"] == "setup"
    assert created["allowed_payment_method_types"] == ["sepa_debit"]
    assert created["metadata"] == {"membership_id": str(membership_id)}
    with app.app_context():
        mandate = db.session.scalar(sa.select(SepaMandate))
        setup = fake_stripe.setup_intents[fake_stripe.sessions[session_id]["setup_intent"]]
        assert mandate.kind == MandateKind.STRIPE
        assert mandate.stripe_payment_method_id == setup["payment_method"]
        assert mandate.stripe_mandate_id == setup["mandate"]
        assert mandate.stripe_customer_id == setup["customer"]
        assert (mandate.iban, mandate.iban_last4) == ("", "3000")
        assert mandate.account_holder == "Jenny Rosen"
        assert subjects("ada@example.org")[-1] == "Your direct debit mandate"
        old_end = db.session.get(Membership, membership_id).ends_at

    intent = debit_today(app, client, fake_stripe)
    assert intent["status"] == "processing"
    assert (intent["amount"], intent["currency"]) == (FEE, "eur")
    assert intent["payment_method"] == setup["payment_method"]
    assert intent["mandate"] == setup["mandate"]
    assert intent["customer"] == setup["customer"]
    call = [r for r in fake_stripe.requests if r.path == "/v1/payment_intents"][0]
    assert call.params["off_session"] == "true" and call.params["confirm"] == "true"
    with app.app_context():
        collection = db.session.scalar(sa.select(Collection))
        payment = collection.payment
        assert collection.status == CollectionStatus.SUBMITTED
        assert call.headers["idempotency-key"] == f"debit-{payment.id}"
        assert payment.stripe_payment_intent_id == intent["id"]
        assert payment.provider == PaymentProvider.STRIPE
        assert db.session.scalar(sa.select(StripeCall.status)) == StripeCallStatus.SENT

    fake_stripe.settle_debit(intent["id"], "succeeded")
    succeeded = only_event(fake_stripe, "payment_intent.succeeded", intent["id"])
    assert deliver_webhook(client, fake_stripe, succeeded).json["outcome"] == (
        "payment_intent.succeeded"
    )
    assert deliver_webhook(client, fake_stripe, succeeded).json["outcome"] == "duplicate"
    with app.app_context():
        collection = db.session.scalar(sa.select(Collection))
        assert collection.status == CollectionStatus.PAID
        assert collection.payment.status == PaymentStatus.PAID
        assert collection.membership.ends_at == old_end + YEAR
        assert subjects("ada@example.org")[-1] == "Your membership is renewed"

    # Weeks later the member's bank takes it back: a dispute on the debit.
    fake_stripe.dispute_debit(intent["id"])
    [disputed] = fake_stripe.events_of_type("charge.dispute.created")
    assert deliver_webhook(client, fake_stripe, disputed).json["outcome"] == (
        "charge.dispute.created"
    )
    with app.app_context():
        collection = db.session.scalar(sa.select(Collection))
        assert collection.status == CollectionStatus.REVERSED
        assert collection.membership.ends_at == old_end
        assert collection.membership.status == MembershipStatus.ACTIVE
        assert memberships.amount_due(collection.membership) == FEE
        assert subjects("ada@example.org")[-1] == "Your dues were returned by your bank"


def test_a_failed_debit_tells_the_member_and_leaves_them_to_pay(app, member, fake_stripe):
    client, _ = member
    give_mandate_at_stripe(client, fake_stripe)
    intent = debit_today(app, client, fake_stripe)
    fake_stripe.settle_debit(intent["id"], "failed")
    failed = only_event(fake_stripe, "payment_intent.payment_failed", intent["id"])
    assert deliver_webhook(client, fake_stripe, failed).json["outcome"] == (
        "payment_intent.payment_failed"
    )
    with app.app_context():
        collection = db.session.scalar(sa.select(Collection))
        assert collection.status == CollectionStatus.FAILED
        assert "insufficient funds" in collection.reason
        assert collection.payment.status == PaymentStatus.FAILED
        assert memberships.amount_due(collection.membership) == FEE
        assert subjects("ada@example.org")[-1] == "Your dues could not be debited"


def test_an_ended_mandate_is_not_debited_and_nothing_goes_to_stripe(app, member, fake_stripe):
    client, _ = member
    give_mandate_at_stripe(client, fake_stripe)
    with app.app_context():
        sepa_fixtures.run_dues_of(sepa_fixtures.passed_debit_day())
        db.session.commit()
    assert post_form(client, "/account/mandate/end").status_code == 303
    [stripe_mandate] = fake_stripe.mandates.values()
    assert stripe_mandate["status"] == "inactive"  # ended at Stripe too
    with app.app_context():
        make_admin("admin@example.org")
    assert post_form(login(app, "admin@example.org"), "/admin/dues/stripe").status_code == 303
    assert fake_stripe.payment_intents == {}
    with app.app_context():
        assert db.session.scalar(sa.select(Collection.status)) == CollectionStatus.CANCELLED


def test_stripe_away_when_starting_leaves_the_member_a_message(app, member, fake_stripe):
    client, _ = member
    fake_stripe.stop()
    response = post_form(client, "/account/mandate/stripe?lang=en", follow_redirects=True)
    assert "does not work right now" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SepaMandate)) == 0


def test_a_forged_or_unsigned_event_changes_nothing(app, member, fake_stripe):
    client, _ = member
    give_mandate_at_stripe(client, fake_stripe)
    intent = debit_today(app, client, fake_stripe)
    fake_stripe.settle_debit(intent["id"], "succeeded")
    succeeded = only_event(fake_stripe, "payment_intent.succeeded", intent["id"])
    response = deliver_webhook(client, fake_stripe, succeeded, secret="whsec_wrong")
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(Collection.status)) == CollectionStatus.SUBMITTED


def test_two_members_are_debited_with_a_key_each(app, member, fake_stripe):
    client, _ = member
    give_mandate_at_stripe(client, fake_stripe)
    with app.app_context():
        due_member("bob@example.org", sepa.local_today(), mandate=False)
    give_mandate_at_stripe(login(app, "bob@example.org"), fake_stripe)
    with app.app_context():
        sepa_fixtures.run_dues_of(sepa_fixtures.passed_debit_day())
        db.session.commit()
        make_admin("admin@example.org")
    assert post_form(login(app, "admin@example.org"), "/admin/dues/stripe").status_code == 303
    keys = [
        r.headers["idempotency-key"]
        for r in fake_stripe.requests
        if r.path == "/v1/payment_intents"
    ]
    assert len(keys) == 2 and len(set(keys)) == 2
    assert len(fake_stripe.payment_intents) == 2
    with app.app_context():
        assert set(db.session.scalars(sa.select(StripeCall.status))) == {StripeCallStatus.SENT}


def mandate_revoked_at_stripe(app, client, fake_stripe) -> None:
    """The member gave the mandate at Stripe and, since, ended it at their bank (Stripe
    knows, the site does not): the dues run of 14 days ago comes due."""
    give_mandate_at_stripe(client, fake_stripe)
    [stripe_mandate] = fake_stripe.mandates.values()
    stripe_mandate["status"] = "inactive"
    with app.app_context():
        sepa_fixtures.run_dues_of(sepa_fixtures.passed_debit_day())
        db.session.commit()
        make_admin("admin@example.org")


def assert_refused_debit_failed(app, fake_stripe) -> None:
    assert fake_stripe.payment_intents == {}  # Stripe made nothing
    with app.app_context():
        call = db.session.scalar(sa.select(StripeCall))
        assert call.status == StripeCallStatus.FAILED and "not active" in call.last_error
        collection = db.session.scalar(sa.select(Collection))
        assert collection.status == CollectionStatus.FAILED
        assert "not active" in collection.reason
        assert collection.payment.status == PaymentStatus.FAILED
        assert memberships.amount_due(collection.membership) == FEE
        assert subjects("ada@example.org")[-1] == "Your dues could not be debited"


def test_a_debit_stripe_refuses_after_the_commit_fails_its_collection(app, member, fake_stripe):
    client, _ = member
    mandate_revoked_at_stripe(app, client, fake_stripe)
    # The debit is made right after the admin's commit, in a session of its own.
    assert post_form(login(app, "admin@example.org"), "/admin/dues/stripe").status_code == 303
    assert_refused_debit_failed(app, fake_stripe)


def test_a_debit_stripe_refuses_in_send_stripe_fails_its_collection(app, member, fake_stripe):
    from cooperative.services import sepa_stripe, stripe_calls

    client, _ = member
    mandate_revoked_at_stripe(app, client, fake_stripe)
    with app.app_context():
        assert sepa_stripe.submit_due() == 1
        # The process stopped right after the commit: `coop send-stripe` makes the call.
        db.session.info.pop(stripe_calls.RECORDED)
        db.session.commit()
        assert db.session.scalar(sa.select(Collection.status)) == CollectionStatus.SUBMITTED
        assert stripe_calls.send_due() == (0, 1)
    assert_refused_debit_failed(app, fake_stripe)
    with app.app_context():  # tried once more later: nothing changes, no second e-mail
        assert stripe_calls.send_due() == (0, 0)
        assert subjects("ada@example.org").count("Your dues could not be debited") == 1
