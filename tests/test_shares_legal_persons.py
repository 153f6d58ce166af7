"""Issue 15: a legal person (a collective, a small business) as a member. An admin marks
the register entry with the organisation's name and KvK number; the board issues shares
of a class for legal persons from /admin/shares (numbered under the same lock, at the
class's price, within the maximum), and such a member buys them from /account/shares;
a person's membership still cannot."""

import csv
import io

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Membership,
    PurchaseStatus,
    Share,
    ShareClass,
    ShareHolders,
    SharePurchase,
)
from cooperative.refusals import Refused
from cooperative.services import register, share_changes, shares
from tests.conftest import post_form
from tests.share_factories import make_share_class, membership_of
from tests.test_membership_stripe import admin_client
from tests.test_shares_http import member_client, membership_id


@pytest.fixture
def ctx(app):
    with app.test_request_context("/?lang=en"):
        yield


def legal_class(**kw) -> ShareClass:
    return make_share_class(
        "aandeel-rechtspersoon",
        25000,
        max_per_member=kw.pop("max_per_member", 2),
        holders=ShareHolders.LEGAL_PERSONS,
        name_en="Legal person's share",
        **kw,
    )


def legal_member(email="zonnedak@example.org", name="Zonnedak Oost") -> Membership:
    membership = membership_of(email)
    register.set_legal_person(membership, name, "1234 56.78")
    db.session.commit()
    return membership


# --- the register entry ---------------------------------------------------------------


def test_an_entry_is_marked_as_a_legal_person_with_its_kvk_number(ctx):
    membership = membership_of()
    assert not membership.is_legal_person
    register.set_legal_person(membership, "  Zonnedak   Oost ", "1234 56.78")
    assert (membership.organisation_name, membership.kvk_number) == ("Zonnedak Oost", "12345678")
    assert membership.is_legal_person
    register.set_legal_person(membership, "Buitenlandse Coop", "")  # registered abroad
    assert membership.kvk_number == ""
    register.set_legal_person(membership, "", "")
    assert not membership.is_legal_person


@pytest.mark.parametrize(
    ("name", "kvk", "field", "message"),
    [
        ("", "12345678", "organisation_name", "name too"),
        ("Zonnedak", "1234567", "kvk_number", "8 digits"),
        ("Zonnedak", "123456789", "kvk_number", "8 digits"),
        ("Zonnedak", "1234567a", "kvk_number", "8 digits"),
    ],
)
def test_a_bad_kvk_number_is_refused(ctx, name, kvk, field, message):
    membership = membership_of()
    with pytest.raises(Refused, match=message) as refused:
        register.set_legal_person(membership, name, kvk)
    assert refused.value.field == field
    assert membership.organisation_name == ""


def test_a_legal_person_holding_its_shares_stays_one(ctx, app):
    share_class = legal_class()
    membership = legal_member()
    shares.buy(membership, share_class, 1)
    with pytest.raises(Refused, match="stays a legal person"):
        register.set_legal_person(membership, "", "")
    register.set_legal_person(membership, "Zonnedak Oost B.V.", "87654321")  # a new name is fine
    assert membership.organisation_name == "Zonnedak Oost B.V."


# --- buying and issuing ----------------------------------------------------------------


def test_a_person_cannot_buy_or_be_issued_a_legal_persons_share(ctx):
    share_class = legal_class()
    person = membership_of()
    admin = membership_of("admin@example.org", is_admin=True).user
    with pytest.raises(Refused, match="for legal persons") as refused:
        shares.buy(person, share_class, 1)
    assert refused.value.field == "share_class"
    with pytest.raises(Refused, match="for legal persons"):
        shares.issue_by_board(person, share_class, 1, admin)
    assert db.session.scalar(sa.select(sa.func.count(Share.id))) == 0
    assert shares.classes_for(person) == []


def test_a_legal_person_buys_its_class_at_the_class_price_within_the_maximum(ctx):
    share_class = legal_class(max_per_member=2)
    extra = make_share_class("extra-aandeel", 10000)
    membership = legal_member()
    assert shares.classes_for(membership) == [share_class, extra]
    purchase = shares.buy(membership, share_class, 2)
    assert purchase.status == PurchaseStatus.ISSUED
    assert [s.amount_cents for s in purchase.shares] == [25000, 25000]
    with pytest.raises(Refused, match="at most 2"):
        shares.buy(membership, share_class, 1)
    shares.buy(membership, extra, 1)  # a legal person may hold the persons' classes too


def test_the_board_issues_shares_numbered_after_the_others(ctx):
    share_class = legal_class(max_per_member=3, needs_approval=True)
    extra = make_share_class("extra-aandeel", 10000)
    person = membership_of("ada@example.org")
    shares.buy(person, extra, 2)  # numbers 1 and 2
    membership = legal_member()
    admin = membership_of("admin@example.org", is_admin=True).user
    purchase = shares.issue_by_board(membership, share_class, 3, admin)
    db.session.commit()
    # Issued at once, approval or not: the board itself decided.
    assert purchase.status == PurchaseStatus.ISSUED
    assert purchase.decided_by_id == admin.id
    assert [s.number for s in purchase.shares] == [3, 4, 5]
    assert all(s.paid_at is None and s.amount_cents == 25000 for s in purchase.shares)
    assert [e.kind for e in purchase.shares[0].history] == ["issued"]
    with pytest.raises(Refused, match="at most 3"):
        shares.issue_by_board(membership, share_class, 1, admin)


def test_the_board_issues_nothing_closed_too_many_or_to_itself(ctx):
    share_class = legal_class()
    membership = legal_member()
    admin = membership_of("admin@example.org", is_admin=True)
    with pytest.raises(Refused, match="at least one"):
        shares.issue_by_board(membership, share_class, 0, admin.user)
    register.set_legal_person(admin, "Admin B.V.", "")
    with pytest.raises(Refused, match="own shares"):
        shares.issue_by_board(admin, share_class, 1, admin.user)
    share_class.is_open = False
    with pytest.raises(Refused, match="closed"):
        shares.issue_by_board(membership, share_class, 1, admin.user)


def test_a_legal_persons_share_is_not_transferred_to_a_person(ctx):
    share_class = legal_class()
    membership = legal_member()
    person = membership_of("ada@example.org")
    admin = membership_of("admin@example.org", is_admin=True).user
    [share] = shares.issue_by_board(membership, share_class, 1, admin).shares
    share.paid_at = share.issued_at
    with pytest.raises(Refused, match="for legal persons") as refused:
        share_changes.request_transfer(share, person, admin)
    assert refused.value.field == "member_number"
    other = legal_member("other@example.org", "Voedselcollectief")
    transfer = share_changes.request_transfer(share, other, admin)
    register.set_legal_person(other, "", "")  # it became a person's membership since
    with pytest.raises(Refused, match="for legal persons"):
        share_changes.approve_transfer(transfer, admin)


# --- over HTTP ----------------------------------------------------------------------


def test_an_admin_marks_the_entry_and_the_register_and_csv_show_it(app):
    member_client(app)
    entry = membership_id(app, "ada@example.org")
    admin = admin_client(app)
    page = admin.get(f"/admin/register/{entry}?lang=en").get_data(as_text=True)
    assert "A legal person as member" in page
    url = f"/admin/register/{entry}/legal-person?lang=en"
    bad = post_form(admin, url, {"organisation_name": "Zonnedak Oost", "kvk_number": "12 34"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "A KvK number has 8 digits." in text and 'value="Zonnedak Oost"' in text
    empty = post_form(admin, url, {"organisation_name": "", "kvk_number": "12345678"})
    assert empty.status_code == 422
    assert "name too" in empty.get_data(as_text=True)
    good = post_form(admin, url, {"organisation_name": "Zonnedak Oost", "kvk_number": "12345678"})
    assert good.status_code == 303
    with app.app_context():
        assert db.session.get(Membership, entry).kvk_number == "12345678"
    page = admin.get(f"/admin/register/{entry}?lang=en").get_data(as_text=True)
    assert "Zonnedak Oost" in page and "KvK 12345678" in page
    listing = admin.get("/admin/register?lang=en&q=zonnedak").get_data(as_text=True)
    assert "Zonnedak Oost" in listing and "KvK 12345678" in listing
    exported = admin.get("/admin/register.csv?lang=en").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    assert rows[0][-2:] == ["Legal person", "KvK number"]
    assert rows[1][-2:] == ["Zonnedak Oost", "12345678"]
    assert "KvK 12345678" in admin.get("/admin/register/print?lang=en").get_data(as_text=True)


def test_the_board_issues_from_admin_shares_with_422_for_bad_input(app):
    with app.app_context():
        class_id = legal_class(max_per_member=2).id
    member_client(app, "zonnedak@example.org", "Zeynep Zon")
    member_client(app)
    with app.app_context():
        membership = db.session.get(Membership, membership_id(app, "zonnedak@example.org"))
        register.set_legal_person(membership, "Zonnedak Oost", "12345678")
        numbers = {
            email: db.session.get(Membership, membership_id(app, email)).number
            for email in ("zonnedak@example.org", "ada@example.org")
        }
        db.session.commit()
    admin = admin_client(app)
    assert "Issue shares to a member" in admin.get("/admin/shares?lang=en").get_data(as_text=True)
    page = admin.get("/admin/shares/issue?lang=en").get_data(as_text=True)
    assert "Legal person&#39;s share" in page
    url = "/admin/shares/issue?lang=en"
    cases = [
        ({"member_number": "999", "share_class": str(class_id), "quantity": "1"}, "no member"),
        (
            {"member_number": str(numbers["ada@example.org"]), "share_class": str(class_id)}
            | {"quantity": "1"},
            "for legal persons",
        ),
        (
            {"member_number": str(numbers["zonnedak@example.org"]), "share_class": str(class_id)}
            | {"quantity": "3"},
            "at most 2",
        ),
        ({"member_number": "x", "share_class": str(class_id), "quantity": "1"}, "whole number"),
    ]
    for data, message in cases:
        response = post_form(admin, url, data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), message
        assert f'value="{data["member_number"]}"' in response.get_data(as_text=True)
    done = post_form(
        admin,
        url,
        {
            "member_number": str(numbers["zonnedak@example.org"]),
            "share_class": str(class_id),
            "quantity": "2",
        },
    )
    assert done.status_code == 303
    with app.app_context():
        issued = db.session.scalars(sa.select(Share).order_by(Share.number)).all()
        assert [(s.number, s.amount_cents, s.paid_at) for s in issued] == [
            (1, 25000, None),
            (2, 25000, None),
        ]
        assert db.session.scalar(sa.select(SharePurchase.status)) == PurchaseStatus.ISSUED


def test_a_legal_person_buys_from_its_account_and_a_person_cannot(app):
    with app.app_context():
        class_id = legal_class().id
    ada = member_client(app)
    page = ada.get("/account/shares/?lang=en").get_data(as_text=True)
    assert "Legal person&#39;s share" not in page
    refused = post_form(
        ada,
        "/account/shares/?lang=en",
        {"share_class": str(class_id), "quantity": "1", "pay_by": "bank_transfer"},
    )
    assert refused.status_code == 422
    zonnedak = member_client(app, "zonnedak@example.org", "Zeynep Zon")
    with app.app_context():
        membership = db.session.get(Membership, membership_id(app, "zonnedak@example.org"))
        register.set_legal_person(membership, "Zonnedak Oost", "12345678")
        db.session.commit()
    page = zonnedak.get("/account/shares/?lang=en").get_data(as_text=True)
    assert "Legal person&#39;s share" in page
    bought = post_form(
        zonnedak,
        "/account/shares/?lang=en",
        {"share_class": str(class_id), "quantity": "1", "pay_by": "bank_transfer"},
    )
    assert bought.status_code == 303
    with app.app_context():
        [share] = db.session.scalars(sa.select(Share)).all()
        assert share.membership_id == membership_id(app, "zonnedak@example.org")
        assert share.amount_cents == 25000


@pytest.mark.parametrize("number", [str(10**20), "2147483648", "0", "-3"])
def test_a_member_number_out_of_range_is_422_not_a_500(app, number):
    """A member number the database cannot hold (it once raised OverflowError) is refused
    on its field, with the typing kept."""
    with app.app_context():
        class_id = legal_class().id
    admin = admin_client(app)
    data = {"member_number": number, "share_class": str(class_id), "quantity": "1"}
    response = post_form(admin, "/admin/shares/issue?lang=en", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "A member number is a whole number from 1 to 2147483647." in page
    assert f'value="{number}"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Share.id))) == 0
