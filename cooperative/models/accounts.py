"""Accounts: the people who log in."""

import functools
import secrets
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, has_app_context
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .pages import NOT_ON_PUBLIC_PAGES
from .types import UTCDateTime, utcnow

LOCALES = ("nl", "en")
# werkzeug's hash method for passwords, unless PASSWORD_HASH_METHOD says otherwise.
DEFAULT_HASH_METHOD = "scrypt"


def new_session_key() -> str:
    """A fresh random key for a person's log-ins (see `User.session_key`)."""
    return secrets.token_urlsafe(16)


def normalise_email(email: str) -> str:
    """E-mail addresses are compared case-insensitively: store them lower-cased."""
    return email.strip().lower()


def _password_hash_method() -> str:
    if not has_app_context():
        return DEFAULT_HASH_METHOD
    return current_app.config.get("PASSWORD_HASH_METHOD", DEFAULT_HASH_METHOD)


def hash_password(password: str) -> str:
    """A salted hash of `password`, made by the method PASSWORD_HASH_METHOD names
    (scrypt; the tests choose a cheap one)."""
    return generate_password_hash(password, method=_password_hash_method())


@functools.cache
def _unknown_account_hash(method: str) -> str:
    return generate_password_hash("no account has this password", method=method)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether `password` is the one `password_hash` was made from.

    Without a hash (an address with no account) a made-up hash of the same method is
    checked all the same, so a wrong address takes as long as a wrong password.
    """
    if password_hash is None:
        check_password_hash(_unknown_account_hash(_password_hash_method()), password)
        return False
    return check_password_hash(password_hash, password)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    locale: so.Mapped[str] = so.mapped_column(sa.String(5), default="nl")
    is_admin: so.Mapped[bool] = so.mapped_column(default=False)
    # A seat on the board ("chair", "secretary" or "member"): convenes and runs
    # the general meeting beside the admins. None: not on the board.
    board_role: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    # Runs the programme of collaborations with the city: forms koppels from questions,
    # publishes and moderates (admins may too).
    is_programme_staff: so.Mapped[bool] = so.mapped_column(default=False)
    email_confirmed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # A new address waits here until its owner confirms it from the e-mailed link.
    pending_email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    # The secret in the address of this person's private calendar feed; reset to revoke it.
    calendar_token: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # Part of every session cookie and remember-me cookie of this person (`get_id`): a new
    # key ends all of them. Random, so a reused id (SQLite) never opens another account.
    # No public page shows it: logging out keeps them in memory.
    session_key: so.Mapped[str] = so.mapped_column(
        sa.String(32), default=new_session_key, info=NOT_ON_PUBLIC_PAGES
    )

    profile: so.Mapped["Profile | None"] = so.relationship(  # noqa: F821
        back_populates="user", cascade="all, delete-orphan"
    )
    memberships: so.WriteOnlyMapped["Membership"] = so.relationship(  # noqa: F821
        back_populates="user", foreign_keys="Membership.user_id", passive_deletes=True
    )
    collective_roles: so.Mapped[list["CollectiveRole"]] = so.relationship(  # noqa: F821
        back_populates="user", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember-me cookie: the id and
        the session key, so a new key logs out every device (`load_user` checks it)."""
        return f"{self.id}:{self.session_key}"

    def end_sessions(self) -> None:
        """Log this person out everywhere: every session and remember-me cookie stops
        working (the current device may be logged in again with `login_user`)."""
        self.session_key = new_session_key()

    def set_password(self, password: str) -> None:
        """Set a new password; it ends every session of this person (`end_sessions`)."""
        self.password_hash = hash_password(password)
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        return password_matches(self.password_hash, password)

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def managed_collective_ids(self) -> set[int]:
        """The ids of the collectives this person organises for (their `CollectiveRole`s)."""
        return {role.collective_id for role in self.collective_roles}

    @property
    def is_board(self) -> bool:
        """Whether this person convenes and runs the general meeting: admins and the board."""
        return self.is_admin or bool(self.board_role)

    @property
    def runs_programme(self) -> bool:
        """Whether this person forms, publishes and moderates collaborations: programme
        staff and admins."""
        return self.is_admin or self.is_programme_staff

    @property
    def manages_events(self) -> bool:
        """Whether the organisers' pages are for this person: admins and organisers."""
        return self.is_admin or bool(self.collective_roles)

    def can_manage(self, collective_id: int | None) -> bool:
        """Whether this person may manage the events hosted by `collective_id`.

        Admins manage every event, also those without a host collective (None);
        organisers only those of the collectives they have a role in.
        """
        if self.is_admin:
            return True
        return collective_id is not None and collective_id in self.managed_collective_ids
