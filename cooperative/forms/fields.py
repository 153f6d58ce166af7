"""Fields and filters shared by the forms."""

import re

from flask_babel import lazy_gettext as _l
from wtforms import EmailField
from wtforms.validators import DataRequired, Email, Length


def strip(value):
    """Drop the spaces people type around a value, and any NUL character: nobody types
    one, and PostgreSQL cannot store it (a 500 there, a stray byte on SQLite)."""
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


# What Stripe names a Checkout Session (`cs_test_a1B2...`, `cs_live_...`).
_CHECKOUT_SESSION_ID = re.compile(r"cs_[A-Za-z0-9_]{1,250}")


def checkout_session_id(value: str) -> str:
    """The `session_id` Stripe sends people back with, or "" for anything not shaped like
    one (a NUL character, a space, a 10 MB string): that is never looked up."""
    return value if _CHECKOUT_SESSION_ID.fullmatch(value or "") else ""


def email_field(label=None) -> EmailField:
    """An e-mail address, required and checked for its shape."""
    return EmailField(
        label or _l("E-mail address"),
        filters=[strip],
        validators=[
            DataRequired(_l("Please fill in your e-mail address.")),
            Email(_l("This does not look like an e-mail address, e.g. name@example.nl.")),
            Length(max=254),
        ],
    )
