"""Issue 15: the board's decisions on shares reach the members by e-mail, through the
outbox and a real (local) SMTP server, each in their own language: a purchase approved
(the numbers, what to pay) or refused (the reason), and a transfer approved or refused
(both members). A register entry without an account gets no e-mail."""

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import OutboxMessage, ShareClass, SharePurchase, ShareTransfer, User
from cooperative.services import privacy, share_changes, shares
from tests.conftest import body_of, post_form
from tests.share_factories import make_share_class
from tests.test_membership_stripe import admin_client
from tests.test_shares_http import member_client, membership_id


def ask_for_shares(app, client, quantity=2) -> int:
    with app.app_context():
        class_id = db.session.scalar(sa.select(ShareClass.id))
    post_form(
        client,
        "/account/shares/",
        {"share_class": str(class_id), "quantity": str(quantity), "pay_by": "bank_transfer"},
    )
    with app.app_context():
        return db.session.scalar(sa.select(SharePurchase.id).order_by(SharePurchase.id.desc()))


def sent(runner) -> None:
    result = runner.invoke(args=["coop", "send-mail"])
    assert "failed 0" in result.output, result.output


def mail(smtp_server, address: str, subject: str):
    [message] = [m for m in smtp_server.to(address) if m["Subject"] == subject]
    return message


def approval_class(app):
    with app.app_context():
        make_share_class(
            "extra-aandeel",
            10000,
            needs_approval=True,
            name_nl="Extra aandeel",
            name_en="Extra share",
        )


def test_an_approved_purchase_is_e_mailed_with_the_numbers(app, runner, smtp_server):
    approval_class(app)
    ada = member_client(app, locale="en")
    purchase_id = ask_for_shares(app, ada)
    admin = admin_client(app)
    post_form(admin, f"/admin/shares/purchases/{purchase_id}/decide", {"action": "approve"})
    sent(runner)
    message = mail(smtp_server, "ada@example.org", "Your shares are issued")
    body = body_of(message)
    assert "2 share(s) of the class Extra share" in body
    assert "Your share numbers: 1, 2." in body
    assert "To pay: €200.00" in body
    assert "http://localhost/account/shares/" in body


def test_a_refused_purchase_is_e_mailed_in_dutch_with_the_reason(app, runner, smtp_server):
    approval_class(app)
    ada = member_client(app, locale="nl")
    purchase_id = ask_for_shares(app, ada, 1)
    admin = admin_client(app)
    url = f"/admin/shares/purchases/{purchase_id}/decide"
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))
    post_form(admin, url, {"action": "refuse", "reason": " "})  # refused: no mail
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == before
    post_form(admin, url, {"action": "refuse", "reason": "Eerst de ledenvergadering."})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == before + 1
    sent(runner)
    message = mail(smtp_server, "ada@example.org", "Over je aanvraag voor aandelen")
    body = body_of(message)
    assert "niet goedgekeurd" in body and "soort Extra aandeel" in body
    assert "De reden: Eerst de ledenvergadering." in body


def test_a_transfer_decision_is_e_mailed_to_both_members(app, runner, smtp_server):
    with app.app_context():
        make_share_class("extra-aandeel", 10000, name_nl="Extra aandeel", name_en="Extra share")
    ada = member_client(app, locale="en")
    member_client(app, "bob@example.org", "Bob de Bouwer", locale="nl")
    ask_for_shares(app, ada, 2)
    admin = admin_client(app)
    with app.app_context():
        admin_user = db.session.scalar(sa.select(User).where(User.email == "admin@example.org"))
        bob = db.session.get(shares.Membership, membership_id(app, "bob@example.org"))
        first, second = (purchase_shares := db.session.scalars(sa.select(shares.Share)).all())
        for share in purchase_shares:
            share.paid_at = share.issued_at
        one = share_changes.request_transfer(first, bob, admin_user)
        two = share_changes.request_transfer(second, bob, admin_user)
        db.session.commit()
        ids = one.id, two.id
    post_form(admin, f"/admin/shares/transfers/{ids[0]}/decide", {"action": "approve"})
    post_form(admin, f"/admin/shares/transfers/{ids[1]}/decide", {"action": "refuse"})
    sent(runner)
    to_ada = {m["Subject"]: body_of(m) for m in smtp_server.to("ada@example.org")}
    to_bob = {m["Subject"]: body_of(m) for m in smtp_server.to("bob@example.org")}
    assert (
        "your share number 1 to Bob de Bouwer. It is no longer yours"
        in to_ada["A transfer of a share is approved"]
    )
    assert (
        "your share number 2 to Bob de Bouwer. The share stays yours"
        in to_ada["A transfer of a share is not approved"]
    )
    assert (
        "aandeel nummer 1 van Ada Lovelace aan jou goedgekeurd"
        in to_bob["Een overdracht van een aandeel is goedgekeurd"]
    )
    assert (
        "aandeel nummer 2 van Ada Lovelace aan jou niet goedgekeurd"
        in to_bob["Een overdracht van een aandeel is niet goedgekeurd"]
    )
    with app.app_context():
        assert db.session.get(ShareTransfer, ids[1]).status == "refused"


def test_no_e_mail_for_an_entry_without_an_account(app):
    approval_class(app)
    ada = member_client(app)
    purchase_id = ask_for_shares(app, ada, 1)
    admin_client(app)
    with app.test_request_context("/?lang=en"):
        purchase = db.session.get(SharePurchase, purchase_id)
        membership = purchase.membership
        user = membership.user
        # The account goes; the register entry (and the purchase) stay.
        membership.user = None
        db.session.flush()
        privacy.delete_account(user, "correct horse battery")
        admin = db.session.scalar(sa.select(User).where(User.email == "admin@example.org"))
        before = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))
        shares.approve_purchase(purchase, admin)
        db.session.commit()
        assert purchase.status == "issued"
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == before
