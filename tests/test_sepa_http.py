"""Dues by direct debit over HTTP: a member gives, sees and ends their own mandate (bad
input 422 with the typing kept; nobody sees another's mandate); an admin runs the dues,
makes and downloads the bank's file, and records results; others get 403."""

from datetime import timedelta

import sqlalchemy as sa
from dateutil.easter import easter

from cooperative.extensions import db
from cooperative.models import (
    AuditEntry,
    Collection,
    CollectionRun,
    CollectionStatus,
    MandateStatus,
    Membership,
    SepaMandate,
    utcnow,
)
from cooperative.services import dues, sepa, sepa_file
from tests import sepa_fixtures
from tests.conftest import post_form
from tests.factories import make_admin, make_user
from tests.sepa_fixtures import (
    MEMBER_IBAN,
    debit_day,
    due_member,
    subjects,
    yearly_member,
)

creditor = sepa_fixtures.creditor
YEAR = timedelta(days=365)


def login(app, email: str):
    """A client of its own, logged in as `email` (password: correct horse battery)."""
    client = app.test_client()
    response = post_form(
        client, "/auth/login", {"email": email, "password": "correct horse battery"}
    )
    assert response.status_code == 303
    return client


def member_client(app, email="ada@example.org"):
    with app.app_context():
        membership = yearly_member(email, utcnow() + YEAR)
        membership_id = membership.id
    return login(app, email), membership_id


def give(client, **changes):
    data = {"account_holder": "Ada Lovelace", "iban": MEMBER_IBAN, "consent": "y", **changes}
    return post_form(client, "/account/mandate?lang=en", data)


# --- the member's page ----------------------------------------------------------------


def test_the_page_shows_the_mandate_text_with_the_creditor(app, creditor):
    client, _ = member_client(app)
    page = client.get("/account/mandate?lang=en").get_data(as_text=True)
    assert "Coöperatie MeentCoop U.A." in page
    assert "NL57ZZZ999999999999" in page
    assert "NL91 ABNA 0417 1643 00" in page
    assert "within 8 weeks" in page
    assert 'name="consent"' in page
    dutch = client.get("/account/mandate?lang=nl").get_data(as_text=True)
    assert "binnen 8 weken" in dutch


def test_a_member_gives_a_mandate_and_gets_a_copy(app, creditor):
    client, membership_id = member_client(app)
    response = give(client, iban="nl02 abna 0123 4567 89")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/mandate"
    with app.app_context():
        mandate = db.session.scalar(sa.select(SepaMandate))
        assert (mandate.membership_id, mandate.iban) == (membership_id, MEMBER_IBAN)
        assert mandate.status == MandateStatus.ACTIVE
        assert subjects("ada@example.org")[-1] == "Your direct debit mandate"
    page = client.get("/account/mandate?lang=en").get_data(as_text=True)
    assert mandate.reference in page
    assert "NL02 •••• 6789" in page
    assert MEMBER_IBAN not in page  # the whole IBAN is never shown again


def test_a_bad_iban_is_422_with_the_typing_kept(app, creditor):
    client, _ = member_client(app)
    response = give(client, iban="NL02ABNA0123456788", account_holder="Ada <Lovelace>")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This IBAN is not right" in page
    assert 'value="NL02ABNA0123456788"' in page
    assert 'value="Ada &lt;Lovelace&gt;"' in page
    assert 'aria-invalid="true"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SepaMandate)) == 0


def test_no_consent_or_empty_fields_are_422(app, creditor):
    client, _ = member_client(app)
    response = give(client, consent="")
    assert response.status_code == 422
    assert "Please tick the box" in response.get_data(as_text=True)
    assert 'value="NL02ABNA0123456789"' in response.get_data(as_text=True)
    response = give(client, iban="", account_holder="")
    assert response.status_code == 422
    assert "Please give your IBAN." in response.get_data(as_text=True)
    response = give(client, iban="N" * 5000)
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SepaMandate)) == 0


def test_a_second_mandate_is_refused_and_the_member_ends_theirs(app, creditor):
    client, _ = member_client(app)
    assert give(client).status_code == 303
    response = give(client)
    assert response.status_code == 422
    assert "End it first" in response.get_data(as_text=True)
    assert post_form(client, "/account/mandate/end?lang=en").status_code == 303
    with app.app_context():
        mandate = db.session.scalar(sa.select(SepaMandate))
        assert mandate.status == MandateStatus.ENDED
    page = client.get("/account/mandate?lang=en").get_data(as_text=True)
    assert 'name="consent"' in page  # a new one may be given
    response = post_form(client, "/account/mandate/end?lang=en", follow_redirects=True)
    assert "You have no mandate in force." in response.get_data(as_text=True)


def test_nobody_sees_or_ends_another_members_mandate(app, creditor):
    ada, _ = member_client(app, "ada@example.org")
    assert give(ada).status_code == 303
    bob, _ = member_client(app, "bob@example.org")
    with app.app_context():
        reference = db.session.scalar(sa.select(SepaMandate.reference))
    page = bob.get("/account/mandate?lang=en").get_data(as_text=True)
    assert reference not in page and "Ada Lovelace" not in page and "6789" not in page
    post_form(bob, "/account/mandate/end?lang=en")
    with app.app_context():
        assert db.session.scalar(sa.select(SepaMandate.status)) == MandateStatus.ACTIVE
    # A return from Stripe naming someone else's session changes nothing either.
    assert bob.get("/account/mandate?session_id=cs_test_someoneelse").status_code == 303


def test_a_person_without_membership_cannot_give_one(app, creditor):
    with app.app_context():
        make_user("guest@example.org", locale="en")
    client = login(app, "guest@example.org")
    page = client.get("/account/mandate?lang=en").get_data(as_text=True)
    assert "Only members can pay their dues by direct debit." in page
    response = give(client)
    assert response.status_code == 422
    assert client.get("/account/mandate").status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(client, creditor):
    response = client.get("/account/mandate")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_without_a_creditor_the_page_says_so(app):
    client, _ = member_client(app)
    page = client.get("/account/mandate?lang=en").get_data(as_text=True)
    assert "not possible yet" in page
    assert give(client).status_code == 422


# --- the admin's pages ----------------------------------------------------------------


def admin(app):
    with app.app_context():
        make_admin(locale="en")
    return login(app, "admin@example.org")


def test_only_admins_see_the_dues(app, creditor):
    member, _ = member_client(app)
    assert member.get("/admin/dues").status_code == 403
    assert post_form(member, "/admin/dues", {"debit_date": "2030-01-01"}).status_code == 403
    assert admin(app).get("/admin/dues").status_code == 200


def test_a_debit_date_too_soon_or_not_a_date_is_422_with_the_typing_kept(app, creditor):
    client = admin(app)
    with app.app_context():
        too_soon = (sepa.local_today() + timedelta(days=13)).isoformat()
    response = post_form(client, "/admin/dues?lang=en", {"debit_date": too_soon})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "the earliest debit date is" in page
    assert f'value="{too_soon}"' in page
    response = post_form(client, "/admin/dues?lang=en", {"debit_date": "1st of March"})
    assert response.status_code == 422
    assert 'value="1st of March"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CollectionRun)) == 0


def test_an_admin_runs_the_dues_makes_the_file_and_records_results(app, creditor, count_queries):
    client = admin(app)
    with app.app_context():
        day = debit_day(utcnow())
        for name in ("ada", "bob", "cas"):
            due_member(f"{name}@example.org", day)
    response = post_form(client, "/admin/dues?lang=en", {"debit_date": day.isoformat()})
    assert response.status_code == 303
    with app.app_context():
        run = db.session.scalar(sa.select(CollectionRun))
        run_id = run.id
        assert len(run.collections) == 3
        assert subjects("ada@example.org")[-1] == "Your dues will be debited"
    assert client.get(f"/admin/dues/{run_id}/pain008.xml").status_code == 404
    page = client.get(f"/admin/dues/{run_id}?lang=en").get_data(as_text=True)
    assert page.count("Announced") >= 3
    with count_queries as counted:
        client.get(f"/admin/dues/{run_id}?lang=en")
    few = counted.count
    with app.app_context():
        due_member("dan@example.org", day)
        dues.run_dues(day)
        db.session.commit()
    index = client.get("/admin/dues?lang=en").get_data(as_text=True)
    assert "€75.00" in index
    response = post_form(client, f"/admin/dues/{run_id}/file?lang=en")
    assert response.status_code == 303
    download = client.get(f"/admin/dues/{run_id}/pain008.xml")
    assert download.status_code == 200
    assert download.mimetype == "application/xml"
    assert "attachment" in download.headers["Content-Disposition"]
    assert b"CstmrDrctDbtInitn" in download.data and MEMBER_IBAN.encode() in download.data
    with app.app_context():
        collection_ids = list(
            db.session.scalars(
                sa.select(Collection.id).where(Collection.run_id == run_id).order_by(Collection.id)
            )
        )
    # The debit date has not come: paid is refused, the form comes back with 422.
    first = collection_ids[0]
    response = post_form(
        client, f"/admin/dues/collections/{first}?lang=en", {f"c{first}-result": "paid"}
    )
    assert response.status_code == 422
    assert "The debit date has not come yet." in response.get_data(as_text=True)
    response = post_form(
        client, f"/admin/dues/collections/{first}?lang=en", {f"c{first}-result": "stolen"}
    )
    assert response.status_code == 422
    response = post_form(
        client,
        f"/admin/dues/collections/{first}?lang=en",
        {f"c{first}-result": "failed", f"c{first}-reason": "AC04 account closed"},
    )
    assert response.status_code == 303
    with app.app_context():
        collection = db.session.get(Collection, first)
        assert (collection.status, collection.reason) == (
            CollectionStatus.FAILED,
            "AC04 account closed",
        )
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "dues.result"))
        assert entry.subject_user_id == collection.membership.user_id
        assert (entry.before["status"], entry.after["status"]) == ("submitted", "failed")
        # Time moves to the debit date: the bank debited the rest.
        run = db.session.get(CollectionRun, run_id)
        assert len(dues.record_all_paid(run, now=sepa.start_of(day) + timedelta(hours=9))) == 2
        db.session.commit()
    with count_queries as counted:
        client.get(f"/admin/dues/{run_id}?lang=en")
    assert counted.count <= few + 2  # no query per collection


def test_unknown_runs_and_collections_are_404(app, creditor):
    client = admin(app)
    assert client.get("/admin/dues/99").status_code == 404
    assert client.get("/admin/dues/99/pain008.xml").status_code == 404
    assert post_form(client, "/admin/dues/99/file").status_code == 404
    assert post_form(client, "/admin/dues/collections/99").status_code == 404


def test_a_file_refused_comes_back_as_a_message(app, creditor, monkeypatch):
    client = admin(app)
    with app.app_context():
        day = debit_day(utcnow())
        due_member("ada@example.org", day)
        run_id = dues.run_dues(day).id
        db.session.commit()
    monkeypatch.setitem(app.config, "SEPA_CREDITOR_ID", "")
    response = post_form(client, f"/admin/dues/{run_id}/file?lang=en", follow_redirects=True)
    assert "SEPA_CREDITOR_ID" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CollectionRun, run_id).file_xml is None


def test_the_command_runs_the_dues(app, creditor, runner):
    with app.app_context():
        due_member("ada@example.org", debit_day(utcnow()))
        too_soon = (sepa.local_today() + timedelta(days=3)).isoformat()
    result = runner.invoke(args=["coop", "collect-dues", "--debit-date", too_soon])
    # In the default language, Dutch.
    assert result.exit_code != 0 and "vroegste incassodatum" in result.output
    result = runner.invoke(args=["coop", "collect-dues"])
    assert result.exit_code == 0, result.output
    assert "1 collections" in result.output
    result = runner.invoke(args=["coop", "collect-dues"])
    assert result.exit_code == 0 and "No collections" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Collection)) == 1
        sepa_file.make_file(db.session.scalar(sa.select(CollectionRun)))


def test_the_members_data_export_holds_their_mandate(app, creditor):
    client, _ = member_client(app)
    assert give(client).status_code == 303
    data = client.get("/account/export").get_json()
    [mandate] = data["direct_debit"]["mandates"]
    assert (mandate["iban"], mandate["status"]) == (MEMBER_IBAN, "active")
    assert data["direct_debit"]["collections"] == []


def test_the_account_page_says_when_the_dues_are_debited_instead_of_asking_to_pay(app, creditor):
    with app.app_context():
        membership = due_member("ada@example.org", sepa_fixtures.passed_debit_day())  # due now
        membership_id = membership.id
    client = login(app, "ada@example.org")
    assert "To pay: €25.00." in client.get("/account/?lang=en").get_data(as_text=True)
    with app.app_context():
        sepa_fixtures.run_dues_of(sepa_fixtures.passed_debit_day())
        db.session.commit()
    page = client.get("/account/?lang=en").get_data(as_text=True)
    assert "Your dues of €25.00 will be debited on" in page
    assert "To pay:" not in page
    with app.app_context():
        sepa.end_mandate(sepa.active_mandate(db.session.get(Membership, membership_id)))
        db.session.commit()
    page = client.get("/account/?lang=en").get_data(as_text=True)
    assert "will be debited" not in page and "To pay: €25.00." in page


def test_a_debit_date_on_a_weekend_or_bank_holiday_is_422_with_the_next_business_day(app, creditor):
    client = admin(app)
    with app.app_context():
        earliest = sepa.earliest_debit_date()
        due_member("ada@example.org", earliest + timedelta(days=14))
    saturday = earliest + timedelta(days=(5 - earliest.weekday()) % 7)
    good_friday = easter(earliest.year + 1) - timedelta(days=2)
    for day, monday in ((saturday, sepa.next_target_day(saturday)), (good_friday, None)):
        response = post_form(client, "/admin/dues?lang=en", {"debit_date": day.isoformat()})
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert "Banks do not debit on that day" in page
        assert f'value="{day.isoformat()}"' in page
        if monday is not None:
            assert f"{monday.day} {monday:%B %Y}" in page
    assert "the next business day is" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CollectionRun)) == 0


def test_the_command_refuses_a_debit_date_on_a_weekend(app, creditor, runner):
    with app.app_context():
        earliest = sepa.earliest_debit_date()
        due_member("ada@example.org", earliest + timedelta(days=14))
    sunday = earliest + timedelta(days=6 - earliest.weekday())
    result = runner.invoke(args=["coop", "collect-dues", "--debit-date", sunday.isoformat()])
    # In the default language, Dutch.
    assert result.exit_code != 0 and "Banken schrijven op die dag niet af" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CollectionRun)) == 0
