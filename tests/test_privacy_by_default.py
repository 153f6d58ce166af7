"""Privacy by default: a new member's profile is hidden until they choose to show it, and
`coop purge` removes what former members filled in after FORMER_MEMBER_DATA_DAYS, keeping
the member register."""

import json
import re
from datetime import timedelta

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Domain,
    Membership,
    MembershipPlan,
    MembershipStatus,
    Payment,
    Profile,
    User,
    Visibility,
    utcnow,
)
from cooperative.models.membership import profile_interests
from cooperative.services import admission, demo
from cooperative.services import membership as memberships
from tests.conftest import AuthActions, post_form
from tests.factories import ADDRESS, make_admin, make_domain, make_member, make_plan, make_user
from tests.test_retention import places_holding

PASSWORD = "correct horse battery"


def checked(page: str, name: str) -> list[str]:
    """The values of the radio buttons named `name` that the page has ticked."""
    tags = re.findall(r"<input[^>]*>", page)
    return [
        re.search(r'value="([^"]*)"', tag).group(1)
        for tag in tags
        if f'name="{name}"' in tag and re.search(r"\schecked\b", tag)
    ]


def test_the_join_form_leaves_the_profile_unlisted_until_the_member_chooses(client, app, auth):
    with app.app_context():
        make_plan("lid")
        make_member("viewer@example.org", display_name="Vera Viewer")
        make_user()
    auth.login()
    page = client.get("/join/lid?lang=en").get_data(as_text=True)
    assert checked(page, "visibility") == ["hidden"]

    # Submitted as the browser sends it: the ticked choice goes with it.
    data = {"display_name": "Ada Nieuw", "privacy": "y", "visibility": "hidden", **ADDRESS}
    assert post_form(client, "/join/lid", data).status_code == 303
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "resident@example.org"))
        assert user.profile.visibility == Visibility.HIDDEN
        assert memberships.current_membership(user).status == MembershipStatus.ACTIVE
        user_id = user.id
    auth.logout()
    auth.login("viewer@example.org")
    assert "Ada Nieuw" not in client.get("/members/").get_data(as_text=True)
    assert client.get(f"/members/{user_id}").status_code == 404


def test_a_profile_made_without_a_choice_is_hidden(client, app, auth):
    with app.app_context():
        user = make_user()
        assert memberships.ensure_profile(user).visibility == Visibility.HIDDEN
        assert Profile.__table__.c.visibility.default.arg == Visibility.HIDDEN
        db.session.rollback()
    auth.login()
    page = client.get("/account/profile?lang=en").get_data(as_text=True)
    assert checked(page, "visibility") == ["hidden"]


def test_the_demo_data_lists_nobody_who_did_not_choose_it(app):
    with app.app_context():
        demo.seed_demo()
        db.session.commit()
        listed = db.session.scalars(
            sa.select(Profile).where(Profile.visibility != Visibility.HIDDEN)
        ).all()
        assert listed == []


# --- former members ------------------------------------------------------------------


def lapsed_member(email: str, name: str, left_at, admin) -> int:
    """A yearly member with a full profile, paid a year and more before `left_at`, lapsed
    by the daily job run at `left_at`; returns the account's id."""
    plan = db.session.scalar(sa.select(MembershipPlan).where(MembershipPlan.slug == "lid"))
    user = make_user(email, name=name)
    membership = memberships.join(user, plan, now=left_at - timedelta(days=400))
    memberships.record_bank_transfer(membership, 1000, admin, now=left_at - timedelta(days=400))
    profile = memberships.ensure_profile(user)
    profile.display_name = f"{name} (profiel)"
    profile.neighbourhood = f"Wijk van {name}"
    profile.bio = f"Over {name}: ik kook graag."
    profile.offer = f"{name} repareert fietsen."
    profile.visibility = Visibility.MEMBERS
    profile.newsletter = True
    profile.interests = [db.session.scalar(sa.select(Domain))]
    db.session.commit()
    assert memberships.send_reminders_and_lapse(now=left_at) == (0, 1)
    db.session.commit()
    assert membership.status == MembershipStatus.LAPSED and membership.left_at == left_at
    return user.id


def test_purge_removes_a_former_members_profile_two_years_after_leaving(app, runner, client, auth):
    minute = timedelta(minutes=1)
    two_years = timedelta(days=730)
    with app.app_context():
        make_plan("lid", fee_cents=1000, period="yearly")
        make_domain()
        admin = make_admin()
        # The purge runs a little after this; the minute covers that.
        gone = lapsed_member("gone@example.org", "Greet", utcnow() - two_years - minute, admin)
        recent = lapsed_member("recent@example.org", "Rob", utcnow() - two_years + minute, admin)
        active = make_member("active@example.org", visibility="members", bio="Ik ben er nog.").id
        payments_before = db.session.scalar(sa.select(sa.func.count(Payment.id)))

    result = runner.invoke(args=["coop", "purge"])
    assert result.exit_code == 0, result.output
    assert "Removed the profiles of 1 former members who left more than 730 days ago." in (
        result.output
    )

    with app.app_context():
        # Greet: everything she filled in for the membership is gone, everywhere.
        assert db.session.get(Profile, gone) is None
        assert (
            places_holding("Greet (profiel)", "Wijk van Greet", "Over Greet", "Greet repareert")
            == []
        )
        assert (
            db.session.scalar(sa.select(sa.func.count()).where(profile_interests.c.user_id == gone))
            == 0
        )
        # The member register stays: name, address, number, plan, admitted and left.
        user = db.session.get(User, gone)
        membership = memberships.current_membership(user)
        assert (user.name, user.email) == ("Greet", "gone@example.org")
        assert membership.number == 1 and membership.plan.slug == "lid"
        assert membership.started_at is not None and membership.left_at is not None
        assert membership.status == MembershipStatus.LAPSED
        # And the books: every payment, with its amount.
        assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == payments_before
        # Rob left a minute less than two years ago, and the active member never left.
        assert db.session.get(Profile, recent).bio == "Over Rob: ik kook graag."
        assert db.session.get(Profile, recent).interests
        assert db.session.get(Profile, active).bio == "Ik ben er nog."

    # Greet can still log in; her own data shows the register and no profile.
    auth.login("gone@example.org", PASSWORD)
    exported = json.loads(client.get("/account/export").data)
    assert exported["profile"] is None
    assert [(m["number"], m["status"]) for m in exported["memberships"]] == [(1, "lapsed")]
    auth.logout()
    # The admin still finds her in the member register.
    admin_client = app.test_client()
    AuthActions(admin_client).login("admin@example.org", PASSWORD)
    with app.app_context():
        membership_id = db.session.scalar(
            sa.select(Membership.id).where(Membership.user_id == gone)
        )
    page = admin_client.get(f"/admin/members/{membership_id}?lang=en").get_data(as_text=True)
    assert "Greet" in page and "gone@example.org" in page and "Left on" in page

    again = runner.invoke(args=["coop", "purge"])
    assert "Removed the profiles of 0 former members" in again.output


def test_the_period_is_a_setting(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "FORMER_MEMBER_DATA_DAYS", 30)
    with app.app_context():
        make_plan("lid", fee_cents=1000, period="yearly")
        make_domain()
        admin = make_admin()
        gone = lapsed_member("gone@example.org", "Greet", utcnow() - timedelta(days=31), admin)
    result = runner.invoke(args=["coop", "purge"])
    assert "Removed the profiles of 1 former members who left more than 30 days ago." in (
        result.output
    )
    with app.app_context():
        assert db.session.get(Profile, gone) is None


def test_leaving_and_coming_back_set_and_clear_the_date(app):
    with app.app_context():
        make_plan("lid", fee_cents=1000, period="yearly")
        make_domain()
        admin = make_admin()
        left_at = utcnow() - timedelta(days=3)
        user_id = lapsed_member("back@example.org", "Bas", left_at, admin)
        membership = memberships.current_membership(db.session.get(User, user_id))
        memberships.record_bank_transfer(membership, 1000, admin)  # pays again: renewed
        db.session.commit()
        assert membership.status == MembershipStatus.ACTIVE and membership.left_at is None

        plan = make_plan("bestuur", needs_approval=True)
        applicant = make_user("applicant@example.org")
        application = memberships.join(applicant, plan)
        assert application.left_at is None
        admission.reject(application, admin, "Alleen voor het bestuur.")
        db.session.commit()
        assert application.status == MembershipStatus.CANCELLED
        assert application.left_at is not None


def test_the_privacy_statement_says_how_long_a_profile_is_kept(client, app, monkeypatch):
    page = client.get("/join/privacy?lang=en").get_data(as_text=True)
    assert "2 years after your membership ends, we delete your profile." in page
    assert "Until you choose, your profile is hidden" in page
    assert "2 jaar na het einde van je lidmaatschap" in client.get(
        "/join/privacy?lang=nl"
    ).get_data(as_text=True)
    monkeypatch.setitem(app.config, "FORMER_MEMBER_DATA_DAYS", 400)
    page = client.get("/join/privacy?lang=en").get_data(as_text=True)
    assert "400 days after your membership ends" in page


def test_the_migration_dates_the_leaving_of_those_who_left_before(tmp_path):
    """Memberships that lapsed or were turned down before `left_at` existed get their paid
    period's end (or, without one, the day they applied), so the purge reaches them."""
    from flask_migrate import upgrade

    from cooperative import create_app
    from tests.test_migrations import scratch_database

    url, drop = scratch_database(tmp_path)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    try:
        with app.app_context():
            upgrade(revision="47c37f98bb9f")
            with db.engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO membership_plans (id, slug, name_nl, name_en, "
                        "description_nl, description_en, fee_cents, period, needs_approval, "
                        "is_active, position) VALUES (1, 'lid', 'Lid', 'Member', '', '', "
                        "1000, 'yearly', false, true, 0)"
                    )
                )
                for user_id, status, ends_at in (
                    (1, "lapsed", "2023-03-01 10:00:00"),
                    (2, "cancelled", None),
                    (3, "active", "2027-03-01 10:00:00"),
                ):
                    connection.execute(
                        sa.text(
                            "INSERT INTO users (id, email, password_hash, name, locale, "
                            "is_admin, created_at) VALUES (:id, :email, 'x', 'X', 'nl', false, "
                            "'2022-01-01 09:00:00')"
                        ),
                        {"id": user_id, "email": f"{user_id}@example.org"},
                    )
                    connection.execute(
                        sa.text(
                            "INSERT INTO memberships (id, user_id, plan_id, status, ends_at, "
                            "decision_note, created_at) VALUES (:id, :id, 1, :status, "
                            ":ends_at, '', '2022-02-01 09:00:00')"
                        ),
                        {"id": user_id, "status": status, "ends_at": ends_at},
                    )
            upgrade()
            with db.engine.connect() as connection:
                rows = connection.execute(
                    sa.select(Membership.id, Membership.left_at).order_by(Membership.id)
                ).all()
            db.engine.dispose()
        assert [(i, left and left.isoformat()) for i, left in rows] == [
            (1, "2023-03-01T10:00:00+00:00"),
            (2, "2022-02-01T09:00:00+00:00"),
            (3, None),
        ]
    finally:
        drop()
