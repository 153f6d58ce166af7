"""The general meeting (algemene ledenvergadering): the meeting itself, its
agenda with documents, and the record of each convocation sent.

A meeting is held at an `Event` of the cooperative (created with it), so members register
and are checked in as for any event. Proxies and votes come later and hang on `Meeting`
and `AgendaItem` (`Proxy.meeting_id`, `Vote.agenda_item_id`).
"""

import enum
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .pages import NOT_ON_PUBLIC_PAGES
from .types import StrEnumType, UTCDateTime, utcnow


class MeetingStatus(enum.StrEnum):
    DRAFT = "draft"
    CONVENED = "convened"
    HELD = "held"
    CLOSED = "closed"


class ConvocationChannel(enum.StrEnum):
    EMAIL = "email"
    LETTER = "letter"


class Meeting(db.Model):
    """A general meeting: when and where, its notice period and the rules the statutes
    set for it (proxies, online voting, quorum), and its convocation once sent."""

    __tablename__ = "meetings"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slug: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    event_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("events.id", ondelete="RESTRICT"), unique=True
    )
    starts_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    ends_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    location: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    online_url: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    notice_days: so.Mapped[int] = so.mapped_column(default=14)
    proxies_allowed: so.Mapped[bool] = so.mapped_column(default=True)
    max_proxies_per_member: so.Mapped[int] = so.mapped_column(default=1)
    online_voting: so.Mapped[bool] = so.mapped_column(default=False)
    # The quorum the statutes set, in words per kind of decision (shown to members) and,
    # where it is a simple share of the members, as a percentage (None: no quorum).
    quorum_rules: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    quorum_percent: so.Mapped[int | None]
    statutes_quorum_percent: so.Mapped[int | None]
    status: so.Mapped[MeetingStatus] = so.mapped_column(
        StrEnumType(MeetingStatus), default=MeetingStatus.DRAFT
    )
    convocation_text: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    convened_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    convened_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    event: so.Mapped["Event"] = so.relationship()  # noqa: F821
    items: so.Mapped[list["AgendaItem"]] = so.relationship(
        back_populates="meeting", cascade="all, delete-orphan", order_by="AgendaItem.position"
    )

    def __repr__(self) -> str:
        return f"<Meeting {self.slug}>"

    @property
    def changes_statutes(self) -> bool:
        """Whether an item of the agenda proposes to change the statutes (art. 2:42 BW)."""
        return any(item.changes_statutes for item in self.items)

    @property
    def is_convened(self) -> bool:
        return self.convened_at is not None


class AgendaItem(db.Model):
    """One point of the agenda, in order; whether the members vote on it, and whether it
    proposes to change the statutes."""

    __tablename__ = "agenda_items"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    position: so.Mapped[int] = so.mapped_column(default=0)
    title_nl: so.Mapped[str] = so.mapped_column(sa.String(200))
    title_en: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    has_vote: so.Mapped[bool] = so.mapped_column(default=False)
    changes_statutes: so.Mapped[bool] = so.mapped_column(default=False)

    meeting: so.Mapped[Meeting] = so.relationship(back_populates="items")
    documents: so.Mapped[list["AgendaDocument"]] = so.relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="AgendaDocument.id"
    )

    def title(self, locale: str) -> str:
        """The title in the reader's language; the Dutch one when there is no English."""
        return self.title_en if locale == "en" and self.title_en else self.title_nl


class AgendaDocument(db.Model):
    """A PDF that belongs to an agenda item: its bytes in `content`, or in a file under
    `UPLOAD_DIR` named `stored_name` when that setting is given."""

    __tablename__ = "agenda_documents"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agenda_item_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True
    )
    filename: so.Mapped[str] = so.mapped_column(sa.String(200))
    size: so.Mapped[int]
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    content: so.Mapped[bytes | None] = so.mapped_column(sa.LargeBinary, deferred=True)
    stored_name: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    uploaded_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    item: so.Mapped[AgendaItem] = so.relationship(back_populates="documents")


class ConvocationRecord(db.Model):
    """That a member was called to a meeting, how (e-mail or letter) and when."""

    __tablename__ = "convocation_records"
    __table_args__ = (
        sa.UniqueConstraint("meeting_id", "membership_id", name="uq_convocation_member"),
        {"info": NOT_ON_PUBLIC_PAGES},
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id", ondelete="CASCADE"), index=True
    )
    channel: so.Mapped[ConvocationChannel] = so.mapped_column(StrEnumType(ConvocationChannel))
    email: so.Mapped[str] = so.mapped_column(sa.String(254), default="")
    sent_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    membership: so.Mapped["Membership"] = so.relationship()  # noqa: F821
