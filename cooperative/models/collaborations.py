"""Working with the city: organisations, the questions they bring, and the collaborations
(koppels, Green Deals, clusters) that take them up, with their commitments, progress and
shared costs.

- An `Organisation` is a municipality, one of its departments, a business, a foundation,
  or a collective of the directory (linked, not copied: its name is the collective's).
  The people who act for it are its `OrganisationPerson` rows; a collective's organisers
  act for it too (`services.collaborations.acts_for`).
- A `Question` (vraagstuk) is posted by an organisation; others respond that they want to
  work on it (`QuestionResponse`); programme staff form a koppel from it.
- A `Collaboration` has parties (`CollaborationParty`, each an organisation with a
  contact person), `Commitment`s with an optional measurable target, and
  `ProgressUpdate`s. Only published ones are public.
- A `SharedCost` is split among the parties into `CostShare`s, exact to the cent
  (`services.cost_split`); a share is paid online or by bank transfer (`Payment`).
"""

import enum
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .types import StrEnumType, UTCDateTime, by_account, utcnow


class OrganisationKind(enum.StrEnum):
    MUNICIPALITY = "municipality"
    DEPARTMENT = "department"  # a department of a municipality
    BUSINESS = "business"
    FOUNDATION = "foundation"
    COLLECTIVE = "collective"  # a collective of the directory
    OTHER = "other"


class Organisation(db.Model):
    """A party the cooperative works with, or one of its own collectives."""

    __tablename__ = "organisations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    kind: so.Mapped[OrganisationKind] = so.mapped_column(StrEnumType(OrganisationKind))
    # Empty for a collective: its name is the collective's (`title`).
    name: so.Mapped[str] = so.mapped_column(sa.String(160), default="")
    website: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    # A department's municipality.
    parent_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("organisations.id", ondelete="SET NULL")
    )
    collective_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("collectives.id", ondelete="CASCADE"), unique=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    parent: so.Mapped["Organisation | None"] = so.relationship(remote_side=[id])
    collective: so.Mapped["Collective | None"] = so.relationship()  # noqa: F821
    people: so.Mapped[list["OrganisationPerson"]] = so.relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"

    @property
    def shown_website(self) -> str:
        """The website to link: the collective's own for a collective (as its name)."""
        return self.collective.website if self.collective is not None else self.website

    @property
    def title(self) -> str:
        """The name to show: the collective's own for a collective, with a department's
        municipality after it ("Afval en Grondstoffen, Gemeente Amsterdam")."""
        if self.collective is not None:
            return self.collective.name
        if self.parent is not None:
            return f"{self.name}, {self.parent.name}"
        return self.name


class OrganisationPerson(db.Model):
    """An account that acts for an organisation: posts its questions, responds, and is
    its contact in collaborations."""

    __tablename__ = "organisation_people"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    organisation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE")
    )
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    organisation: so.Mapped[Organisation] = so.relationship(back_populates="people")
    user: so.Mapped["User"] = so.relationship()  # noqa: F821


question_domains = sa.Table(
    "question_domains",
    db.metadata,
    sa.Column("question_id", sa.ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("domain_id", sa.ForeignKey("domains.id", ondelete="CASCADE"), primary_key=True),
)


class QuestionStatus(enum.StrEnum):
    OPEN = "open"  # responses welcome
    PAIRED = "paired"  # a koppel was formed from it
    CLOSED = "closed"  # withdrawn or answered otherwise


class Question(db.Model):
    """A vraagstuk: what a municipal department or a collective wants to work on with
    others ("inkoop energiebespaarservice raakt meerdere domeinen maar financiert er één")."""

    __tablename__ = "questions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    organisation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    posted_by_id: so.Mapped[int | None] = by_account()
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    body: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    status: so.Mapped[QuestionStatus] = so.mapped_column(
        StrEnumType(QuestionStatus), default=QuestionStatus.OPEN
    )
    # Programme staff may hide a question (moderation); hidden ones are not public.
    is_hidden: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    organisation: so.Mapped[Organisation] = so.relationship()
    domains: so.Mapped[list["Domain"]] = so.relationship(  # noqa: F821
        secondary=question_domains
    )
    responses: so.Mapped[list["QuestionResponse"]] = so.relationship(
        back_populates="question", cascade="all, delete-orphan", order_by="QuestionResponse.id"
    )


class QuestionResponse(db.Model):
    """An organisation that wants to work on a question, once per question."""

    __tablename__ = "question_responses"
    __table_args__ = (sa.UniqueConstraint("question_id", "organisation_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    question_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("questions.id", ondelete="CASCADE")
    )
    organisation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    responded_by_id: so.Mapped[int | None] = by_account()
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    question: so.Mapped[Question] = so.relationship(back_populates="responses")
    organisation: so.Mapped[Organisation] = so.relationship()


class CollaborationKind(enum.StrEnum):
    KOPPEL = "koppel"  # a pair from the Publiek-Civiele route's incubator
    GREEN_DEAL = "green_deal"  # a Local Green Deal with the municipality
    CLUSTER = "cluster"  # neighbouring municipalities sharing climate actions
    OTHER = "other"


class CollaborationStatus(enum.StrEnum):
    IDEA = "idea"
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"


collaboration_domains = sa.Table(
    "collaboration_domains",
    db.metadata,
    sa.Column(
        "collaboration_id",
        sa.ForeignKey("collaborations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("domain_id", sa.ForeignKey("domains.id", ondelete="CASCADE"), primary_key=True),
)


class Collaboration(db.Model):
    """A koppel, Green Deal or cluster: parties working on a shared goal."""

    __tablename__ = "collaborations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    kind: so.Mapped[CollaborationKind] = so.mapped_column(StrEnumType(CollaborationKind))
    status: so.Mapped[CollaborationStatus] = so.mapped_column(
        StrEnumType(CollaborationStatus), default=CollaborationStatus.IDEA
    )
    goal: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    starts_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    ends_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    # The question it was formed from, for a koppel.
    question_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("questions.id", ondelete="SET NULL"), index=True
    )
    # Only published collaborations are public (register, feed, API).
    published_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # The last change anyone can follow (a new party, commitment or progress update).
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    question: so.Mapped[Question | None] = so.relationship()
    domains: so.Mapped[list["Domain"]] = so.relationship(  # noqa: F821
        secondary=collaboration_domains
    )
    parties: so.Mapped[list["CollaborationParty"]] = so.relationship(
        back_populates="collaboration",
        cascade="all, delete-orphan",
        order_by="CollaborationParty.id",
    )
    commitments: so.Mapped[list["Commitment"]] = so.relationship(
        back_populates="collaboration",
        cascade="all, delete-orphan",
        order_by="(Commitment.position, Commitment.id)",
    )
    costs: so.Mapped[list["SharedCost"]] = so.relationship(
        back_populates="collaboration", cascade="all, delete-orphan", order_by="SharedCost.id"
    )

    def __repr__(self) -> str:
        return f"<Collaboration {self.slug}>"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    def touch(self, now: datetime | None = None) -> None:
        """Mark a change people can follow (the register's "updated", the feeds)."""
        self.updated_at = now or utcnow()


class CollaborationParty(db.Model):
    """An organisation in a collaboration, with its contact person."""

    __tablename__ = "collaboration_parties"
    __table_args__ = (sa.UniqueConstraint("collaboration_id", "organisation_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collaboration_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collaborations.id", ondelete="CASCADE")
    )
    organisation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    # The contact's account: records progress on the party's commitments after logging in.
    contact_user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # What the party brings or does ("opdrachtgever", "uitvoering"), shown publicly.
    role: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    # This party's weight in a cost split by key (e.g. its inhabitants); None: no key.
    cost_key: so.Mapped[int | None]
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    collaboration: so.Mapped[Collaboration] = so.relationship(back_populates="parties")
    organisation: so.Mapped[Organisation] = so.relationship()
    contact: so.Mapped["User | None"] = so.relationship()  # noqa: F821


class Commitment(db.Model):
    """What one party promises, with a measurable target where one fits: from
    `baseline` to `target` in `unit` (e.g. residual waste 100 → 70 "%"), by `due_on`."""

    __tablename__ = "commitments"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collaboration_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collaborations.id", ondelete="CASCADE"), index=True
    )
    party_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collaboration_parties.id", ondelete="CASCADE"), index=True
    )
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    baseline: so.Mapped[float | None]
    target: so.Mapped[float | None]
    unit: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    due_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    position: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    collaboration: so.Mapped[Collaboration] = so.relationship(back_populates="commitments")
    party: so.Mapped[CollaborationParty] = so.relationship()
    updates: so.Mapped[list["ProgressUpdate"]] = so.relationship(
        back_populates="commitment",
        cascade="all, delete-orphan",
        order_by="(ProgressUpdate.on, ProgressUpdate.id)",
    )

    @property
    def is_measurable(self) -> bool:
        return self.target is not None and self.baseline is not None

    @property
    def latest_value(self) -> float | None:
        """The value of the last update that gave one."""
        for update in reversed(self.updates):
            if update.value is not None:
                return update.value
        return None

    @property
    def progress(self) -> float | None:
        """How far from the baseline to the target the latest value is, 0 to 1 (a
        reduction counts as well as a growth); None when not measurable or not measured."""
        value = self.latest_value
        if not self.is_measurable or value is None or self.target == self.baseline:
            return None
        share = (value - self.baseline) / (self.target - self.baseline)
        return min(max(share, 0.0), 1.0)


class ProgressUpdate(db.Model):
    """A step on a commitment: a value where it is measurable, a note, a date, a link."""

    __tablename__ = "progress_updates"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    commitment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("commitments.id", ondelete="CASCADE"), index=True
    )
    value: so.Mapped[float | None]
    note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    on: so.Mapped[date] = so.mapped_column(sa.Date)
    link: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    author_id: so.Mapped[int | None] = by_account()
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    commitment: so.Mapped[Commitment] = so.relationship(back_populates="updates")


class CostSplit(enum.StrEnum):
    EQUAL = "equal"
    BY_KEY = "by_key"  # by the parties' `cost_key` (e.g. inhabitants)


class SharedCost(db.Model):
    """A cost the parties share ("€ 10.000 excl. BTW for the cluster's climate
    actions"), split into one `CostShare` per party when it is set."""

    __tablename__ = "shared_costs"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collaboration_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collaborations.id", ondelete="CASCADE"), index=True
    )
    description: so.Mapped[str] = so.mapped_column(sa.String(200))
    total_cents: so.Mapped[int]
    vat_included: so.Mapped[bool] = so.mapped_column(default=False)
    split: so.Mapped[CostSplit] = so.mapped_column(StrEnumType(CostSplit))
    # What the key counts, shown beside each party's weight ("inwoners").
    key_name: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    collaboration: so.Mapped[Collaboration] = so.relationship(back_populates="costs")
    shares: so.Mapped[list["CostShare"]] = so.relationship(
        back_populates="cost", cascade="all, delete-orphan", order_by="CostShare.id"
    )


class CostShare(db.Model):
    """One party's part of a shared cost, what it paid and what is still due."""

    __tablename__ = "cost_shares"
    __table_args__ = (sa.UniqueConstraint("cost_id", "party_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    cost_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("shared_costs.id", ondelete="CASCADE"))
    party_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collaboration_parties.id", ondelete="CASCADE"), index=True
    )
    amount_cents: so.Mapped[int]
    paid_cents: so.Mapped[int] = so.mapped_column(default=0)
    # The reference a bank transfer carries, so the treasurer can match it.
    reference: so.Mapped[str] = so.mapped_column(sa.String(35), unique=True)

    cost: so.Mapped[SharedCost] = so.relationship(back_populates="shares")
    party: so.Mapped[CollaborationParty] = so.relationship()

    @property
    def due_cents(self) -> int:
        return max(self.amount_cents - self.paid_cents, 0)
