"""Euro amounts as people read and type them, in their own language (Babel's rules).

Amounts are kept as integer cents everywhere; this module is the one place they become
text and text becomes cents again:

- `format_euros(750)` → `€ 7,50` in Dutch, `€7.50` in English: on pages, in mails, in
  messages (the Jinja filter `money`).
- `format_amount(750)` → `7,50` / `7.50`, without the sign: what an input shows and a
  spreadsheet cell holds (the Jinja filter `amount`).
- `parse_euros("7,50")` → 750: what a person typed, in their language's way or the other
  common one (`7.50` in Dutch, `7,50` in English), with or without `€`.
"""

import re
from decimal import Decimal

from babel.numbers import NumberFormatError, format_currency, format_decimal, parse_decimal
from flask import Flask

from .i18n import current_locale

# The most anyone types for one amount here: a guard against typing mistakes, well
# inside what a database integer holds.
MAX_CENTS = 99_999_99
# Longer than any amount up to MAX_CENTS written out, signs and separators included.
_MAX_TYPED = 20
_ONE_CENT = Decimal("0.01")
# Digits with `.` and `,` only: no sign, no exponent, no digits of other scripts.
_TYPED = re.compile(r"[0-9][0-9.,]*")
# One separator with one or two digits after it: a decimal separator in either language.
_EITHER_DECIMAL = re.compile(r"([0-9]+)[.,]([0-9]{1,2})")
# The euro sign and the spaces Babel and people put around it.
_SIGN_AND_SPACES = re.compile(r"[€\s\u00a0\u202f]")


def _locale(locale: str | None) -> str:
    return locale if locale is not None else current_locale()


def _as_decimal(cents: int) -> Decimal:
    return Decimal(cents) / 100


def format_euros(cents: int, locale: str | None = None) -> str:
    """Euro cents with the euro sign as the language writes them: `€ 7,50` in Dutch,
    `€7.50` in English, `€ 1.234,50` / `€1,234.50` with thousands."""
    return format_currency(_as_decimal(cents), "EUR", locale=_locale(locale))


def format_amount(cents: int, locale: str | None = None) -> str:
    """Euro cents as a plain number with two decimals and no thousands separator:
    `7,00` in Dutch, `7.00` in English. What an amount input shows and a spreadsheet
    reads as a number; `parse_euros` reads it back."""
    return format_decimal(_as_decimal(cents), format="0.00", locale=_locale(locale))


def parse_euros(text: str | None, locale: str | None = None) -> int | None:
    """The amount a person typed, in cents; None for empty text or text that is not an
    amount in euros.

    Reads the language's own way (`7,50` and `1.234,50` in Dutch, `7.50` and `1,234.50`
    in English) and, where it cannot be a thousands separator, the other language's
    decimal separator (`7.50` in Dutch, `7,50` in English). A `€` and spaces around the
    number are fine. Refuses a negative amount, more than two decimals (`7,505` in
    Dutch), anything but digits, and more than MAX_CENTS.
    """
    typed = _SIGN_AND_SPACES.sub("", text or "")
    if not typed or len(typed) > _MAX_TYPED or not _TYPED.fullmatch(typed):
        return None
    try:
        value = parse_decimal(typed, locale=_locale(locale), strict=True)
    except NumberFormatError:
        other_way = _EITHER_DECIMAL.fullmatch(typed)
        if other_way is None:
            return None
        value = Decimal(f"{other_way.group(1)}.{other_way.group(2)}")
    if value != value.quantize(_ONE_CENT):
        return None
    cents = int(value * 100)
    return cents if cents <= MAX_CENTS else None


def init_app(app: Flask) -> None:
    """The filters `money` (`€ 7,50`) and `amount` (`7,50`) for templates and mails."""
    app.jinja_env.filters["money"] = format_euros
    app.jinja_env.filters["amount"] = format_amount
