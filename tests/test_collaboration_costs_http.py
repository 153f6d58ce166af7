"""The shared costs' pages over HTTP (`/manage/collaborations/<id>/costs`): staff set and
split a cost (bad input back with 422 and the typing kept), record a transfer; a party's
contact sees only its own share and pays it online through the fake Stripe or by bank
with its reference; strangers see nothing."""

import re

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cooperative.extensions import db
from cooperative.models import (
    CollaborationKind,
    CollaborationParty,
    CostShare,
    Payment,
    PaymentStatus,
    SharedCost,
    User,
)
from cooperative.services import mail
from tests.collaboration_factories import make_collaboration, make_organisation
from tests.conftest import body_of, csrf_token, deliver_webhook, post_form
from tests.factories import make_user
from tests.test_membership_stripe import only_event, visit


def login(app, email: str, **fields):
    with app.app_context():
        if db.session.scalar(sa.select(User).where(User.email == email)) is None:
            make_user(email, locale="en", **fields)
    client = app.test_client()
    post_form(client, "/auth/login", {"email": email, "password": "correct horse battery"})
    return client


@pytest.fixture
def cluster(app):
    """A cluster of three municipalities, a contact each; returns the collaboration's id."""
    with app.app_context():
        parties = []
        for slug, name in (
            ("zaanstad", "Zaanstad"),
            ("oostzaan", "Oostzaan"),
            ("wormer", "Wormer"),
        ):
            contact = make_user(f"contact@{slug}.example", name=f"Contact {name}", locale="en")
            parties.append((make_organisation(slug, f"Gemeente {name}"), contact))
        collaboration = make_collaboration(
            "klimaatcluster", "Klimaatcluster Zaanstreek", CollaborationKind.CLUSTER, parties
        )
        return collaboration.id


@pytest.fixture
def staff(app):
    return login(app, "staff@example.org", is_programme_staff=True)


def cost_form(**fields) -> dict:
    form = {
        "description": "Klimaatacties 2026",
        "total": "10000",
        "split": "equal",
        "key_name": "",
    }
    form.update(fields)
    return form


def keys(app, cluster, *values) -> dict:
    """The key fields of the cost form, one per party of `cluster`, as a browser sends them."""
    with app.app_context():
        parties = db.session.scalars(
            sa.select(CollaborationParty.id)
            .where(CollaborationParty.collaboration_id == cluster)
            .order_by(CollaborationParty.id)
        ).all()
    form = {}
    for index, (party, value) in enumerate(zip(parties, values, strict=True)):
        form[f"keys-{index}-party"] = str(party)
        form[f"keys-{index}-key"] = value
    return form


def shares(app) -> list[tuple[int, int]]:
    with app.app_context():
        return db.session.execute(
            sa.select(CostShare.amount_cents, CostShare.paid_cents).order_by(CostShare.id)
        ).all()


def test_staff_set_a_cost_split_equally_and_see_every_share(app, cluster, staff):
    url = f"/manage/collaborations/{cluster}/costs"
    assert staff.get(url + "/new?lang=en").status_code == 200
    response = post_form(staff, url + "/new?lang=en", cost_form())
    assert response.status_code == 303 and response.headers["Location"] == url
    assert [amount for amount, _ in shares(app)] == [333_334, 333_333, 333_333]
    page = staff.get(url + "?lang=en").get_data(as_text=True)
    for name in ("Gemeente Zaanstad", "Gemeente Oostzaan", "Gemeente Wormer"):
        assert name in page
    assert "€3,333.34" in page and "excl. VAT" in page
    assert "The shares add up to €10,000.00." in page
    assert page.count(">Record a transfer<") == 3


def test_a_split_by_key_with_the_keys_typed_on_the_form(app, cluster, staff):
    url = f"/manage/collaborations/{cluster}/costs/new?lang=en"
    form = cost_form(split="by_key", key_name="inwoners", vat_included="y")
    form.update(keys(app, cluster, "160000", "9800", "16500"))
    assert post_form(staff, url, form).status_code == 303
    assert [amount for amount, _ in shares(app)] == [858_830, 52_603, 88_567]
    with app.app_context():
        cost = db.session.scalar(sa.select(SharedCost))
        assert cost.vat_included and cost.key_name == "inwoners"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"description": ""}, "Please say what the cost is for."),
        ({"total": ""}, "Please fill in the total amount."),
        ({"total": "tien euro"}, "Please write an amount in euros, like 4,50."),
        ({"total": "0"}, "A shared cost is more than € 0."),
        ({"split": "lottery"}, "Not a valid choice"),
        ({"split": "by_key"}, "Please say what the key counts"),
        ({"split": "by_key", "key_name": "inwoners", "keys": ("1", "0", "3")}, "whole number"),
        (
            {"split": "by_key", "key_name": "inwoners", "keys": ("1", "", "3")},
            "Give Gemeente Oostzaan a key of 1 or more, or split the cost equally.",
        ),
        ({"keys": ("1", "x", "3")}, "Not a valid integer value"),
    ],
)
def test_bad_input_comes_back_with_422_and_the_typing_kept(app, cluster, staff, fields, message):
    fields = dict(fields)
    typed_keys = fields.pop("keys", ("", "", ""))
    form = cost_form(**fields)
    form.update(keys(app, cluster, *typed_keys))
    response = post_form(staff, f"/manage/collaborations/{cluster}/costs/new?lang=en", form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert f'value="{form["description"]}"' in page
    for value in typed_keys:
        if value:
            assert f'value="{value}"' in page
    assert shares(app) == []


def test_a_contact_sees_only_its_own_share_and_the_bank_reference(app, cluster, staff):
    post_form(staff, f"/manage/collaborations/{cluster}/costs/new", cost_form())
    contact = login(app, "contact@oostzaan.example")
    page = contact.get(f"/manage/collaborations/{cluster}/costs?lang=en").get_data(as_text=True)
    assert "Gemeente Oostzaan" in page and "€3,333.33" in page
    assert "Gemeente Zaanstad" not in page and "Gemeente Wormer" not in page
    reference = re.search(r"MEENTCOOP-K\d{4}-\d{4}", page).group(0)
    with app.app_context():
        assert db.session.scalar(sa.select(CostShare.reference).where(CostShare.id == 2)) == (
            reference
        )
    assert "Record a transfer" not in page and "New shared cost" not in page
    # Staff pages: 403 for a contact.
    assert contact.get(f"/manage/collaborations/{cluster}/costs/new").status_code == 403
    assert contact.get(f"/manage/collaborations/{cluster}/costs/shares/2/transfer").status_code == (
        403
    )


def test_strangers_and_the_logged_out_see_nothing(app, cluster, staff):
    post_form(staff, f"/manage/collaborations/{cluster}/costs/new", cost_form())
    url = f"/manage/collaborations/{cluster}/costs"
    stranger = login(app, "stranger@example.org")
    assert stranger.get(url).status_code == 404
    assert post_form(stranger, url + "/shares/1/pay").status_code == 404
    assert app.test_client().get(url).headers["Location"].startswith("/auth/login")
    assert staff.get("/manage/collaborations/999/costs").status_code == 404
    # Another party's share through one's own collaboration: 404.
    contact = login(app, "contact@oostzaan.example")
    assert post_form(contact, url + "/shares/1/pay").status_code == 404


def test_staff_record_a_transfer_of_exactly_what_is_due(app, cluster, staff):
    post_form(staff, f"/manage/collaborations/{cluster}/costs/new", cost_form())
    url = f"/manage/collaborations/{cluster}/costs/shares/1/transfer?lang=en"
    assert "MEENTCOOP-K" in staff.get(url).get_data(as_text=True)
    wrong = post_form(staff, url, {"amount": "3333.00"})
    assert wrong.status_code == 422
    assert "The amount owed is €3,333.34." in wrong.get_data(as_text=True)
    assert 'value="3333.00"' in wrong.get_data(as_text=True)
    assert post_form(staff, url, {"amount": ""}).status_code == 422
    done = post_form(staff, url, {"amount": "3333.34"})
    assert done.status_code == 303
    assert shares(app)[0] == (333_334, 333_334)
    page = staff.get(f"/manage/collaborations/{cluster}/costs?lang=en").get_data(as_text=True)
    assert "paid in full" in page and page.count(">Record a transfer<") == 2
    # Paid into: the split stays, the cost cannot be taken away.
    changed = post_form(
        staff, f"/manage/collaborations/{cluster}/costs/1?lang=en", cost_form(total="12000")
    )
    assert changed.status_code == 422
    assert "only the description" in changed.get_data(as_text=True)
    removed = post_form(staff, f"/manage/collaborations/{cluster}/costs/1/remove")
    assert removed.status_code == 303
    assert len(shares(app)) == 3


def test_a_cost_nothing_was_paid_on_can_be_changed_and_taken_away(app, cluster, staff):
    url = f"/manage/collaborations/{cluster}/costs"
    post_form(staff, url + "/new", cost_form())
    assert 'value="10000,00"' in staff.get(url + "/1?lang=nl").get_data(as_text=True)
    assert post_form(staff, url + "/1", cost_form(total="900")).status_code == 303
    assert [amount for amount, _ in shares(app)] == [30000, 30000, 30000]
    assert post_form(staff, url + "/1/remove").status_code == 303
    assert shares(app) == []
    assert post_form(staff, url + "/1/remove").status_code == 404


def test_a_contact_pays_its_share_online_once(app, cluster, staff, fake_stripe):
    post_form(staff, f"/manage/collaborations/{cluster}/costs/new", cost_form())
    contact = login(app, "contact@wormer.example")
    url = f"/manage/collaborations/{cluster}/costs"
    page = contact.get(url + "?lang=en").get_data(as_text=True)
    assert "Pay €3,333.33 online" in page
    paying = post_form(contact, url + "/shares/3/pay")
    assert paying.status_code == 303 and "/pay/cs_" in paying.headers["Location"]
    session_id = paying.headers["Location"].rsplit("/", 1)[1]
    [create] = [r for r in fake_stripe.requests if r.path == "/v1/checkout/sessions"]
    assert create.params["success_url"].startswith(f"http://localhost{url}?session_id=")
    assert create.params["customer_email"] == "contact@wormer.example"
    assert fake_stripe.sessions[session_id]["amount_total"] == 333_333
    # Only the party's own contact pays: staff and other contacts may not.
    assert post_form(staff, url + "/shares/3/pay").status_code == 403
    back = fake_stripe.pay(session_id)
    event = only_event(fake_stripe, "checkout.session.completed", session_id)
    assert deliver_webhook(contact, fake_stripe, event).status_code == 200
    assert deliver_webhook(contact, fake_stripe, event).json["outcome"] == "duplicate"
    visit(contact, back)
    assert shares(app)[2] == (333_333, 333_333)
    with app.app_context():
        [payment] = db.session.scalars(sa.select(Payment)).all()
        assert payment.status == PaymentStatus.PAID and payment.cost_share_id == 3
    page = contact.get(url + "?lang=en").get_data(as_text=True)
    assert "paid in full" in page and "online" not in page.split("<main", 1)[1]
    refused = post_form(contact, url + "/shares/3/pay", follow_redirects=True)
    assert "Nothing is due on this share." in refused.get_data(as_text=True)


def test_coming_back_from_a_cancelled_checkout(app, cluster, staff, fake_stripe):
    post_form(staff, f"/manage/collaborations/{cluster}/costs/new", cost_form())
    contact = login(app, "contact@wormer.example")
    url = f"/manage/collaborations/{cluster}/costs"
    post_form(contact, url + "/shares/3/pay")
    page = contact.get(url + "?checkout=cancelled&lang=en", follow_redirects=True)
    assert "You have not paid yet." in page.get_data(as_text=True)
    assert shares(app)[2] == (333_333, 0)


def test_without_stripe_the_contact_pays_by_bank(app, cluster, staff):
    post_form(staff, f"/manage/collaborations/{cluster}/costs/new", cost_form())
    contact = login(app, "contact@wormer.example")
    url = f"/manage/collaborations/{cluster}/costs"
    page = contact.get(url + "?lang=en").get_data(as_text=True)
    assert "online" not in page.split("<main", 1)[1]
    assert "Transfer the amount to the cooperative" in page
    token = csrf_token(contact, url)
    refused = contact.post(url + "/shares/3/pay", data={"csrf_token": token})
    assert refused.status_code == 303
    assert shares(app)[2] == (333_333, 0)


def test_the_costs_page_counts_queries_not_parties(app, staff, count_queries):
    with app.app_context():
        many = [(make_organisation(f"gemeente-{n}", f"Gemeente {n}"), None) for n in range(12)]
        collaboration = make_collaboration("groot-cluster", parties=many).id
    url = f"/manage/collaborations/{collaboration}/costs"
    post_form(staff, url + "/new", cost_form())
    post_form(staff, url + "/new", cost_form(description="Projectleider"))
    with count_queries as counted:
        assert staff.get(url).status_code == 200
    assert counted.count <= 12, counted.statements


def test_the_pages_speak_dutch(app, cluster, staff):
    url = f"/manage/collaborations/{cluster}/costs"
    form = cost_form(split="by_key", key_name="inwoners")
    form.update(keys(app, cluster, "1", "", "3"))
    refused = post_form(staff, url + "/new?lang=nl", form).get_data(as_text=True)
    assert "Geef Gemeente Oostzaan een sleutel van 1 of meer" in refused
    post_form(staff, url + "/new", cost_form())
    page = staff.get(url + "?lang=nl").get_data(as_text=True)
    assert "Gedeelde kosten" in page and "gelijk over 3 partijen" in page
    assert "excl. btw" in page and "€\xa03.333,34" in page
    contact = login(app, "contact@oostzaan.example")
    own = contact.get(url + "?lang=nl").get_data(as_text=True)
    assert "Het deel van Gemeente Oostzaan betalen" in own and "Kenmerk" in own


def test_a_payment_for_a_share_split_again_meanwhile_goes_back(app, cluster, staff, fake_stripe):
    """The contact pays at Stripe; before its webhook arrives staff change the total:
    the payment pays for nothing due any more, so it is refunded, and the share stays due."""
    url = f"/manage/collaborations/{cluster}/costs"
    post_form(staff, url + "/new", cost_form())
    contact = login(app, "contact@wormer.example")
    session_id = post_form(contact, url + "/shares/3/pay").headers["Location"].rsplit("/", 1)[1]
    fake_stripe.pay(session_id)
    assert post_form(staff, url + "/1", cost_form(total="9000")).status_code == 303
    event = only_event(fake_stripe, "checkout.session.completed", session_id)
    assert deliver_webhook(contact, fake_stripe, event).status_code == 200
    assert shares(app)[2] == (300_000, 0)
    with app.app_context():
        [payment] = db.session.scalars(sa.select(Payment)).all()
        assert payment.status == PaymentStatus.REFUNDED
        assert payment.refunded_cents == 333_333
    assert any(r.path == "/v1/refunds" for r in fake_stripe.requests)


def test_each_contact_is_mailed_its_share_and_reference(app, cluster, staff, smtp_server):
    url = f"/manage/collaborations/{cluster}/costs"
    post_form(staff, url + "/new", cost_form())
    with app.app_context():
        assert mail.send_pending() == (3, 0)
        references = db.session.scalars(sa.select(CostShare.reference).order_by(CostShare.id))
        references = list(references)
    [message] = smtp_server.to("contact@oostzaan.example")
    assert message["Subject"] == "Your share of a shared cost: Klimaatacties 2026"
    body = body_of(message)
    assert "the share of Gemeente Oostzaan is €3,333.33" in body
    assert f"Reference: {references[1]}" in body
    assert f"http://localhost{url}" in body
    # A new total changes every share: each contact hears again; a new description alone
    # changes none.
    post_form(staff, url + "/1", cost_form(total="9000"))
    post_form(staff, url + "/1", cost_form(total="9000", description="Klimaatacties"))
    with app.app_context():
        assert mail.send_pending() == (3, 0)
    assert "€3,000.00" in body_of(smtp_server.to("contact@oostzaan.example")[1])
    # Paid in full: the contact hears that it arrived.
    post_form(staff, url + "/shares/2/transfer", {"amount": "3000"})
    with app.app_context():
        assert mail.send_pending() == (1, 0)
    receipt = smtp_server.to("contact@oostzaan.example")[2]
    assert receipt["Subject"] == "Received: your share of Klimaatacties"
    assert "We have received €3,000.00 from Gemeente Oostzaan" in body_of(receipt)
    assert references[1] in body_of(receipt)


HOSTILE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "0", "-1", "1", "9800", "2147483648", "1e3", "1,5", "\x00", "<b>"]),
)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    description=HOSTILE,
    total=st.one_of(HOSTILE, st.integers(-10, 10**9).map(str)),
    split=st.sampled_from(["equal", "by_key", "", "lottery"]),
    key_name=HOSTILE,
    typed=st.lists(HOSTILE, min_size=3, max_size=3),
)
def test_hostile_cost_forms_never_fail_and_what_is_stored_adds_up(
    app, cluster, staff, description, total, split, key_name, typed
):
    form = cost_form(description=description, total=total, split=split, key_name=key_name)
    form.update(keys(app, cluster, *typed))
    response = post_form(staff, f"/manage/collaborations/{cluster}/costs/new", form)
    assert response.status_code in (303, 422)
    with app.app_context():
        stored = db.session.scalars(sa.select(SharedCost)).all()
        if response.status_code == 422:
            assert stored == []
            return
        [cost] = stored
        assert sum(share.amount_cents for share in cost.shares) == cost.total_cents > 0
        assert len(cost.shares) == 3 and "\x00" not in cost.description
        db.session.delete(cost)
        db.session.commit()


def test_a_party_removed_behind_the_costs_back_asks_for_a_new_split(app, cluster, staff):
    url = f"/manage/collaborations/{cluster}/costs"
    post_form(staff, url + "/new", cost_form())
    with app.app_context():
        party = db.session.scalar(
            sa.select(CollaborationParty).where(
                CollaborationParty.contact.has(name="Contact Wormer")
            )
        )
        db.session.delete(party)
        db.session.commit()
    page = staff.get(url + "?lang=en")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "The parties changed since this cost was split." in text
    assert "Gemeente Wormer" not in text
    assert post_form(staff, url + "/1", cost_form()).status_code == 303
    assert [amount for amount, _ in shares(app)][-2:] == [500_000, 500_000]
