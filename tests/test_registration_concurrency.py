"""Many people registering at the same moment, each thread on its own database connection.

On PostgreSQL the event row is locked (`SELECT ... FOR UPDATE`); on SQLite the write lock
serialises the writers. Either way the last seats and meals go exactly once.
"""

import threading

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Attendee, Event, Registration, RegistrationStatus
from cooperative.refusals import Refused
from cooperative.services import registration as registrations
from cooperative.services.registration import PersonChoice
from tests.factories import make_event, make_registration


def register_at_once(app, event_id: int, count: int, person) -> list[tuple[str, str]]:
    """Start `count` registrations together; return each one's outcome and message."""
    barrier = threading.Barrier(count)
    outcomes: list[tuple[str, str]] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        barrier.wait(timeout=30)
        with app.app_context():
            # At most the pool's size (15) hold a connection at once; the rest queue for one.
            event = db.session.get(Event, event_id)
            choice, join_waitlist = person(index, event)
            try:
                registration = registrations.register(
                    event,
                    f"Party {index}",
                    f"party{index}@example.org",
                    [choice],
                    join_waitlist=join_waitlist,
                )
                db.session.commit()
                outcome = (str(registration.status), "")
            except Refused as refusal:
                db.session.rollback()
                outcome = ("refused", str(refusal.message))
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == count, "a registration got lost"
    return outcomes


def test_forty_people_for_ten_seats(app):
    with app.app_context():
        event = make_event(capacity=12)
        make_registration(event, people=("Eerste", "Tweede"), email="early@example.org")
        event_id = event.id

    outcomes = register_at_once(
        app, event_id, 40, lambda i, event: (PersonChoice(f"Person {i}"), i % 2 == 0)
    )

    statuses = [status for status, _message in outcomes]
    assert statuses.count(RegistrationStatus.CONFIRMED) == 10
    assert statuses.count(RegistrationStatus.WAITLISTED) + statuses.count("refused") == 30
    assert all(message for status, message in outcomes if status == "refused")
    assert statuses.count("refused") <= 20, "only those who did not want the waiting list"
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.seats_taken == 12
        rows = db.session.scalar(sa.select(sa.func.count(Registration.id)))
        assert rows == 1 + 40 - statuses.count("refused"), "every accepted party is stored"


def test_twenty_people_for_five_meals(app):
    with app.app_context():
        event = make_event(capacity=None, meals=[{"capacity": 5}])
        event_id, meal_id = event.id, event.meal_options[0].id

    outcomes = register_at_once(
        app, event_id, 20, lambda i, event: (PersonChoice(f"Eter {i}", meal_id), False)
    )

    assert [s for s, _m in outcomes].count(RegistrationStatus.CONFIRMED) == 5
    with app.app_context():
        meals = db.session.scalar(
            sa.select(sa.func.count(Attendee.id)).where(Attendee.meal_option_id == meal_id)
        )
        assert meals == 5
