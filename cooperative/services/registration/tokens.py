"""A registration's private link and an attendee's ticket code: made, and looked up."""

import hmac
import re
import secrets

from ...extensions import db
from ...models import (
    Attendee,
    Registration,
)

_TOKEN_RE = re.compile(r"([0-9]{1,18})-([A-Za-z0-9_-]{20,64})")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _split_token(token: str) -> tuple[int, str] | None:
    match = _TOKEN_RE.fullmatch(token or "")
    return (int(match.group(1)), match.group(2)) if match else None


def _find(model, token: str, secret_of):
    """The `model` row a token (`<id>-<secret>`) names, or None when there is none or its
    secret (`secret_of(row)`) is another. The secret is compared in constant time."""
    parts = _split_token(token)
    if parts is None:
        return None
    row = db.session.get(model, parts[0])
    if row is None or not hmac.compare_digest(secret_of(row).encode(), parts[1].encode()):
        return None
    return row


def find_registration(token: str) -> Registration | None:
    """The registration of a private link, or None. The secret is compared in constant time."""
    return _find(Registration, token, lambda registration: registration.manage_token)


def find_attendee(ticket: str) -> Attendee | None:
    """The attendee of a ticket code, or None. The secret is compared in constant time."""
    return _find(Attendee, ticket, lambda attendee: attendee.ticket_code)
