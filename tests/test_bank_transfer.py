"""Paying the membership fee by bank transfer: the member is told the cooperative's IBAN,
account name and their own payment reference, on the account page and by e-mail."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from cooperative import create_app
from cooperative.extensions import db
from cooperative.models import Membership, MembershipStatus, OutboxMessage, User
from cooperative.services import membership as memberships
from tests.conftest import AuthActions, body_of, post_form
from tests.factories import make_admin, make_plan, make_user

JOIN_DATA = {
    "display_name": "Ada L.",
    "visibility": "members",
    "privacy": "y",
    "registered_name": "Ada Lovelace",
    "street": "Javastraat",
    "house_number": "12-2",
    "postcode": "1094 HB",
    "city": "Amsterdam",
    "country": "NL",
}
IBAN = "NL91 ABNA 0417 1643 00"


@pytest.fixture
def bank(app, monkeypatch):
    monkeypatch.setitem(app.config, "BANK_IBAN", IBAN)
    monkeypatch.setitem(app.config, "BANK_ACCOUNT_NAME", "Coöperatie MeentCoop U.A.")


def join_by_transfer(app, client, auth, email="resident@example.org", locale="en") -> int:
    with app.app_context():
        if db.session.scalar(sa.select(sa.func.count(Membership.id))) == 0:
            make_plan("lid", fee_cents=1000, period="yearly")
        make_user(email=email, locale=locale)
    auth.login(email)
    response = post_form(client, f"/join/lid?lang={locale}", JOIN_DATA)
    assert response.status_code == 303
    with app.app_context():
        membership = db.session.scalar(
            sa.select(Membership).join(Membership.user).where(User.email == email)
        )
        assert membership.status == MembershipStatus.PENDING_PAYMENT
        return membership.id


def test_the_account_page_says_where_to_transfer_the_fee(client, app, auth, bank):
    membership_id = join_by_transfer(app, client, auth)
    page = client.get("/account/?lang=en").get_data(as_text=True)
    reference = f"MEENTCOOP-{membership_id:05d}"
    assert "<dt>IBAN</dt><dd>NL91 ABNA 0417 1643 00</dd>" in page
    assert "<dt>In the name of</dt><dd>Coöperatie MeentCoop U.A.</dd>" in page
    assert f"<dt>Reference</dt><dd>{reference}</dd>" in page
    assert "<dt>Amount</dt><dd>€10.00</dd>" in page
    # Without online payments the transfer is the only way: no "Or ...".
    assert "<p>Transfer the amount to the cooperative, with your reference:</p>" in page
    assert "Or transfer" not in page


def test_in_dutch_the_only_way_does_not_start_with_of(client, app, auth, bank):
    join_by_transfer(app, client, auth, locale="nl")
    page = client.get("/account/?lang=nl").get_data(as_text=True)
    assert "<p>Maak het bedrag over naar de coöperatie, met je kenmerk:</p>" in page
    assert "<p>Of " not in page
    assert "<dt>Ten name van</dt>" in page and "<dt>Kenmerk</dt>" in page


def test_with_online_payments_the_transfer_is_the_other_way(client, app, auth, bank, fake_stripe):
    with app.app_context():
        make_plan("lid", fee_cents=1000, period="yearly")
        make_user()
    auth.login()
    post_form(client, "/join/lid?lang=en", {**JOIN_DATA, "pay_by": "bank_transfer"})
    page = client.get("/account/?lang=en").get_data(as_text=True)
    assert "Pay €10.00 online" in page
    assert "<p>Or transfer the amount to the cooperative, with your reference:</p>" in page


def test_each_member_gets_their_own_reference(client, app, auth, bank):
    first = join_by_transfer(app, client, auth, "ada@example.org")
    other = app.test_client()
    second = join_by_transfer(app, other, AuthActions(other), "bob@example.org")
    assert first != second
    page_a = client.get("/account/?lang=en").get_data(as_text=True)
    page_b = other.get("/account/?lang=en").get_data(as_text=True)
    assert f"MEENTCOOP-{first:05d}" in page_a and f"MEENTCOOP-{second:05d}" not in page_a
    assert f"MEENTCOOP-{second:05d}" in page_b
    # The admin sees the same reference beside the member, to match the bank statement.
    with app.app_context():
        make_admin()
    admin = app.test_client()
    AuthActions(admin).login("admin@example.org")
    member_page = admin.get(f"/admin/members/{second}?lang=en").get_data(as_text=True)
    assert f"<dd>MEENTCOOP-{second:05d}</dd>" in member_page


def test_the_e_mail_says_where_to_transfer_the_fee(client, app, auth, bank, runner, smtp_server):
    membership_id = join_by_transfer(app, client, auth, locale="nl")
    result = runner.invoke(args=["coop", "send-mail"])
    assert "Sent 1, failed 0." in result.output
    [message] = smtp_server.to("resident@example.org")
    assert message["Subject"] == "Zo betaal je je contributie"
    body = body_of(message)
    assert "IBAN: NL91 ABNA 0417 1643 00" in body
    assert "Ten name van: Coöperatie MeentCoop U.A." in body
    assert "Bedrag: € 10,00" in body.replace("\xa0", " ")
    assert f"Kenmerk: MEENTCOOP-{membership_id:05d}" in body


def test_the_renewal_reminder_names_the_account_too(app, bank):
    with app.app_context():
        user = make_user(locale="en")
        plan = make_plan("lid", fee_cents=1000, period="yearly")
        membership = Membership(user=user, plan=plan, status=MembershipStatus.PENDING_PAYMENT)
        db.session.add(membership)
        db.session.flush()
        memberships.activate(membership)
        membership.ends_at = membership.started_at + memberships.reminder_lead() / 2
        db.session.commit()
        reminded, _ = memberships.send_reminders_and_lapse(membership.ends_at - timedelta(days=1))
        db.session.commit()
        assert reminded == 1
        mail = db.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.subject == "Your membership ends soon")
        )
        assert "Please transfer it, with your reference:" in mail.body_text
        assert "IBAN: NL91 ABNA 0417 1643 00" in mail.body_text
        assert f"Reference: MEENTCOOP-{membership.id:05d}" in mail.body_text


def test_an_iban_with_a_typo_stops_the_app(monkeypatch, database_url):
    monkeypatch.setenv("BANK_IBAN", "NL91ABNA0417164301")
    with pytest.raises(RuntimeError, match="BANK_IBAN"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    monkeypatch.setenv("BANK_IBAN", "nl91abna0417164300")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    assert app.config["BANK_IBAN"] == IBAN
