"""The areas of the economy and the collectives that work in them."""

import enum
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .types import NamedInTwoLanguages, StrEnumType, UTCDateTime, by_account, utcnow

collective_domains = sa.Table(
    "collective_domains",
    db.metadata,
    sa.Column(
        "collective_id", sa.ForeignKey("collectives.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("domain_id", sa.ForeignKey("domains.id", ondelete="CASCADE"), primary_key=True),
)


class Domain(NamedInTwoLanguages, db.Model):
    """An area of the economy: energie, wonen, voedsel, ..."""

    __tablename__ = "domains"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    name_nl: so.Mapped[str] = so.mapped_column(sa.String(80))
    name_en: so.Mapped[str] = so.mapped_column(sa.String(80))
    position: so.Mapped[int] = so.mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<Domain {self.slug}>"


class Collective(db.Model):
    """A neighbourhood collective: an energy co-op, a food collective, a stadsdorp..."""

    __tablename__ = "collectives"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(160))
    legal_form: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    summary: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    primary_domain_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("domains.id"), index=True)
    neighbourhood: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    website: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    contact_email: so.Mapped[str] = so.mapped_column(sa.String(254), default="")
    founded_year: so.Mapped[int | None]
    is_published: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    primary_domain: so.Mapped[Domain] = so.relationship()
    domains: so.Mapped[list[Domain]] = so.relationship(secondary=collective_domains)
    roles: so.Mapped[list["CollectiveRole"]] = so.relationship(
        back_populates="collective", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Collective {self.slug}>"

    @classmethod
    def in_domain(cls, slug: str) -> sa.ColumnElement[bool]:
        """SQL for "works in the domain `slug`": as its primary domain or as another one.
        The one home of that rule, for the directory, the event list and the API."""
        return sa.or_(
            cls.primary_domain.has(Domain.slug == slug), cls.domains.any(Domain.slug == slug)
        )


class CollectiveRole(db.Model):
    """A person who may manage a collective and its events."""

    __tablename__ = "collective_roles"
    __table_args__ = (sa.UniqueConstraint("collective_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id", ondelete="CASCADE")
    )
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    role: so.Mapped[str] = so.mapped_column(sa.String(20), default="organiser")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    collective: so.Mapped[Collective] = so.relationship(back_populates="roles")
    user: so.Mapped["User"] = so.relationship(back_populates="collective_roles")  # noqa: F821


class SuggestionStatus(enum.StrEnum):
    NEW = "new"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class CollectiveSuggestion(db.Model):
    """A collective someone suggests for the directory; admins turn it into a draft."""

    __tablename__ = "collective_suggestions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(160))
    domain_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("domains.id", ondelete="SET NULL")
    )
    neighbourhood: so.Mapped[str] = so.mapped_column(sa.String(80), default="")
    website: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    contact_email: so.Mapped[str] = so.mapped_column(sa.String(254), default="")
    reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    locale: so.Mapped[str] = so.mapped_column(sa.String(5), default="nl")
    status: so.Mapped[SuggestionStatus] = so.mapped_column(
        StrEnumType(SuggestionStatus), default=SuggestionStatus.NEW
    )
    collective_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("collectives.id", ondelete="SET NULL")
    )
    decided_by_id: so.Mapped[int | None] = by_account()
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    domain: so.Mapped[Domain | None] = so.relationship()
    collective: so.Mapped[Collective | None] = so.relationship()
