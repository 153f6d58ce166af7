"""Event series: rules, expansion across the clock changes, making occurrences once,
changing a series with and without registrations, and cancelling one date."""

import threading
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from sqlalchemy.exc import IntegrityError

from cooperative.extensions import db
from cooperative.models import (
    Event,
    EventStatus,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    utcnow,
)
from cooperative.refusals import Refused
from cooperative.services import series as series_service
from cooperative.services.recurrence import (
    MONTHLY_RHYTHM,
    WEEKLY_RHYTHM,
    Rhythm,
    describe_rule,
    make_rule,
    rhythm_of,
)
from tests.factories import make_collective, make_registration
from tests.series_fixtures import AMSTERDAM, SATURDAY, TUESDAY, make_series, utc


@pytest.fixture
def collective_id(app):
    with app.app_context(), app.test_request_context():
        yield make_collective().id


def _events(series):
    return db.session.scalars(
        sa.select(Event).where(Event.series_id == series.id).order_by(Event.starts_at)
    ).all()


def _local(event):
    return event.starts_at.astimezone(AMSTERDAM)


# --- Rules ------------------------------------------------------------------------------


def test_rules_are_rfc_5545_and_read_back():
    assert make_rule(Rhythm(WEEKLY_RHYTHM, TUESDAY), None, AMSTERDAM) == "FREQ=WEEKLY;BYDAY=TU"
    every_other = make_rule(Rhythm(WEEKLY_RHYTHM, TUESDAY, interval=2), None, AMSTERDAM)
    assert every_other == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"
    second_saturday = make_rule(Rhythm(MONTHLY_RHYTHM, SATURDAY, week=2), None, AMSTERDAM)
    assert second_saturday == "FREQ=MONTHLY;BYDAY=+2SA"
    # The end date's last second in Amsterdam (summer time: UTC+2), in UTC with its Z.
    ending = make_rule(Rhythm(WEEKLY_RHYTHM, TUESDAY), date(2030, 6, 30), AMSTERDAM)
    assert ending == "FREQ=WEEKLY;BYDAY=TU;UNTIL=20300630T215959Z"
    for rule in (every_other, second_saturday, ending):
        assert make_rule(rhythm_of(rule), None, AMSTERDAM) == rule.split(";UNTIL")[0]
    assert rhythm_of("FREQ=DAILY") is None
    with pytest.raises(ValueError):
        make_rule(Rhythm(WEEKLY_RHYTHM, TUESDAY, interval=13), None, AMSTERDAM)
    with pytest.raises(ValueError):
        make_rule(Rhythm(MONTHLY_RHYTHM, SATURDAY, week=5), None, AMSTERDAM)


@pytest.mark.parametrize(
    ("rule", "dutch", "english"),
    [
        ("FREQ=WEEKLY;BYDAY=TU", "Elke dinsdag", "Every Tuesday"),
        (
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
            "Om de 2 weken op donderdag",
            "Every 2 weeks on Thursday",
        ),
        (
            "FREQ=MONTHLY;BYDAY=+2SA",
            "Elke tweede zaterdag van de maand",
            "Every second Saturday of the month",
        ),
        (
            "FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20300630T215959Z",
            "Elke laatste vrijdag van de maand",
            "Every last Friday of the month",
        ),
        ("FREQ=DAILY", "", ""),
    ],
)
def test_a_rule_in_words(app, rule, dutch, english):
    with app.test_request_context():
        with force_locale("nl"):
            assert describe_rule(rule) == dutch
        with force_locale("en"):
            assert describe_rule(rule) == english


# --- Expansion ----------------------------------------------------------------------------


def test_weekly_stays_at_six_in_the_evening_across_the_spring_change(app, collective_id):
    """Summer time starts on the last Sunday of March (31 March 2030)."""
    series = make_series(collective_id, date(2030, 3, 19), horizon_weeks=3)
    made = series_service.create_occurrences(utc(2030, 3, 18, 12))
    db.session.commit()
    assert [e.occurrence_date for e in made] == [
        date(2030, 3, 19),
        date(2030, 3, 26),
        date(2030, 4, 2),
    ]
    assert {_local(e).time() for e in made} == {time(18, 0)}
    assert [e.starts_at for e in _events(series)] == [
        utc(2030, 3, 19, 17),
        utc(2030, 3, 26, 17),
        utc(2030, 4, 2, 16),
    ]
    assert all(e.ends_at - e.starts_at == timedelta(hours=3) for e in made)
    assert all(e.status == EventStatus.PUBLISHED for e in made)


def test_weekly_stays_at_six_in_the_evening_across_the_autumn_change(app, collective_id):
    """Summer time ends on the last Sunday of October (27 October 2030)."""
    series = make_series(collective_id, date(2030, 10, 15), horizon_weeks=3)
    series_service.create_occurrences(utc(2030, 10, 14, 12))
    db.session.commit()
    assert [e.starts_at for e in _events(series)] == [
        utc(2030, 10, 15, 16),
        utc(2030, 10, 22, 16),
        utc(2030, 10, 29, 17),
    ]
    assert {_local(e).hour for e in _events(series)} == {18}


def test_exceptions_end_date_and_horizon(app, collective_id):
    series = make_series(
        collective_id,
        date(2030, 1, 1),
        until=date(2030, 1, 29),
        exception_dates=["2030-01-15"],
        horizon_weeks=52,
    )
    series_service.create_occurrences(utc(2029, 12, 31))
    db.session.commit()
    # The end date is a Tuesday itself: it is the last one.
    assert [e.occurrence_date for e in _events(series)] == [
        date(2030, 1, 1),
        date(2030, 1, 8),
        date(2030, 1, 22),
        date(2030, 1, 29),
    ]


def test_the_horizon_limits_how_far_ahead(app, collective_id):
    series = make_series(collective_id, date(2030, 1, 1), horizon_weeks=1)
    made = series_service.create_occurrences(utc(2030, 1, 1, 18))  # after the first start
    assert [e.occurrence_date for e in made] == [date(2030, 1, 8)]
    made = series_service.create_occurrences(utc(2030, 1, 8, 18))
    assert [e.occurrence_date for e in made] == [date(2030, 1, 15)]
    assert len(_events(series)) == 2


def test_monthly_on_the_second_saturday_and_every_two_weeks(app, collective_id):
    monthly = make_series(
        collective_id,
        date(2030, 1, 1),
        rhythm=Rhythm(MONTHLY_RHYTHM, SATURDAY, week=2),
        horizon_weeks=17,
        title="Repair café",
    )
    fortnightly = make_series(
        collective_id,
        date(2030, 1, 1),
        rhythm=Rhythm(WEEKLY_RHYTHM, TUESDAY, interval=2),
        horizon_weeks=6,
    )
    series_service.create_occurrences(utc(2029, 12, 31))
    db.session.commit()
    assert [e.occurrence_date for e in _events(monthly)] == [
        date(2030, 1, 12),
        date(2030, 2, 9),
        date(2030, 3, 9),
        date(2030, 4, 13),
    ]
    assert [e.occurrence_date for e in _events(fortnightly)] == [
        date(2030, 1, 1),
        date(2030, 1, 15),
        date(2030, 1, 29),
    ]
    assert _events(monthly)[0].slug == "repair-cafe-2030-01-12"


def test_occurrences_copy_the_template_with_the_meal_deadline_before_each_start(app, collective_id):
    series = make_series(collective_id, date(2030, 1, 1), horizon_weeks=1)
    series_service.create_occurrences(utc(2029, 12, 31))
    event = _events(series)[0]
    assert (event.title, event.venue, event.capacity, event.collective_id) == (
        "Buurtmaaltijd",
        "Buurthuis De Meent",
        30,
        collective_id,
    )
    (meal,) = event.meal_options
    assert (meal.name, meal.price_cents, meal.capacity, meal.diets) == ("Diner", 500, 25, ["vegan"])
    assert meal.signup_deadline == event.starts_at - timedelta(hours=6)


# --- Made once ------------------------------------------------------------------------------


def test_making_occurrences_twice_makes_them_once(app, collective_id):
    series = make_series(collective_id, date(2030, 1, 1), horizon_weeks=4)
    first = series_service.create_occurrences(utc(2029, 12, 31))
    db.session.commit()
    assert len(first) == 4
    assert series_service.create_occurrences(utc(2029, 12, 31)) == []
    assert len(_events(series)) == 4


def test_the_database_refuses_a_second_event_for_a_date(app, collective_id):
    series = make_series(collective_id, date(2030, 1, 1), horizon_weeks=1)
    series_service.create_occurrences(utc(2029, 12, 31))
    db.session.commit()
    start = utc(2030, 1, 1, 17)
    db.session.add(
        Event(
            slug="copy",
            title="Copy",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            series_id=series.id,
            occurrence_date=date(2030, 1, 1),
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_date_another_worker_made_meanwhile_is_left_to_it(app, collective_id, monkeypatch):
    """A worker that read the dates before another committed its own: the constraint
    refuses its copy, only that date is rolled back, and the other dates are made."""
    series = make_series(collective_id, date(2030, 1, 1), horizon_weeks=1)
    series_service.create_occurrences(utc(2029, 12, 31))
    db.session.commit()
    series.horizon_weeks = 2
    monkeypatch.setattr(series_service, "existing_dates", lambda series: set())
    made = series_service.create_occurrences(utc(2029, 12, 31))
    db.session.commit()
    assert [e.occurrence_date for e in made] == [date(2030, 1, 8)]
    assert [e.occurrence_date for e in _events(series)] == [date(2030, 1, 1), date(2030, 1, 8)]


# --- Changing a series ----------------------------------------------------------------------


@pytest.fixture
def weekly(app, collective_id):
    """A weekly series from next week on, its first 4 dates made; Ada registered for the
    second date."""
    today = utcnow().astimezone(AMSTERDAM).date()
    first = today + timedelta(days=7 + (TUESDAY - today.weekday()) % 7)
    series = make_series(collective_id, first, horizon_weeks=4)
    events = _events(series)
    assert len(events) >= 3
    registration = make_registration(events[1], people=("Ada",), email="ada@example.org")
    return series, events, registration


def _outbox(subject_start: str) -> list[OutboxMessage]:
    return [
        m
        for m in db.session.scalars(sa.select(OutboxMessage))
        if m.subject.startswith(subject_start)
    ]


def test_a_change_reaches_dates_without_registrations_only_unless_confirmed(app, weekly):
    series, events, registration = weekly
    new = series_service.SeriesSettings.of(series)
    new.template = {**new.template, "capacity": 40, "venue": "De Tuin"}
    changes = series_service.review_change(series, new)
    assert [(c.event.id, c.action, c.parties) for c in changes if c.registered] == [
        (events[1].id, "change", 1)
    ]
    outcome = series_service.change_series(series, new)
    db.session.commit()
    assert [e.id for e in outcome.kept] == [events[1].id]
    db.session.expire_all()
    assert db.session.get(Event, events[0].id).venue == "De Tuin"
    assert db.session.get(Event, events[0].id).capacity == 40
    assert db.session.get(Event, events[1].id).venue == "Buurthuis De Meent"
    assert _outbox("Gewijzigd") == [] and outcome.mailed == 0


def test_a_confirmed_change_changes_registered_dates_and_mails_their_people(app, weekly):
    series, events, registration = weekly
    new = series_service.SeriesSettings.of(series)
    new.start_time = time(18, 30)
    outcome = series_service.change_series(series, new, include_registered=True)
    db.session.commit()
    assert outcome.mailed == 1
    db.session.expire_all()
    changed = db.session.get(Event, events[1].id)
    assert _local(changed).time() == time(18, 30)
    assert _local(changed).date() == events[1].occurrence_date
    assert db.session.get(Registration, registration.id).status == RegistrationStatus.CONFIRMED
    (mail,) = _outbox("Gewijzigd")
    assert mail.to_address == "ada@example.org"
    assert "18:30" in mail.body_text


def test_moving_the_weekday_drops_old_dates_and_makes_new_ones(app, weekly):
    series, events, registration = weekly
    new = series_service.SeriesSettings.of(series)
    new.rule = make_rule(Rhythm(WEEKLY_RHYTHM, 2), None, AMSTERDAM)  # Wednesdays
    outcome = series_service.change_series(series, new, include_registered=True)
    db.session.commit()
    assert events[1].id in [e.id for e in outcome.dropped]
    assert db.session.get(Event, events[0].id) is None  # nobody registered: gone
    assert db.session.get(Event, events[1].id).status == EventStatus.CANCELLED
    assert _outbox("Geannuleerd") and outcome.mailed == 1
    assert {e.starts_at.astimezone(AMSTERDAM).weekday() for e in outcome.made} == {2}


def test_a_change_the_event_rules_refuse_names_the_date(app, weekly):
    series, events, registration = weekly
    new = series_service.SeriesSettings.of(series)
    new.template = {**new.template, "meals": []}  # Ada chose no meal: allowed
    new.template["ticket_price_cents"] = 300  # people registered at the old price
    with pytest.raises(Refused) as refused:
        series_service.change_series(series, new, include_registered=True)
    assert refused.value.field == "ticket_price"
    db.session.rollback()


# --- Cancelling one date ----------------------------------------------------------------------


def test_cancelling_a_date_cancels_its_event_mails_and_is_not_made_again(app, weekly):
    series, events, registration = weekly
    day = events[1].occurrence_date
    cancelled = series_service.cancel_date(series, day)
    db.session.commit()
    assert [r.id for r in cancelled] == [registration.id]
    assert db.session.get(Event, events[1].id).status == EventStatus.CANCELLED
    assert day.isoformat() in series.exception_dates
    assert _outbox("Geannuleerd")[0].to_address == "ada@example.org"
    assert series_service.create_occurrences() == []
    with pytest.raises(Refused):
        series_service.cancel_date(series, day)
    db.session.rollback()


def test_cancelling_a_date_not_made_yet_only_adds_the_exception(app, weekly):
    series, events, registration = weekly
    later = events[-1].occurrence_date + timedelta(weeks=2)
    assert series_service.cancel_date(series, later) == []
    series.horizon_weeks = 12
    series_service.create_occurrences()
    db.session.commit()
    assert later not in {e.occurrence_date for e in _events(series)}


def test_cancelling_refuses_other_days_and_the_past(app, weekly):
    series, events, registration = weekly
    with pytest.raises(Refused):
        series_service.cancel_date(series, events[0].occurrence_date + timedelta(days=1))
    with pytest.raises(Refused):
        series_service.cancel_date(series, events[0].occurrence_date, now=events[0].starts_at)
    db.session.rollback()


def test_other_dates_of_an_event(app, weekly):
    series, events, registration = weekly
    assert [e.id for e in series_service.other_dates(events[0])] == [e.id for e in events[1:]]
    assert series_service.other_dates(Event(series_id=None)) == []


def test_two_workers_at_once_make_each_date_once(app, collective_id):
    """Two workers, each on its own connection, run the job at the same moment."""
    series = make_series(collective_id, date(2030, 1, 1), horizon_weeks=6)
    series_id = series.id
    db.session.commit()
    barrier = threading.Barrier(2)
    made, errors = [], []

    def worker() -> None:
        with app.app_context(), app.test_request_context():
            barrier.wait(timeout=30)
            try:
                made.append(len(series_service.create_occurrences(utc(2029, 12, 31))))
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(made) == [0, 6]
    dates = db.session.scalars(
        sa.select(Event.occurrence_date).where(Event.series_id == series_id)
    ).all()
    assert len(dates) == len(set(dates)) == 6
