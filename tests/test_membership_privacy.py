"""Who sees a profile (directory, profile page), my data export, deleting an account,
and purging guests' data."""

import json
from datetime import timedelta

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Attendee,
    Membership,
    MembershipPlan,
    Payment,
    PaymentProvider,
    PaymentStatus,
    Profile,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)
from cooperative.services import membership as memberships
from cooperative.services import retention
from tests.conftest import post_form
from tests.factories import (
    make_domain,
    make_event,
    make_member,
    make_plan,
    make_registration,
    make_user,
)


def three_members(app):
    with app.app_context():
        energy = make_domain()
        make_plan()
        make_member("viewer@example.org", display_name="Vera Viewer", neighbourhood="Oost")
        public = make_member(
            "public@example.org",
            visibility="public",
            display_name="Pia Public",
            neighbourhood="West",
            interests=[energy],
        ).id
        members = make_member(
            "members@example.org",
            visibility="members",
            display_name="Max Members",
            neighbourhood="Oost",
        ).id
        hidden = make_member(
            "hidden@example.org", visibility="hidden", display_name="Hanna Hidden"
        ).id
        return public, members, hidden


def test_visibility_in_the_directory_and_on_profile_pages(client, app, auth):
    public, members, hidden = three_members(app)
    # Anonymous: no directory, only the public page.
    assert client.get("/members/").status_code == 302
    assert client.get(f"/members/{public}").status_code == 200
    assert client.get(f"/members/{members}").status_code == 404
    assert client.get(f"/members/{hidden}").status_code == 404

    # A logged-in person who is not a member: no directory, no members-only page.
    with app.app_context():
        make_user("outsider@example.org")
    auth.login("outsider@example.org")
    assert client.get("/members/").status_code == 403
    assert client.get(f"/members/{members}").status_code == 404
    assert "/members/" not in client.get("/?lang=en").get_data(as_text=True).split("<main")[0]
    auth.logout()

    auth.login("viewer@example.org")
    page = client.get("/members/?lang=en").get_data(as_text=True)
    assert "Pia Public" in page and "Max Members" in page and "Hanna Hidden" not in page
    assert client.get(f"/members/{members}").status_code == 200
    assert client.get(f"/members/{hidden}").status_code == 404

    oost = client.get("/members/?neighbourhood=Oost").get_data(as_text=True)
    assert "Max Members" in oost and "Pia Public" not in oost
    energy = client.get(
        "/members/?interest=energie", headers={"HX-Request": "true", "HX-Target": "member-list"}
    ).get_data(as_text=True)
    assert "Pia Public" in energy and "Max Members" not in energy and "<html" not in energy


def test_a_lapsed_members_profile_disappears(client, app, auth):
    public, _members, _hidden = three_members(app)
    with app.app_context():
        membership = db.session.scalar(sa.select(Membership).where(Membership.user_id == public))
        membership.status = "lapsed"
        db.session.commit()
    assert client.get(f"/members/{public}").status_code == 404
    auth.login("viewer@example.org")
    assert "Pia Public" not in client.get("/members/").get_data(as_text=True)


def test_the_export_holds_my_data_and_nobody_elses(client, app, auth):
    with app.app_context():
        make_plan("lid", fee_cents=1000, period="yearly")
        user = make_user()
        admin = make_user("admin@example.org", name="Anna Admin", is_admin=True)
        membership = memberships.join(user, db.session.scalar(sa.select(MembershipPlan)))
        memberships.ensure_profile(user).bio = "Ik kook graag."
        memberships.record_bank_transfer(membership, 1000, admin)
        db.session.commit()
        event = make_event()
        make_registration(event, people=("Resident", "Kind"), email="resident@example.org")
        make_registration(event, people=("Someone Else",), email="else@example.org")
    auth.login()
    response = client.get("/account/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.data)
    assert data["account"]["email"] == "resident@example.org"
    assert data["profile"]["bio"] == "Ik kook graag."
    assert [(m["plan"], m["number"], m["status"]) for m in data["memberships"]] == [
        ("lid", 1, "active")
    ]
    assert [r["event"] for r in data["registrations"]] == ["Buurtdiner"]
    assert [p["name"] for p in data["registrations"][0]["people"]] == ["Resident", "Kind"]
    assert [(p["for"], p["amount_cents"]) for p in data["payments"]] == [("membership", 1000)]
    text = response.get_data(as_text=True)
    assert "else@example.org" not in text and "Someone Else" not in text
    assert "Anna Admin" not in text and "admin@example.org" not in text


def test_deleting_cancels_coming_registrations_anonymises_past_and_keeps_amounts(client, app, auth):
    with app.app_context():
        make_plan("lid", fee_cents=1000, period="yearly")
        user = make_user()
        admin = make_user("admin@example.org", is_admin=True)
        membership = memberships.join(user, db.session.scalar(sa.select(MembershipPlan)))
        memberships.record_bank_transfer(membership, 1000, admin)
        db.session.commit()
        soon = make_event(capacity=2)
        mine = make_registration(soon, people=("Resident", "Kind"), email="resident@example.org")
        waiting = make_registration(
            soon, people=("Wachter",), email="wait@example.org", join_waitlist=True
        )
        past = make_event("vorige", "Vorige keer", starts_in=timedelta(days=-10))
        old = make_registration(
            past,
            people=("Resident",),
            email="resident@example.org",
            now=utcnow() - timedelta(days=11),
        )
        ids = (mine.id, waiting.id, old.id)
        assert waiting.status == RegistrationStatus.WAITLISTED
    auth.login()
    assert client.get("/account/delete").status_code == 200
    wrong = post_form(client, "/account/delete?lang=en", {"password": "wrong"})
    assert wrong.status_code == 422 and "This password is not right." in wrong.get_data(
        as_text=True
    )
    response = post_form(client, "/account/delete", {"password": "correct horse battery"})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    with app.app_context():
        assert (
            db.session.scalar(sa.select(User).where(User.email == "resident@example.org")) is None
        )
        # The member register outlives the account (issue 15): the entry stays, unlinked.
        [entry] = db.session.scalars(sa.select(Membership)).all()
        assert (entry.user_id, entry.number, entry.registered_name) == (None, 1, "Resident")
        assert db.session.scalar(sa.select(sa.func.count(Profile.user_id))) == 0
        mine, waiting, old = (db.session.get(Registration, i) for i in ids)
        assert mine.status == RegistrationStatus.CANCELLED
        assert waiting.status == RegistrationStatus.CONFIRMED  # promoted into the freed seats
        for registration in (mine, old):
            assert (registration.contact_name, registration.contact_email) == ("", "")
            assert {a.name for a in registration.attendees} == {""}
        assert len(mine.attendees) == 2  # the count stays
        [payment] = db.session.scalars(sa.select(Payment)).all()
        assert (payment.amount_cents, payment.status, payment.membership_id) == (
            1000,
            PaymentStatus.PAID,
            None,
        )
        assert payment.provider == PaymentProvider.BANK_TRANSFER and payment.description == ""
    assert auth.login().status_code == 422


def test_purge_forgets_guests_after_the_configured_days(app, runner):
    with app.app_context():
        long_ago = make_event("oud", "Oud", starts_in=timedelta(days=-100))
        recent = make_event("recent", "Recent", starts_in=timedelta(days=-20))
        member = make_user()
        then = utcnow() - timedelta(days=101)
        make_registration(long_ago, people=("Gast",), email="guest@example.org", now=then)
        with_account = make_registration(
            long_ago, people=("Lid",), email="resident@example.org", now=then
        )
        with_account.user_id = member.id
        make_registration(
            recent, people=("Gast",), email="guest@example.org", now=then + timedelta(days=70)
        )
        db.session.commit()
    result = runner.invoke(args=["coop", "purge"])
    assert "Removed the personal data of 1 guest registrations." in result.output
    with app.app_context():
        emails = sorted(db.session.scalars(sa.select(Registration.contact_email)))
        assert emails == ["", "guest@example.org", "resident@example.org"]
        assert (
            db.session.scalar(sa.select(sa.func.count(Attendee.id)).where(Attendee.name == "")) == 1
        )
    result = runner.invoke(args=["coop", "purge", "--days", "10"])
    assert "of 1 guest registrations" in result.output


def test_membership_reminders_command(app, runner):
    with app.app_context():
        plan = make_plan("lid", fee_cents=1000, period="yearly")
        admin = make_user("admin@example.org", is_admin=True)
        membership = memberships.join(make_user(), plan)
        memberships.record_bank_transfer(membership, 1000, admin)
        membership.ends_at = membership.ends_at - timedelta(days=360)
        db.session.commit()
    result = runner.invoke(args=["coop", "membership-reminders"])
    assert "Reminded 1 members, 0 memberships lapsed." in result.output


def test_purge_removes_walk_ins_names_too(app):
    with app.app_context():
        event = make_event(starts_in=timedelta(days=1))
        walk_in = make_registration(event, people=("Wim",), email="wim@example.org")
        walk_in.contact_email = ""  # as a walk-in at the door: a name, no address
        event.starts_at = utcnow() - timedelta(days=100)
        event.ends_at = utcnow() - timedelta(days=100)
        db.session.commit()

        assert retention.purge_guests() == 1
        db.session.commit()
        purged = db.session.get(Registration, walk_in.id)
        assert purged.contact_name == "" and purged.attendees[0].name == ""
