"""The share pages over HTTP: a member buys shares (bank or Stripe), sees only their own
purchases and certificates; admins keep classes, decide, record payments, transfers and
repayments, and download the register (CSV) and the capital overview (PDF)."""

import io
import re
from zoneinfo import ZoneInfo

import pypdf
import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Membership,
    PurchaseStatus,
    Share,
    ShareClass,
    SharePurchase,
    ShareTransfer,
    User,
    utcnow,
)
from cooperative.services import share_payments, shares
from tests.conftest import deliver_webhook, post_form
from tests.factories import make_member
from tests.share_factories import make_member_share_class, make_share_class
from tests.test_membership_stripe import admin_client, only_event, visit


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def member_client(app, email="ada@example.org", name="Ada Lovelace", locale="en"):
    with app.app_context():
        make_member(email, name=name)
        user = db.session.scalar(sa.select(User).where(User.email == email))
        user.locale = locale
        db.session.commit()
    client = app.test_client()
    post_form(client, "/auth/login", {"email": email, "password": "correct horse battery"})
    return client


def membership_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(Membership.id)
            .join(User, Membership.user_id == User.id)
            .where(User.email == email)
        )


def numbers_of(app, email: str) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Share.number)
                .join(Membership, Share.membership_id == Membership.id)
                .join(User, Membership.user_id == User.id)
                .where(User.email == email)
                .order_by(Share.number)
            )
        )


@pytest.fixture
def extra(app):
    with app.app_context():
        make_member_share_class()
        return make_share_class("extra-aandeel", 10000, max_per_member=3, name_en="Extra share").id


def test_a_member_buys_shares_by_bank_transfer_and_sees_the_reference(app, extra):
    client = member_client(app)
    page = client.get("/account/shares/?lang=en").get_data(as_text=True)
    assert "Extra share, €100.00" in page and "at most 3 per member" in page
    bought = post_form(
        client,
        "/account/shares/?lang=en",
        {"share_class": str(extra), "quantity": "2", "pay_by": "bank_transfer"},
    )
    assert bought.status_code == 303
    assert numbers_of(app, "ada@example.org") == [1, 2]
    page = client.get("/account/shares/?lang=en").get_data(as_text=True)
    with app.app_context():
        purchase = db.session.scalar(sa.select(SharePurchase))
        reference = share_payments.payment_reference(purchase)
    assert reference in page and "€200.00" in page and "not paid yet" in page


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "Please choose at least one share."),
        ("twee", "Please write a whole number, like 40."),
        ("", "Please fill in how many shares you would like."),
        ("4", "A member may hold at most 3 shares of this class; 3 more are possible."),
    ],
)
def test_bad_input_comes_back_with_422_and_the_typing_kept(app, extra, quantity, message):
    client = member_client(app)
    response = post_form(
        client,
        "/account/shares/?lang=en",
        {"share_class": str(extra), "quantity": quantity, "pay_by": "bank_transfer"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert f'value="{quantity}"' in page
    assert numbers_of(app, "ada@example.org") == []


def test_a_closed_or_unknown_class_is_refused_with_422(app, extra):
    with app.app_context():
        db.session.get(ShareClass, extra).is_open = False
        db.session.commit()
    client = member_client(app)
    for choice in (str(extra), "999", "x"):
        response = post_form(
            client,
            "/account/shares/",
            {"share_class": choice, "quantity": "1", "pay_by": "bank_transfer"},
        )
        assert response.status_code == 422
    assert numbers_of(app, "ada@example.org") == []


def test_someone_who_is_not_a_member_cannot_buy(app, extra, client):
    from tests.factories import make_user

    with app.app_context():
        make_user("guest@example.org")
    post_form(
        client, "/auth/login", {"email": "guest@example.org", "password": "correct horse battery"}
    )
    page = client.get("/account/shares/?lang=en").get_data(as_text=True)
    assert "You are not a member yet." in page and "Buy more shares" not in page
    response = post_form(
        client, "/account/shares/", {"share_class": str(extra), "quantity": "1", "pay_by": "x"}
    )
    assert response.status_code == 404


def test_paying_online_marks_the_shares_paid_once(app, extra, fake_stripe):
    client = member_client(app)
    bought = post_form(
        client,
        "/account/shares/",
        {"share_class": str(extra), "quantity": "1", "pay_by": "online"},
    )
    assert bought.status_code == 303 and "/pay/cs_" in bought.headers["Location"]
    session_id = bought.headers["Location"].rsplit("/", 1)[1]
    [create] = [r for r in fake_stripe.requests if r.path == "/v1/checkout/sessions"]
    assert create.params["success_url"].startswith("http://localhost/account/shares/")
    assert fake_stripe.sessions[session_id]["amount_total"] == 10000
    fake_stripe.pay(session_id)
    event = only_event(fake_stripe, "checkout.session.completed", session_id)
    assert deliver_webhook(client, fake_stripe, event).status_code == 200
    assert deliver_webhook(client, fake_stripe, event).json["outcome"] == "duplicate"
    with app.app_context():
        [share] = db.session.scalars(sa.select(Share)).all()
        assert share.paid_at is not None and share.payment.amount_cents == 10000
        assert [e.kind for e in share.history] == ["issued", "paid"]


def test_a_member_never_sees_another_members_purchase_or_certificate(app, extra):
    ada = member_client(app)
    bob = member_client(app, "bob@example.org", "Bob")
    post_form(
        ada,
        "/account/shares/",
        {"share_class": str(extra), "quantity": "1", "pay_by": "bank_transfer"},
    )
    with app.app_context():
        purchase_id = db.session.scalar(sa.select(SharePurchase.id))
    [number] = numbers_of(app, "ada@example.org")
    assert ada.get(f"/account/shares/{number}/certificate-nl.pdf").status_code == 200
    assert bob.get(f"/account/shares/{number}/certificate-nl.pdf").status_code == 404
    assert bob.get("/account/shares/certificate-en.pdf").status_code == 404  # holds none
    assert post_form(bob, f"/account/shares/purchases/{purchase_id}/pay").status_code == 404
    assert "Ada" not in bob.get("/account/shares/?lang=en").get_data(as_text=True)
    assert ada.get(f"/account/shares/{number}/certificate-de.pdf").status_code == 404


def test_the_certificate_holds_numbers_amounts_and_dates_in_both_languages(app, extra):
    client = member_client(app)
    post_form(
        client,
        "/account/shares/",
        {"share_class": str(extra), "quantity": "2", "pay_by": "bank_transfer"},
    )
    dutch = client.get("/account/shares/certificate-nl.pdf")
    assert dutch.mimetype == "application/pdf"
    assert dutch.headers["Cache-Control"] == "private, no-store"
    text = text_of(dutch.get_data())
    assert "Aandeelbewijs" in text and "Ada Lovelace" in text
    assert "€ 100,00" in text and "nog niet betaald" in text
    english = text_of(client.get("/account/shares/certificate-en.pdf").get_data())
    assert "Share certificate" in english and "€100.00" in english
    assert "Share number" in english and "\n1" in english or " 1 " in english


def test_admins_keep_classes_with_422_for_bad_input(app):
    admin = admin_client(app)
    bad = post_form(
        admin,
        "/admin/shares/classes/new?lang=en",
        {
            "slug": "Extra!",
            "name_nl": "Extra",
            "name_en": "Extra",
            "amount": "honderd",
            "holders": "persons",
            "max_per_member": "0",
        },
    )
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "Please write an amount in euros" in page and 'value="honderd"' in page
    zero = post_form(
        admin,
        "/admin/shares/classes/new?lang=en",
        {
            "slug": "extra",
            "name_nl": "Extra",
            "name_en": "Extra",
            "amount": "0",
            "holders": "persons",
        },
    )
    assert zero.status_code == 422 and "A share costs more than nothing." in zero.get_data(
        as_text=True
    )
    made = post_form(
        admin,
        "/admin/shares/classes/new",
        {
            "slug": "extra",
            "name_nl": "Extra aandeel",
            "name_en": "Extra share",
            "amount": "100",
            "holders": "persons",
            "max_per_member": "20",
            "is_open": "y",
        },
    )
    assert made.status_code == 303
    with app.app_context():
        share_class = db.session.scalar(sa.select(ShareClass))
        assert (share_class.amount_cents, share_class.max_per_member, share_class.is_open) == (
            10000,
            20,
            True,
        )
        class_id = share_class.id
    closed = post_form(
        admin,
        f"/admin/shares/classes/{class_id}",
        {
            "slug": "extra",
            "name_nl": "Extra aandeel",
            "name_en": "Extra share",
            "amount": "100",
            "holders": "persons",
        },
    )
    assert closed.status_code == 303
    with app.app_context():
        assert db.session.get(ShareClass, class_id).is_open is False


def test_admin_approves_records_payment_transfers_and_repays(app, extra):
    with app.app_context():
        db.session.get(ShareClass, extra).needs_approval = True
        db.session.commit()
    ada = member_client(app)
    member_client(app, "bob@example.org", "Bob")
    post_form(
        ada,
        "/account/shares/",
        {"share_class": str(extra), "quantity": "1", "pay_by": "bank_transfer"},
    )
    admin = admin_client(app)
    with app.app_context():
        purchase_id = db.session.scalar(sa.select(SharePurchase.id))
    page = admin.get("/admin/shares?lang=en").get_data(as_text=True)
    assert "Purchases waiting for the board" in page and "Ada Lovelace" in page
    assert (
        post_form(
            admin, f"/admin/shares/purchases/{purchase_id}/decide", {"action": "x"}
        ).status_code
        == 400
    )
    post_form(admin, f"/admin/shares/purchases/{purchase_id}/decide", {"action": "approve"})
    with app.app_context():
        assert db.session.get(SharePurchase, purchase_id).status == PurchaseStatus.ISSUED
    wrong = post_form(
        admin, f"/admin/shares/purchases/{purchase_id}/payment?lang=en", {"amount": "99"}
    )
    assert wrong.status_code == 422 and "The amount owed is €100.00." in wrong.get_data(
        as_text=True
    )
    assert 'value="99"' in wrong.get_data(as_text=True)
    paid = post_form(admin, f"/admin/shares/purchases/{purchase_id}/payment", {"amount": "100,00"})
    assert paid.status_code == 303

    [number] = numbers_of(app, "ada@example.org")
    unknown = post_form(admin, f"/admin/shares/{number}/transfer?lang=en", {"member_number": "99"})
    assert (
        unknown.status_code == 422
        and "There is no member with this number." in unknown.get_data(as_text=True)
    )
    with app.app_context():
        bob_number = db.session.get(Membership, membership_id(app, "bob@example.org")).number
    asked = post_form(
        admin,
        f"/admin/shares/{number}/transfer",
        {"member_number": str(bob_number), "note": "door brief van 1 juni"},
    )
    assert asked.status_code == 303
    with app.app_context():
        transfer_id = db.session.scalar(sa.select(ShareTransfer.id))
    post_form(admin, f"/admin/shares/transfers/{transfer_id}/decide", {"action": "approve"})
    assert numbers_of(app, "bob@example.org") == [number]
    history = admin.get(f"/admin/shares/{number}?lang=en").get_data(as_text=True)
    assert "transferred" in history and "from Ada Lovelace to Bob" in history

    post_form(admin, f"/admin/shares/{number}/leave")
    early = post_form(
        admin, f"/admin/shares/{number}/repayment?lang=en", {"method": "bank_transfer"}
    )
    assert early.status_code == 422
    assert re.search(r"This share is repaid after \d{1,2} [A-Z][a-z]+ \d{4}\.", early.text)
    with app.app_context():
        share = db.session.scalar(sa.select(Share).where(Share.number == number))
        assert share.repayment_due_on is not None
        share.repayment_due_on = share.repayment_due_on.replace(year=2020)
        db.session.commit()
    refund = post_form(
        admin, f"/admin/shares/{number}/repayment?lang=en", {"method": "stripe_refund"}
    )
    assert refund.status_code == 422  # paid by bank: no Stripe refund
    repaid = post_form(admin, f"/admin/shares/{number}/repayment", {"method": "bank_transfer"})
    assert repaid.status_code == 303
    with app.app_context():
        assert (
            db.session.scalar(sa.select(Share.repaid_at).where(Share.number == number)) is not None
        )
    # The history in words: how it was paid and repaid, the day it was to be repaid after.
    page = admin.get(f"/admin/shares/{number}?lang=en").text
    lines = [re.sub(r"<[^>]+>", "", line) for line in re.findall(r"<li><time.*?</li>", page)]
    assert any(re.search(r": paid · .* · bank transfer$", line) for line in lines), lines
    assert any(re.search(r": repaid · .* · bank transfer$", line) for line in lines), lines
    # What an admin wrote stays as written, also when it starts with a way to pay ("door").
    assert any(line.endswith(" · door brief van 1 juni") for line in lines), lines
    assert any(re.search(r"repaid after \d{1,2} [A-Z][a-z]+ \d{4}$", line) for line in lines)
    assert not any("bank_transfer" in line or re.search(r"\d{4}-\d\d-\d\d", line) for line in lines)


def test_the_register_csv_and_the_overview_pdf(app, extra):
    client = member_client(app, locale="nl")
    post_form(
        client,
        "/account/shares/",
        {"share_class": str(extra), "quantity": "2", "pay_by": "bank_transfer"},
    )
    admin = admin_client(app)
    csv = admin.get("/admin/shares.csv?lang=nl")
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Aandeelnummer;Soort;Bedrag;Lidnummer;Naam")
    assert lines[1].startswith("1;Extra aandeel;100,00;1;Ada Lovelace")
    assert len(lines) == 3
    totals = admin.get("/admin/shares/totals.csv?lang=en").get_data(as_text=True)
    totals_lines = totals.lstrip("\ufeff").splitlines()
    assert totals_lines[0] == (
        "Year,Class,Shares issued,Amount issued,Shares repaid,Amount repaid,"
        "Capital (paid shares not repaid),Still to be paid,Members holding shares"
    )
    assert ",Extra share,2,200.00,0,0.00,0.00,200.00,1" in totals_lines
    assert ",Member share,0,0.00,0,0.00,0.00,0.00,0" in totals_lines
    this_year = utcnow().astimezone(ZoneInfo("Europe/Amsterdam")).year
    assert f"{this_year},Extra share,2,200.00,0,0.00,,," in totals_lines
    pdf = admin.get("/admin/shares/overview.pdf?lang=en")
    assert pdf.mimetype == "application/pdf"
    text = text_of(pdf.get_data())
    assert "Share capital on" in text and "Still to be paid: €200.00" in text
    assert "Extra share" in text and "Members holding shares: 1" in text


def test_the_admin_page_counts_queries_not_shares(app, extra, count_queries):
    admin = admin_client(app)
    counts = []
    for email in ("a@example.org", "b@example.org", "c@example.org"):
        member_client(app, email, email[0].upper())
        with app.app_context():
            membership = db.session.get(Membership, membership_id(app, email))
            shares.buy(membership, db.session.get(ShareClass, extra), 2)
            db.session.commit()
        with count_queries as counted:
            assert admin.get("/admin/shares").status_code == 200
        counts.append(counted.count)
    assert counts[0] == counts[1] == counts[2]


def test_the_member_page_counts_queries_not_shares(app, extra, count_queries):
    client = member_client(app)
    counts = []
    for _round in range(3):
        post_form(
            client,
            "/account/shares/",
            {"share_class": str(extra), "quantity": "1", "pay_by": "bank_transfer"},
        )
        with count_queries as counted:
            assert client.get("/account/shares/").status_code == 200
        counts.append(counted.count)
    assert counts[0] == counts[1] == counts[2]


def test_a_refused_purchase_shows_the_reason_to_the_member(app, extra):
    with app.app_context():
        db.session.get(ShareClass, extra).needs_approval = True
        db.session.commit()
    ada = member_client(app)
    post_form(
        ada,
        "/account/shares/",
        {"share_class": str(extra), "quantity": "1", "pay_by": "bank_transfer"},
    )
    with app.app_context():
        purchase_id = db.session.scalar(sa.select(SharePurchase.id))
    admin = admin_client(app)
    url = f"/admin/shares/purchases/{purchase_id}/decide?lang=en"
    no_reason = post_form(admin, url, {"action": "refuse", "reason": " "})
    assert no_reason.status_code == 303
    page = admin.get("/admin/shares?lang=en").get_data(as_text=True)
    assert "Please give a reason: the member will read it." in page
    post_form(admin, url, {"action": "refuse", "reason": "Eerst de ledenvergadering."})
    page = ada.get("/account/shares/?lang=en").get_data(as_text=True)
    assert "not approved" in page and "Eerst de ledenvergadering." in page
    assert numbers_of(app, "ada@example.org") == []


def test_coming_back_from_stripe_before_the_webhook_marks_the_shares_paid(app, extra, fake_stripe):
    client = member_client(app)
    bought = post_form(
        client,
        "/account/shares/",
        {"share_class": str(extra), "quantity": "2", "pay_by": "online"},
    )
    session_id = bought.headers["Location"].rsplit("/", 1)[1]
    assert fake_stripe.sessions[session_id]["amount_total"] == 20000
    back = fake_stripe.pay(session_id)
    page = visit(client, back).get_data(as_text=True)
    assert "not paid yet" not in page
    with app.app_context():
        paid = db.session.scalars(sa.select(Share.paid_at)).all()
        assert len(paid) == 2 and all(paid)
    # Someone else's session id on the return address changes nothing and shows nothing.
    other = member_client(app, "bob@example.org", "Bob")
    response = other.get(f"/account/shares/?session_id={session_id}")
    assert response.status_code == 303


def test_a_cancelled_checkout_leaves_the_shares_to_pay(app, extra, fake_stripe):
    client = member_client(app)
    post_form(
        client,
        "/account/shares/",
        {"share_class": str(extra), "quantity": "1", "pay_by": "online"},
    )
    page = client.get("/account/shares/?checkout=cancelled", follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "You have not paid yet." in text or "Je hebt nog niet betaald." in text
    assert "/account/shares/purchases/" in text  # the button to pay again
