"""Every main page, in Dutch and English, logged out, as a member, an organiser and an admin:
it fits a 360 px and a 390 px phone. In Dutch, the site's first language, axe-core finds
nothing on it and screenshots of it go to the artifacts folder (see `check_page` in
conftest.py); the English page has the same elements with other words, so there only its
width is measured again (longer words are what could make it too wide).

The data is the demo data plus a busy dinner of the demo organiser: parties with meals,
diets and notes, some checked in, a waiting list, and a party of three with tickets.
"""

import re
from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from cooperative.extensions import db
from cooperative.models import (
    AudienceKind,
    Collective,
    Domain,
    Event,
    Membership,
    MembershipPlan,
    Organisation,
    OrganisationKind,
    QuestionResponse,
    ShareClass,
    User,
)
from cooperative.services import (
    announcements,
    attendance,
    meeting_minutes,
    organisations,
    share_payments,
    shares,
    unsubscribe,
)
from cooperative.services.demo import seed_demo
from cooperative.services.registration import PersonChoice
from tests.browser.cost_pages import contact_pages, shared_costs, staff_pages
from tests.collaboration_factories import (
    make_collaboration,
    make_commitment,
    make_organisation,
    make_progress,
    make_question,
    organisation_of,
)
from tests.factories import make_member, make_registration
from tests.minutes_fixtures import held_meeting

DINNER = "oogstmaaltijd-noord"
PASSWORDS = {
    "member": ("lid@example.org", "correct horse battery"),
    "organiser": ("organiser@meentcoop.example", "demo-organiser-2026"),
    "admin": ("admin@meentcoop.example", "demo-admin-2026"),
}


@pytest.fixture
def site(app):
    """The demo data, a listed member, and the harvest dinner full with a waiting list.

    Returns the addresses the walk visits."""
    with app.app_context():
        seed_demo()
        db.session.commit()
        make_member(
            "lid@example.org",
            plan=db.session.scalar(sa.select(MembershipPlan).where(MembershipPlan.slug == "lid")),
            name="Femke Lid",
            neighbourhood="Indische Buurt",
            bio="Ik kook graag voor de buurt en help bij de repareermiddag.",
        )
        event = db.session.scalar(sa.select(Event).where(Event.slug == DINNER))
        event.capacity = 9
        meal = event.meal_options[0].id
        db.session.commit()
        party = make_registration(
            event,
            [
                PersonChoice("Fatima Yilmaz-van den Berg", meal, ["vegetarian", "lactose_free"]),
                PersonChoice("Yusuf Yilmaz", meal, ["vegan", "gluten_free"]),
                PersonChoice("Elif Yilmaz", None, [], "Allergisch voor pinda’s en noten"),
            ],
            email="fatima.yilmaz-vandenberg@example.org",
        )
        others = [
            [PersonChoice("Jan-Willem de Vries", meal, ["gluten_free"])],
            [
                PersonChoice("Marieke Bos", meal, ["vegan"], "Geen ui"),
                PersonChoice("Pieter Bos", meal, ["vegetarian"]),
            ],
            [PersonChoice("Ahmed El Amrani", None, [])],
            [PersonChoice("Sanne Jansen", meal, ["lactose_free", "gluten_free"])],
        ]
        parties = [
            make_registration(event, people, email=f"gast{number}@example.org")
            for number, people in enumerate(others)
        ]
        for number, name in enumerate(["Wim Wachter", "Wendy Wachtlijst"]):
            make_registration(
                event,
                [PersonChoice(name, meal, ["vegetarian"]), f"{name.split()[0]}s vriend"],
                email=f"wacht{number}@example.org",
                join_waitlist=True,
            )
        admin = db.session.scalar(sa.select(User).where(User.is_admin))
        attendance.check_in_party(event, parties[1].id, admin)
        attendance.check_in(event, party.attendees[0].id, admin)
        db.session.commit()
        member = db.session.scalar(sa.select(User).where(User.email == "lid@example.org"))
        # Two extra shares of the demo's class, one paid: the share pages have something.
        membership = db.session.scalar(sa.select(Membership).where(Membership.user == member))
        extra = db.session.scalar(sa.select(ShareClass).where(ShareClass.slug == "extra-aandeel"))
        paid = shares.buy(membership, extra, 1)
        share_payments.record_payment(paid, shares.amount_owed(paid), admin)
        shares.buy(membership, extra, 1)
        db.session.commit()
        collective = db.session.scalar(sa.select(Collective).order_by(Collective.id))
        # Two general meetings held: one with its minutes published (with a heading, a
        # list and a table of votes), one whose minutes the secretary is still writing.
        published = held_meeting(-2, title="ALV voorjaar")
        meeting_minutes.save(
            published,
            "# Notulen\n\n## Opening\n\nDe voorzitter opent om 19:30.\n\n"
            "- Jaarrekening: **aangenomen**\n- Bestuur: Fien Faber gekozen\n",
            admin,
        )
        meeting_minutes.approve(published, published.starts_at.date())
        meeting_minutes.publish(published)
        writing = held_meeting(-1, title="ALV extra")
        meeting_minutes.save(writing, "## Opening\n\nConcept.", admin)
        # An announcement to the followers of the first collective, the member among them.
        member.profile.newsletter = True
        member.profile.followed_collectives = [collective]
        announcement = announcements.send(
            admin,
            announcements.Audience(AudienceKind.COLLECTIVE, collective),
            "Oogstfeest op zaterdag",
            "## Programma\n\n- 17:30 **eten**\n- 20:00 muziek\n\n[Meer](https://example.org)",
            "nl",
        )
        db.session.commit()
        costs = shared_costs()  # makes the collective's organisation, which the koppel reuses
        koppel = walked_collaboration(collective, event)
        question, organisation_ids = _a_question_from_the_city()
        return {
            "announcement": announcement.id,
            "unsubscribe": unsubscribe.token_for_user(member),
            **costs,
            "question": question,
            "organisations": organisation_ids,
            "meeting_slug": published.slug,
            "meeting_event": published.event.slug,
            "writing": writing.id,
            "event": event.id,
            "party": parties[1].id,
            "token": party.token,
            "ticket": party.attendees[0].ticket,
            "member": member.id,
            "membership": membership.id,
            "plan": db.session.scalar(sa.select(MembershipPlan.id)),
            "collective": collective.id,
            "collective_slug": collective.slug,
            "domain": db.session.scalar(sa.select(Domain.id)),
            "share_class": extra.id,
            "share": paid.shares[0].number,
            "koppel": koppel.id,
            "koppel_party": koppel.parties[0].id,
            "koppel_commitment": koppel.commitments[0].id,
        }


def walked_collaboration(collective, event):
    """A koppel of the demo organiser's collective (the organiser its contact) and a
    municipal department with a long name, two commitments (one measured twice), the
    dinner as one of its sessions."""
    organiser = db.session.scalar(sa.select(User).where(User.email == PASSWORDS["organiser"][0]))
    own = db.session.scalar(
        sa.select(Organisation).where(Organisation.collective_id == collective.id)
    ) or organisation_of(collective, slug="walk-collective")
    city = make_organisation("walk-gemeente", "Gemeente Amsterdam (wandeling)")
    department = make_organisation(
        "walk-afdeling",
        "Afdeling Duurzaamheid, Energietransitie en Klimaatadaptatie",
        kind="department",
        parent=city,
    )
    koppel = make_collaboration(
        "walk-koppel",
        "Energiebespaarservice voor de hele buurt, samen ingekocht",
        kind="koppel",
        parties=[(own, organiser), department],
        published=False,
    )
    koppel.parties[0].role = "Uitvoering en bewonerscontact"
    koppel.parties[0].cost_key = 3
    waste = make_commitment(
        koppel.parties[0], "120 woningen krijgen een energiecoach", 0, 120, "woningen"
    )
    make_progress(waste, 40, date(2026, 3, 1), note="Eerste ronde in de Indische Buurt")
    make_progress(waste, 75, date(2026, 6, 1), link="https://example.org/verslag-juni")
    make_commitment(koppel.parties[1], "Eén inkoopbudget over de domeinen heen", None, None, "")
    event.collaboration_id = koppel.id
    db.session.commit()
    return koppel


def _organisation_of(slug: str) -> Organisation:
    """The organisation of the demo collective `slug` (the demo data may have made it)."""
    collective = db.session.scalar(sa.select(Collective).where(Collective.slug == slug))
    existing = db.session.scalar(
        sa.select(Organisation).where(Organisation.collective_id == collective.id)
    )
    return existing or organisations.organisation_for_collective(collective)


def _a_question_from_the_city() -> tuple[int, list[int]]:
    """A municipal department's question in two domains, with a response from Zonnedak
    Oost; the demo organiser acts for it and for the food collective (two to pick from)."""
    city = make_organisation("gemeente-walk", "Gemeente Amsterdam")
    department = make_organisation(
        "duurzaamheid-walk", "Duurzaamheid", kind=OrganisationKind.DEPARTMENT, parent=city
    )
    zonnedak = _organisation_of("zonnedak-oost")
    _organisation_of("voedselcollectief-noord")
    question = make_question(
        department,
        "Inkoop energiebespaarservice raakt meerdere domeinen maar financiert er één",
        body="Wie wil met ons uitzoeken hoe de kosten en baten eerlijk verdeeld worden?",
        domains=list(db.session.scalars(sa.select(Domain).order_by(Domain.position).limit(2))),
    )
    db.session.add(
        QuestionResponse(
            question=question, organisation=zonnedak, note="Wij hebben energiecoaches."
        )
    )
    db.session.commit()
    return question.id, [city.id, department.id, zonnedak.id]


def everyone(site) -> list[str]:
    return [
        "/",
        "/events",
        f"/events/{DINNER}",
        f"/r/{site['token']}",
        f"/r/{site['token']}/edit",
        f"/r/{site['token']}/cancel",
        f"/t/{site['ticket']}",
        "/join",
        "/join/lid",
        "/collectives",
        "/collectives/zonnedak-oost",
        "/collectives/suggest",
        "/meetings/",
        f"/events/{site['meeting_event']}",
        # Issue 18: the register of collaborations, each demo kind's page.
        "/collaborations",
        "/collaborations?kind=koppel&domain=energie",
        "/collaborations/koppel-energiebespaarservice",
        "/collaborations/green-deal-westergasterrein",
        "/collaborations/klimaatcluster-zuid-kennemerland",
        "/questions",
        f"/questions/{site['question']}",
    ]


def door(site) -> list[str]:
    base = f"/manage/events/{site['event']}"
    return [
        "/manage/events",
        "/manage/events/new",
        f"{base}/edit",
        f"{base}/attendees",
        f"{base}/kitchen",
        f"{base}/walk-in",
        f"{base}/check-in",
        f"{base}/message",
        f"{base}/parties/{site['party']}/door-payment",
        f"{base}/cancel",
        f"{base}/tasks",
        "/manage/series/",
        "/manage/series/new",
        "/manage/announcements/",
        "/manage/announcements/new",
    ]


def collaborations(site) -> list[str]:
    """The collaborations' back office: the contact's part (the demo organiser)."""
    return ["/manage/collaborations/", f"/manage/collaborations/{site['koppel']}"]


def programme(site) -> list[str]:
    """The collaborations' back office: programme staff's part (admins run it too)."""
    base = f"/manage/collaborations/{site['koppel']}"
    return [
        *collaborations(site),
        "/manage/collaborations/new",
        f"{base}/edit",
        f"{base}/parties/{site['koppel_party']}",
        f"{base}/commitments/{site['koppel_commitment']}",
        "/admin/programme-staff/",
    ]


def pages_of(role: str, site) -> list[str]:
    """What each role walks: the public pages as a visitor and as a member (the menu
    differs when logged in; an organiser's and an admin's public pages are a member's with
    their menu, which their own pages show too), then their own."""
    account = ["/account/", "/account/profile", "/account/registrations", "/account/delete"]
    own = {
        "visitor": [
            "/auth/login",
            "/auth/signup",
            "/auth/reset",
            f"/meetings/{site['meeting_slug']}",
            "/embed/collectives/zonnedak-oost/events",
            f"/news/unsubscribe/{site['unsubscribe']}",
        ],
        "member": [
            *account,
            f"/meetings/{site['meeting_slug']}",
            f"/meetings/{site['meeting_slug']}/minutes",
            "/account/address",
            "/account/membership/cancel",
            "/account/shares/",
            "/members/",
            f"/members/{site['member']}",
        ],
        "organiser": [
            *account,
            *door(site),
            *contact_pages(site),
            *collaborations(site),
            f"/questions/{site['question']}",
            "/questions/new",
        ],
        "admin": [
            *account,
            *door(site),
            "/admin/members",
            f"/admin/members/{site['membership']}",
            "/admin/register",
            f"/admin/register/{site['membership']}",
            "/admin/register/print",
            "/admin/register/letters",
            "/admin/register/import",
            "/admin/plans",
            f"/admin/plans/{site['plan']}",
            "/admin/collectives",
            f"/admin/collectives/{site['collective']}",
            "/admin/collectives/suggestions",
            "/admin/domains",
            f"/admin/domains/{site['domain']}",
            "/admin/shares",
            "/admin/shares/classes/new",
            f"/admin/shares/classes/{site['share_class']}",
            f"/admin/shares/{site['share']}",
            f"/meetings/{site['meeting_slug']}",
            "/manage/meetings/",
            f"/manage/meetings/{site['writing']}",
            f"/manage/meetings/{site['writing']}/votes",
            f"/manage/meetings/{site['writing']}/proxies",
            f"/manage/meetings/{site['writing']}/attendance",
            f"/manage/meetings/{site['writing']}/minutes",
            f"/manage/announcements/{site['announcement']}",
            *staff_pages(site),
            *programme(site),
            f"/questions/{site['question']}",
            "/manage/organisations",
            "/manage/organisations/new",
            *(f"/manage/organisations/{number}" for number in site["organisations"]),
        ],
    }
    public = everyone(site) if role in ("visitor", "member") else []
    return [*public, *own[role]]


def log_in(page, live_server, role: str) -> None:
    email, password = PASSWORDS[role]
    page.goto(f"{live_server}/auth/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile("/account/$"))


@pytest.mark.parametrize("role", ["visitor", "member", "organiser", "admin"])
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_page_fits_a_phone(page, live_server, site, check_page, role, lang):
    page.goto(f"{live_server}/?lang={lang}")
    if role != "visitor":
        log_in(page, live_server, role)
    for path in pages_of(role, site):
        response = page.goto(f"{live_server}{path}")
        assert response.ok, f"{path}: {response.status}"
        expect(page.locator("html")).to_have_attribute("lang", lang)
        check_page(page, width_only=lang == "en")
