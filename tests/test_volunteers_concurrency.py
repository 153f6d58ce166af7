"""Many people taking the last slots of a task at the same moment, each thread on its own
database connection (PostgreSQL with TEST_DATABASE_URL, else SQLite): the event row is
locked as for seats, so a task never holds more people than its slots."""

import threading
from datetime import timedelta

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import OutboxMessage, Task, TaskSignup
from cooperative.refusals import Refused
from cooperative.services import volunteer_mail, volunteers
from tests.factories import make_event
from tests.volunteer_fixtures import make_task


def sign_up_at_once(app, task_id: int, count: int, attempt) -> list[str]:
    """Start `count` calls of `attempt(task, index)` together; return each outcome."""
    barrier = threading.Barrier(count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        barrier.wait(timeout=30)
        with app.app_context():
            task = db.session.get(Task, task_id)
            try:
                attempt(task, index)
                db.session.commit()
                outcome = "signed up"
            except Refused as refusal:
                db.session.rollback()
                outcome = str(refusal.field)
            except volunteers.AlreadySignedUp:
                db.session.rollback()
                outcome = "already"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == count, "a sign-up got lost"
    return outcomes


def active(task_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(TaskSignup.id)).where(
            TaskSignup.task_id == task_id, TaskSignup.cancelled_at.is_(None)
        )
    )


def test_twenty_people_for_three_slots(app):
    with app.app_context():
        task_id = make_task(make_event(), slots=3).id

    outcomes = sign_up_at_once(
        app,
        task_id,
        20,
        lambda task, i: volunteers.sign_up(task, name=f"Helper {i}", email=f"h{i}@example.org"),
    )

    assert outcomes.count("signed up") == 3
    assert outcomes.count("task") == 17, "the others are told the task is full"
    with app.app_context():
        assert active(task_id) == 3
        assert db.session.get(Task, task_id).slots_taken == 3


def test_one_address_pressing_ten_times_gets_one_slot(app):
    with app.app_context():
        task_id = make_task(make_event(), slots=5).id

    outcomes = sign_up_at_once(
        app,
        task_id,
        10,
        lambda task, i: volunteers.sign_up(task, name="Gerda", email="gerda@example.org"),
    )

    assert outcomes.count("signed up") == 1
    assert outcomes.count("already") == 9
    with app.app_context():
        assert active(task_id) == 1


def test_shrinking_a_task_while_people_sign_up(app):
    """The organiser sets 2 slots while 8 people try for the 5 there were: never more
    people than slots, whichever came first."""
    with app.app_context():
        task_id = make_task(make_event(), slots=5).id

    def attempt(task, index):
        if index == 0:
            volunteers.save_task(task.event, volunteers.TaskPlan(name="Koken", slots=2), task)
        else:
            volunteers.sign_up(task, name=f"Helper {index}", email=f"h{index}@example.org")

    outcomes = sign_up_at_once(app, task_id, 9, attempt)

    with app.app_context():
        task = db.session.get(Task, task_id)
        assert active(task_id) <= task.slots
        assert outcomes.count("signed up") == active(task_id) + (task.slots == 2)


def test_two_workers_remind_each_volunteer_once(app):
    with app.app_context():
        task = make_task(make_event(), slots=5)
        for i in range(5):
            volunteers.sign_up(task, name=f"Helper {i}", email=f"h{i}@example.org")
        db.session.commit()
        task_id, due = task.id, task.begins - timedelta(hours=1)
    sent = []

    def worker() -> None:
        with app.app_context():
            sent.append(volunteer_mail.volunteer_reminders(due))
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(sent) in ([0, 5], [1, 4], [2, 3]) and sum(sent) == 5
    with app.app_context():
        reminders = db.session.scalar(
            sa.select(sa.func.count(OutboxMessage.id)).where(
                OutboxMessage.subject.like("Herinnering%")
            )
        )
        assert reminders == 5
        assert active(task_id) == 5
