"""Joining and buying shares by direct debit under the cooperative's own mandate (the
bank route): the join form takes the mandate (bad input 422, the typing kept), what
joining costs is announced for the earliest debit date and goes in the next pain.008
file; paid, the member is admitted with the share paid, as after a bank transfer;
failed, they are told and pay another way. Shares: only with a mandate in force."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Collection,
    CollectionPurpose,
    CollectionRun,
    CollectionStatus,
    MandateKind,
    Membership,
    MembershipPlan,
    MembershipStatus,
    Payment,
    PaymentProvider,
    PaymentStatus,
    SepaMandate,
    Share,
    ShareEvent,
    SharePurchase,
    StripeCall,
    User,
    utcnow,
)
from cooperative.refusals import Refused
from cooperative.services import (
    admission,
    debits,
    dues,
    sepa,
    sepa_file,
    share_payments,
    shares,
)
from cooperative.services import membership as memberships
from tests import sepa_fixtures
from tests.conftest import post_form
from tests.factories import make_plan, make_user
from tests.sepa_fixtures import MEMBER_IBAN, last_body, subjects, with_mandate
from tests.share_factories import make_member_share_class, make_share_class
from tests.test_membership_stripe import JOIN_DATA, admin_client, logged_in, membership_of
from tests.test_sepa_http import login

creditor = sepa_fixtures.creditor
DEBIT = {**JOIN_DATA, "pay_by": "direct_debit"}
MANDATE = {"account_holder": "Ada Lovelace", "iban": MEMBER_IBAN, "consent": "y"}
TOTAL = 3500  # the plan's 10 euros and the member share's 25


@pytest.fixture
def plan(app):
    """A yearly plan of 10 euros and the required member share of 25."""
    with app.app_context():
        make_member_share_class()
        make_plan("lid", fee_cents=1000, period="yearly", name_en="Member", name_nl="Lid")


def join_by_debit(client, **changes):
    return post_form(client, "/join/lid?lang=en", {**DEBIT, **MANDATE, **changes})


def join_collection() -> Collection:
    return db.session.scalar(
        sa.select(Collection).where(Collection.purpose == CollectionPurpose.JOIN)
    )


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def on_debit_day(collection: Collection) -> datetime:
    """Noon in Amsterdam on the collection's debit date."""
    return sepa.start_of(collection.debit_date) + timedelta(hours=12)


# --- the join form -----------------------------------------------------------------------


def test_direct_debit_is_offered_with_the_mandate_text_only_when_mandates_are_taken(
    app, plan, monkeypatch
):
    client = logged_in(app, "ada@example.org")
    page = client.get("/join/lid?lang=en").get_data(as_text=True)
    assert 'value="direct_debit"' not in page and 'name="iban"' not in page
    refused = post_form(client, "/join/lid?lang=en", DEBIT)
    assert refused.status_code == 422
    assert "Paying by direct debit is not possible here" in refused.get_data(as_text=True)
    with app.app_context():
        assert membership_of(app, "ada@example.org") is None

    monkeypatch.setitem(app.config, "SEPA_CREDITOR_ID", sepa_fixtures.CREDITOR_ID)
    monkeypatch.setitem(app.config, "BANK_IBAN", sepa_fixtures.COOP_IBAN)
    page = client.get("/join/lid?lang=en").get_data(as_text=True)
    assert 'value="direct_debit"' in page and 'name="iban"' in page
    assert "SEPA direct debit mandate" in page and sepa_fixtures.CREDITOR_ID in page
    assert "and once what joining costs" in page
    with app.app_context():
        earliest = sepa.earliest_debit_date()
    assert f"We debit €35.00 once, on {earliest.day} " in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"iban": "NL02ABNA0123456788"}, "This IBAN is not right"),
        ({"iban": ""}, "Please give your IBAN."),
        ({"account_holder": ""}, "Please give the name of the account holder."),
        ({"consent": ""}, "Please tick the box to give the mandate."),
    ],
)
def test_a_bad_mandate_at_joining_is_422_with_the_typing_kept_and_nothing_saved(
    app, plan, creditor, changes, message
):
    client = logged_in(app, "ada@example.org")
    response = join_by_debit(client, **changes)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert 'value="Javastraat"' in page and 'value="Ada L."' in page
    assert f'value="{changes.get("iban", MEMBER_IBAN)}"' in page
    assert re.search(r'<input checked[^>]*value="direct_debit"', page)
    with app.app_context():
        assert membership_of(app, "ada@example.org") is None
        assert count(SepaMandate) == 0 and count(Collection) == 0


def test_joining_by_debit_gives_the_mandate_and_announces_what_joining_costs(app, plan, creditor):
    client = logged_in(app, "ada@example.org")
    response = join_by_debit(client)
    assert response.status_code == 303 and response.headers["Location"].endswith("/account/")
    with app.app_context():
        membership = membership_of(app, "ada@example.org")
        assert membership.status == MembershipStatus.PENDING_PAYMENT
        mandate = db.session.scalar(sa.select(SepaMandate))
        assert (mandate.kind, mandate.iban, mandate.membership_id) == (
            MandateKind.OWN,
            MEMBER_IBAN,
            membership.id,
        )
        collection = join_collection()
        assert collection.amount_cents == TOTAL == memberships.amount_due(membership)
        assert collection.debit_date == sepa.earliest_debit_date()
        assert collection.status == CollectionStatus.SCHEDULED
        assert collection.prenotified_at is not None and collection.sequence_type == "FRST"
        assert collection.period_ends_at is None and collection.run.file_xml is None
        assert subjects("ada@example.org")[-2:] == [
            "Your direct debit mandate",
            "Your payment will be debited",
        ]
        body = last_body("ada@example.org")
        assert "€35.00" in body and "6789" in body and "joining MeentCoop" in body
        assert collection.end_to_end_id in body
    page = client.get("/account/?lang=en").get_data(as_text=True)
    assert "What joining costs, €35.00, will be debited on" in page
    assert "Pay €35.00 online" not in page and "To pay:" not in page
    mandate_page = client.get("/account/mandate?lang=en").get_data(as_text=True)
    assert "Joining" in mandate_page and "Announced" in mandate_page


def test_paid_in_the_next_file_the_member_is_admitted_with_the_share_paid(app, plan, creditor):
    client = logged_in(app, "ada@example.org")
    assert join_by_debit(client).status_code == 303
    with app.app_context():
        run_id = join_collection().run_id
    admin = admin_client(app)
    assert "Joining" in admin.get(f"/admin/dues/{run_id}?lang=en").get_data(as_text=True)
    assert post_form(admin, f"/admin/dues/{run_id}/file").status_code == 303
    with app.app_context():
        collection = join_collection()
        assert collection.status == CollectionStatus.SUBMITTED
        xml = collection.run.file_xml
        assert "Lidmaatschap en ledenaandeel MeentCoop" in xml
        assert '<InstdAmt Ccy="EUR">35.00</InstdAmt>' in xml and "FRST" in xml
        with pytest.raises(Refused):  # not before the debit date
            dues.record_paid(collection)
        dues.record_paid(collection, now=on_debit_day(collection))
        db.session.commit()
        membership = membership_of(app, "ada@example.org")
        assert membership.status == MembershipStatus.ACTIVE and membership.number == 1
        [share] = db.session.scalars(sa.select(Share)).all()
        payment = collection.payment
        assert share.paid_at is not None and share.payment_id == payment.id
        assert (payment.provider, payment.status, payment.amount_cents) == (
            PaymentProvider.SEPA_DEBIT,
            PaymentStatus.PAID,
            TOTAL,
        )
        assert "Welcome as a member of MeentCoop" in subjects("ada@example.org")
        assert memberships.amount_due(membership) == 0


def test_a_failed_join_debit_tells_the_member_who_can_pay_another_way(app, plan, creditor):
    client = logged_in(app, "ada@example.org")
    join_by_debit(client)
    with app.app_context():
        collection = join_collection()
        sepa_file.make_file(collection.run)
        dues.record_failed(collection, "AM04 insufficient funds", now=on_debit_day(collection))
        db.session.commit()
        membership = membership_of(app, "ada@example.org")
        assert membership.status == MembershipStatus.PENDING_PAYMENT
        assert collection.status == CollectionStatus.FAILED
        assert subjects("ada@example.org")[-1] == "Your payment could not be debited"
        body = last_body("ada@example.org")
        assert "AM04 insufficient funds" in body and "Please pay another way" in body
        assert count(Share) == 0
    page = client.get("/account/?lang=en").get_data(as_text=True)
    assert "To pay: €35.00." in page and "MEENTCOOP-" in page
    assert "Pay €35.00 by direct debit" in page  # or have it debited again
    response = post_form(client, "/account/mandate/join-debit?lang=en", follow_redirects=True)
    assert "We will debit €35.00 on" in response.get_data(as_text=True)
    with app.app_context():
        again = db.session.scalars(sa.select(Collection).order_by(Collection.id.desc())).first()
        assert (again.status, again.amount_cents) == (CollectionStatus.SCHEDULED, TOTAL)
    again = post_form(client, "/account/mandate/join-debit?lang=en", follow_redirects=True)
    assert "This payment will be debited already." in again.get_data(as_text=True)
    # Without a mandate in force the button is not there, and the route says why.
    eve = logged_in(app, "eve@example.org")
    post_form(eve, "/join/lid?lang=en", {**JOIN_DATA, "pay_by": "bank_transfer"})
    page = eve.get("/account/?lang=en").get_data(as_text=True)
    assert "To pay: €35.00." in page and "Pay €35.00 by direct debit" not in page
    refused = post_form(eve, "/account/mandate/join-debit?lang=en", follow_redirects=True)
    assert "Give a direct debit mandate first" in refused.get_data(as_text=True)


def test_paid_another_way_meanwhile_the_debit_is_not_sent(app, plan, creditor):
    client = logged_in(app, "ada@example.org")
    join_by_debit(client)
    admin = admin_client(app)
    with app.app_context():
        membership = membership_of(app, "ada@example.org")
        memberships.record_bank_transfer(membership, TOTAL, admin=_admin())
        db.session.commit()
        run_id = join_collection().run_id
    response = post_form(admin, f"/admin/dues/{run_id}/file?lang=en", follow_redirects=True)
    assert "No collection in this run is left to send" in response.get_data(as_text=True)
    with app.app_context():
        assert join_collection().status == CollectionStatus.CANCELLED


def _admin():
    return db.session.scalar(sa.select(User).where(User.email == "admin@example.org"))


@pytest.mark.parametrize(
    ("now", "days", "expected"),
    [
        # 23:59 in Amsterdam on 1 March: still that day.
        (datetime(2027, 3, 1, 22, 59, tzinfo=UTC), 14, "2027-03-15"),
        # Midnight in Amsterdam: 2 March has begun.
        (datetime(2027, 3, 1, 23, 0, tzinfo=UTC), 14, "2027-03-16"),
        (datetime(2027, 3, 1, 12, 0, tzinfo=UTC), 4, "2027-03-05"),
    ],
)
def test_the_debit_date_is_the_earliest_the_prenotification_allows(
    app, plan, creditor, monkeypatch, now, days, expected
):
    monkeypatch.setitem(app.config, "SEPA_PRENOTIFICATION_DAYS", days)
    with app.app_context():
        membership = memberships.join(
            make_user_for("ada@example.org"), db.session.scalar(sa.select(MembershipPlan))
        )
        with_mandate(membership)
        collection = debits.collect_join(membership, now=now)
        assert collection.debit_date.isoformat() == expected
        assert collection.prenotified_at == now
        assert (collection.debit_date - sepa.local_today(now)).days == days


def make_user_for(email: str):
    return make_user(email, locale="en")


def test_one_debit_at_a_time_the_run_of_the_day_is_shared_until_its_file_is_made(
    app, plan, creditor
):
    with app.app_context():
        plan_row = db.session.scalar(sa.select(MembershipPlan))
        ada = memberships.join(make_user_for("ada@example.org"), plan_row)
        bob = memberships.join(make_user_for("bob@example.org"), plan_row)
        with pytest.raises(Refused):  # no mandate yet
            debits.collect_join(ada)
        for membership in (ada, bob):
            with_mandate(membership)
        first = debits.collect_join(ada)
        with pytest.raises(Refused):  # on its way already
            debits.collect_join(ada)
        second = debits.collect_join(bob)
        assert first.run_id == second.run_id
        sepa_file.make_file(first.run)
        db.session.commit()
        carol = memberships.join(make_user_for("carol@example.org"), plan_row)
        with_mandate(carol)
        third = debits.collect_join(carol)
        assert third.run_id != first.run_id and count(CollectionRun) == 2
        dues.settle_paid(first, now=utcnow())  # submitted in the file: paid
        with pytest.raises(Refused):  # an active member owes nothing for joining
            debits.collect_join(ada)


def test_approve_then_pay_the_mandate_given_at_joining_pays_once_approved(
    app, creditor, monkeypatch
):
    monkeypatch.setitem(app.config, "MEMBERSHIP_ADMISSION_ORDER", "approve-then-pay")
    with app.app_context():
        make_member_share_class()
        make_plan("lid", fee_cents=1000, period="yearly", needs_approval=True)
    client = logged_in(app, "ada@example.org")
    response = join_by_debit(client)
    assert response.status_code == 303
    assert "Once it is approved, we debit" in client.get("/account/?lang=en").get_data(as_text=True)
    with app.app_context():
        assert membership_of(app, "ada@example.org").status == MembershipStatus.PENDING_APPROVAL
        assert count(SepaMandate) == 1 and count(Collection) == 0
    admin_client(app)
    with app.app_context():
        membership = membership_of(app, "ada@example.org")
        admission.approve(db.session.merge(membership), _admin())
        db.session.commit()
        collection = join_collection()
        assert collection.amount_cents == TOTAL
        assert subjects("ada@example.org")[-1] == "Your payment will be debited"
        sepa_file.make_file(collection.run)
        dues.record_paid(collection, now=on_debit_day(collection))
        db.session.commit()
        assert membership_of(app, "ada@example.org").status == MembershipStatus.ACTIVE


def test_pay_then_approve_a_paid_debit_sends_the_application_to_the_board(app, creditor):
    with app.app_context():
        make_member_share_class()
        make_plan("lid", fee_cents=1000, period="yearly", needs_approval=True)
    client = logged_in(app, "ada@example.org")
    join_by_debit(client)
    with app.app_context():
        collection = join_collection()
        sepa_file.make_file(collection.run)
        dues.record_paid(collection, now=on_debit_day(collection))
        db.session.commit()
        membership = membership_of(app, "ada@example.org")
        assert membership.status == MembershipStatus.PENDING_APPROVAL
        assert db.session.scalar(sa.select(Share.paid_at)) is not None


# --- shares --------------------------------------------------------------------------------


@pytest.fixture
def shareholder(app, creditor):
    """An active member (logged in) and an open class of extra shares of 100 euros."""
    with app.app_context():
        share_class = make_share_class()
        member = sepa_fixtures.yearly_member("ada@example.org", utcnow() + timedelta(days=365))
        ids = (member.id, share_class.id)
    return login(app, "ada@example.org"), ids


def test_without_a_mandate_debit_is_not_offered_and_refused_clearly(app, shareholder):
    client, (_, class_id) = shareholder
    page = client.get("/account/shares/?lang=en").get_data(as_text=True)
    assert 'value="direct_debit"' not in page and "give a direct debit mandate" in page
    response = post_form(
        client,
        "/account/shares/?lang=en",
        {"share_class": class_id, "quantity": "2", "pay_by": "direct_debit"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Give a direct debit mandate first" in page and 'value="2"' in page
    with app.app_context():
        assert count(SharePurchase) == 0 and count(Collection) == 0


def test_shares_bought_by_debit_are_paid_when_the_debit_is(app, shareholder):
    client, (membership_id, class_id) = shareholder
    with app.app_context():
        with_mandate(db.session.get(Membership, membership_id))
    page = client.get("/account/shares/?lang=en").get_data(as_text=True)
    assert 'value="direct_debit"' in page
    response = post_form(
        client,
        "/account/shares/?lang=en",
        {"share_class": class_id, "quantity": "2", "pay_by": "direct_debit"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "We will debit €200.00 on" in page and "€200.00 will be debited on" in page
    with app.app_context():
        collection = db.session.scalar(sa.select(Collection))
        purchase = db.session.scalar(sa.select(SharePurchase))
        assert (collection.purpose, collection.amount_cents, collection.share_purchase_id) == (
            CollectionPurpose.SHARES,
            20000,
            purchase.id,
        )
        assert subjects("ada@example.org")[-1] == "Your payment will be debited"
        assert "your shares in MeentCoop" in last_body("ada@example.org")
        sepa_file.make_file(collection.run)
        assert "Aandelen MeentCoop lid" in collection.run.file_xml
        dues.record_paid(collection, now=on_debit_day(collection))
        db.session.commit()
        held = db.session.scalars(sa.select(Share)).all()
        assert len(held) == 2 and all(share.paid_at is not None for share in held)
        payment = collection.payment
        assert payment.share_purchase_id == purchase.id and payment.membership_id is None
        assert shares.amount_owed(purchase) == 0
        notes = db.session.scalars(
            sa.select(ShareEvent.note).where(ShareEvent.kind == "paid")
        ).all()
        assert notes == ["sepa_debit", "sepa_debit"]

        # The member's bank takes the debit back: the shares are unpaid again.
        dues.record_reversal(collection, "MD06", now=on_debit_day(collection))
        db.session.commit()
        assert all(share.paid_at is None for share in held)
        assert [share.history[-1].kind for share in held] == ["unpaid", "unpaid"]
        assert shares.amount_owed(purchase) == 20000


def test_an_unpaid_purchase_can_be_debited_and_a_failed_debit_leaves_it_to_pay(app, shareholder):
    client, (membership_id, class_id) = shareholder
    with app.app_context():
        with_mandate(db.session.get(Membership, membership_id))
    post_form(
        client,
        "/account/shares/?lang=en",
        {"share_class": class_id, "quantity": "1", "pay_by": "bank_transfer"},
    )
    with app.app_context():
        purchase_id = db.session.scalar(sa.select(SharePurchase.id))
    page = client.get("/account/shares/?lang=en").get_data(as_text=True)
    assert "Pay €100.00 by direct debit" in page
    assert post_form(client, f"/account/shares/purchases/{purchase_id}/debit").status_code == 303
    page = client.get("/account/shares/?lang=en").get_data(as_text=True)
    assert "€100.00 will be debited on" in page and "Pay €100.00 by direct debit" not in page
    again = post_form(
        client, f"/account/shares/purchases/{purchase_id}/debit?lang=en", follow_redirects=True
    )
    assert "will be debited already" in again.get_data(as_text=True)
    with app.app_context():
        collection = db.session.scalar(sa.select(Collection))
        sepa_file.make_file(collection.run)
        dues.record_failed(collection, "MD07 account closed", now=on_debit_day(collection))
        db.session.commit()
        assert subjects("ada@example.org")[-1] == "Your payment could not be debited"
        purchase = db.session.get(SharePurchase, purchase_id)
        assert shares.amount_owed(purchase) == 10000
    assert "Pay €100.00 by direct debit" in client.get("/account/shares/?lang=en").get_data(
        as_text=True
    )
    # Someone else's purchase is not theirs to debit.
    other = logged_in(app, "eve@example.org")
    assert post_form(other, f"/account/shares/purchases/{purchase_id}/debit").status_code == 404


def test_a_debit_whose_date_passed_without_a_file_leaves_the_member_to_pay(app, plan, creditor):
    client = logged_in(app, "ada@example.org")
    with app.app_context():
        membership = memberships.join(
            db.session.scalar(sa.select(User).where(User.email == "ada@example.org")),
            db.session.scalar(sa.select(MembershipPlan)),
        )
        with_mandate(membership)
        days = sepa.prenotification_days()
        # Announced so long ago that its debit date is today: still on its way.
        on_the_day = debits.collect_join(membership, now=utcnow() - timedelta(days=days)).id
        db.session.commit()
    assert "will be debited on" in client.get("/account/?lang=en").get_data(as_text=True)
    with app.app_context():
        collection = db.session.get(Collection, on_the_day)
        collection.debit_date -= timedelta(days=1)  # the day passed; no file was made
        db.session.commit()
    page = client.get("/account/?lang=en").get_data(as_text=True)
    assert "will be debited on" not in page and "To pay: €35.00." in page
    with app.app_context():  # a new debit may be announced
        fresh = debits.collect_join(membership_of(app, "ada@example.org"))
        assert fresh.debit_date == sepa.earliest_debit_date()


def test_shares_with_a_debit_on_its_way_are_not_paid_another_way(app, shareholder):
    """Nor by bank nor online while the debit goes out; a debit arriving for shares paid
    meanwhile all the same is left paid for the treasurer, not counted as refunded."""
    client, (membership_id, class_id) = shareholder
    with app.app_context():
        with_mandate(db.session.get(Membership, membership_id))
    post_form(
        client,
        "/account/shares/?lang=en",
        {"share_class": class_id, "quantity": "1", "pay_by": "bank_transfer"},
    )
    with app.app_context():
        purchase_id = db.session.scalar(sa.select(SharePurchase.id))
    assert post_form(client, f"/account/shares/purchases/{purchase_id}/debit").status_code == 303
    with app.app_context():
        purchase = db.session.get(SharePurchase, purchase_id)
        with pytest.raises(Refused, match="automatische incasso"):  # the default locale
            share_payments.start_payment(purchase)
        admin = make_user("treasurer@example.org")
        with pytest.raises(Refused):
            share_payments.record_payment(purchase, 10000, admin)
        db.session.rollback()

        # The debit goes to the bank; the shares are paid by hand all the same (as before
        # this rule), and then the debit arrives.
        collection = db.session.scalar(sa.select(Collection))
        sepa_file.make_file(collection.run)
        purchase = db.session.get(SharePurchase, purchase_id)
        by_hand = Payment(
            provider=PaymentProvider.BANK_TRANSFER,
            status=PaymentStatus.PAID,
            amount_cents=10000,
            share_purchase=purchase,
        )
        db.session.add(by_hand)
        shares.mark_paid(shares.unpaid_shares(purchase), by_hand, admin, utcnow())
        dues.record_paid(collection, now=on_debit_day(collection))
        db.session.commit()
        debit = collection.payment
        assert (debit.status, debit.refunded_cents) == (PaymentStatus.PAID, 0)
        assert db.session.scalar(sa.select(sa.func.count(StripeCall.id))) == 0
