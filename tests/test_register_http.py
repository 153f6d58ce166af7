"""The member register over HTTP: the address at joining and on the account page, the
consent to notices by e-mail, cancelling with its acknowledgement (through a real SMTP
server, with the PDF), the admins' register, its CSV, print and letter list, and who may
see them."""

import csv
import io
from datetime import date, timedelta

import sqlalchemy as sa
from pypdf import PdfReader

from cooperative.extensions import db
from cooperative.models import (
    AuditEntry,
    LeavingWay,
    Membership,
    MembershipPlan,
    MembershipStatus,
    User,
)
from cooperative.services import mail, register, share_payments, shares
from cooperative.services import membership as memberships
from tests.conftest import body_of, post_form
from tests.factories import ADDRESS, make_admin, make_plan, make_user
from tests.share_factories import make_share_class

JOIN = {"display_name": "Ada", "visibility": "hidden", "privacy": "y", **ADDRESS}


def entry_of(email="resident@example.org") -> Membership:
    return db.session.scalar(sa.select(Membership).join(Membership.user).where(User.email == email))


def member(app, email="resident@example.org", consent=False, name="Resident", **changes) -> int:
    """An active member with an address (ADDRESS with `changes`); the membership's id."""
    with app.app_context():
        plan = db.session.scalar(sa.select(MembershipPlan)) or make_plan()
        user = make_user(email, name=name)
        membership = memberships.join(
            user, plan, address=register.Address(**{**ADDRESS, **changes}), email_notices=consent
        )
        db.session.commit()
        return membership.id


def pdf_text(part) -> str:
    reader = PdfReader(io.BytesIO(part.get_content()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


# --- joining --------------------------------------------------------------------------


def test_joining_registers_the_address_normalised_and_the_consent(client, app, auth):
    with app.app_context():
        make_plan()
        make_user()
    auth.login()
    response = post_form(client, "/join/lid", {**JOIN, "postcode": "1094hb", "email_notices": "y"})
    assert response.status_code == 303
    with app.app_context():
        entry = entry_of()
        assert (entry.registered_name, entry.street, entry.house_number) == (
            "Ada Lovelace",
            "Javastraat",
            "12-2",
        )
        assert (entry.postcode, entry.city, entry.country) == ("1094 HB", "Amsterdam", "NL")
        assert entry.email_notices_consent_at is not None


def test_the_privacy_statement_says_how_long_the_register_is_kept(client):
    page = client.get("/join/privacy?lang=en").get_data(as_text=True)
    assert "It is kept 10 years after you leave, also when you delete your account" in page
    dutch = client.get("/join/privacy?lang=nl").get_data(as_text=True)
    assert "Het blijft 10 jaar bewaard" in dutch


def test_a_bad_postcode_at_joining_is_422_with_the_typing_kept(client, app, auth):
    with app.app_context():
        make_plan()
        make_user()
    auth.login()
    response = post_form(
        client, "/join/lid?lang=en", {**JOIN, "postcode": "0123 XY", "street": "Typed street"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "A Dutch postcode is four digits and two letters" in page
    assert 'value="0123 XY"' in page and 'value="Typed street"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Membership.id))) == 0


def test_an_address_abroad_keeps_its_own_postcode(client, app, auth):
    with app.app_context():
        make_plan()
        make_user()
    auth.login()
    data = {**JOIN, "postcode": "B-1000", "city": "Brussel", "country": "BE"}
    assert post_form(client, "/join/lid", data).status_code == 303
    with app.app_context():
        assert (entry_of().postcode, entry_of().country) == ("B-1000", "BE")


def test_joining_without_an_address_is_refused_field_by_field(client, app, auth):
    with app.app_context():
        make_plan()
        make_user()
    auth.login()
    data = {**JOIN, "street": "", "city": "", "country": "XX"}
    response = post_form(client, "/join/lid?lang=en", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please fill in your street." in page and "Please fill in your town or city." in page


# --- the member's own entry -------------------------------------------------------------


def test_the_member_changes_their_address_and_bad_input_keeps_the_typing(client, app, auth):
    member(app)
    auth.login()
    page = client.get("/account/address?lang=en").get_data(as_text=True)
    assert 'value="Javastraat"' in page
    bad = post_form(
        client, "/account/address?lang=en", {**ADDRESS, "postcode": "12345", "city": "Zaandam"}
    )
    assert bad.status_code == 422
    assert 'value="Zaandam"' in bad.get_data(as_text=True)
    with app.app_context():
        assert entry_of().city == "Amsterdam"
    good = post_form(
        client, "/account/address", {**ADDRESS, "postcode": "1501aa", "city": "Zaandam"}
    )
    assert good.status_code == 303
    with app.app_context():
        assert (entry_of().postcode, entry_of().city) == ("1501 AA", "Zaandam")
    account = client.get("/account/?lang=en").get_data(as_text=True)
    assert "1501 AA Zaandam" in account and "By post" in account


def test_someone_who_never_joined_has_no_register_pages(client, app, auth):
    with app.app_context():
        make_user()
    auth.login()
    assert client.get("/account/address").status_code == 404
    assert client.get("/account/membership/cancel").status_code == 404
    assert post_form(client, "/account/notices", {"email_notices": "y"}).status_code == 404


def test_the_consent_to_e_mail_is_given_and_withdrawn_on_the_account_page(client, app, auth):
    member(app)
    auth.login()
    assert post_form(client, "/account/notices", {"email_notices": "y"}).status_code == 303
    with app.app_context():
        assert entry_of().email_notices_consent_at is not None
    page = client.get("/account/?lang=en").get_data(as_text=True)
    assert "By e-mail (since" in page
    assert post_form(client, "/account/notices", {}).status_code == 303
    with app.app_context():
        assert entry_of().email_notices_consent_at is None


def test_the_welcome_mail_states_number_and_date_with_the_letter_attached(
    client, app, auth, smtp_server
):
    with app.app_context():
        make_plan()
        make_user(locale="en")
    auth.login()
    assert post_form(client, "/join/lid", JOIN).status_code == 303
    with app.app_context():
        assert mail.send_pending() == (1, 0)
        admitted = entry_of().admitted_on
        assert entry_of().admission_letter_sent_at is not None
    [message] = smtp_server.to("resident@example.org")
    text = body_of(message)
    assert "Your member number is 1." in text
    assert f"Date of admission: {admitted.day} {admitted.strftime('%B %Y')}" in text
    [letter] = list(message.iter_attachments())
    assert letter.get_content_type() == "application/pdf"
    assert letter.get_filename() == "admission-1.pdf"
    content = pdf_text(letter)
    assert "Ada Lovelace" in content and "1094 HB" in content and "member number is 1" in content


def test_a_member_cancels_with_a_confirmation_and_gets_the_acknowledgement(
    client, app, auth, smtp_server
):
    with app.app_context():
        make_plan(period="yearly")  # renewed each year, until it is cancelled
        db.session.commit()
    member(app)
    auth.login()
    assert "Renewal date" in client.get("/account/?lang=en").get_data(as_text=True)
    with app.app_context():
        ends = register.notice_end_date(register.today())
        mail.send_pending()  # the welcome
    page = client.get("/account/membership/cancel?lang=en").get_data(as_text=True)
    assert "ends on" in page
    refused = post_form(client, "/account/membership/cancel?lang=en", {})
    assert refused.status_code == 422
    assert "Please tick the box to confirm that you cancel." in refused.get_data(as_text=True)
    with app.app_context():
        assert entry_of().cancellation_received_on is None
    response = post_form(client, "/account/membership/cancel", {"confirm": "y"})
    assert response.status_code == 303
    account = client.get("/account/?lang=en").get_data(as_text=True)
    assert "We have received your cancellation." in account
    assert "Cancellation received" in account and "Cancel your membership" not in account
    assert "Membership ends" in account and "Renewal date" not in account  # one end in view
    with app.app_context():
        entry = entry_of()
        assert entry.cancellation_received_on == register.today()
        assert entry.leaves_on == ends and entry.leaving_way == LeavingWay.CANCELLED_BY_MEMBER
        assert entry.cancellation_acknowledged_at is not None
        assert mail.send_pending() == (1, 0)
    message = smtp_server.to("resident@example.org")[-1]
    assert "ontvangen" in body_of(message)  # in the member's own language (Dutch)
    [letter] = list(message.iter_attachments())
    assert letter.get_filename() == "cancellation-1.pdf"
    assert "1094 HB" in pdf_text(letter)
    # The page no longer offers to cancel twice.
    assert client.get("/account/membership/cancel").status_code == 303


def test_the_cancel_page_says_what_the_shares_bring_back(client, app, auth):
    membership_id = member(app)
    with app.app_context():
        membership = db.session.get(Membership, membership_id)
        purchase = shares.buy(membership, make_share_class(), 2)
        share_payments.record_payment(purchase, shares.amount_owed(purchase), make_admin())
        db.session.commit()
    auth.login()
    page = client.get("/account/membership/cancel?lang=en").get_data(as_text=True)
    assert "What you paid for your shares, €200.00, is repaid after the end of" in page


# --- the admins' register -----------------------------------------------------------


def test_only_admins_see_the_register(client, app, auth):
    member(app)
    with app.app_context():
        make_admin()
    paths = [
        "/admin/register",
        "/admin/register.csv",
        "/admin/register/print",
        "/admin/register/letters",
        "/admin/register/letters.csv",
        "/admin/register/import",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    auth.login()
    for path in paths:
        assert client.get(path).status_code == 403, path
    auth.logout()
    auth.login("admin@example.org")
    for path in paths:
        assert client.get(path).status_code == 200, path
    assert client.get("/admin/register/99999").status_code == 404


def test_the_register_lists_searches_and_pages(client, app, auth, count_queries, monkeypatch):
    from cooperative.views import admin_register

    for number in range(1, 6):
        member(app, f"m{number}@example.org", city=f"Stad{number}")
    with app.app_context():
        make_admin()
    auth.login("admin@example.org")
    page = client.get("/admin/register?lang=en").get_data(as_text=True)
    assert "Ada Lovelace" in page and "1094 HB" in page
    monkeypatch.setattr(admin_register, "PAGE_SIZE", 2)
    first = client.get("/admin/register?lang=en").get_data(as_text=True)
    assert "Next page" in first and "Stad1" in first and "Stad3" not in first
    third = client.get("/admin/register?page=3&lang=en").get_data(as_text=True)
    assert "Stad5" in third and "Next page" not in third
    found = client.get("/admin/register?q=stad4&lang=en").get_data(as_text=True)
    assert "Stad4" in found and "Stad2" not in found
    by_number = client.get("/admin/register?q=2&lang=en").get_data(as_text=True)
    assert "Stad2" in by_number and "Stad4" not in by_number
    with count_queries as counted:
        client.get("/admin/register")
    few = counted.count
    for number in range(6, 9):
        member(app, f"m{number}@example.org")
    monkeypatch.setattr(admin_register, "PAGE_SIZE", 50)
    with count_queries as counted:
        client.get("/admin/register")
    assert counted.count == few  # no query per entry


def test_the_register_csv_holds_only_what_the_law_asks(client, app, auth):
    member(app)
    left = member(app, "left@example.org")
    with app.app_context():
        make_admin()
        register.end_membership(
            db.session.get(Membership, left), LeavingWay.DECEASED, date(2026, 1, 5)
        )
        db.session.commit()
    auth.login("admin@example.org")
    response = client.get("/admin/register.csv?lang=en")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == [
        "Member number",
        "Name",
        "Street",
        "House number",
        "Postcode",
        "Town or city",
        "Country",
        "Date of admission",
        "Admission decided by the board",
        "Shares held",
        "Date of leaving",
        "Way of leaving",
        "Legal person",
        "KvK number",
    ]
    assert rows[1][:7] == ["1", "Ada Lovelace", "Javastraat", "12-2", "1094 HB", "Amsterdam", "NL"]
    assert rows[2][-4:] == ["2026-01-05", "deceased", "", ""]
    assert "example.org" not in response.get_data(as_text=True)  # no e-mail addresses


def test_the_letter_list_holds_members_without_consent(client, app, auth):
    member(app, "post@example.org", street="Poststraat")
    member(app, "mail@example.org", consent=True, street="Mailstraat")
    with app.app_context():
        make_admin()
    auth.login("admin@example.org")
    page = client.get("/admin/register/letters?lang=en").get_data(as_text=True)
    assert "Poststraat" in page and "Mailstraat" not in page and "AMSTERDAM" in page
    sheet = client.get("/admin/register/letters.csv").get_data(as_text=True)
    assert "Poststraat" in sheet and "Mailstraat" not in sheet
    with app.app_context():
        entry = entry_of("post@example.org")
        entry.street = ""
        db.session.commit()
    page = client.get("/admin/register/letters?lang=en").get_data(as_text=True)
    assert "No address in the register (member 1)" in page


def test_an_admin_records_a_letter_and_an_end(client, app, auth, smtp_server):
    entry_id = member(app)
    other_id = member(app, "other@example.org")
    with app.app_context():
        make_admin()
    auth.login("admin@example.org")
    url = f"/admin/register/{entry_id}"
    with app.app_context():
        today = register.today()
    future = (today + timedelta(days=2)).isoformat()
    refused = post_form(client, f"{url}/cancellation?lang=en", {"received_on": future})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "cannot be in the future" in page and f'value="{future}"' in page
    bad = post_form(client, f"{url}/cancellation?lang=en", {"received_on": "gisteren"})
    assert bad.status_code == 422
    received = today - timedelta(days=3)
    response = post_form(client, f"{url}/cancellation", {"received_on": received.isoformat()})
    assert response.status_code == 303
    with app.app_context():
        entry = db.session.get(Membership, entry_id)
        assert entry.cancellation_received_on == received
        assert entry.leaves_on == register.notice_end_date(received)
        mail.send_pending()
    assert any("ontvangen" in body_of(m) for m in smtp_server.to("resident@example.org"))
    ended = post_form(
        client,
        f"/admin/register/{other_id}/end",
        {"way": "by_cooperative", "on": today.isoformat()},
    )
    assert ended.status_code == 303
    with app.app_context():
        other = db.session.get(Membership, other_id)
        assert other.status == MembershipStatus.CANCELLED
        assert other.leaving_way == LeavingWay.ENDED_BY_COOPERATIVE
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["membership.cancellation", "membership.end"]
    # Once ended, there is nothing left to record.
    again = post_form(
        client,
        f"/admin/register/{other_id}/end?lang=en",
        {"way": "deceased", "on": today.isoformat()},
    )
    assert again.status_code == 422


def test_an_entry_whose_account_is_gone_stays_in_the_register(client, app, auth):
    entry_id = member(app)
    with app.app_context():
        make_admin()
    auth.login()
    response = post_form(client, "/account/delete", {"password": "correct horse battery"})
    assert response.status_code == 303
    auth.login("admin@example.org")
    page = client.get("/admin/register?lang=en").get_data(as_text=True)
    assert "Ada Lovelace" in page
    entry = client.get(f"/admin/register/{entry_id}?lang=en").get_data(as_text=True)
    assert "deleted" in entry
    assert client.get(f"/admin/members/{entry_id}").status_code == 404
    printed = client.get("/admin/register/print?lang=en").get_data(as_text=True)
    assert "Ada Lovelace" in printed


def test_a_search_for_other_digits_is_no_500(client, app, auth):
    """'²' is a digit to str.isdigit but not to int(): searched as text, not as a number."""
    member(app, "m1@example.org", city="Stad1")
    with app.app_context():
        make_admin()
    auth.login("admin@example.org")
    for query in ("²", "١"):
        response = client.get(f"/admin/register?q={query}&lang=en")
        assert response.status_code == 200
        assert "Stad1" not in response.get_data(as_text=True)
