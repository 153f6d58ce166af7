"""A series change that takes out dates people paid for online asks Stripe once, for all
of them, before it writes or locks anything (issue 14's rule, for series): while a slow
Stripe answers, nobody waits for the series or one of its dates."""

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.locking import lock_event, lock_series
from cooperative.models import (
    Event,
    EventSeries,
    EventStatus,
    PaymentState,
    Registration,
    RegistrationStatus,
    utcnow,
)
from cooperative.services import series as series_service
from cooperative.services.recurrence import WEEKLY_RHYTHM, Rhythm, make_rule
from tests.conftest import AuthActions, deliver_webhook, post_form
from tests.factories import make_collective, make_organiser
from tests.series_fixtures import AMSTERDAM, TEMPLATE, TUESDAY, make_series
from tests.test_locking import NO_WAIT, wait_for
from tests.test_payments import session_of
from tests.test_series_http import series_data
from tests.test_stripe_outside_locks import in_background

INTENTS = "/v1/payment_intents"
WEDNESDAY = 2


@pytest.fixture
def paid_dates(app, fake_stripe):
    """A weekly series paid online; Ada paid for its first date, Cas for its second.
    Returns (series id, [first event id, second event id])."""
    today = utcnow().astimezone(AMSTERDAM).date()
    first = today + timedelta(days=7 + (TUESDAY - today.weekday()) % 7)
    with app.app_context():
        template = {**TEMPLATE, "payment_mode": "online", "ticket_price_cents": 200}
        collective = make_collective()
        make_organiser(collective, email="olga@example.org")
        series = make_series(collective.id, first, horizon_weeks=3, template=template)
        dates = db.session.scalars(
            sa.select(Event).where(Event.series_id == series.id).order_by(Event.starts_at)
        ).all()[:2]
        series_id, dated = series.id, [(e.id, e.slug, e.meal_options[0].id) for e in dates]
    for (_id, slug, dinner), (name, email) in zip(
        dated, [("Ada", "ada@example.org"), ("Cas", "cas@example.org")], strict=True
    ):
        client = app.test_client()
        data = {
            "contact_name": name,
            "contact_email": email,
            "people-0-name": name,
            "people-0-meal": str(dinner),
            "submit": "register",
        }
        fake_stripe.pay(session_of(post_form(client, f"/events/{slug}/register", data)))
        completed = fake_stripe.held_events("checkout.session.completed")[-1]
        assert deliver_webhook(client, fake_stripe, completed).status_code == 200
    with app.app_context():
        states = db.session.scalars(sa.select(Registration.payment_state)).all()
        assert states == [PaymentState.PAID, PaymentState.PAID]
    return series_id, [event_id for event_id, _slug, _dinner in dated]


def move_to_wednesdays(app, series_id: int) -> int:
    """The organiser moves the series to Wednesdays, cancelling the registered Tuesdays;
    returns how many parties were e-mailed."""
    with app.app_context():
        series = db.session.get(EventSeries, series_id)
        new = series_service.SeriesSettings.of(series)
        new.rule = make_rule(Rhythm(WEEKLY_RHYTHM, WEDNESDAY), None, AMSTERDAM)
        outcome = series_service.change_series(series, new, include_registered=True)
        db.session.commit()
        return outcome.mailed


def lock_each_quickly(app, series_id: int, event_ids: list[int]) -> float:
    """Lock the series and each date's event on a connection of our own, then let go
    (nothing is committed); returns how long it took. A lock held by the change would
    make this wait."""
    started = time.monotonic()
    with app.app_context():
        lock_series(db.session.get(EventSeries, series_id))
        for event_id in event_ids:
            lock_event(db.session.get(Event, event_id))
        db.session.rollback()
    return time.monotonic() - started


def test_dropping_paid_dates_asks_stripe_once_before_any_lock(
    app, fake_stripe, paid_dates, monkeypatch
):
    series_id, event_ids = paid_dates
    monkeypatch.setitem(app.config, "SQLITE_BUSY_TIMEOUT_SECONDS", NO_WAIT)
    fake_stripe.answer_after(4, INTENTS)
    changing, answers = in_background(lambda: move_to_wednesdays(app, series_id))
    wait_for(lambda: any(r.path.startswith(INTENTS) for r in fake_stripe.requests))

    took = lock_each_quickly(app, series_id, event_ids)

    assert took < NO_WAIT, f"waited {took:.1f} s for a lock while the series asked Stripe"
    assert changing.is_alive(), "Stripe was still answering"
    fake_stripe.release()  # Stripe answers now: the change goes on
    changing.join(timeout=30)
    assert answers["answer"] == 2
    assert sum(r.path.startswith(INTENTS) for r in fake_stripe.requests) == 1
    with app.app_context():
        for event_id in event_ids:
            assert db.session.get(Event, event_id).status == EventStatus.CANCELLED
        cancelled = db.session.scalars(
            sa.select(Registration).where(Registration.event_id.in_(event_ids))
        ).all()
        assert [(r.status, r.payment_state) for r in cancelled] == [
            (RegistrationStatus.CANCELLED, PaymentState.REFUNDED)
        ] * 2


def test_stripe_away_changes_nothing(app, fake_stripe, paid_dates):
    from cooperative.services.payments import PaymentUnavailable

    series_id, event_ids = paid_dates
    fake_stripe.stop()
    with pytest.raises(PaymentUnavailable):
        move_to_wednesdays(app, series_id)
    with app.app_context():
        db.session.rollback()
        assert [db.session.get(Event, i).status for i in event_ids] == [EventStatus.PUBLISHED] * 2
        series = db.session.get(EventSeries, series_id)
        assert "BYDAY=TU" in series.rule


def test_over_http_stripe_away_keeps_the_form_and_changes_nothing(app, fake_stripe, paid_dates):
    series_id, event_ids = paid_dates
    organiser = app.test_client()
    AuthActions(organiser).login("olga@example.org")
    with app.app_context():
        collective_id = db.session.get(EventSeries, series_id).collective_id
    data = series_data(
        collective_id,
        weekday=str(WEDNESDAY),
        horizon_weeks="3",
        payment_mode="online",
        ticket_price="2",
        venue="De Tuin",
        registered_dates="change",
    )
    fake_stripe.stop()

    response = post_form(organiser, f"/manage/series/{series_id}/edit?lang=en", data)

    assert response.status_code == 422
    assert "The online payments could not be refunded right now." in response.text
    assert 'value="De Tuin"' in response.text
    with app.app_context():
        assert [db.session.get(Event, i).status for i in event_ids] == [EventStatus.PUBLISHED] * 2
        assert "BYDAY=TU" in db.session.get(EventSeries, series_id).rule

    cancel = f"/manage/series/{series_id}/dates/{_day(app, event_ids[0])}/cancel?lang=en"
    response = post_form(organiser, cancel)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/manage/series/{series_id}"
    assert "so the date is not cancelled yet" in organiser.get(response.headers["Location"]).text
    with app.app_context():
        assert db.session.get(Event, event_ids[0]).status == EventStatus.PUBLISHED


def _day(app, event_id: int) -> str:
    with app.app_context():
        return db.session.get(Event, event_id).occurrence_date.isoformat()
