"""The outbox: every e-mail is a row first, written with the change that caused it."""

import enum
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .pages import NOT_ON_PUBLIC_PAGES
from .types import StrEnumType, UTCDateTime, utcnow


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(db.Model):
    """An e-mail waiting to be sent, sent, or given up on after its retries.

    A mail about a registration points at it (`registration_id`), so the mail is forgotten
    with the registration's personal data (`services.privacy.anonymise_registration`).
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        {"info": NOT_ON_PUBLIC_PAGES},
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    to_address: so.Mapped[str] = so.mapped_column(sa.String(254))
    registration_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("registrations.id", ondelete="SET NULL"), index=True
    )
    subject: so.Mapped[str] = so.mapped_column(sa.String(300))
    body_text: so.Mapped[str] = so.mapped_column(sa.Text)
    # An HTML part beside the plain text (e.g. with the tickets' QR codes); "" for none.
    body_html: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    # [{"filename": ..., "content_type": ..., "content": text}], e.g. an .ics file; binary
    # content as base64 with "encoding": "base64", or the text of a QR code drawn as a
    # PNG when sent with "encoding": "qr"; with a "content_id", an image shown inside
    # the HTML part (`<img src="cid:...">`), e.g. a ticket's QR code.
    attachments: so.Mapped[list[dict]] = so.mapped_column(sa.JSON, default=list)
    # Headers of its own, put on the message as they are: {"List-Unsubscribe": ...,
    # "List-Unsubscribe-Post": ...} on an announcement (RFC 8058).
    headers: so.Mapped[dict[str, str]] = so.mapped_column(
        sa.JSON, default=dict, server_default="{}"
    )
    status: so.Mapped[OutboxStatus] = so.mapped_column(
        StrEnumType(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    last_error: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    registration: so.Mapped["Registration | None"] = so.relationship()  # noqa: F821
