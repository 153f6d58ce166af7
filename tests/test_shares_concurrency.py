"""Many purchases at the same moment, each thread on its own database connection: no
share number is given twice, and one member's purchases together never pass the class's
maximum. On PostgreSQL the register's advisory lock serialises them; on SQLite the write
lock does. Run with TEST_DATABASE_URL to test PostgreSQL."""

import threading

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Membership, Share, ShareClass
from cooperative.refusals import Refused
from cooperative.services import shares
from tests.share_factories import make_share_class, membership_of


def buy_at_once(app, purchases: list[tuple[int, int, int]]) -> list[str]:
    """Start each (membership id, class id, quantity) purchase together; their outcomes."""
    barrier = threading.Barrier(len(purchases))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(membership_id: int, class_id: int, quantity: int) -> None:
        barrier.wait(timeout=30)
        with app.app_context():
            try:
                shares.buy(
                    db.session.get(Membership, membership_id),
                    db.session.get(ShareClass, class_id),
                    quantity,
                )
                db.session.commit()
                outcome = "bought"
            except Refused:
                db.session.rollback()
                outcome = "refused"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=purchase) for purchase in purchases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == len(purchases), "a purchase got lost"
    return outcomes


def test_concurrent_purchases_never_give_one_number_twice(app):
    with app.app_context():
        extra = make_share_class(max_per_member=None)
        members = [membership_of(f"member{i}@example.org").id for i in range(8)]
        class_id = extra.id
    outcomes = buy_at_once(app, [(members[i % 8], class_id, 1 + i % 3) for i in range(24)])
    assert outcomes == ["bought"] * 24
    with app.app_context():
        numbers = list(db.session.scalars(sa.select(Share.number).order_by(Share.number)))
    expected = sum(1 + i % 3 for i in range(24))
    assert numbers == list(range(1, expected + 1))


def test_concurrent_purchases_of_one_member_stay_within_the_maximum(app):
    with app.app_context():
        capped = make_share_class(max_per_member=5)
        member = membership_of().id
        class_id = capped.id
    outcomes = buy_at_once(app, [(member, class_id, 2)] * 10)
    assert outcomes.count("bought") == 2
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Share.id))) == 4
