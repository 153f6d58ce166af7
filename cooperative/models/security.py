"""Two-factor log-in (an authenticator app's codes, with recovery codes) and the audit log
of changes staff make to other people's data."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .pages import NOT_ON_PUBLIC_PAGES
from .types import UTCDateTime, by_account, utcnow


class TwoFactor(db.Model):
    """A person's authenticator app: its secret and the last time step a code was used
    for (a code is never accepted twice). Pending until confirmed with a first code."""

    __tablename__ = "two_factor"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret: so.Mapped[str] = so.mapped_column(sa.String(64))
    confirmed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    last_step: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    user: so.Mapped["User"] = so.relationship(  # noqa: F821
        backref=so.backref("two_factor", uselist=False, cascade="all, delete-orphan")
    )
    recovery_codes: so.Mapped[list["RecoveryCode"]] = so.relationship(
        back_populates="two_factor", cascade="all, delete-orphan"
    )

    @property
    def enabled(self) -> bool:
        return self.confirmed_at is not None


class RecoveryCode(db.Model):
    """One single-use recovery code, kept only as its SHA-256 (the code itself is shown
    once, when it is made)."""

    __tablename__ = "recovery_codes"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("two_factor.user_id", ondelete="CASCADE"), index=True
    )
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    two_factor: so.Mapped[TwoFactor] = so.relationship(back_populates="recovery_codes")


class AuditEntry(db.Model):
    """One change an admin or organiser made to another person's data: who (`actor`),
    what (`action`), to whom (a person with an account, a registration and/or one of its
    people), when, and the changed values before and after.

    Names are not copied here: they are read from the person or registration, so deleting
    an account or purging a guest's data leaves no name behind in the log.
    """

    __tablename__ = "audit_log"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: so.Mapped[int | None] = by_account(index=True)
    action: so.Mapped[str] = so.mapped_column(sa.String(40))
    subject_user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    registration_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("registrations.id", ondelete="SET NULL"), index=True
    )
    attendee_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("attendees.id", ondelete="SET NULL")
    )
    before: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    after: so.Mapped[dict | None] = so.mapped_column(sa.JSON)

    actor: so.Mapped["User | None"] = so.relationship(foreign_keys=[actor_id])  # noqa: F821
    subject_user: so.Mapped["User | None"] = so.relationship(  # noqa: F821
        foreign_keys=[subject_user_id]
    )
    registration: so.Mapped["Registration | None"] = so.relationship()  # noqa: F821
    attendee: so.Mapped["Attendee | None"] = so.relationship()  # noqa: F821
