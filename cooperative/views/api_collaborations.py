"""What the open-data API answers about the collaborations with the city, as Pydantic
models beside those of `api_models.py` (the same rules: one source of the answers and
of their JSON Schemas, built from the rows with `of`, every field required).

Only what a published collaboration's public page shows: organisations and their roles
(never a contact person), the commitments with their progress, the linked events and
the shared costs (never a bank reference). Dates are ISO dates; measured values are
numbers in the commitment's unit; `progress` is the share of the way from the baseline
to the target, 0 to 1.
"""

from datetime import UTC, date, datetime
from typing import Literal

from pydantic import Field

from .. import models
from ..models import CollaborationKind, CollaborationStatus, CostSplit, OrganisationKind
from ..services.mail import external_url
from .api_models import Cents, Count, Limit, LocalTime, Offset, OpenData, Url

Kind = Literal[tuple(kind.value for kind in CollaborationKind)]
Status = Literal[tuple(status.value for status in CollaborationStatus)]


class Party(OpenData):
    """An organisation taking part, and what it brings."""

    organisation: str = Field(description="The organisation's slug (the list's filter).")
    name: str
    kind: Literal[tuple(kind.value for kind in OrganisationKind)]
    website: Url | None
    role: str = Field(description="What the party brings or does; may be empty.")
    cost_key: int | None = Field(
        description="Its weight in a cost split by key (e.g. inhabitants); null: none."
    )

    @classmethod
    def of(cls, party: models.CollaborationParty) -> "Party":
        organisation = party.organisation
        return cls(
            organisation=organisation.slug,
            name=organisation.title,
            kind=str(organisation.kind),
            website=organisation.shown_website or None,
            role=party.role,
            cost_key=party.cost_key,
        )


class ProgressUpdate(OpenData):
    """A step on a commitment."""

    id: int
    on: date = Field(description="The day the progress is of.")
    value: float | None = Field(description="The measured value, in the commitment's unit.")
    note: str
    link: Url | None

    @classmethod
    def of(cls, update: models.ProgressUpdate) -> "ProgressUpdate":
        return cls(
            id=update.id,
            on=update.on,
            value=update.value,
            note=update.note,
            link=update.link or None,
        )


class Commitment(OpenData):
    """What one party promises, with a measurable target where one fits."""

    id: int
    organisation: str = Field(description="The slug of the party responsible.")
    title: str
    description: str
    baseline: float | None
    target: float | None
    unit: str
    due_on: date | None
    latest_value: float | None = Field(description="The last measured value; null: none yet.")
    progress: float | None = Field(
        ge=0,
        le=1,
        description="How far from the baseline to the target the latest value is, 0 to 1; "
        "null when not measurable or not measured.",
    )
    updates: list[ProgressUpdate] = Field(description="Oldest first.")

    @classmethod
    def of(cls, commitment: models.Commitment) -> "Commitment":
        return cls(
            id=commitment.id,
            organisation=commitment.party.organisation.slug,
            title=commitment.title,
            description=commitment.description,
            baseline=commitment.baseline,
            target=commitment.target,
            unit=commitment.unit,
            due_on=commitment.due_on,
            latest_value=commitment.latest_value,
            progress=commitment.progress,
            updates=[ProgressUpdate.of(update) for update in commitment.updates],
        )


class CostShare(OpenData):
    """One party's part of a shared cost."""

    organisation: str = Field(description="The party's slug.")
    amount_cents: Cents
    paid_cents: Cents
    due_cents: Cents

    @classmethod
    def of(cls, share: models.CostShare) -> "CostShare":
        return cls(
            organisation=share.party.organisation.slug,
            amount_cents=share.amount_cents,
            paid_cents=share.paid_cents,
            due_cents=share.due_cents,
        )


class SharedCost(OpenData):
    """A cost the parties share; the shares add up to the total, to the cent."""

    description: str
    total_cents: Cents
    vat_included: bool
    split: Literal[tuple(split.value for split in CostSplit)]
    key_name: str = Field(description="What the key counts when split by key.")
    shares: list[CostShare]

    @classmethod
    def of(cls, cost: models.SharedCost) -> "SharedCost":
        return cls(
            description=cost.description,
            total_cents=cost.total_cents,
            vat_included=cost.vat_included,
            split=str(cost.split),
            key_name=cost.key_name,
            shares=[CostShare.of(share) for share in cost.shares],
        )


class LinkedEvent(OpenData):
    """A meeting or co-creation session of the collaboration."""

    slug: str
    title: str
    starts_at: LocalTime
    status: Literal["published", "cancelled"]
    url: Url

    @classmethod
    def of(cls, event: models.Event) -> "LinkedEvent":
        return cls(
            slug=event.slug,
            title=event.title,
            starts_at=event.starts_at,
            status=str(event.status),
            url=external_url("events.show", slug=event.slug),
        )


class CollaborationSummary(OpenData):
    """A published koppel, Green Deal, cluster or other collaboration, as listed."""

    slug: str
    title: str
    kind: Kind
    status: Status
    goal: str
    domains: list[str] = Field(description="Slugs of its domains.")
    starts_on: date | None
    ends_on: date | None
    parties: list[Party]
    url: Url = Field(description="Its public page.")
    feed_url: Url = Field(description="Its progress updates as Atom.")
    updated_at: LocalTime = Field(description="The last change people can follow.")

    @classmethod
    def fields_of(cls, collaboration: models.Collaboration) -> dict:
        return {
            "slug": collaboration.slug,
            "title": collaboration.title,
            "kind": str(collaboration.kind),
            "status": str(collaboration.status),
            "goal": collaboration.goal,
            "domains": [domain.slug for domain in collaboration.domains],
            "starts_on": collaboration.starts_on,
            "ends_on": collaboration.ends_on,
            "parties": [Party.of(party) for party in collaboration.parties],
            "url": external_url("collaborations.show", slug=collaboration.slug),
            "feed_url": external_url("collaborations.feed", slug=collaboration.slug),
            "updated_at": collaboration.updated_at,
        }

    @classmethod
    def of(cls, collaboration: models.Collaboration) -> "CollaborationSummary":
        """Needs its domains and parties loaded."""
        return cls(**cls.fields_of(collaboration))


class Collaboration(CollaborationSummary):
    """A published collaboration with its commitments, progress, events and costs."""

    commitments: list[Commitment]
    events: list[LinkedEvent]
    costs: list[SharedCost]

    @classmethod
    def of(cls, collaboration: models.Collaboration, events=()) -> "Collaboration":
        """Needs what `collaboration_register.collaboration_by_slug` loads."""
        return cls(
            **cls.fields_of(collaboration),
            commitments=[Commitment.of(commitment) for commitment in collaboration.commitments],
            events=[LinkedEvent.of(event) for event in events],
            costs=[SharedCost.of(cost) for cost in collaboration.costs],
        )


class CollaborationList(OpenData):
    """One page of published collaborations, the last changed first."""

    collaborations: list[CollaborationSummary]
    count: Count = Field(description="Collaborations matching the filters, on all pages.")
    limit: Limit
    offset: Offset


MODELS = (
    Party,
    ProgressUpdate,
    Commitment,
    CostShare,
    SharedCost,
    LinkedEvent,
    CollaborationSummary,
    Collaboration,
    CollaborationList,
)

# --- Examples for the document, checked by the same models -------------------------------

_BASE = "https://meentcoop.example"
_PARTIES = [
    Party(
        organisation="westergasfabriek",
        name="Westergasfabriek",
        kind="business",
        website="https://westergas.example",
        role="Terreinbeheerder",
        cost_key=None,
    ),
    Party(
        organisation="gemeente-amsterdam",
        name="Gemeente Amsterdam",
        kind="municipality",
        website=None,
        role="Ondersteunt met inzameling",
        cost_key=None,
    ),
]
_SUMMARY = {
    "slug": "green-deal-westergas",
    "title": "Green Deal Westergasterrein: minder afval",
    "kind": "green_deal",
    "status": "running",
    "goal": "Samen de afvalstromen van het terrein verkleinen.",
    "domains": ["circulair"],
    "starts_on": date(2026, 1, 1),
    "ends_on": date(2027, 12, 31),
    "parties": _PARTIES,
    "url": f"{_BASE}/collaborations/green-deal-westergas",
    "feed_url": f"{_BASE}/collaborations/green-deal-westergas.atom",
    "updated_at": datetime(2026, 6, 1, 9, 0, tzinfo=UTC),
}
COLLABORATION_SUMMARY_EXAMPLE = CollaborationSummary(**_SUMMARY)
COLLABORATION_EXAMPLE = Collaboration(
    **_SUMMARY,
    commitments=[
        Commitment(
            id=3,
            organisation="westergasfabriek",
            title="Restafval −30%",
            description="Van 100 naar 70 (index 2025 = 100).",
            baseline=100,
            target=70,
            unit="index",
            due_on=date(2027, 12, 31),
            latest_value=82,
            progress=0.6,
            updates=[
                ProgressUpdate(
                    id=9,
                    on=date(2026, 6, 1),
                    value=82,
                    note="Nieuwe scheidingsbakken bij de horeca.",
                    link="https://westergas.example/afval",
                )
            ],
        )
    ],
    events=[
        LinkedEvent(
            slug="co-creatie-afval",
            title="Co-creatiesessie afval",
            starts_at=datetime(2026, 9, 10, 17, 0, tzinfo=UTC),
            status="published",
            url=f"{_BASE}/events/co-creatie-afval",
        )
    ],
    costs=[
        SharedCost(
            description="Afvalscan",
            total_cents=1_000_000,
            vat_included=False,
            split="equal",
            key_name="",
            shares=[
                CostShare(
                    organisation="westergasfabriek",
                    amount_cents=500_000,
                    paid_cents=500_000,
                    due_cents=0,
                ),
                CostShare(
                    organisation="gemeente-amsterdam",
                    amount_cents=500_000,
                    paid_cents=0,
                    due_cents=500_000,
                ),
            ],
        )
    ],
)
