"""Announcements: news written once and e-mailed to an audience through the outbox.

An audience is a domain or a collective (the members who chose it as an interest and
asked for news) or an upcoming event (the people registered for it). The announcement
keeps how many it went to for good; who they were (`AnnouncementRecipient`) only for
`NEWS_RECIPIENTS_DAYS` (90), then `services.retention.purge_announcement_recipients`
forgets it.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .pages import NOT_ON_PUBLIC_PAGES
from .types import StrEnumType, UTCDateTime, by_account, utcnow


class AudienceKind(enum.StrEnum):
    DOMAIN = "domain"
    COLLECTIVE = "collective"
    EVENT = "event"


class Announcement(db.Model):
    """One announcement as it was sent: by whom, to which audience, what it said, when,
    and to how many people. It is never changed after sending."""

    __tablename__ = "announcements"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    author_id: so.Mapped[int | None] = by_account(index=True)
    audience: so.Mapped[AudienceKind] = so.mapped_column(StrEnumType(AudienceKind))
    # Exactly one of these names the audience; it may go later (a deleted collective),
    # and the record stays, with `audience_name` saying what it was.
    domain_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("domains.id", ondelete="SET NULL"), index=True
    )
    collective_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("collectives.id", ondelete="SET NULL"), index=True
    )
    event_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    audience_name: so.Mapped[str] = so.mapped_column(sa.String(300))
    subject: so.Mapped[str] = so.mapped_column(sa.String(200))
    # Markdown, as the author wrote it: the plain text part as it is, the HTML part rendered.
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    # The language the author wrote in (the HTML part's `lang`); each mail's own words
    # around it (greeting, why you get it, unsubscribe) are in its recipient's language.
    locale: so.Mapped[str] = so.mapped_column(sa.String(5), default="nl")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    sent_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # When the last of its mails may leave, at the measured rate (NEWS_PER_MINUTE).
    last_mail_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    recipient_count: so.Mapped[int] = so.mapped_column(default=0)

    author: so.Mapped["User | None"] = so.relationship()  # noqa: F821
    domain: so.Mapped["Domain | None"] = so.relationship()  # noqa: F821
    collective: so.Mapped["Collective | None"] = so.relationship()  # noqa: F821
    event: so.Mapped["Event | None"] = so.relationship()  # noqa: F821

    def __repr__(self) -> str:
        return f"<Announcement {self.id} {self.audience}>"


class AnnouncementRecipient(db.Model):
    """Who one announcement went to, and its mail in the outbox: kept 90 days only."""

    __tablename__ = "announcement_recipients"
    __table_args__ = {"info": NOT_ON_PUBLIC_PAGES}

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    announcement_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("announcements.id", ondelete="CASCADE"), index=True
    )
    user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    registration_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("registrations.id", ondelete="SET NULL"), index=True
    )
    outbox_message_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("outbox_messages.id", ondelete="SET NULL"), index=True
    )

    announcement: so.Mapped[Announcement] = so.relationship()
    outbox_message: so.Mapped["OutboxMessage | None"] = so.relationship()  # noqa: F821
