"""What the open-data API answers, as Pydantic models: the one source of both the answers
(`Event.of(event).model_dump(mode="json")`) and their JSON Schemas in the OpenAPI document
(`api_document.py`), so the two cannot drift apart. Each model builds itself from the
database rows (`of`), and is checked against its own types as it is built.

Every field is required, null where the type allows it. Times are written in local time
with their offset, to the second (`2026-12-06T17:30:00+01:00`); money in euro cents.
"""

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from .. import models
from ..i18n import local_zone
from ..models import DIETS
from ..services import collectives as directory
from ..services.mail import external_url
from .api import LIMIT_MAX, OFFSET_MAX


def _local_time(moment: datetime) -> str:
    return moment.astimezone(local_zone()).isoformat(timespec="seconds")


LocalTime = Annotated[
    datetime,
    PlainSerializer(_local_time, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
# Kept as given (a URL type would add a slash to `https://zonnedak.example`).
Url = Annotated[str, WithJsonSchema({"type": "string", "format": "uri"})]
EmailAddress = Annotated[str, WithJsonSchema({"type": "string", "format": "email"})]
Cents = Annotated[int, Field(ge=0, description="Euro cents.")]
Count = Annotated[int, Field(ge=0)]
Limit = Annotated[int, Field(ge=0, le=LIMIT_MAX)]
Offset = Annotated[int, Field(ge=0, le=OFFSET_MAX)]


class OpenData(BaseModel):
    """A part of an answer, frozen once built."""

    model_config = ConfigDict(frozen=True)


class Error(OpenData):
    """What went wrong."""

    error: str = Field(description="A short message in English.")


class Host(OpenData):
    """The collective that hosts an event."""

    slug: str
    name: str
    url: Url = Field(description="The collective's page.")

    @classmethod
    def of(cls, collective: models.Collective | None) -> "Host | None":
        """The host's public face, or None when there is none or it is not published."""
        if collective is None or not collective.is_published:
            return None
        return cls(
            slug=collective.slug,
            name=collective.name,
            url=external_url("collectives.show", slug=collective.slug),
        )


class PayWhatYouCan(OpenData):
    """Pay what you can: at least the minimum, the suggested amount unless one chooses."""

    min_cents: Cents
    suggested_cents: Cents


class MealOption(OpenData):
    """A meal people can sign up for at an event."""

    id: int
    name: str
    price_cents: Cents = Field(description="Price of one meal in euro cents.")
    pay_what_you_can: PayWhatYouCan | None
    capacity: int | None = Field(
        description="Meals that can be served; null when there is no limit."
    )
    meals_left: Count | None = Field(
        description="Meals not yet taken; null when there is no limit."
    )
    signup_deadline: LocalTime | None = Field(
        description="Sign-up for this meal closes then (Amsterdam time)."
    )
    diets: list[Literal[tuple(DIETS)]] = Field(description="Diets the kitchen can cook for.")

    @classmethod
    def of(cls, option: models.MealOption) -> "MealOption":
        return cls(
            id=option.id,
            name=option.name,
            price_cents=option.price_cents,
            pay_what_you_can=(
                PayWhatYouCan(
                    min_cents=option.pwyc_min_cents, suggested_cents=option.suggested_cents
                )
                if option.pay_what_you_can
                else None
            ),
            capacity=option.capacity,
            meals_left=option.meals_left,
            signup_deadline=option.signup_deadline,
            diets=list(option.diets or []),
        )


class Event(OpenData):
    """Something people come to: an evening, a workshop, a meeting, often with a meal."""

    slug: str
    title: str
    summary: str
    description: str
    url: Url = Field(description="The event's page, with its registration form.")
    ics_url: Url = Field(description="The event as a calendar file.")
    starts_at: LocalTime = Field(description="Amsterdam time with its offset.")
    ends_at: LocalTime = Field(description="Amsterdam time with its offset.")
    status: Literal["published", "cancelled"]
    venue: str
    address: str
    audience: str = Field(description="Who the event is for.")
    capacity: int | None = Field(description="Seats; null when there is no limit.")
    seats_left: Count | None = Field(
        description="Seats not yet taken; null when there is no limit."
    )
    ticket_price_cents: Cents = Field(description="Price per person in euro cents.")
    host: Host | None
    meal_options: list[MealOption]

    @classmethod
    def of(cls, event: models.Event) -> "Event":
        """The event as open data. Needs its host and meals loaded; no personal data."""
        return cls(
            slug=event.slug,
            title=event.title,
            summary=event.summary,
            description=event.description,
            url=external_url("events.show", slug=event.slug),
            ics_url=external_url("events.calendar", slug=event.slug),
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            status=str(event.status),
            venue=event.venue,
            address=event.address,
            audience=event.audience,
            capacity=event.capacity,
            seats_left=event.seats_left,
            ticket_price_cents=event.ticket_price_cents,
            host=Host.of(event.collective),
            meal_options=[MealOption.of(option) for option in event.meal_options],
        )


class EventList(OpenData):
    """One page of upcoming events, soonest first."""

    events: list[Event]
    count: Count = Field(description="Events matching the filters, on all pages together.")
    limit: Limit
    offset: Offset


class NextEvent(OpenData):
    """The next event a collective hosts."""

    slug: str
    title: str
    starts_at: LocalTime = Field(description="Amsterdam time with its offset.")
    url: Url = Field(description="The event's page.")

    @classmethod
    def of(cls, event: models.Event | None) -> "NextEvent | None":
        if event is None:
            return None
        return cls(
            slug=event.slug,
            title=event.title,
            starts_at=event.starts_at,
            url=external_url("events.show", slug=event.slug),
        )


class Collective(OpenData):
    """A published collective: an energy co-op, a food collective, a city village..."""

    slug: str
    name: str
    summary: str = Field(description="One line about the collective.")
    description: str
    legal_form: str
    domains: list[str] = Field(
        description="Slugs of the domains it works in, its main domain first."
    )
    neighbourhood: str
    founded_year: int | None
    website: Url | None
    contact_email: EmailAddress | None
    url: Url = Field(description="The collective's page.")
    events_ics_url: Url = Field(description="Its events as a calendar feed.")
    next_event: NextEvent | None

    @classmethod
    def of(cls, collective: models.Collective, next_event: models.Event | None) -> "Collective":
        """A published collective as open data. Needs its domains loaded."""
        return cls(
            slug=collective.slug,
            name=collective.name,
            summary=collective.summary,
            description=collective.description,
            legal_form=collective.legal_form,
            domains=[domain.slug for domain in directory.card_domains(collective)],
            neighbourhood=collective.neighbourhood,
            founded_year=collective.founded_year,
            website=collective.website or None,
            contact_email=collective.contact_email or None,
            url=external_url("collectives.show", slug=collective.slug),
            events_ics_url=external_url("collectives.feed", slug=collective.slug),
            next_event=NextEvent.of(next_event),
        )


class CollectiveList(OpenData):
    """One page of published collectives, by name."""

    collectives: list[Collective]
    count: Count = Field(description="Collectives matching the filters, on all pages together.")
    limit: Limit
    offset: Offset


class Domain(OpenData):
    """An area of the economy the collectives work in."""

    slug: str
    name_nl: str
    name_en: str
    collectives: Count = Field(
        description="Published collectives working in it (main or other domain)."
    )
    upcoming_events: Count = Field(description="Upcoming published events of those collectives.")
    url: Url = Field(description="The directory filtered on this domain.")

    @classmethod
    def of(cls, summary: directory.DomainSummary) -> "Domain":
        return cls(
            slug=summary.domain.slug,
            name_nl=summary.domain.name_nl,
            name_en=summary.domain.name_en,
            collectives=summary.collectives,
            upcoming_events=summary.upcoming_events,
            url=external_url("collectives.index", domain=summary.domain.slug),
        )


class DomainList(OpenData):
    """Every domain, in the cooperative's order."""

    domains: list[Domain]


# --- Examples for the document, checked by the same models -------------------------------


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    # Winter time in Amsterdam, so UTC is an hour earlier.
    return datetime(2026, 12, day, hour - 1, minute, tzinfo=UTC)


HOST_EXAMPLE = Host(
    slug="zonnedak", name="Zonnedak", url="https://meentcoop.example/collectives/zonnedak"
)
MEAL_OPTION_EXAMPLE = MealOption(
    id=7,
    name="Diner vanaf 17:30",
    price_cents=0,
    pay_what_you_can=PayWhatYouCan(min_cents=300, suggested_cents=500),
    capacity=80,
    meals_left=23,
    signup_deadline=_at(5, 12),
    diets=["vegetarian", "vegan", "halal"],
)
EVENT_EXAMPLE = Event(
    slug="lancering-meentcoop",
    title="Lancering MeentCoop",
    summary="Diner, opening en borrel voor iedereen.",
    description="Vanaf 17:30 eten we samen. Om 20:00 de borrel.",
    url="https://meentcoop.example/events/lancering-meentcoop",
    ics_url="https://meentcoop.example/events/lancering-meentcoop.ics",
    starts_at=_at(6, 17, 30),
    ends_at=_at(6, 22),
    status="published",
    venue="Buurthuis De Meent",
    address="Voorbeeldstraat 1, Amsterdam",
    audience="Iedereen, alle leeftijden",
    capacity=120,
    seats_left=41,
    ticket_price_cents=0,
    host=HOST_EXAMPLE,
    meal_options=[MEAL_OPTION_EXAMPLE],
)
COLLECTIVE_EXAMPLE = Collective(
    slug="zonnedak",
    name="Zonnedak",
    summary="Zonnepanelen op de daken van Oost.",
    description="Een energiecoöperatie van buren.",
    legal_form="Coöperatie U.A.",
    domains=["energie", "wonen"],
    neighbourhood="Oost",
    founded_year=2019,
    website="https://zonnedak.example",
    contact_email="info@zonnedak.example",
    url="https://meentcoop.example/collectives/zonnedak",
    events_ics_url="https://meentcoop.example/collectives/zonnedak/events.ics",
    next_event=NextEvent(
        slug="zonnepanelen-avond",
        title="Zonnepanelen avond",
        starts_at=datetime(2026, 11, 12, 18, 30, tzinfo=UTC),
        url="https://meentcoop.example/events/zonnepanelen-avond",
    ),
)
DOMAIN_EXAMPLE = Domain(
    slug="energie",
    name_nl="Energie",
    name_en="Energy",
    collectives=3,
    upcoming_events=2,
    url="https://meentcoop.example/collectives?domain=energie",
)
