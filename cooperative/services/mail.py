"""E-mail through the outbox.

`queue_mail` writes a message to the outbox in the caller's transaction, so the change and
its e-mail are committed together or not at all. `send_pending` (the `coop send-mail`
worker) delivers them over SMTP, at least once (see there), or, without `MAIL_SERVER`,
writes them to `instance/mail/` and the log so a developer sees them.
"""

import base64
import contextlib
import smtplib
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale

from ..extensions import db
from ..models import OutboxMessage, OutboxStatus, Registration, utcnow
from ..qr import qr_png
from .queues import claim_due

MAX_ATTEMPTS = 8
# How long a claimed message is left to the worker sending it before another tries.
CLAIM_MINUTES = 5


def external_url(endpoint: str, **values) -> str:
    """An absolute link for an e-mail, built on `BASE_URL` (works outside a request too)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"] + path


def queue_mail(
    to_address: str,
    subject,
    template: str,
    locale: str,
    attachments: Iterable[dict] = (),
    html_template: str | None = None,
    headers: dict[str, str] | None = None,
    not_before: datetime | None = None,
    **context,
) -> OutboxMessage | None:
    """Write an e-mail to the outbox, rendered in `locale`; it is sent after commit.

    `subject` may be a lazy string: it is translated here, in the recipient's language.
    With `html_template`, the mail also has an HTML part (`mail/<html_template>.html`,
    given the plain text as `body_text`) beside the plain text; attachments with a
    `content_id` are images shown inside it. `headers` go on the message as they are
    (List-Unsubscribe on an announcement); `not_before` holds it back until then (news at
    a measured rate). Nothing is written for an empty address
    (a walk-in at the door, an anonymised guest). A mail whose `context` has a
    `registration` is about it and points at it, so it is forgotten together with the
    registration's personal data.
    """
    if not to_address:
        return None
    with force_locale(locale):
        body_text = render_template(f"mail/{template}.txt", **context)
        body_html = ""
        if html_template:
            body_html = render_template(
                f"mail/{html_template}.html", body_text=body_text, locale=locale, **context
            )
        message = OutboxMessage(
            to_address=to_address,
            # One line: a line break in a subject (an event title, a suggested name)
            # could otherwise add headers, or make the message unsendable.
            subject=" ".join(str(subject).split())[:300],
            body_text=body_text,
            body_html=body_html,
            attachments=list(attachments),
            headers=dict(headers or {}),
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=not_before or utcnow(),
        )
    if isinstance(context.get("registration"), Registration):
        message.registration = context["registration"]
    db.session.add(message)
    return message


def queue_member_mail(membership, subject, template: str, **context) -> OutboxMessage | None:
    """E-mail a member at their account's address, in their language, as `queue_mail`,
    with `user` and `membership` in the template's context. Nothing for a register entry
    whose account was deleted: the admin writes them a letter."""
    user = membership.user
    if user is None:
        return None
    return queue_mail(
        user.email, subject, template, user.locale, user=user, membership=membership, **context
    )


def _content(attachment: dict) -> bytes:
    """An outbox attachment's bytes: text as it is, binary kept as base64, or the PNG of
    the QR code of its text ("encoding": "qr", a ticket's link; see `cooperative.qr`)."""
    encoding = attachment.get("encoding")
    if encoding == "base64":
        return base64.b64decode(attachment["content"])
    if encoding == "qr":
        return qr_png(attachment["content"])
    return attachment["content"].encode()


def build_email(message: OutboxMessage) -> EmailMessage:
    """The outbox row as an RFC 5322 message, with its own headers and its attachments.

    With an HTML part: multipart/alternative (plain text first, then the HTML with its
    inline images, those attachments that have a `content_id`, as multipart/related),
    inside multipart/mixed when there are other attachments (a calendar file).
    """
    sender = current_app.config["MAIL_FROM"]
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = make_msgid(
        idstring=f"outbox{message.id}", domain=sender.rsplit("@", 1)[-1].strip(">")
    )
    for name, value in (message.headers or {}).items():
        email[name] = value  # a line break in a value raises ValueError: set aside
    email.set_content(message.body_text)
    inline = [a for a in message.attachments if a.get("content_id")] if message.body_html else []
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
        html_part = email.get_payload()[-1]
        for attachment in inline:
            maintype, subtype = attachment["content_type"].split("/", 1)
            html_part.add_related(
                _content(attachment),
                maintype=maintype,
                subtype=subtype,
                cid=f"<{attachment['content_id']}>",
                filename=attachment["filename"],
                disposition="inline",
            )
    for attachment in message.attachments:
        if attachment in inline:
            continue
        maintype, subtype = attachment["content_type"].split("/", 1)
        email.add_attachment(
            _content(attachment),
            maintype=maintype,
            subtype=subtype,
            filename=attachment["filename"],
        )
    return email


class SmtpTransport:
    """Delivers over one SMTP connection, opened on first use."""

    def __init__(self, config) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def send(self, email: EmailMessage) -> None:
        if self.connection is None:
            config = self.config
            connection = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=20)
            if config["MAIL_USE_TLS"]:
                connection.starttls()
            if config["MAIL_USERNAME"]:
                connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            self.connection = connection
        self.connection.send_message(email)

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.quit()
            self.connection = None


class FolderTransport:
    """Development: every mail becomes a file in `instance/mail/` and a line in the log."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def send(self, email: EmailMessage) -> None:
        name = email["Message-ID"].strip("<>").replace("@", "_").replace("/", "_")
        path = self.folder / f"{name}.eml"
        path.write_bytes(bytes(email))
        body = email.get_body(("plain",))
        current_app.logger.warning(
            "Mail to %s: %s (%s)\n%s",
            email["To"],
            email["Subject"],
            path,
            body.get_content() if body else "",
        )

    def close(self) -> None:
        pass


def _transport():
    if current_app.config["MAIL_SERVER"]:
        return SmtpTransport(current_app.config)
    return FolderTransport(Path(current_app.instance_path) / "mail")


def retry_delay(attempts: int) -> timedelta:
    """Wait 1, 2, 4, ... minutes between tries, at most six hours."""
    return min(timedelta(minutes=2 ** (attempts - 1)), timedelta(hours=6))


def send_pending(batch_size: int = 50) -> tuple[int, int]:
    """Deliver the messages that are due; return (sent, failed) counts.

    Each message is claimed, sent and marked in three commits, so no lock is held while
    the mail server answers. Several workers may run at once: only the one whose claim
    finds the message still due sends it, so two workers never send one message twice.
    A worker that crashes between sending and marking leaves its message claimed for
    CLAIM_MINUTES; then it is sent again: a message is delivered at least once, and
    only such a crash sends it twice. A failure is recorded with its error and retried
    later with a growing delay; after MAX_ATTEMPTS the message is marked failed and left
    for a person to look at.
    """
    due = db.session.scalars(
        sa.select(OutboxMessage.id)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= utcnow(),
        )
        .order_by(OutboxMessage.id)
        .limit(batch_size)
    ).all()
    db.session.commit()
    sent = failed = 0
    transport = _transport()
    try:
        for message_id in due:
            message = _claim(message_id)
            if message is None:  # another worker has it
                continue
            try:
                email = build_email(message)
            except ValueError as error:  # a message that can never be sent: set it aside
                message.last_error = f"{type(error).__name__}: {error}"[:2000]
                message.status = OutboxStatus.FAILED
                failed += 1
                db.session.commit()
                continue
            try:
                transport.send(email)
            except (smtplib.SMTPException, OSError) as error:
                transport.close()
                message.last_error = f"{type(error).__name__}: {error}"[:2000]
                if message.attempts >= MAX_ATTEMPTS:
                    message.status = OutboxStatus.FAILED
                else:
                    message.next_attempt_at = utcnow() + retry_delay(message.attempts)
                failed += 1
            else:
                message.status = OutboxStatus.SENT
                message.sent_at = utcnow()
                sent += 1
            db.session.commit()
    finally:
        transport.close()
    return sent, failed


def _claim(message_id: int) -> OutboxMessage | None:
    """Take a due message for this worker (committed): counts the attempt and keeps
    other workers away for CLAIM_MINUTES. None when it is no longer due: another worker
    claimed or sent it."""
    hold = timedelta(minutes=CLAIM_MINUTES)
    claimed = claim_due(db.session, OutboxMessage, message_id, OutboxStatus.PENDING, hold)
    return db.session.get(OutboxMessage, message_id) if claimed else None
