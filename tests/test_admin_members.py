"""The admins' pages: who may enter, members with filters and CSV, approving and
rejecting, bank transfers, plans and domains."""

import dataclasses

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Domain,
    Membership,
    MembershipPlan,
    MembershipStatus,
    OutboxMessage,
    PlanPeriod,
    Profile,
)
from cooperative.refusals import Refused
from cooperative.services import membership as memberships
from cooperative.services.domains import save_domain
from cooperative.services.plans import PlanDetails, save_plan
from tests import sepa_fixtures
from tests.conftest import post_form
from tests.factories import make_admin, make_domain, make_member, make_plan, make_user


def applicant(app, email="applicant@example.org", **plan) -> int:
    with app.app_context():
        plan = make_plan("collectief", needs_approval=True, **plan)
        user = make_user(email, name="Appel Applicant", locale="en")
        user.profile = Profile(display_name="Appel", neighbourhood="Noord")
        membership = memberships.join(user, plan)
        db.session.commit()
        return membership.id


def status_of(app, membership_id):
    with app.app_context():
        return db.session.get(Membership, membership_id)


def test_only_admins_enter(client, app, auth):
    assert client.get("/admin/members").status_code == 302
    with app.app_context():
        make_user()
    auth.login()
    for url in (
        "/admin/",
        "/admin/members",
        "/admin/plans",
        "/admin/domains",
        "/admin/members.csv",
    ):
        assert client.get(url).status_code == 403, url
    assert post_form(client, "/admin/plans/new", {"slug": "x"}).status_code == 403


def test_members_list_with_search_filters_and_csv(client, app, auth):
    with app.app_context():
        make_admin()
        make_plan()
        make_member("oost@example.org", name="Olga Oost", neighbourhood="Oost")
        make_member("west@example.org", name="Wim West", neighbourhood="West")
    applicant(app)
    auth.login("admin@example.org")
    page = client.get("/admin/members?lang=en").get_data(as_text=True)
    assert "Olga Oost" in page and "Wim West" in page and "Appel Applicant" in page
    assert "1 application waits for approval" in page
    assert '<a href="/admin/collectives">' in page

    page = client.get("/admin/members?neighbourhood=Oost").get_data(as_text=True)
    assert "Olga Oost" in page and "Wim West" not in page
    page = client.get("/admin/members?status=pending_approval").get_data(as_text=True)
    assert "Appel Applicant" in page and "Olga Oost" not in page
    page = client.get("/admin/members?q=WIM").get_data(as_text=True)
    assert "Wim West" in page and "Olga Oost" not in page
    page = client.get("/admin/members?plan=collectief").get_data(as_text=True)
    assert "Appel Applicant" in page and "Wim West" not in page

    csv = client.get("/admin/members.csv?status=active&lang=en")
    assert csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Number,Name,E-mail address,Plan,Status")
    assert len(lines) == 3 and "oost@example.org" in csv.get_data(as_text=True)


def test_approve_and_reject_with_a_reason(client, app, auth):
    membership_id = applicant(app)
    with app.app_context():
        make_admin()
    auth.login("admin@example.org")
    url = f"/admin/members/{membership_id}"
    assert client.get(url).status_code == 200
    refused = post_form(client, f"{url}/decide?lang=en", {"action": "reject", "reason": ""})
    assert refused.status_code == 422
    assert "Please give a reason: the person will read it." in refused.get_data(as_text=True)
    assert status_of(app, membership_id).status == MembershipStatus.PENDING_APPROVAL

    response = post_form(client, f"{url}/decide", {"action": "approve", "reason": ""})
    assert response.status_code == 303
    approved = status_of(app, membership_id)
    assert approved.status == MembershipStatus.ACTIVE and approved.number == 1
    # Decided: deciding again is refused.
    again = post_form(client, f"{url}/decide", {"action": "reject", "reason": "Oops"})
    assert again.status_code == 422


def test_a_rejection_is_e_mailed_with_its_reason(client, app, auth):
    membership_id = applicant(app)
    with app.app_context():
        make_admin()
    auth.login("admin@example.org")
    response = post_form(
        client,
        f"/admin/members/{membership_id}/decide",
        {"action": "reject", "reason": "We only take collectives."},
    )
    assert response.status_code == 303
    assert status_of(app, membership_id).status == MembershipStatus.CANCELLED
    with app.app_context():
        message = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.to_address == "applicant@example.org")
        ).all()[-1]
        assert message.subject == "About your application for membership"
        assert "We only take collectives." in message.body_text


def test_nobody_approves_their_own_membership(client, app, auth):
    with app.app_context():
        admin = make_admin()
        plan = make_plan("collectief", needs_approval=True)
        membership_id = memberships.join(admin, plan).id
        db.session.commit()
    auth.login("admin@example.org")
    page = client.get(f"/admin/members/{membership_id}?lang=en").get_data(as_text=True)
    assert "another admin decides on it" in page
    response = post_form(client, f"/admin/members/{membership_id}/decide", {"action": "approve"})
    assert response.status_code == 422
    assert status_of(app, membership_id).status == MembershipStatus.PENDING_APPROVAL


def test_recording_a_bank_transfer(client, app, auth):
    with app.app_context():
        make_admin()
        plan = make_plan("lid", fee_cents=1000, period="yearly")
        membership_id = memberships.join(make_user(), plan).id
        db.session.commit()
    auth.login("admin@example.org")
    url = f"/admin/members/{membership_id}/bank-transfer"
    wrong = post_form(client, url + "?lang=en", {"amount": "5"})
    assert wrong.status_code == 422 and "The amount owed is €10.00." in wrong.get_data(as_text=True)
    assert 'value="5"' in wrong.get_data(as_text=True)
    bad = post_form(client, url + "?lang=en", {"amount": "ten"})
    assert bad.status_code == 422
    assert post_form(client, url, {"amount": "10,00"}).status_code == 303
    paid = status_of(app, membership_id)
    assert paid.status == MembershipStatus.ACTIVE and paid.number == 1
    page = client.get(f"/admin/members/{membership_id}?lang=nl").get_data(as_text=True)
    assert "10,00 · bankoverschrijving · betaald" in page  # in words, not bank_transfer


def test_plans_and_domains_are_made_and_changed(client, app, auth):
    with app.app_context():
        make_admin()
    auth.login("admin@example.org")
    data = {
        "slug": "jongerenlid",
        "name_nl": "Jongerenlid",
        "name_en": "Young member",
        "fee": "5",
        "period": "yearly",
        "is_active": "y",
        "position": "2",
    }
    bad = post_form(client, "/admin/plans/new?lang=en", {**data, "slug": "Jongeren Lid!"})
    assert bad.status_code == 422
    assert "Use lower-case letters, digits and hyphens only." in bad.get_data(as_text=True)
    assert post_form(client, "/admin/plans/new", data).status_code == 303
    with app.app_context():
        plan = db.session.scalar(sa.select(MembershipPlan))
        assert (plan.fee_cents, plan.period, plan.is_active) == (500, "yearly", True)
        plan_id = plan.id
    assert "5" in client.get(f"/admin/plans/{plan_id}").get_data(as_text=True)
    post_form(client, f"/admin/plans/{plan_id}", {**data, "is_active": ""})
    with app.app_context():
        assert db.session.get(MembershipPlan, plan_id).is_active is False
    assert client.get("/join/jongerenlid").status_code == 404

    assert (
        post_form(
            client,
            "/admin/domains/new",
            {"slug": "cultuur", "name_nl": "Cultuur", "name_en": "Culture"},
        ).status_code
        == 303
    )
    twice = post_form(
        client,
        "/admin/domains/new?lang=en",
        {"slug": "cultuur", "name_nl": "Cultuur", "name_en": "Culture"},
    )
    assert twice.status_code == 422
    assert "Another domain has this short name." in twice.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Domain.id))) == 1


def test_an_unknown_plan_or_domain_is_404_and_nothing_is_made(client, app, auth):
    with app.app_context():
        make_admin()
    auth.login("admin@example.org")
    plan = {"slug": "lid", "name_nl": "Lid", "name_en": "Member", "fee": "0", "period": "once"}
    domain = {"slug": "cultuur", "name_nl": "Cultuur", "name_en": "Culture"}
    assert client.get("/admin/plans/999").status_code == 404
    assert client.get("/admin/domains/999").status_code == 404
    assert post_form(client, "/admin/plans/999", plan).status_code == 404
    assert post_form(client, "/admin/domains/999", domain).status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(MembershipPlan.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(Domain.id))) == 0


def test_the_member_search_takes_percent_and_underscore_as_typed(client, app, auth):
    with app.app_context():
        make_admin()
        make_plan()
        make_member("fifty@example.org", name="Korting 50% Kees")
        make_member("under@example.org", name="Anna_Bakker")
        make_member("plain@example.org", name="Piet Plain")
    auth.login("admin@example.org")

    page = client.get("/admin/members?q=50%25").get_data(as_text=True)
    assert "Korting 50% Kees" in page
    assert "Piet Plain" not in page and "Anna_Bakker" not in page
    page = client.get("/admin/members?q=%25").get_data(as_text=True)
    assert "Korting 50% Kees" in page and "Piet Plain" not in page
    page = client.get("/admin/members?q=a_b").get_data(as_text=True)
    assert "Anna_Bakker" in page and "Korting 50% Kees" not in page
    page = client.get("/admin/members?q=_").get_data(as_text=True)
    assert "Anna_Bakker" in page and "Piet Plain" not in page


def test_a_plan_or_domain_refuses_a_short_name_another_has_or_a_bad_one(app):
    with app.app_context():
        make_plan("lid")
        make_domain("energie")
        details = PlanDetails(
            slug="lid", name_nl="Lid", name_en="Member", fee_cents=0, period=PlanPeriod.ONCE
        )
        with pytest.raises(Refused) as refused:
            save_plan(None, details)
        assert refused.value.field == "slug"
        assert str(refused.value) == "Een andere soort lidmaatschap heeft deze korte naam al."
        with pytest.raises(Refused):
            save_plan(None, dataclasses.replace(details, slug="Lid Twee"))
        with pytest.raises(Refused) as refused:
            save_domain(None, "energie", "Energie", "Energy")
        assert refused.value.field == "slug"
        with pytest.raises(Refused):
            save_domain(None, "-energie", "Energie", "Energy")

        own = db.session.scalar(sa.select(MembershipPlan).where(MembershipPlan.slug == "lid"))
        assert save_plan(own, dataclasses.replace(details, fee_cents=2500)).fee_cents == 2500
        renamed = save_domain(None, "wonen", "Wonen", "Housing", 3)
        db.session.commit()
        assert (renamed.slug, renamed.name_en, renamed.position) == ("wonen", "Housing", 3)


creditor = sepa_fixtures.creditor


def test_the_member_page_shows_shares_and_mandate_with_links(client, app, auth, creditor):
    from datetime import timedelta

    from cooperative.models import utcnow
    from cooperative.services import sepa, shares
    from tests.share_factories import make_share_class

    with app.test_request_context("/?lang=en"):
        user = make_member("ada@example.org", name="Ada Lovelace")
        membership = memberships.current_membership(user)
        membership_id = membership.id
        extra = make_share_class("extra-aandeel", 10000)
        purchase = shares.buy(membership, extra, 3)
        for share in purchase.shares[:2]:
            share.paid_at = utcnow()
        make_admin()
        db.session.commit()
    auth.login("admin@example.org")
    page = client.get(f"/admin/members/{membership_id}?lang=en").get_data(as_text=True)
    assert "Shares and direct debit" in page
    assert "<dt>Shares held</dt><dd>3</dd>" in page
    assert "<dd>€200.00</dd>" in page and "<dd>€100.00</dd>" in page  # paid, still to pay
    assert "<dt>Mandate</dt><dd>none</dd>" in page
    assert 'href="/admin/shares"' in page and 'href="/admin/dues"' in page

    with app.test_request_context("/?lang=en"):
        membership = db.session.get(Membership, membership_id)
        mandate = sepa.give_mandate(membership, "NL02ABNA0123456789", "Ada Lovelace", True)
        db.session.commit()
        reference = mandate.reference
    page = client.get(f"/admin/members/{membership_id}?lang=en").get_data(as_text=True)
    assert "NL02 •••• 6789" in page and "0123456789" not in page
    assert reference in page and "in force since" in page

    with app.test_request_context("/?lang=en"):
        mandate = sepa.active_mandate(db.session.get(Membership, membership_id))
        sepa.end_mandate(mandate, now=utcnow() + timedelta(days=1))
        db.session.commit()
    page = client.get(f"/admin/members/{membership_id}?lang=en").get_data(as_text=True)
    assert "NL02 •••• 6789" in page and "ended" in page and "in force since" not in page


def test_the_member_page_counts_queries_not_shares(client, app, auth, count_queries):
    from cooperative.models import ShareClass
    from cooperative.services import shares
    from tests.share_factories import make_share_class

    with app.test_request_context("/?lang=en"):
        membership_id = memberships.current_membership(make_member("ada@example.org")).id
        extra_id = make_share_class("extra-aandeel", 10000).id
        make_admin()
    auth.login("admin@example.org")
    counts = []
    for _ in range(3):
        with app.test_request_context("/?lang=en"):
            membership = db.session.get(Membership, membership_id)
            shares.buy(membership, db.session.get(ShareClass, extra_id), 3)
            db.session.commit()
        with count_queries as counted:
            assert client.get(f"/admin/members/{membership_id}").status_code == 200
        counts.append(counted.count)
    assert counts[0] == counts[1] == counts[2]
