"""The recurrence rules of event series: made from what the organiser chose, expanded into
start times, and said in words ("every Tuesday", "elke tweede zaterdag van de maand").

A rule is an RFC 5545 RRULE value made and read by python-dateutil. Three shapes are
offered: weekly on a weekday, every N weeks on a weekday, and monthly on the Nth (or the
last) weekday. A series that ends has `UNTIL` in UTC (the end of its last day in the local
zone), as RFC 5545 asks when DTSTART has a time zone, so the same rule goes into the
series' calendar file unchanged.

Expansion starts from the first date at the local start time, as an aware datetime in the
local zone (Europe/Amsterdam): dateutil steps through wall-clock days, so an occurrence at
18:00 stays at 18:00 across the changes to and from summer time.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import get_day_names
from dateutil.rrule import FR, MO, MONTHLY, SA, SU, TH, TU, WE, WEEKLY, rrule, rrulestr
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..i18n import current_locale

WEEKLY_RHYTHM, MONTHLY_RHYTHM = "weekly", "monthly"
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DATEUTIL_DAYS = (MO, TU, WE, TH, FR, SA, SU)
# The weeks of the month a monthly series may fall in; -1 is the last.
WEEKS_OF_MONTH = (1, 2, 3, 4, -1)
MAX_INTERVAL_WEEKS = 12
_MONTHLY_PHRASES = {
    1: _l("every first %(weekday)s of the month"),
    2: _l("every second %(weekday)s of the month"),
    3: _l("every third %(weekday)s of the month"),
    4: _l("every fourth %(weekday)s of the month"),
    -1: _l("every last %(weekday)s of the month"),
}


@dataclass(frozen=True)
class Rhythm:
    """What the organiser chose: `weekly` every `interval` weeks on `weekday` (0 is
    Monday), or `monthly` on the `week`-th `weekday` of the month (-1: the last)."""

    frequency: str
    weekday: int
    interval: int = 1
    week: int = 1


def make_rule(rhythm: Rhythm, until: date | None, zone: ZoneInfo) -> str:
    """The RRULE value for `rhythm`, ending with the day `until` (local) when given.

    Refuses (ValueError) a shape that is not offered."""
    if not 0 <= rhythm.weekday <= 6:
        raise ValueError(f"no weekday {rhythm.weekday}")
    day = _DATEUTIL_DAYS[rhythm.weekday]
    if rhythm.frequency == WEEKLY_RHYTHM and 1 <= rhythm.interval <= MAX_INTERVAL_WEEKS:
        rule = rrule(WEEKLY, interval=rhythm.interval, byweekday=day, dtstart=datetime(2000, 1, 1))
    elif rhythm.frequency == MONTHLY_RHYTHM and rhythm.week in WEEKS_OF_MONTH:
        rule = rrule(MONTHLY, byweekday=day(rhythm.week), dtstart=datetime(2000, 1, 1))
    else:
        raise ValueError(f"no such rhythm: {rhythm}")
    value = next(line for line in str(rule).splitlines() if line.startswith("RRULE:"))[6:]
    if until is not None:
        # dateutil writes UNTIL without its `Z`; RFC 5545 wants UTC beside a zoned DTSTART.
        value += ";UNTIL=" + last_moment(until, zone).strftime("%Y%m%dT%H%M%SZ")
    return value


def last_moment(day: date, zone: ZoneInfo) -> datetime:
    """The last second of `day` in `zone`, in UTC."""
    return datetime.combine(day, time(23, 59, 59), zone).astimezone(UTC)


def rule_parts(rule: str) -> dict[str, str]:
    """`FREQ=WEEKLY;BYDAY=TU` as {"FREQ": "WEEKLY", "BYDAY": "TU"}."""
    parts = {}
    for part in rule.split(";"):
        name, _sep, value = part.partition("=")
        if name:
            parts[name.strip().upper()] = value.strip().upper()
    return parts


def rhythm_of(rule: str) -> Rhythm | None:
    """The organiser's choice a rule was made from; None for a shape that is not offered."""
    parts = rule_parts(rule)
    byday = parts.get("BYDAY", "")
    code, number = byday[-2:], byday[:-2]
    if code not in DAY_CODES or "," in byday:
        return None
    weekday = DAY_CODES.index(code)
    try:
        interval = int(parts.get("INTERVAL", "1"))
        week = int(number) if number else None
    except ValueError:
        return None
    if parts.get("FREQ") == "WEEKLY" and week is None and 1 <= interval <= MAX_INTERVAL_WEEKS:
        return Rhythm(WEEKLY_RHYTHM, weekday, interval=interval)
    if parts.get("FREQ") == "MONTHLY" and interval == 1 and week in WEEKS_OF_MONTH:
        return Rhythm(MONTHLY_RHYTHM, weekday, week=week)
    return None


def first_start(series, zone: ZoneInfo) -> datetime:
    """The rule's DTSTART: the first date at the local start time, aware in `zone`."""
    return datetime.combine(series.first_date, series.start_time, zone)


def start_times(series, after: datetime, before: datetime, zone: ZoneInfo) -> list[datetime]:
    """The start times (aware, local) the series' rule gives from `after` (inclusive) up
    to `before` (exclusive), without its exception dates. `series` is an EventSeries or
    anything with its `rule`, `first_date`, `start_time` and `exception_dates`."""
    rule = rrulestr(series.rule, dtstart=first_start(series, zone))
    skipped = set(series.exception_dates or ())
    return [
        start
        for start in rule.between(after, before, inc=True)
        if start < before and start.date().isoformat() not in skipped
    ]


def occurs_on(series, day: date, zone: ZoneInfo) -> bool:
    """Whether the rule (exceptions aside) gives an occurrence on the local date `day`."""
    start = datetime.combine(day, time(0), zone)
    rule = rrulestr(series.rule, dtstart=first_start(series, zone))
    return any(
        moment.date() == day for moment in rule.between(start, start + timedelta(days=1), inc=True)
    )


def weekday_name(weekday: int, locale: str | None = None) -> str:
    """`dinsdag` / `Tuesday` (0 is Monday)."""
    return get_day_names("wide", locale=locale or current_locale())[weekday]


def describe_rule(rule: str) -> str:
    """The rule in words, in the current language, starting with a capital: "Every
    Tuesday", "Om de 2 weken op dinsdag", "Every second Saturday of the month"; the
    empty string for a shape that is not offered."""
    rhythm = rhythm_of(rule)
    if rhythm is None:
        return ""
    weekday = weekday_name(rhythm.weekday)
    if rhythm.frequency == MONTHLY_RHYTHM:
        text = str(_MONTHLY_PHRASES[rhythm.week]) % {"weekday": weekday}
    elif rhythm.interval == 1:
        text = _("every %(weekday)s", weekday=weekday)
    else:
        text = _("every %(num)d weeks on %(weekday)s", num=rhythm.interval, weekday=weekday)
    return text[:1].upper() + text[1:]
