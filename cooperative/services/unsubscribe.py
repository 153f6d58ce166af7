"""The one-click unsubscribe in every announcement (RFC 8058): a signed link per recipient.

The link is a key, like a registration's private link: whoever holds it may stop the
news it came with, without logging in (a mail client's one-click POST has no session
and no CSRF token). What it stops:

- a member's link (news by interest or from a followed collective) turns their
  `Profile.newsletter` off: all news, not just that interest or collective. That is
  what "unsubscribe" means to a reader; the preferences page (the profile) is where
  they choose again, and every announcement links to it.
- a registration's link (an announcement to the people registered for an event) sets
  `Registration.announcements_off`: no more announcements about that event; its
  reminders and the organisers' messages about the registration itself still go.

Either way the announcement mails still waiting for them are not sent (`drop_unsent`).

The token is signed (itsdangerous, salted for this use) and carries a fingerprint of the
account's or registration's secret parts, so a token for a deleted account never works
for another that got the same id. It is good for UNSUBSCRIBE_MAX_AGE. Services flush;
the caller commits.
"""

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..extensions import db
from ..models import AnnouncementRecipient, OutboxMessage, OutboxStatus, Registration, User

# An announcement's link works this long: the older ones in a mailbox still do.
UNSUBSCRIBE_MAX_AGE = 400 * 24 * 3600


class LinkExpired(Exception):
    """The unsubscribe link was real but is older than UNSUBSCRIBE_MAX_AGE."""


class LinkBroken(Exception):
    """The unsubscribe link is not one we made (changed, cut short, or for an account or
    registration that no longer exists)."""


@dataclass(frozen=True)
class Subscription:
    """What an unsubscribe link stops: a member's news (`user`) or a registration's
    announcements about its event (`registration`)."""

    user: User | None = None
    registration: Registration | None = None

    @property
    def is_stopped(self) -> bool:
        if self.user is not None:
            return self.user.profile is None or not self.user.profile.newsletter
        return self.registration.announcements_off


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="news-unsubscribe")


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _user_fingerprint(user: User) -> str:
    return _fingerprint("user", str(user.id), user.created_at.isoformat())


def _registration_fingerprint(registration: Registration) -> str:
    return _fingerprint("registration", registration.manage_token)


def token_for_user(user: User) -> str:
    """The unsubscribe key in a member's announcement."""
    return _serializer().dumps({"u": user.id, "fp": _user_fingerprint(user)})


def token_for_registration(registration: Registration) -> str:
    """The unsubscribe key in an announcement to the people registered for an event."""
    return _serializer().dumps(
        {"r": registration.id, "fp": _registration_fingerprint(registration)}
    )


def subscription_for(token: str) -> Subscription:
    """What `token` unsubscribes from. Raises LinkExpired for a real but old link,
    LinkBroken for anything else that is not a link we made."""
    try:
        data = _serializer().loads(token, max_age=UNSUBSCRIBE_MAX_AGE)
    except SignatureExpired as error:
        raise LinkExpired from error
    except BadSignature as error:
        raise LinkBroken from error
    if not isinstance(data, dict):
        raise LinkBroken
    if isinstance(data.get("u"), int):
        user = db.session.get(User, data["u"])
        if user is not None and data.get("fp") == _user_fingerprint(user):
            return Subscription(user=user)
    elif isinstance(data.get("r"), int):
        registration = db.session.get(Registration, data["r"])
        if registration is not None and data.get("fp") == _registration_fingerprint(registration):
            return Subscription(registration=registration)
    raise LinkBroken


def unsubscribe(token: str) -> Subscription:
    """Stop what `token` is for (see the module's docstring), and drop the announcement
    mails still waiting for them; doing it twice is harmless.
    Raises LinkExpired or LinkBroken (`subscription_for`), changing nothing."""
    subscription = subscription_for(token)
    if subscription.user is not None:
        if subscription.user.profile is not None:
            subscription.user.profile.newsletter = False
        drop_unsent(
            AnnouncementRecipient.user_id == subscription.user.id,
            AnnouncementRecipient.registration_id.is_(None),
        )
    else:
        subscription.registration.announcements_off = True
        drop_unsent(AnnouncementRecipient.registration_id == subscription.registration.id)
    db.session.flush()
    return subscription


def drop_unsent(*recipients: sa.ColumnElement[bool]) -> None:
    """Take the announcement mails not tried yet to the `AnnouncementRecipient`s that
    `recipients` select out of the outbox. A big announcement leaves at NEWS_PER_MINUTE,
    so a mail may wait for hours: after an unsubscribe, a deleted account or a forgotten
    guest, it is not sent. One the mail worker has claimed (being sent, or to be tried
    again) is left to it. The link to a dropped mail goes first: SQLite does not apply
    ON DELETE SET NULL, and gives a later mail the id again."""
    unsent = (
        sa.select(OutboxMessage.id)
        .join(AnnouncementRecipient, AnnouncementRecipient.outbox_message_id == OutboxMessage.id)
        .where(
            *recipients, OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts == 0
        )
    )
    ids = list(db.session.scalars(unsent))
    if not ids:
        return
    db.session.execute(
        sa.update(AnnouncementRecipient)
        .where(AnnouncementRecipient.outbox_message_id.in_(ids))
        .values(outbox_message_id=None),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        sa.delete(OutboxMessage).where(OutboxMessage.id.in_(ids)),
        execution_options={"synchronize_session": False},
    )
