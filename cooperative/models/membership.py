"""Membership of the cooperative, and the profile a member shows to others."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .types import NamedInTwoLanguages, StrEnumType, UTCDateTime, by_account, utcnow


class PlanPeriod(enum.StrEnum):
    ONCE = "once"
    YEARLY = "yearly"


class MembershipStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PENDING_APPROVAL = "pending_approval"
    ACTIVE = "active"
    LAPSED = "lapsed"
    CANCELLED = "cancelled"


class LeavingWay(enum.StrEnum):
    """How a membership ended, as the member register records it."""

    CANCELLED_BY_MEMBER = "by_member"
    ENDED_BY_COOPERATIVE = "by_cooperative"
    DECEASED = "deceased"
    LAPSED = "lapsed"


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    MEMBERS = "members"
    HIDDEN = "hidden"


class MembershipPlan(NamedInTwoLanguages, db.Model):
    """A way to be a member: its fee, how often it is paid, whether staff approve it."""

    __tablename__ = "membership_plans"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    name_nl: so.Mapped[str] = so.mapped_column(sa.String(120))
    name_en: so.Mapped[str] = so.mapped_column(sa.String(120))
    description_nl: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    description_en: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    fee_cents: so.Mapped[int] = so.mapped_column(default=0)
    period: so.Mapped[PlanPeriod] = so.mapped_column(
        StrEnumType(PlanPeriod), default=PlanPeriod.ONCE
    )
    needs_approval: so.Mapped[bool] = so.mapped_column(default=False)
    is_active: so.Mapped[bool] = so.mapped_column(default=True)
    position: so.Mapped[int] = so.mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<MembershipPlan {self.slug}>"

    def description(self, locale: str) -> str:
        return self.description_en if locale == "en" else self.description_nl


class Membership(db.Model):
    """One person's membership under one plan, from joining to lapsing or cancelling.

    It is also the person's entry in the member register (art. 2:61 BW): the name and
    address as registered, the admission and its decision, the leaving and its way. The
    entry outlives the account (`user_id` becomes NULL when the account is deleted) and
    is purged REGISTER_KEEP_YEARS after leaving (`services.retention.purge_register`).
    """

    __tablename__ = "memberships"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    plan_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("membership_plans.id"))
    number: so.Mapped[int | None] = so.mapped_column(unique=True)
    status: so.Mapped[MembershipStatus] = so.mapped_column(StrEnumType(MembershipStatus))
    started_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    ends_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # When the person stopped being a member (lapsed) or their application was turned
    # down; None while they are a member or on their way. The register keeps it.
    left_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    decided_by_id: so.Mapped[int | None] = by_account()
    decision_note: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    privacy_accepted_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    renewal_reminded_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # --- the member register (services.register) ---
    registered_name: so.Mapped[str] = so.mapped_column(
        sa.String(200), default="", server_default=""
    )
    street: so.Mapped[str] = so.mapped_column(sa.String(120), default="", server_default="")
    house_number: so.Mapped[str] = so.mapped_column(sa.String(20), default="", server_default="")
    postcode: so.Mapped[str] = so.mapped_column(sa.String(16), default="", server_default="")
    city: so.Mapped[str] = so.mapped_column(sa.String(80), default="", server_default="")
    # ISO 3166 code of the country, "NL" unless the member lives elsewhere.
    country: so.Mapped[str] = so.mapped_column(sa.String(2), default="NL", server_default="NL")
    # The day of admission: the first day as a member, kept when a yearly plan renews.
    admitted_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    admission_letter_sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Consent to official notices (e.g. the call to the general meeting) by e-mail
    # (art. 2:41 lid 5 BW); None: they get a letter.
    email_notices_consent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # A cancellation in writing: received, acknowledged, and the day it takes effect.
    cancellation_received_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    cancellation_acknowledged_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    leaves_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    leaving_way: so.Mapped[LeavingWay | None] = so.mapped_column(StrEnumType(LeavingWay))
    # A legal person's membership (a collective, a small business): its name and its
    # number at the Chamber of Commerce (KvK, 8 digits; empty for one registered abroad).
    # `registered_name` then names the person who represents it.
    organisation_name: so.Mapped[str] = so.mapped_column(
        sa.String(200), default="", server_default=""
    )
    kvk_number: so.Mapped[str] = so.mapped_column(sa.String(8), default="", server_default="")
    # How many SEPA mandates the member has given: the sequence in a mandate's reference.
    # Never lowered, so a reference never comes back after ended mandates are purged.
    mandates_given: so.Mapped[int] = so.mapped_column(default=0, server_default="0")

    user: so.Mapped["User | None"] = so.relationship(  # noqa: F821
        back_populates="memberships", foreign_keys=[user_id]
    )
    plan: so.Mapped[MembershipPlan] = so.relationship()

    @property
    def is_legal_person(self) -> bool:
        """Whether a legal person holds this membership (and may hold its share class)."""
        return bool(self.organisation_name)


profile_interests = sa.Table(
    "profile_interests",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("profiles.user_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("domain_id", sa.ForeignKey("domains.id", ondelete="CASCADE"), primary_key=True),
)

# The collectives a member follows: with `newsletter` on, their announcements reach them.
profile_collectives = sa.Table(
    "profile_collectives",
    db.metadata,
    sa.Column("user_id", sa.ForeignKey("profiles.user_id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "collective_id", sa.ForeignKey("collectives.id", ondelete="CASCADE"), primary_key=True
    ),
)


class Profile(db.Model):
    """What a member shows of themselves, and to whom: nobody until they choose."""

    __tablename__ = "profiles"

    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    display_name: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    neighbourhood: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    bio: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    offer: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    visibility: so.Mapped[Visibility] = so.mapped_column(
        StrEnumType(Visibility), default=Visibility.HIDDEN
    )
    # Consent to news by e-mail: announcements to the domains in `interests` and the
    # collectives in `followed_collectives` (services/announcements.py) reach only them.
    newsletter: so.Mapped[bool] = so.mapped_column(default=False)

    user: so.Mapped["User"] = so.relationship(back_populates="profile")  # noqa: F821
    interests: so.Mapped[list["Domain"]] = so.relationship(  # noqa: F821
        secondary=profile_interests
    )
    followed_collectives: so.Mapped[list["Collective"]] = so.relationship(  # noqa: F821
        secondary=profile_collectives, order_by="Collective.name"
    )
