"""Language choice and locale-aware formatting of dates and times (money: `money.py`).

Dutch is the default. `?lang=en` or `?lang=nl` on any page switches and remembers the
choice in a cookie; a logged-in person's own language comes next.
"""

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, Response, has_request_context, request
from flask_babel import format_date, format_decimal, format_time, get_locale, get_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .models.accounts import LOCALES
from .models.events import DIETS
from .models.types import utcnow
from .security import is_framable

LANG_COOKIE = "lang"

DIET_LABELS = {
    "vegetarian": _l("Vegetarian"),
    "vegan": _l("Vegan"),
    "halal": _l("Halal"),
    "gluten_free": _l("Gluten-free"),
    "lactose_free": _l("Lactose-free"),
    "nut_allergy": _l("Nut allergy"),
    "other": _l("Other (see note)"),
}


# What the work with the city calls its kinds and states, on every page that shows them.
COLLABORATION_KIND_LABELS = {
    "koppel": _l("Koppel"),
    "green_deal": _l("Green Deal"),
    "cluster": _l("Cluster of municipalities"),
    "other": _l("Other collaboration"),
}
COLLABORATION_STATUS_LABELS = {
    "idea": _l("Idea"),
    "running": _l("Running"),
    "finished": _l("Finished"),
    "stopped": _l("Stopped"),
}
# A membership's status, a share's state and the lines of its history, as admins read them.
MEMBERSHIP_STATUS_LABELS = {
    "pending_payment": _l("Waiting for payment"),
    "pending_approval": _l("Waiting for approval"),
    "active": _l("Active"),
    "lapsed": _l("Lapsed"),
    "cancelled": _l("Rejected or cancelled"),
}
SHARE_STATE_LABELS = {
    "unpaid": _l("not paid yet"),
    "paid": _l("paid"),
    "to_repay": _l("to be repaid"),
    "repaid": _l("repaid"),
}
SHARE_EVENT_LABELS = {
    "issued": _l("issued"),
    "paid": _l("paid"),
    "unpaid": _l("not paid: the bank took the payment back"),
    "transferred": _l("transferred"),
    "to_repay": _l("marked for repayment"),
    "repaid": _l("repaid"),
    "kept": _l("held again: the member came back"),
}
# How money came in or went back (a payment's provider, or how a share was repaid), and
# the state of a payment.
PAYMENT_WAY_LABELS = {
    "stripe": _l("online"),
    "door": _l("at the door"),
    "bank_transfer": _l("bank transfer"),
    "sepa_debit": _l("direct debit"),
    "stripe_refund": _l("refund of the online payment"),
}
PAYMENT_STATUS_LABELS = {
    "open": _l("open"),
    "paid": _l("paid"),
    "expired": _l("expired"),
    "refunded": _l("refunded"),
    "failed": _l("failed"),
}
ORGANISATION_KIND_LABELS = {
    "municipality": _l("Municipality"),
    "department": _l("Department of a municipality"),
    "business": _l("Business"),
    "foundation": _l("Foundation"),
    "collective": _l("Collective"),
    "other": _l("Other"),
}


def in_diet_order(keys) -> list[str]:
    """Diets in the one order they are listed everywhere (the order of `DIETS`, as the
    organiser's form offers them), each once; a key not in it comes last."""
    order = {key: position for position, key in enumerate(DIETS)}
    return sorted(set(keys), key=lambda key: (order.get(key, len(order)), key))


def diet_list(keys, separator: str = ", ") -> str:
    """Diets by name in the one order: `Vegetarisch, Veganistisch`."""
    return separator.join(str(DIET_LABELS.get(key, key)) for key in in_diet_order(keys))


def select_locale() -> str:
    """The language of this request: the switch, then the cookie, then the account, then nl."""
    if not has_request_context():
        return "nl"
    for candidate in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LOCALES:
            return candidate
    if current_user and current_user.is_authenticated:
        return current_user.locale
    return "nl"


def current_locale() -> str:
    return str(get_locale() or "nl")


def remember_language(response: Response) -> Response:
    """Keep the language from `?lang=` in a cookie for a year. Not from a page framed on
    another site (`security.framable`): its `?lang=` says the language each time, and a
    cookie set there would be another site's visitor's third-party cookie."""
    lang = request.args.get("lang")
    if lang in LOCALES and request.cookies.get(LANG_COOKIE) != lang and not is_framable():
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
        )
    return response


def switch_language_url(lang: str) -> str:
    """This page's URL in another language: same path, same query, `lang` replaced."""
    args = request.args.copy()
    args["lang"] = lang
    return f"{request.path}?{urlencode(list(args.items(multi=True)))}"


# The one home of how dates and times read, on every page and in every mail: the long
# form in both languages, the day before the month and a 24-hour clock, never a US short
# form such as "12/14/26, 12:00 PM".
WEEKDAY_DATE = "EEEE d MMMM y"  # maandag 14 december 2026 / Monday 14 December 2026
DATE = "d MMMM y"  # 14 december 2026 / 14 December 2026
TIME = "HH:mm"  # 12:00, 19:30


def local_zone() -> ZoneInfo:
    """The cooperative's time zone, the one setting `BABEL_DEFAULT_TIMEZONE`
    (Europe/Amsterdam) that Flask-Babel formats every date and time in. As a zoneinfo zone:
    it also builds wall-clock times (`datetime.combine(day, time(19, 30), local_zone())`),
    which Flask-Babel's pytz zone gets wrong. Needs the app."""
    return ZoneInfo(str(get_timezone()))


def weekday_date(value: datetime) -> str:
    """`maandag 14 december 2026` / `Monday 14 December 2026`, in Amsterdam time."""
    return format_date(value, WEEKDAY_DATE)


def long_date(value: datetime) -> str:
    """`14 december 2026` / `14 December 2026`, in Amsterdam time."""
    return format_date(value, DATE)


def clock_time(value: datetime) -> str:
    """`12:00` / `19:30` in both languages, in Amsterdam time."""
    return format_time(value, TIME)


def long_datetime(value: datetime) -> str:
    """`maandag 14 december 2026, 12:00` / `Monday 14 December 2026, 12:00`."""
    return f"{weekday_date(value)}, {clock_time(value)}"


def measure(value: float | None) -> str:
    """A measured number as people write it: `1.250,5` in Dutch, `1,250.5` in English,
    without trailing zeros (`70`, not `70.0`); empty for None."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.##")


def in_words(labels: dict) -> Callable[[str], str]:
    """A template filter: a stored value in the reader's language, by `labels` (the value
    itself when `labels` has no word for it)."""
    return lambda key: str(labels.get(key, key))


def init_app(app: Flask) -> None:
    """Register the language cookie and the formatting filters."""
    app.after_request(remember_language)
    app.jinja_env.filters["datetime"] = long_datetime
    app.jinja_env.filters["date"] = long_date
    app.jinja_env.filters["time"] = clock_time
    app.jinja_env.filters["weekday_date"] = weekday_date
    app.jinja_env.filters["diet"] = in_words(DIET_LABELS)
    app.jinja_env.filters["diets"] = diet_list
    app.jinja_env.filters["measure"] = measure
    app.jinja_env.filters["collaboration_kind"] = in_words(COLLABORATION_KIND_LABELS)
    app.jinja_env.filters["collaboration_status"] = in_words(COLLABORATION_STATUS_LABELS)
    app.jinja_env.filters["organisation_kind"] = in_words(ORGANISATION_KIND_LABELS)
    app.jinja_env.filters["payment_way"] = in_words(PAYMENT_WAY_LABELS)
    app.jinja_env.filters["payment_status"] = in_words(PAYMENT_STATUS_LABELS)
    app.jinja_env.filters["in_diet_order"] = in_diet_order
    app.jinja_env.globals["switch_language_url"] = switch_language_url
    app.jinja_env.globals["current_locale"] = current_locale
    app.jinja_env.globals["now"] = utcnow
