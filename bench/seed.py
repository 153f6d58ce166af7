"""Fill a fresh database with a big cooperative, fast: bulk inserts, one transaction.

200 collectives, 2,000 events of which 300 upcoming, 60,000 registrations (one attendee
each), and one upcoming event with 1,500 attendees whose organiser logs in during the
benchmark. Plus an event with room for the registration POSTs of the write scenario.
Everything is made up; e-mail addresses end in `.example`.
"""

import random
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Attendee,
    Collective,
    CollectiveRole,
    Domain,
    Event,
    MealOption,
    Registration,
    User,
    utcnow,
)
from cooperative.models.collectives import collective_domains
from cooperative.services.demo import DOMAINS

COLLECTIVES = 200
EVENTS = 2000
UPCOMING = 300
REGISTRATIONS = 60_000
BIG_EVENT_ATTENDEES = 1500
REGISTER_CAPACITY = 2000
ORGANISER_EMAIL = "organiser@bench.example"
ORGANISER_PASSWORD = "bench organiser password"  # noqa: S105 - a made-up local account
NEIGHBOURHOODS = ["Oost", "West", "Noord", "Zuid", "De Pijp", "Jordaan", "Nieuw-West", "Zuidoost"]
DIETS = ["vegetarian", "vegan", "halal", "gluten_free"]
BATCH = 5000


@dataclass
class Seeded:
    """What the scenarios need to find again."""

    big_event_id: int
    big_event_slug: str
    register_event_slug: str
    register_event_id: int
    event_slug: str
    organiser_email: str
    organiser_password: str
    attendee_ids: list[int]


def _insert(table, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(sa.insert(table), rows[start : start + BATCH])


def _ids(model, column, values) -> dict:
    found = db.session.execute(sa.select(column, model.id).where(column.in_(values))).all()
    return dict(found)


def seed(rng: random.Random | None = None) -> Seeded:
    """Insert the data set (call inside an app context on an empty, migrated database)."""
    rng = rng or random.Random(9)  # noqa: S311 - made-up data, not secrets
    now = utcnow().replace(microsecond=0)

    _insert(
        Domain.__table__,
        [
            {"slug": slug, "name_nl": nl, "name_en": en, "position": i}
            for i, (slug, nl, en) in enumerate(DOMAINS)
        ],
    )
    domain_ids = list(_ids(Domain, Domain.slug, [d[0] for d in DOMAINS]).values())

    collectives = []
    for i in range(COLLECTIVES):
        collectives.append(
            {
                "slug": f"collectief-{i:03d}",
                "name": f"Collectief {i:03d}",
                "legal_form": "Coöperatie U.A.",
                "summary": "Bewoners die samen iets doen voor hun buurt. " * 2,
                "description": "Een collectief van en voor de buurt.\n\n" * 6,
                "primary_domain_id": domain_ids[i % len(domain_ids)],
                "neighbourhood": NEIGHBOURHOODS[i % len(NEIGHBOURHOODS)],
                "website": f"https://collectief-{i:03d}.example",
                "contact_email": f"info@collectief-{i:03d}.example",
                "is_published": i % 20 != 19,
                "created_at": now,
            }
        )
    _insert(Collective.__table__, collectives)
    collective_ids = list(
        _ids(Collective, Collective.slug, [c["slug"] for c in collectives]).values()
    )
    _insert(
        collective_domains,
        [
            {"collective_id": cid, "domain_id": domain_ids[(i + 3) % len(domain_ids)]}
            for i, cid in enumerate(collective_ids)
            if i % 3 == 0
        ],
    )

    events = []
    for i in range(EVENTS):
        upcoming = i < UPCOMING
        starts = (
            now + timedelta(days=1 + i % 120, hours=i % 7)
            if upcoming
            else now - timedelta(days=1 + i)
        )
        events.append(
            {
                "slug": f"avond-{i:04d}",
                "title": f"Buurtavond {i:04d}",
                "summary": "Eten, praten en plannen maken met de buren.",
                "description": "Vanaf 17:30 eten we samen. Om 20:00 een borrel.\n\n" * 5,
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=3),
                "venue": "Buurthuis",
                "address": "Voorbeeldstraat 1, Amsterdam",
                "collective_id": collective_ids[i % len(collective_ids)],
                "capacity": 80,
                "ticket_price_cents": 0,
                "max_party_size": 6,
                "payment_mode": "door",
                "status": "published",
                "created_at": now,
            }
        )
    events[0].update(slug="grote-avond", title="De grote avond", capacity=2000)
    events[1].update(slug="aanmelden", title="Aanmeldavond", capacity=REGISTER_CAPACITY)
    _insert(Event.__table__, events)
    event_ids = _ids(Event, Event.slug, [e["slug"] for e in events])
    ordered_event_ids = [event_ids[e["slug"]] for e in events]

    _insert(
        MealOption.__table__,
        [
            {
                "event_id": eid,
                "name": "Diner vanaf 17:30",
                "price_cents": 500,
                "capacity": None if i < 2 else 60,
                "diets": DIETS,
                "position": 0,
            }
            for i, eid in enumerate(ordered_event_ids)
        ],
    )
    meal_ids = dict(
        db.session.execute(sa.select(MealOption.event_id, MealOption.id)).tuples().all()
    )

    organiser = User(email=ORGANISER_EMAIL, name="Olga Organiser", locale="nl")
    organiser.set_password(ORGANISER_PASSWORD)
    organiser.email_confirmed_at = now
    db.session.add(organiser)
    db.session.flush()
    big_event_id = ordered_event_ids[0]
    db.session.add(
        CollectiveRole(collective_id=collective_ids[0], user_id=organiser.id, role="organiser")
    )
    db.session.flush()

    # The big event first, then the others (not the registration event), 40 a past event.
    targets = [big_event_id] * BIG_EVENT_ATTENDEES
    others = ordered_event_ids[2:]
    while len(targets) < REGISTRATIONS:
        targets.append(others[len(targets) % len(others)])
    registrations, attendees = [], []
    for n, event_id in enumerate(targets):
        token = secrets.token_urlsafe(24)
        registrations.append(
            {
                "event_id": event_id,
                "contact_name": f"Bewoner {n}",
                "contact_email": f"bewoner{n}@bench.example",
                "locale": "nl",
                "status": "confirmed" if n % 25 else "cancelled",
                "manage_token": token,
                "amount_due_cents": 500,
                "amount_paid_cents": 0,
                "payment_state": "due_at_door",
                "created_at": now - timedelta(minutes=n % 5000),
            }
        )
    # The big event's parties all hold their seats.
    for row in registrations[:BIG_EVENT_ATTENDEES]:
        row["status"] = "confirmed"
    _insert(Registration.__table__, registrations)
    registration_ids = db.session.execute(
        sa.select(Registration.id, Registration.event_id).order_by(Registration.id)
    ).all()
    for n, (registration_id, event_id) in enumerate(registration_ids):
        attendees.append(
            {
                "registration_id": registration_id,
                "name": f"Bewoner {n}",
                "meal_option_id": meal_ids[event_id] if n % 3 else None,
                "meal_price_cents": 500 if n % 3 else 0,
                "diets": [rng.choice(DIETS)] if n % 5 == 0 else [],
                "diet_note": "",
                "ticket_code": secrets.token_urlsafe(16),
            }
        )
    _insert(Attendee.__table__, attendees)
    db.session.commit()

    attendee_ids = list(
        db.session.scalars(
            sa.select(Attendee.id)
            .join(Registration)
            .where(Registration.event_id == big_event_id)
            .order_by(Attendee.id)
        )
    )
    return Seeded(
        big_event_id=big_event_id,
        big_event_slug="grote-avond",
        register_event_slug="aanmelden",
        register_event_id=ordered_event_ids[1],
        event_slug=events[5]["slug"],
        organiser_email=ORGANISER_EMAIL,
        organiser_password=ORGANISER_PASSWORD,
        attendee_ids=attendee_ids,
    )
