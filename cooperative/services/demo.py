"""Demo data for development: domains, fictional collectives, plans, share classes,
accounts, events, members (`demo_members`), a general meeting (`demo_meeting`) and the
work with the city (`demo_collaborations`).

Every collective, person and address here is made up. Events are dated relative to
today so the demo is always current. Running it twice adds nothing.
"""

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..i18n import local_zone
from ..models import (
    Collective,
    CollectiveRole,
    Domain,
    Event,
    EventStatus,
    MealOption,
    MembershipPlan,
    PaymentMode,
    PlanPeriod,
    ShareClass,
    ShareHolders,
    User,
    utcnow,
)
from . import demo_collaborations, demo_meeting, demo_members

DOMAINS = [
    ("energie", "Energie", "Energy"),
    ("wonen", "Wonen", "Housing"),
    ("voedsel", "Voedsel", "Food"),
    ("zorg", "Zorg", "Care"),
    ("mobiliteit", "Mobiliteit", "Mobility"),
    ("circulair", "Circulaire economie", "Circular economy"),
    ("geld-solidariteit", "Geld & solidariteit", "Money & solidarity"),
    ("onderwijs", "Onderwijs", "Education"),
    ("buurt", "Buurt & stadsdorpen", "Neighbourhood & city villages"),
    ("cultuur", "Cultuur", "Culture"),
]

# slug, name, legal form, primary domain, other domains, neighbourhood, founded, summary
COLLECTIVES = [
    (
        # The cooperative itself hosts the evenings that belong to no one collective.
        "meentcoop",
        "MeentCoop",
        "Coöperatie U.A.",
        "buurt",
        ["geld-solidariteit"],
        "Heel de stad",
        2024,
        "De coöperatie van de collectieven van de stad: samen sterker.",
    ),
    (
        "zonnedak-oost",
        "Zonnedak Oost",
        "Coöperatie U.A.",
        "energie",
        [],
        "Oost",
        2016,
        "Bewoners leggen samen zonnepanelen op de daken van Oost.",
    ),
    (
        "warmtenet-de-pijp",
        "Warmtenet De Pijp",
        "Coöperatie U.A.",
        "energie",
        ["wonen"],
        "De Pijp",
        2021,
        "Een buurtwarmtenet in eigen handen, van en voor de bewoners.",
    ),
    (
        "wooncooperatie-de-meent",
        "Wooncoöperatie De Meent",
        "Coöperatie U.A.",
        "wonen",
        [],
        "Nieuw-West",
        2019,
        "Betaalbaar wonen in een gebouw dat de bewoners samen bezitten.",
    ),
    (
        "voedselcollectief-noord",
        "Voedselcollectief Noord",
        "Vereniging",
        "voedsel",
        ["circulair"],
        "Noord",
        2018,
        "Samen inkopen bij boeren uit de regio, eerlijk en vers.",
    ),
    (
        "pluktuin-watergraafsmeer",
        "Pluktuin Watergraafsmeer",
        "Stichting",
        "voedsel",
        ["onderwijs"],
        "Watergraafsmeer",
        2015,
        "Een moestuin waar iedereen mag zaaien en oogsten.",
    ),
    (
        "buurtzorg-jordaan",
        "Zorgcollectief Jordaan",
        "Coöperatie U.A.",
        "zorg",
        ["buurt"],
        "Jordaan",
        2017,
        "Buren die voor elkaar zorgen, met vaste zorgverleners uit de wijk.",
    ),
    (
        "deelautos-west",
        "Deelauto's West",
        "Coöperatie U.A.",
        "mobiliteit",
        [],
        "West",
        2020,
        "Elektrische deelauto's van en voor de buurt.",
    ),
    (
        "repair-cafe-zuid",
        "Repair Café Zuid",
        "Vereniging",
        "circulair",
        ["buurt"],
        "Zuid",
        2014,
        "Elke maand samen repareren wat kapot is in plaats van weggooien.",
    ),
    (
        "broodfonds-centrum",
        "Broodfonds Centrum",
        "Vereniging",
        "geld-solidariteit",
        [],
        "Centrum",
        2016,
        "Zelfstandigen die elkaar bij ziekte financieel opvangen.",
    ),
    (
        "spaarkring-bijlmer",
        "Spaarkring Bijlmer",
        "Informeel collectief",
        "geld-solidariteit",
        ["buurt"],
        "Zuidoost",
        2012,
        "Samen sparen, om de beurt een pot: vertrouwen als onderpand.",
    ),
    (
        "leerhuis-de-buurt",
        "Leerhuis De Buurt",
        "Stichting",
        "onderwijs",
        ["cultuur"],
        "Oud-West",
        2019,
        "Buurtbewoners leren elkaar talen, koken, fietsen repareren.",
    ),
    (
        "stadsdorp-oost",
        "Stadsdorp Oostelijk Havengebied",
        "Vereniging",
        "buurt",
        ["zorg"],
        "Oostelijk Havengebied",
        2013,
        "Een stadsdorp waar ouderen langer prettig thuis wonen.",
    ),
]

# One member share is part of joining; extra shares at most 20 a member.
SHARE_CLASSES = [
    {
        "slug": "ledenaandeel",
        "name_nl": "Ledenaandeel",
        "name_en": "Member share",
        "amount_cents": 2500,
        "required": True,
        "max_per_member": 1,
    },
    {
        "slug": "extra-aandeel",
        "name_nl": "Extra aandeel",
        "name_en": "Extra share",
        "amount_cents": 10000,
        "required": False,
        "max_per_member": 20,
    },
    {
        "slug": "aandeel-rechtspersoon",
        "name_nl": "Aandeel rechtspersoon",
        "name_en": "Legal person's share",
        "amount_cents": 25000,
        "required": False,
        "max_per_member": 10,
        "holders": ShareHolders.LEGAL_PERSONS,
        "needs_approval": True,
    },
]

PLANS = [
    (
        "lid",
        "Lid",
        "Member",
        1000,
        PlanPeriod.YEARLY,
        False,
        "Je bent mede-eigenaar van de coöperatie en stemt mee op de ledenvergadering.",
        "You co-own the cooperative and vote at the general meeting.",
    ),
    (
        "steunlid",
        "Steunlid",
        "Supporter",
        0,
        PlanPeriod.ONCE,
        False,
        "Je steunt de coöperatie en blijft op de hoogte, zonder contributie.",
        "You support the cooperative and stay informed, with no fee.",
    ),
    (
        "collectief",
        "Collectief als lid",
        "Collective as member",
        5000,
        PlanPeriod.YEARLY,
        True,
        "Voor collectieven die lid worden; het bestuur keurt de aanmelding goed.",
        "For collectives that join; the board approves the application.",
    ),
]

DEMO_ACCOUNTS = [
    # email, name, password, admin, collectives they organise for
    ("admin@meentcoop.example", "Anna Admin", "demo-admin-2026", True, []),
    (
        "organiser@meentcoop.example",
        "Otto Organisator",
        "demo-organiser-2026",
        False,
        ["meentcoop", "zonnedak-oost", "voedselcollectief-noord"],
    ),
]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Amsterdam on `day`, as an aware datetime."""
    return datetime.combine(day, time(hour, minute), tzinfo=local_zone())


def _events(today: date) -> list[dict]:
    launch_day = today + timedelta(days=10)
    return [
        dict(
            slug="lancering-samenwerking-collectieven",
            title="Lancering: samenwerking tussen collectieven en de stad",
            summary="Eten vanaf 17:30, de opening, en om 20:00 de borrel. Voor iedereen.",
            description=(
                "We vieren een mijlpaal: de start van een samenwerking tussen de collectieven "
                "van de stad en de gemeente. Eten kan vanaf 17:30 (kost een paar euro; meld je "
                "aan als je mee-eet), daarna de opening, en om 20:00 begint de borrel. "
                "Voor alle leeftijden."
            ),
            starts_at=_at(launch_day, 17, 30),
            ends_at=_at(launch_day, 22),
            venue="Buurthuis De Meent",
            address="Voorbeeldstraat 4, 1000 AA Amsterdam",
            collective="meentcoop",
            audience="Voor iedereen, alle leeftijden",
            capacity=80,
            payment_mode=PaymentMode.BOTH,
            meals=[
                dict(
                    name="Diner vanaf 17:30",
                    price_cents=500,
                    pwyc_min_cents=300,
                    pwyc_suggested_cents=500,
                    capacity=60,
                    signup_deadline=_at(launch_day - timedelta(days=2), 12),
                    diets=["vegetarian", "vegan", "halal"],
                )
            ],
        ),
        dict(
            slug="zonnepanelen-informatieavond",
            title="Informatieavond: zonnepanelen op ons dak",
            summary="Hoe werkt een zonnedak van de buurt, en wat levert het op?",
            description=(
                "Leden van Zonnedak Oost vertellen hoe je samen investeert in zonne-energie."
            ),
            starts_at=_at(today + timedelta(days=5), 19, 30),
            ends_at=_at(today + timedelta(days=5), 21, 30),
            venue="Huis van de Wijk Oost",
            address="Proefweg 12, 1090 AB Amsterdam",
            collective="zonnedak-oost",
            audience="Bewoners van Oost",
            capacity=40,
            meals=[],
        ),
        dict(
            slug="oogstmaaltijd-noord",
            title="Oogstmaaltijd in Noord",
            summary="Samen koken en eten met groenten van boeren uit de regio.",
            description="Koken met wat de boeren deze week brachten. Schuif aan!",
            starts_at=_at(today + timedelta(days=17), 18),
            ends_at=_at(today + timedelta(days=17), 21),
            venue="Kantine Voedselcollectief Noord",
            address="Testkade 7, 1020 CD Amsterdam",
            collective="voedselcollectief-noord",
            audience="Voor iedereen",
            capacity=30,
            meals=[
                dict(
                    name="Oogstmaaltijd",
                    price_cents=700,
                    capacity=30,
                    signup_deadline=_at(today + timedelta(days=16), 12),
                    diets=["vegetarian", "vegan", "gluten_free", "lactose_free"],
                )
            ],
        ),
        dict(
            slug="repareer-middag-zuid",
            title="Repareermiddag",
            summary="Neem je kapotte lamp, fiets of trui mee.",
            description="Vrijwilligers helpen je repareren. Koffie en thee staan klaar.",
            starts_at=_at(today + timedelta(days=24), 13),
            ends_at=_at(today + timedelta(days=24), 17),
            venue="Buurtcentrum Zuid",
            address="Oefenplein 3, 1070 EF Amsterdam",
            collective="repair-cafe-zuid",
            audience="Voor iedereen",
            capacity=None,
            meals=[],
        ),
    ]


def seed_demo(today: date | None = None) -> dict[str, int]:
    """Add whatever demo data is missing; return how many rows of each kind were added.

    Demo data from an older version gets what it lacks too: a demo account its missing
    collectives, a demo event without a host its host. Nothing else is changed."""
    today = today or utcnow().astimezone(local_zone()).date()
    added = {
        "domains": 0,
        "collectives": 0,
        "plans": 0,
        "share classes": 0,
        "users": 0,
        "events": 0,
        "members": 0,
        "meetings": 0,
        "collaborations": 0,
    }

    domains = {d.slug: d for d in db.session.scalars(sa.select(Domain))}
    for position, (slug, name_nl, name_en) in enumerate(DOMAINS):
        if slug not in domains:
            domains[slug] = Domain(slug=slug, name_nl=name_nl, name_en=name_en, position=position)
            db.session.add(domains[slug])
            added["domains"] += 1

    collectives = {c.slug: c for c in db.session.scalars(sa.select(Collective))}
    for slug, name, form, primary, others, hood, founded, summary in COLLECTIVES:
        if slug not in collectives:
            collectives[slug] = Collective(
                slug=slug,
                name=name,
                legal_form=form,
                primary_domain=domains[primary],
                domains=[domains[other] for other in others],
                neighbourhood=hood,
                founded_year=founded,
                summary=summary,
                description=summary,
                website="",
                contact_email=f"info@{slug}.example",
                is_published=True,
            )
            db.session.add(collectives[slug])
            added["collectives"] += 1

    plan_slugs = set(db.session.scalars(sa.select(MembershipPlan.slug)))
    for position, (slug, nl, en, fee, period, approval, desc_nl, desc_en) in enumerate(PLANS):
        if slug not in plan_slugs:
            db.session.add(
                MembershipPlan(
                    slug=slug,
                    name_nl=nl,
                    name_en=en,
                    description_nl=desc_nl,
                    description_en=desc_en,
                    fee_cents=fee,
                    period=period,
                    needs_approval=approval,
                    position=position,
                )
            )
            added["plans"] += 1

    class_slugs = set(db.session.scalars(sa.select(ShareClass.slug)))
    for position, spec in enumerate(SHARE_CLASSES):
        if spec["slug"] not in class_slugs:
            db.session.add(ShareClass(position=position, **spec))
            added["share classes"] += 1

    demo_emails = [account[0] for account in DEMO_ACCOUNTS]
    users = {
        u.email: u for u in db.session.scalars(sa.select(User).where(User.email.in_(demo_emails)))
    }
    for email, name, password, admin, organises in DEMO_ACCOUNTS:
        if email in users:
            user = users[email]
            has = {role.collective.slug for role in user.collective_roles}
            user.collective_roles += [
                CollectiveRole(collective=collectives[c]) for c in organises if c not in has
            ]
            continue
        user = User(email=email, name=name, locale="nl", is_admin=admin)
        user.email_confirmed_at = utcnow()
        user.set_password(password)
        user.collective_roles = [CollectiveRole(collective=collectives[c]) for c in organises]
        db.session.add(user)
        added["users"] += 1

    specs = _events(today)
    demo_slugs = [spec["slug"] for spec in specs]
    events = {
        e.slug: e for e in db.session.scalars(sa.select(Event).where(Event.slug.in_(demo_slugs)))
    }
    for spec in specs:
        if spec["slug"] in events:
            existing = events[spec["slug"]]
            if existing.collective is None and spec["collective"]:
                existing.collective = collectives[spec["collective"]]
            continue
        meals = spec.pop("meals")
        host = spec.pop("collective")
        event = Event(**spec, status=EventStatus.PUBLISHED)
        event.collective = collectives[host] if host else None
        event.meal_options = [MealOption(position=i, **meal) for i, meal in enumerate(meals)]
        db.session.add(event)
        added["events"] += 1

    db.session.flush()
    added["members"] = demo_members.seed_members(today)
    added["meetings"] = demo_meeting.seed_meeting(today)
    added["collaborations"] = demo_collaborations.seed_collaborations(today)
    return added
