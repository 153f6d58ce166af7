"""The audit log: each kind of change an admin or organiser makes to another person's data
writes an entry (who, what, about whom, when, before and after), through HTTP; admins
read and filter it at /admin/audit, in a fixed number of queries."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import AuditEntry, CollectiveRole, Event, User, utcnow
from cooperative.services import audit
from tests import attendance_fixtures
from tests.attendance_fixtures import ORGANISER, log_in
from tests.conftest import post_form
from tests.factories import make_admin, make_collective, make_user
from tests.test_admin_members import applicant

# The door's event and a party that paid online, as the attendance tests build them.
door = attendance_fixtures.door
paid = attendance_fixtures.paid


def listed(page: str) -> int:
    """How many entries the log page lists (each has an anchor, `#audit-<id>`)."""
    return len(re.findall(r'id="audit-[0-9]+"', page))


def entries(app) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
        db.session.expunge_all()
        return rows


def user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.email == email))


# --- Admins change members ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "after_status", "number"), [("approve", "active", 1), ("reject", "cancelled", None)]
)
def test_deciding_on_a_membership_is_logged(app, client, auth, action, after_status, number):
    membership_id = applicant(app)
    with app.app_context():
        make_admin()
    auth.login("admin@example.org")
    response = post_form(
        client,
        f"/admin/members/{membership_id}/decide",
        {"action": action, "reason": "Not from this city"},
    )
    assert response.status_code == 303
    [entry] = entries(app)
    assert entry.action == f"membership.{action}"
    assert entry.actor_id == user_id(app, "admin@example.org")
    assert entry.subject_user_id == user_id(app, "applicant@example.org")
    assert entry.before["status"] == "pending_approval" and entry.before["number"] is None
    assert entry.after["status"] == after_status and entry.after["number"] == number
    assert abs(entry.at - utcnow()) < timedelta(minutes=1)


def test_a_refused_decision_logs_nothing(app, client, auth):
    membership_id = applicant(app)
    with app.app_context():
        make_admin()
    auth.login("admin@example.org")
    response = post_form(client, f"/admin/members/{membership_id}/decide", {"action": "reject"})
    assert response.status_code == 422  # a rejection needs a reason
    assert entries(app) == []


def test_a_bank_transfer_is_logged(app, client, auth):
    membership_id = applicant(app, fee_cents=2500)
    with app.app_context():
        make_admin()
    auth.login("admin@example.org")
    response = post_form(
        client, f"/admin/members/{membership_id}/bank-transfer", {"amount": "25,00"}
    )
    assert response.status_code == 303
    [entry] = entries(app)
    assert entry.action == "membership.bank_transfer"
    assert entry.subject_user_id == user_id(app, "applicant@example.org")
    assert entry.before["status"] == "pending_payment"
    assert entry.after["status"] == "pending_approval"
    assert entry.after["paid_cents"] == 2500


def test_giving_and_taking_a_role_is_logged(app, client, auth):
    with app.app_context():
        make_admin()
        make_user("helper@example.org", name="Hanna Helper")
        collective_id = make_collective().id
    auth.login("admin@example.org")
    post_form(client, f"/admin/collectives/{collective_id}/roles", {"email": "helper@example.org"})
    with app.app_context():
        role_id = db.session.scalar(sa.select(CollectiveRole.id))
    post_form(client, f"/admin/collectives/{collective_id}/roles/{role_id}/remove")
    given, taken = entries(app)
    helper = user_id(app, "helper@example.org")
    assert (given.action, given.subject_user_id) == ("role.add", helper)
    assert given.before == {"collective": "zonnedak", "role": False}
    assert given.after == {"collective": "zonnedak", "role": True}
    assert (taken.action, taken.subject_user_id) == ("role.remove", helper)
    assert taken.after == {"collective": "zonnedak", "role": False}


# --- Organisers change attendees -----------------------------------------------------------


def test_check_ins_and_their_undo_are_logged_per_person(app, client, auth, door):
    log_in(client, auth)
    base = f"/manage/events/{door.event}"
    post_form(client, f"{base}/attendees/{door.chris_person}/check-in")
    post_form(client, f"{base}/attendees/{door.chris_person}/check-in")  # a double tap
    post_form(client, f"{base}/parties/{door.ada}/check-in")
    post_form(client, f"{base}/attendees/{door.bob_person}/undo")
    logged = entries(app)
    organiser = user_id(app, ORGANISER)
    assert [(e.action, e.attendee_id, e.registration_id) for e in logged] == [
        ("attendee.check_in", door.chris_person, door.chris),
        ("attendee.check_in", door.ada_person, door.ada),
        ("attendee.check_in", door.bob_person, door.ada),
        ("attendee.undo_check_in", door.bob_person, door.ada),
    ]
    assert {e.actor_id for e in logged} == {organiser}
    assert logged[0].before == {"checked_in": False} and logged[0].after == {"checked_in": True}
    assert logged[3].before == {"checked_in": True} and logged[3].after == {"checked_in": False}


def test_a_door_payment_is_logged(app, client, auth, door):
    log_in(client, auth)
    response = post_form(
        client,
        f"/manage/events/{door.event}/parties/{door.ada}/door-payment",
        {"amount": "4,00", "on_page": "1"},
    )
    assert response.status_code in (200, 303)
    [entry] = entries(app)
    assert (entry.action, entry.registration_id) == ("registration.door_payment", door.ada)
    assert entry.before == {"amount_paid_cents": 0, "payment_state": "due_at_door"}
    assert entry.after == {"amount_paid_cents": 400, "payment_state": "due_at_door"}


def test_a_walk_in_is_logged(app, client, auth, door):
    log_in(client, auth)
    with app.app_context():
        db.session.get(Event, door.event).capacity = 10
        db.session.commit()
    response = post_form(
        client, f"/manage/events/{door.event}/walk-in", {"name": "Wally Walk-in", "meal": ""}
    )
    assert response.status_code == 303
    [entry] = entries(app)
    assert entry.action == "registration.walk_in"
    assert entry.before is None
    assert entry.after["status"] == "confirmed" and entry.after["checked_in"] is True
    assert entry.attendee_id is not None and entry.registration_id is not None


def test_cancelling_the_event_logs_each_party(app, client, auth, door):
    log_in(client, auth)
    response = post_form(client, f"/manage/events/{door.event}/cancel")
    assert response.status_code == 303
    logged = entries(app)
    assert {e.registration_id for e in logged} == {door.ada, door.eve, door.chris, door.gus}
    assert {e.action for e in logged} == {"registration.event_cancelled"}
    by_party = {e.registration_id: e for e in logged}
    assert by_party[door.gus].before["status"] == "waitlisted"
    assert by_party[door.ada].before["status"] == "confirmed"
    assert {e.after["status"] for e in logged} == {"cancelled"}


def test_a_refund_by_an_organiser_is_logged(app, client, auth, fake_stripe, paid):
    log_in(client, auth)
    response = post_form(client, f"/manage/events/{paid.event}/parties/{paid.party}/refund")
    assert response.status_code == 303
    [entry] = entries(app)
    assert (entry.action, entry.registration_id) == ("registration.refund", paid.party)
    assert entry.before["status"] == "confirmed" and entry.before["payment_state"] == "paid"
    assert entry.after["status"] == "cancelled" and entry.after["payment_state"] == "refunded"


# --- The admins' page ----------------------------------------------------------------------


def test_the_log_is_for_admins_only(app, client, auth):
    assert client.get("/admin/audit/").headers["Location"].startswith("/auth/login")
    with app.app_context():
        make_user()
    auth.login()
    assert client.get("/admin/audit/").status_code == 403


def test_the_log_shows_who_what_whom_and_filters(app, client, auth, door):
    log_in(client, auth)
    base = f"/manage/events/{door.event}"
    post_form(client, f"{base}/attendees/{door.chris_person}/check-in")
    auth.logout()
    log_in(client, auth, email="helper@example.org")
    post_form(client, f"{base}/parties/{door.ada}/check-in")
    auth.logout()
    with app.app_context():
        make_admin()
        # An old entry, to filter by day.
        old = db.session.scalar(sa.select(AuditEntry).order_by(AuditEntry.id))
        old.at = utcnow() - timedelta(days=40)
        db.session.commit()
    auth.login("admin@example.org")

    page = client.get("/admin/audit/?lang=en").get_data(as_text=True)
    assert listed(page) == 3
    assert "Olga Organiser" in page and "Henk Helper" in page
    assert "Checked in" in page and "no → yes" in page
    assert "Buurtdiner" in page and "chris" in page and "Bob" in page

    helper = user_id(app, "helper@example.org")
    by_helper = client.get(f"/admin/audit/?lang=en&actor={helper}").get_data(as_text=True)
    assert listed(by_helper) == 2
    assert f"({ORGANISER})" not in by_helper and "(helper@example.org)" in by_helper

    about = client.get("/admin/audit/?lang=en&subject=LOVELACE").get_data(as_text=True)
    assert listed(about) == 2  # Ada and Bob of Ada Lovelace's party
    assert listed(client.get("/admin/audit/?subject=nobody-here").get_data(as_text=True)) == 0
    # `%` and `_` are searched for as themselves, not as any text and any letter.
    assert listed(client.get("/admin/audit/?subject=%25").get_data(as_text=True)) == 0
    assert listed(client.get("/admin/audit/?subject=_").get_data(as_text=True)) == 0

    today = utcnow().date()
    recent = client.get(f"/admin/audit/?since={today - timedelta(days=1)}").get_data(as_text=True)
    assert listed(recent) == 2
    older = client.get(f"/admin/audit/?until={today - timedelta(days=30)}").get_data(as_text=True)
    assert listed(older) == 1


def test_a_wrong_filter_is_said_next_to_its_field(app, client, auth):
    with app.app_context():
        make_admin()
    auth.login("admin@example.org")
    response = client.get("/admin/audit/?lang=en&since=31-12-2026&actor=x&subject=" + "a" * 500)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please give a day like 2026-12-31." in page
    assert "Please choose one of the people in the list." in page
    assert 'value="31-12-2026"' in page  # the typing is kept


def test_the_log_is_paged_in_a_fixed_number_of_queries(app, client, auth, count_queries):
    with app.app_context():
        admin = make_admin()
        people = [make_user(f"p{n}@example.org", name=f"Person {n}").id for n in range(60)]
        admin_id = admin.id
        for person in people[:3]:
            audit.record(admin, "role.add", subject_user_id=person, after={"role": True})
        db.session.commit()
    auth.login("admin@example.org")
    with count_queries as few:
        assert client.get("/admin/audit/").status_code == 200
    with app.app_context():
        admin = db.session.get(User, admin_id)
        for person in people[3:]:
            audit.record(admin, "role.add", subject_user_id=person, after={"role": True})
        db.session.commit()
    with count_queries as many:
        page = client.get("/admin/audit/?lang=en").get_data(as_text=True)
    assert listed(page) == 50
    assert many.count == few.count
    second = client.get("/admin/audit/?lang=en&page=2").get_data(as_text=True)
    assert listed(second) == 10
    assert "Previous page" in second and "Next page" not in second


def test_an_entry_outlives_its_actors_account_without_their_name(app, client, auth, door):
    log_in(client, auth)
    post_form(client, f"/manage/events/{door.event}/attendees/{door.chris_person}/check-in")
    assert (
        post_form(client, "/account/delete", {"password": "correct horse battery"}).status_code
        == 303
    )
    [entry] = entries(app)
    assert entry.actor_id is None and entry.attendee_id == door.chris_person
    with app.app_context():
        make_admin()
    auth.login("admin@example.org")
    page = client.get("/admin/audit/?lang=en").get_data(as_text=True)
    assert "a deleted account" in page and "Olga Organiser" not in page
