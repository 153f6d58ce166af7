"""Test data as plain functions. Call them inside an app context; they commit."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from cooperative.extensions import db
from cooperative.models import (
    Collective,
    CollectiveRole,
    Domain,
    Event,
    EventStatus,
    MealOption,
    User,
    utcnow,
)
from cooperative.services import registration as registrations

# A name and address the member register accepts, as the join form posts it.
ADDRESS = {
    "registered_name": "Ada Lovelace",
    "street": "Javastraat",
    "house_number": "12-2",
    "postcode": "1094 HB",
    "city": "Amsterdam",
    "country": "NL",
}


def make_domain(slug: str = "energie", name_nl: str = "Energie", name_en: str = "Energy", **kw):
    domain = Domain(slug=slug, name_nl=name_nl, name_en=name_en, **kw)
    db.session.add(domain)
    db.session.commit()
    return domain


def make_collective(slug: str = "zonnedak", name: str = "Zonnedak", domain=None, **kw):
    domain = domain or db.session.query(Domain).first() or make_domain()
    collective = Collective(
        slug=slug,
        name=name,
        primary_domain=domain,
        is_published=kw.pop("is_published", True),
        contact_email=kw.pop("contact_email", f"info@{slug}.example"),
        **kw,
    )
    db.session.add(collective)
    db.session.commit()
    return collective


def make_user(
    email: str = "resident@example.org",
    password: str = "correct horse battery",
    name: str = "Resident",
    confirmed: bool = True,
    **fields,
) -> User:
    """A saved account (password: correct horse battery), its address confirmed unless
    `confirmed=False`."""
    user = User(email=email, name=name, locale=fields.pop("locale", "nl"), **fields)
    user.set_password(password)
    user.email_confirmed_at = utcnow() if confirmed else None
    db.session.add(user)
    db.session.commit()
    return user


def make_organiser(collective, email: str = "organiser@example.org", **kw) -> User:
    """A confirmed account with a role in `collective` (password: correct horse battery)."""
    return make_user(
        email,
        name=kw.pop("name", "Olga Organiser"),
        collective_roles=[CollectiveRole(collective=collective)],
        **kw,
    )


def make_event(
    slug: str = "buurtdiner",
    title: str = "Buurtdiner",
    capacity: int | None = 20,
    starts_in: timedelta = timedelta(days=7),
    meals: list[dict] | None = None,
    **kw,
) -> Event:
    """A published event starting `starts_in` from now, with the given meal options.

    Each meal is a dict of MealOption fields; defaults: "Diner", €5, 10 meals,
    vegetarian/vegan/halal, no deadline.
    """
    starts_at = utcnow() + starts_in
    event = Event(
        slug=slug,
        title=title,
        starts_at=starts_at,
        ends_at=kw.pop("ends_at", starts_at + timedelta(hours=3)),
        venue=kw.pop("venue", "Buurthuis"),
        address=kw.pop("address", "Voorbeeldstraat 1, Amsterdam"),
        capacity=capacity,
        status=kw.pop("status", EventStatus.PUBLISHED),
        **kw,
    )
    for position, meal in enumerate(meals or []):
        spec = {
            "name": "Diner",
            "price_cents": 500,
            "capacity": 10,
            "diets": ["vegetarian", "vegan", "halal"],
            **meal,
        }
        event.meal_options.append(MealOption(position=position, **spec))
    db.session.add(event)
    db.session.commit()
    return event


def make_registration(event, people=("Ada",), email: str = "ada@example.org", **kw):
    """A registration made through the service (so every rule applies), committed."""
    choices = [
        p if isinstance(p, registrations.PersonChoice) else registrations.PersonChoice(name=p)
        for p in people
    ]
    registration = registrations.register(
        event, kw.pop("contact_name", choices[0].name), email, choices, **kw
    )
    db.session.commit()
    return registration


def make_admin(email: str = "admin@example.org", **kw) -> User:
    """A confirmed admin account (password: correct horse battery)."""
    return make_user(
        email, name=kw.pop("name", "Anna Admin"), locale=kw.pop("locale", "nl"), is_admin=True
    )


def make_plan(
    slug: str = "lid",
    fee_cents: int = 0,
    period: str = "once",
    needs_approval: bool = False,
    **kw,
):
    """A membership plan (names: the slug, capitalised)."""
    from cooperative.models import MembershipPlan, PlanPeriod

    plan = MembershipPlan(
        slug=slug,
        name_nl=kw.pop("name_nl", slug.capitalize()),
        name_en=kw.pop("name_en", slug.capitalize()),
        fee_cents=fee_cents,
        period=PlanPeriod(period),
        needs_approval=needs_approval,
        **kw,
    )
    db.session.add(plan)
    db.session.commit()
    return plan


def make_member(
    email: str = "member@example.org",
    plan=None,
    visibility: str = "members",
    display_name: str | None = None,
    neighbourhood: str = "",
    interests=(),
    **kw,
):
    """A confirmed account with an active membership and a profile (password: correct
    horse battery)."""
    from cooperative.models import MembershipPlan, Profile, Visibility
    from cooperative.services import membership as memberships

    plan = plan or db.session.query(MembershipPlan).filter_by(slug="lid").first() or make_plan()
    name = kw.pop("name", email.split("@")[0].title())
    profile = Profile(
        display_name=display_name or name,
        neighbourhood=neighbourhood,
        bio=kw.pop("bio", ""),
        offer=kw.pop("offer", ""),
        visibility=Visibility(visibility),
        newsletter=False,
        interests=list(interests),
    )
    user = make_user(email, name=name, profile=profile)
    membership = memberships.join(user, plan)
    if membership.status != "active":
        memberships.activate(membership)
    db.session.commit()
    return user


AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def amsterdam_time(days: int, hour: int, minute: int = 0) -> datetime:
    """`days` from today in Amsterdam, at that wall-clock time there."""
    today = utcnow().astimezone(AMSTERDAM).date()
    return datetime.combine(today + timedelta(days=days), time(hour, minute), tzinfo=AMSTERDAM)


def make_event_at(slug: str, title: str, starts_at: datetime, hours: int = 2, **kw) -> Event:
    """An event (see make_event) starting at exactly `starts_at`, lasting `hours`."""
    event = make_event(slug=slug, title=title, **kw)
    event.starts_at = starts_at
    event.ends_at = starts_at + timedelta(hours=hours)
    db.session.commit()
    return event
