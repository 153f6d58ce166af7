"""Event series for the tests: settings made as the series form makes them."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from cooperative.extensions import db
from cooperative.services import series as series_service
from cooperative.services.recurrence import WEEKLY_RHYTHM, Rhythm, make_rule

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TUESDAY, SATURDAY = 1, 5

TEMPLATE = {
    "summary": "Samen eten in de buurt.",
    "description": "Elke week koken we met en voor de buurt.",
    "venue": "Buurthuis De Meent",
    "address": "Voorbeeldstraat 4, Amsterdam",
    "audience": "Iedereen",
    "capacity": 30,
    "ticket_price_cents": 0,
    "max_party_size": 6,
    "payment_mode": "door",
    "meals": [
        {
            "name": "Diner",
            "price_cents": 500,
            "pwyc_min_cents": None,
            "pwyc_suggested_cents": None,
            "capacity": 25,
            "diets": ["vegan"],
            "signup_minutes_before": 6 * 60,
        }
    ],
}


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def settings(
    collective_id: int,
    first_date: date,
    rhythm: Rhythm | None = None,
    until: date | None = None,
    **overrides,
) -> series_service.SeriesSettings:
    """A weekly Tuesday series at 18:00-21:00 (unless told otherwise)."""
    rhythm = rhythm or Rhythm(WEEKLY_RHYTHM, TUESDAY)
    values = {
        "collective_id": collective_id,
        "title": "Buurtmaaltijd",
        "rule": make_rule(rhythm, until, AMSTERDAM),
        "first_date": first_date,
        "start_time": time(18, 0),
        "duration_minutes": 180,
        "until": until,
        "exception_dates": [],
        "horizon_weeks": 8,
        "template": {**TEMPLATE, "meals": [dict(meal) for meal in TEMPLATE["meals"]]},
    }
    values.update(overrides)
    return series_service.SeriesSettings(**values)


def make_series(collective_id: int, first_date: date, **kwargs):
    """A saved series (its first dates made against the real clock), committed."""
    series = series_service.save_series(settings(collective_id, first_date, **kwargs))
    db.session.commit()
    return series
