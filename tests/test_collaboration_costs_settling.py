"""Shares are paid only on a current split, and money that pays for nothing goes back:
after a party joined or left (the split is stale), the contact is not offered to pay
and staff cannot record a transfer; a Checkout payment completed for a share that is
gone, paid already or split again is refunded through the fake Stripe."""

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Collaboration, Payment, PaymentStatus, StripeCall
from cooperative.services import collaborations
from tests.collaboration_factories import make_organisation
from tests.conftest import deliver_webhook, post_form
from tests.factories import make_user
from tests.test_collaboration_costs_http import cluster as cluster_fixture
from tests.test_collaboration_costs_http import cost_form, login, shares
from tests.test_collaboration_costs_http import staff as staff_fixture
from tests.test_membership_stripe import only_event

cluster = cluster_fixture
staff = staff_fixture

STALE = "The parties changed since this cost was split"


def a_party_joins(app, cluster_id: int) -> None:
    """Purmerend joins the cluster after its cost was split: the split is stale."""
    with app.app_context():
        contact = make_user("contact@purmerend.example", locale="en")
        organisation = make_organisation("purmerend", "Gemeente Purmerend")
        collaborations.add_party(
            db.session.get(Collaboration, cluster_id), organisation, contact.email
        )
        db.session.commit()


def payments(app) -> list[tuple[int | None, str, int]]:
    with app.app_context():
        return db.session.execute(
            sa.select(Payment.cost_share_id, Payment.status, Payment.refunded_cents).order_by(
                Payment.id
            )
        ).all()


def test_a_stale_split_is_not_paid_online(app, cluster, staff, fake_stripe):
    url = f"/manage/collaborations/{cluster}/costs"
    post_form(staff, url + "/new", cost_form())
    a_party_joins(app, cluster)
    contact = login(app, "contact@wormer.example")
    page = contact.get(url + "?lang=en").get_data(as_text=True)
    assert "Pay €3,333.33 online" not in page
    assert STALE in page and "MEENTCOOP-K" in page
    dutch = contact.get(url + "?lang=nl").get_data(as_text=True)
    assert "pas worden betaald als de kosten opnieuw over de huidige partijen" in dutch
    refused = post_form(contact, url + "/shares/3/pay?lang=en")
    assert refused.status_code == 303 and refused.headers["Location"] == url
    assert STALE in contact.get(url + "?lang=en").get_data(as_text=True)
    assert payments(app) == []
    assert not [r for r in fake_stripe.requests if r.path == "/v1/checkout/sessions"]


def test_a_stale_split_takes_no_transfer(app, cluster, staff):
    url = f"/manage/collaborations/{cluster}/costs"
    post_form(staff, url + "/new", cost_form())
    a_party_joins(app, cluster)
    page = staff.get(url + "?lang=en").get_data(as_text=True)
    assert ">Record a transfer<" not in page
    refused = post_form(staff, url + "/shares/1/transfer?lang=en", {"amount": "3333.34"})
    assert refused.status_code == 422
    assert STALE in refused.get_data(as_text=True)
    assert 'value="3333.34"' in refused.get_data(as_text=True)
    assert shares(app)[0] == (333_334, 0)
    assert payments(app) == []
    # Split again over the four parties, a transfer is taken.
    assert post_form(staff, url + "/1", cost_form()).status_code == 303
    done = post_form(staff, url + "/shares/1/transfer", {"amount": "2500"})
    assert done.status_code == 303
    assert shares(app)[0] == (250_000, 250_000)


def paid_at_stripe(app, contact, fake_stripe, url: str, share_id: int) -> tuple[str, dict]:
    """The contact pays share `share_id` at Stripe; the completed event is held back."""
    paying = post_form(contact, f"{url}/shares/{share_id}/pay")
    assert paying.status_code == 303
    session_id = paying.headers["Location"].rsplit("/", 1)[1]
    fake_stripe.pay(session_id)
    return session_id, only_event(fake_stripe, "checkout.session.completed", session_id)


def paid_for_a_cost_taken_away(app, cluster, staff, fake_stripe):
    """The contact pays share 3 at Stripe; before Stripe's word arrives staff change the
    total (its page is closed) and take the cost away. Returns (the contact's client, the
    session id, the held completed event)."""
    url = f"/manage/collaborations/{cluster}/costs"
    post_form(staff, url + "/new", cost_form())
    contact = login(app, "contact@wormer.example")
    session_id, event = paid_at_stripe(app, contact, fake_stripe, url, 3)
    assert post_form(staff, url + "/1", cost_form(total="9000")).status_code == 303
    assert post_form(staff, url + "/1/remove").status_code == 303
    assert shares(app) == []
    return contact, session_id, event


def refunds(fake_stripe) -> list[dict]:
    return [r.params for r in fake_stripe.requests if r.path == "/v1/refunds"]


def test_a_payment_for_a_cost_taken_away_meanwhile_goes_back(app, cluster, staff, fake_stripe):
    """The contact pays; before Stripe's word arrives staff change the total (its page is
    closed) and then take the cost away: the payment pays for nothing, so it goes back."""
    contact, session_id, event = paid_for_a_cost_taken_away(app, cluster, staff, fake_stripe)
    assert deliver_webhook(contact, fake_stripe, event).status_code == 200
    assert payments(app) == [(None, PaymentStatus.REFUNDED, 333_333)]
    [refund] = refunds(fake_stripe)
    assert refund["amount"] == "333333"
    assert refund["payment_intent"] == fake_stripe.sessions[session_id]["payment_intent"]
    # Stripe's word again (the return page, a repeated event): refunded once.
    assert deliver_webhook(contact, fake_stripe, event).status_code == 200
    assert len(refunds(fake_stripe)) == 1
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count(StripeCall.id)).where(StripeCall.kind == "refund")
            )
            == 1
        )


def test_a_payment_for_a_share_paid_by_bank_meanwhile_goes_back(app, cluster, staff, fake_stripe):
    url = f"/manage/collaborations/{cluster}/costs"
    post_form(staff, url + "/new", cost_form())
    contact = login(app, "contact@wormer.example")
    _session_id, event = paid_at_stripe(app, contact, fake_stripe, url, 3)
    assert post_form(staff, url + "/shares/3/transfer", {"amount": "3333.33"}).status_code == 303
    assert deliver_webhook(contact, fake_stripe, event).status_code == 200
    assert shares(app)[2] == (333_333, 333_333)
    assert payments(app) == [(3, PaymentStatus.REFUNDED, 333_333), (3, PaymentStatus.PAID, 0)]
    assert [refund["amount"] for refund in refunds(fake_stripe)] == ["333333"]


def test_a_payment_on_a_split_gone_stale_meanwhile_goes_back(app, cluster, staff, fake_stripe):
    """A party joins while the contact pays: the amount is no longer what the party owes
    (the cost is split over four now), so it is not counted but given back."""
    url = f"/manage/collaborations/{cluster}/costs"
    post_form(staff, url + "/new", cost_form())
    contact = login(app, "contact@wormer.example")
    _session_id, event = paid_at_stripe(app, contact, fake_stripe, url, 3)
    a_party_joins(app, cluster)
    assert deliver_webhook(contact, fake_stripe, event).status_code == 200
    assert shares(app)[2] == (333_333, 0)
    assert payments(app) == [(3, PaymentStatus.REFUNDED, 333_333)]
    assert [refund["amount"] for refund in refunds(fake_stripe)] == ["333333"]
    # Split again over the four: nothing was paid, so the amounts may change.
    assert post_form(staff, url + "/1", cost_form()).status_code == 303
    assert [amount for amount, _ in shares(app)] == [250_000] * 4


def test_a_cost_paid_into_keeps_its_split_when_a_party_joins(app, cluster, staff, fake_stripe):
    """A cost paid into cannot be split again, so a party joining later has no share in
    it, and the others go on paying theirs (none is left unable to pay)."""
    url = f"/manage/collaborations/{cluster}/costs"
    post_form(staff, url + "/new", cost_form())
    assert post_form(staff, url + "/shares/1/transfer", {"amount": "3333.34"}).status_code == 303
    a_party_joins(app, cluster)
    contact = login(app, "contact@wormer.example")
    page = contact.get(url + "?lang=en").get_data(as_text=True)
    assert STALE not in page and "Pay €3,333.33 online" in page
    assert post_form(staff, url + "/shares/2/transfer", {"amount": "3333.33"}).status_code == 303
    assert shares(app)[:2] == [(333_334, 333_334), (333_333, 333_333)]
    assert len(shares(app)) == 3


def test_two_words_from_stripe_before_the_refund_is_made_refund_once(
    app, cluster, staff, fake_stripe
):
    """Stripe's event and the return page settle the same payment for nothing before the
    refund went out (it goes after the commit): the payment's row is claimed once, so one
    refund is recorded, not two."""
    from cooperative.services import payments as payment_service

    _contact, session_id, _event = paid_for_a_cost_taken_away(app, cluster, staff, fake_stripe)
    with app.app_context():
        for _word in range(2):
            payment_service.settle_session(payment_service.fetch_session(session_id))
        db.session.commit()
        kinds = db.session.scalars(sa.select(StripeCall.kind)).all()
    assert kinds.count("refund") == 1
    assert [refund["amount"] for refund in refunds(fake_stripe)] == ["333333"]
