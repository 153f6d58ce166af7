"""Accounts: sign-up with a confirmed address, log-in, and password reset by e-mail.

No answer here tells a visitor whether an address has an account: sign-up and reset
requests always look the same from outside, and do the same work (one password hashed
for a sign-up, none for a reset; one e-mail queued either way), so they take as long;
the e-mail says what happened.
"""

import hashlib
import hmac

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..extensions import db
from ..ids import row_id
from ..models import User, new_session_key, normalise_email, utcnow
from ..models.accounts import password_matches
from ..refusals import Refused
from .mail import external_url, queue_mail

CONFIRM_MAX_AGE = 3 * 24 * 3600
RESET_MAX_AGE = 3600


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def existing_user(email: str, field: str = "email") -> User:
    """The account with this e-mail address, for giving someone a role or a place.
    Refuses (on `field`) an address nobody has an account with: they sign up first."""
    user = find_user(email)
    if user is None:
        raise Refused(
            _l("Nobody has an account with this e-mail address. Ask them to sign up first."),
            field,
        )
    return user


def user_for_session(session_id: str) -> User | None:
    """The account a session or remember-me cookie belongs to (`User.get_id`: id and
    session key), checked on every request that asks who is logged in.

    None for a value without a key (a session from before keys existed) or with an old
    key: the person has since logged out, changed or reset their password, or deleted the
    account (a new account that got the same id has another key).
    """
    raw_id, _, key = str(session_id).partition(":")
    user_id = row_id(raw_id)
    if user_id is None or not key:
        return None
    user = db.session.get(User, user_id)
    if user is None or not hmac.compare_digest(user.session_key.encode(), key.encode()):
        return None
    return user


def log_out_everywhere(user: User) -> None:
    """End every session and remember-me cookie of `user`, on every device.

    One UPDATE of `session_key`, which no public page shows, so logging out keeps the
    public pages in memory (a password change goes through `User.set_password`).
    """
    db.session.execute(
        sa.update(User).where(User.id == user.id).values(session_key=new_session_key()),
    )


def _fingerprint(*parts: str) -> str:
    """A short digest of what a token depends on: change it and old tokens stop working."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"account-{purpose}")


def make_confirm_token(user: User) -> str:
    return _serializer("confirm").dumps({"id": user.id, "fp": _fingerprint(user.email)})


def make_reset_token(user: User) -> str:
    """A reset link token; it dies with a password change, so it works once."""
    return _serializer("reset").dumps({"id": user.id, "fp": _fingerprint(user.password_hash)})


def _user_from_token(token: str, purpose: str, max_age: int) -> User | None:
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    user = db.session.get(User, data.get("id")) if isinstance(data, dict) else None
    if user is None:
        return None
    expected = _fingerprint(user.email if purpose == "confirm" else user.password_hash)
    return user if data.get("fp") == expected else None


def user_from_confirm_token(token: str) -> User | None:
    """The account a confirmation link belongs to, or None if it is forged or expired."""
    return _user_from_token(token, "confirm", CONFIRM_MAX_AGE)


def user_from_reset_token(token: str) -> User | None:
    """The account a reset link belongs to, or None if forged, expired or already used."""
    return _user_from_token(token, "reset", RESET_MAX_AGE)


def sign_up(name: str, email: str, password: str, locale: str) -> User | None:
    """Create an unconfirmed account and e-mail a confirmation link.

    If the address already has an account, nothing is created: its owner is e-mailed
    instead (with links to log in or reset). Returns the new user, or None.
    The password is hashed either way, so a known address is not told by a quicker answer.
    """
    user = User(email=normalise_email(email), name=name.strip(), locale=locale)
    user.set_password(password)
    existing = find_user(email)
    if existing is not None:
        queue_mail(
            existing.email,
            _l("Someone tried to create an account with your e-mail address"),
            "account_exists",
            existing.locale,
            user=existing,
            login_url=external_url("auth.login"),
            reset_url=external_url("auth.reset_request"),
        )
        return None
    db.session.add(user)
    db.session.flush()
    send_confirmation(user)
    return user


def send_confirmation(user: User) -> None:
    """E-mail `user` a link that confirms their address."""
    queue_mail(
        user.email,
        _l("Confirm your e-mail address"),
        "confirm_email",
        user.locale,
        user=user,
        confirm_url=external_url("auth.confirm", token=make_confirm_token(user)),
    )


def confirm_email(user: User) -> None:
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()


def authenticate(email: str, password: str) -> User | None:
    """The account with this address and password, or None (for any wrong part)."""
    user = find_user(email)
    if user is None:
        password_matches(None, password)  # as long as a wrong password takes
        return None
    return user if user.check_password(password) else None


def request_password_reset(email: str, locale: str) -> None:
    """E-mail a reset link if the address has an account; otherwise e-mail the address
    that no account has it (in `locale`), so both take as long and look the same."""
    user = find_user(email)
    if user is None:
        queue_mail(
            normalise_email(email),
            _l("Reset your password"),
            "reset_unknown",
            locale,
            reset_url=external_url("auth.reset_request"),
            signup_url=external_url("auth.signup"),
        )
        return
    queue_mail(
        user.email,
        _l("Reset your password"),
        "reset_password",
        user.locale,
        user=user,
        reset_url=external_url("auth.reset_password", token=make_reset_token(user)),
    )


def reset_password(user: User, password: str) -> None:
    """Set a new password. The link came to the address, so that address is confirmed too."""
    user.set_password(password)
    confirm_email(user)
