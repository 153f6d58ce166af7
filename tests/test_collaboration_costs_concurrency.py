"""Shares of a cost changed at the same moment, each thread on its own database
connection: a transfer is recorded once, and a new split never slips under a payment.
The cost's row lock (`locking.lock_cost`) serialises them on PostgreSQL, the write lock
on SQLite. Run with TEST_DATABASE_URL to test PostgreSQL."""

import threading

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Collaboration,
    CollaborationKind,
    CostShare,
    CostSplit,
    Payment,
    SharedCost,
    User,
)
from cooperative.refusals import Refused
from cooperative.services import collaboration_costs as costs
from cooperative.services.collaboration_costs import CostDetails
from tests.collaboration_factories import make_collaboration, make_organisation
from tests.factories import make_user


def at_once(app, attempts) -> list[str]:
    """Start each attempt (a function of nothing, in an app context) together; their
    outcomes: "done" or "refused"."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(attempt) -> None:
        barrier.wait(timeout=30)
        with app.app_context():
            try:
                attempt()
                db.session.commit()
                outcome = "done"
            except Refused:
                db.session.rollback()
                outcome = "refused"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(attempt,)) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == len(attempts), "an attempt got lost"
    return outcomes


def cluster(app) -> tuple[int, int, int]:
    """A cost of € 900 split equally over three; (staff id, cost id, first share id)."""
    with app.app_context():
        staff = make_user("staff@example.org", is_programme_staff=True)
        towns = [make_organisation(f"gemeente-{n}", f"Gemeente {n}") for n in range(3)]
        collaboration = make_collaboration("cluster", kind=CollaborationKind.CLUSTER, parties=towns)
        cost = costs.save_cost(collaboration, CostDetails("Acties", 90000, False, CostSplit.EQUAL))
        db.session.commit()
        return staff.id, cost.id, cost.shares[0].id


def record(staff_id: int, share_id: int, amount: int):
    def attempt():
        staff = db.session.get(User, staff_id)
        costs.record_payment(db.session.get(CostShare, share_id), amount, staff)

    return attempt


def split_again(cost_id: int, total: int):
    def attempt():
        cost = db.session.get(SharedCost, cost_id)
        collaboration = db.session.get(Collaboration, cost.collaboration_id)
        costs.save_cost(collaboration, CostDetails("Acties", total, False, CostSplit.EQUAL), cost)

    return attempt


def test_one_transfer_recorded_at_once_many_times_counts_once(app):
    staff, _cost, share = cluster(app)
    outcomes = at_once(app, [record(staff, share, 30000)] * 6)
    assert sorted(outcomes) == ["done"] + ["refused"] * 5
    with app.app_context():
        assert db.session.get(CostShare, share).paid_cents == 30000
        assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1


def test_a_new_split_and_a_transfer_at_once_never_both_land(app):
    staff, cost, share = cluster(app)
    outcomes = at_once(app, [record(staff, share, 30000), split_again(cost, 120000)] * 3)
    with app.app_context():
        shares = db.session.scalars(
            sa.select(CostShare).where(CostShare.cost_id == cost).order_by(CostShare.id)
        ).all()
        paid = [s.paid_cents for s in shares]
        total = db.session.get(SharedCost, cost).total_cents
    assert sum(s.amount_cents for s in shares) == total
    if total == 90000:
        # The transfer came first: every new split was refused.
        assert paid == [30000, 0, 0] and outcomes.count("done") == 1
    else:
        # A new split came first: the old amount is no longer what is due.
        assert paid == [0, 0, 0] and total == 120000
