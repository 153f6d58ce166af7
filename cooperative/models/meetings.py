"""The general meeting (algemene ledenvergadering): the meeting itself, its
agenda with documents, and the record of each convocation sent.

A meeting is held at an `Event` of the cooperative (created with it), so members register
and are checked in as for any event. Who takes part, and how, is a `MeetingAttendance`;
a member who cannot come gives a `Proxy` to another. The votes are in `models/votes.py`.
Members take part as their register entry (`Membership`), not as their account: a legal
person votes, and its register entry outlives an account.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .pages import NOT_ON_PUBLIC_PAGES
from .types import StrEnumType, UTCDateTime, by_account, unique_where, utcnow


class MeetingStatus(enum.StrEnum):
    DRAFT = "draft"
    CONVENED = "convened"
    HELD = "held"
    CLOSED = "closed"


class ConvocationChannel(enum.StrEnum):
    EMAIL = "email"
    LETTER = "letter"


class VoteWeighting(enum.StrEnum):
    """How many votes a member has (art. 2:38 BW: at least one)."""

    PER_MEMBER = "per_member"  # one member, one vote
    PER_SHARE = "per_share"  # one vote per paid share held, at least one


class AttendanceMode(enum.StrEnum):
    ROOM = "room"
    ONLINE = "online"


class ProxyStatus(enum.StrEnum):
    GIVEN = "given"  # waiting for the holder to accept
    ACCEPTED = "accepted"  # in force: the holder votes for the grantor
    DECLINED = "declined"  # the holder said no
    WITHDRAWN = "withdrawn"  # the grantor took it back before the meeting
    CANCELLED = "cancelled"  # the grantor came, or voted online, after all


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
    convened_by_id: so.Mapped[int | None] = by_account()
    vote_weighting: so.Mapped[VoteWeighting] = so.mapped_column(
        StrEnumType(VoteWeighting), default=VoteWeighting.PER_MEMBER
    )
    # The minutes: Markdown the secretary writes, approved (by the meeting or the board,
    # as the statutes say) and then published to the members.
    minutes_text: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    minutes_updated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    minutes_updated_by_id: so.Mapped[int | None] = by_account()
    minutes_approved_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    minutes_published_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    event: so.Mapped["Event"] = so.relationship(back_populates="meeting")  # noqa: F821
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

    def is_over(self, now: datetime | None = None) -> bool:
        """Whether the meeting has ended (at `now`): nobody takes part, gives or accepts
        a proxy any more, and its page shows what happened."""
        return (now or utcnow()) >= self.ends_at


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
    uploaded_by_id: so.Mapped[int | None] = by_account()

    item: so.Mapped[AgendaItem] = so.relationship(back_populates="documents")


class _MemberAtMeeting:
    """The columns of a row about one member at one meeting."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id", ondelete="CASCADE"), index=True
    )

    @so.declared_attr
    def membership(cls) -> so.Mapped["Membership"]:  # noqa: F821
        return so.relationship()


class ConvocationRecord(_MemberAtMeeting, db.Model):
    """That a member was called to a meeting, how (e-mail or letter) and when."""

    __tablename__ = "convocation_records"
    __table_args__ = (
        sa.UniqueConstraint("meeting_id", "membership_id", name="uq_convocation_member"),
        {"info": NOT_ON_PUBLIC_PAGES},
    )

    channel: so.Mapped[ConvocationChannel] = so.mapped_column(StrEnumType(ConvocationChannel))
    email: so.Mapped[str] = so.mapped_column(sa.String(254), default="")
    sent_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class MeetingAttendance(_MemberAtMeeting, db.Model):
    """A member's part in a meeting: registered to come to the room or to join online,
    and when they were there (checked in at the door, or joined online)."""

    __tablename__ = "meeting_attendances"
    __table_args__ = (
        sa.UniqueConstraint("meeting_id", "membership_id", name="uq_meeting_attendance"),
        {"info": NOT_ON_PUBLIC_PAGES},
    )

    mode: so.Mapped[AttendanceMode] = so.mapped_column(StrEnumType(AttendanceMode))
    registered_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    present_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # The room: the ticket of the meeting's event the member is checked in with.
    attendee_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("attendees.id", ondelete="SET NULL")
    )


class Proxy(db.Model):
    """A member's written or electronic proxy (volmacht, art. 2:38 lid 3 BW) to another
    member for one meeting: given, then accepted by the holder, or withdrawn, declined or
    cancelled. At most one given or accepted proxy per grantor and meeting (a partial
    unique index backs the service's rule). Proxies given on paper are recorded by the
    board (`recorded_by_id`)."""

    __tablename__ = "meeting_proxies"
    __table_args__ = (
        unique_where(
            "uq_meeting_proxy_live",
            "meeting_id",
            "grantor_id",
            where="status IN ('given', 'accepted')",
        ),
        sa.CheckConstraint("grantor_id <> holder_id", name="not_self"),
        {"info": NOT_ON_PUBLIC_PAGES},
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    meeting_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    grantor_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id", ondelete="CASCADE"), index=True
    )
    holder_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id", ondelete="CASCADE"), index=True
    )
    status: so.Mapped[ProxyStatus] = so.mapped_column(StrEnumType(ProxyStatus))
    given_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    accepted_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    ended_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    recorded_by_id: so.Mapped[int | None] = by_account()

    grantor: so.Mapped["Membership"] = so.relationship(foreign_keys=[grantor_id])  # noqa: F821
    holder: so.Mapped["Membership"] = so.relationship(foreign_keys=[holder_id])  # noqa: F821
