"""Claiming each due run of a periodic job once, recording how it went, and the workers'
heartbeats: the database side of `coop worker` (cooperative/worker.py).

Several workers on several hosts may run side by side, each with the whole job list.
A run is claimed by one conditional UPDATE of the job's row that moves its `due_at` to
the run's due time, `WHERE due_at` is still older: PostgreSQL makes a second UPDATE of
the row wait for the first one's commit and then finds the condition false; SQLite lets
one writer in at a time. The claim is committed at once, before the job runs, so no lock
is held while the job talks to a mail server or to Stripe.

Why not one row per run (an INSERT that fails on a unique key)? The outbox is sent every
few seconds: that would be thousands of rows a day to prune. Why not `SELECT ... FOR
UPDATE SKIP LOCKED` held while the job runs? SQLite has no such thing, and the lock would
be held across network calls. One conditional UPDATE behaves the same on both databases.
"""

import os
import socket
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import WorkerHeartbeat, WorkerJob, utcnow

# /healthz: a worker whose latest tick is older than this is taken for dead.
STALE_AFTER = timedelta(minutes=5)
# A worker process not heard of for this long is forgotten (a restart is a new process).
FORGET_WORKERS_AFTER = timedelta(days=7)
# How much of a failed run's traceback is kept on its job's row.
ERROR_CHARS = 8000


def worker_name() -> str:
    """This process as the worker tables name it: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def ensure_jobs(names: list[str]) -> None:
    """Make the row of every job in `names` that has none yet (committed), so that claims
    only ever update. Two workers starting at once may both try: the loser's insert is
    harmless (a primary-key clash, rolled back)."""
    for name in names:
        if db.session.get(WorkerJob, name) is not None:
            continue
        try:
            db.session.add(WorkerJob(name=name))
            db.session.commit()
        except sa.exc.IntegrityError:
            db.session.rollback()
    db.session.commit()


def claim(name: str, due: datetime, worker: str, now: datetime | None = None) -> bool:
    """Claim the run of job `name` due at `due` for `worker`, and commit. True when this
    worker has it; False when another worker (or this one) claimed this due time, or a
    later one, already. Makes the job's row first if it has none."""
    now = now or utcnow()
    claimed = db.session.execute(
        sa.update(WorkerJob)
        .where(
            WorkerJob.name == name,
            sa.or_(WorkerJob.due_at.is_(None), WorkerJob.due_at < due),
        )
        .values(due_at=due, claimed_by=worker, started_at=now, finished_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if claimed.rowcount == 1:
        return True
    if db.session.get(WorkerJob, name) is None:  # a job new since this worker started
        ensure_jobs([name])
        return claim(name, due, worker, now)
    return False


def finish(name: str, due: datetime, error: str = "", now: datetime | None = None) -> None:
    """Record how the run of job `name` due at `due` ended: well (`error` empty) or with
    the traceback `error`; unless a later run was claimed meanwhile. Commits."""
    now = now or utcnow()
    values: dict = {"finished_at": now, "error": error[-ERROR_CHARS:]}
    if error:
        values["failures"] = WorkerJob.failures + 1
    else:
        values.update(failures=0, last_success_at=now)
    db.session.execute(
        sa.update(WorkerJob)
        .where(WorkerJob.name == name, WorkerJob.due_at == due)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def heartbeat(worker: str, started_at: datetime, now: datetime | None = None) -> None:
    """Record that `worker` (started at `started_at`) is alive now, and forget workers
    not heard of for FORGET_WORKERS_AFTER. Commits. Only this process writes its row."""
    now = now or utcnow()
    updated = db.session.execute(
        sa.update(WorkerHeartbeat)
        .where(WorkerHeartbeat.worker == worker)
        .values(ticked_at=now)
        .execution_options(synchronize_session=False)
    )
    if updated.rowcount == 0:
        db.session.add(WorkerHeartbeat(worker=worker, started_at=started_at, ticked_at=now))
    db.session.execute(
        sa.delete(WorkerHeartbeat)
        .where(WorkerHeartbeat.ticked_at < now - FORGET_WORKERS_AFTER)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def last_tick() -> datetime | None:
    """The latest tick of any worker, or None when no worker ever ran here."""
    return db.session.scalar(sa.select(sa.func.max(WorkerHeartbeat.ticked_at)))


def worker_health(now: datetime | None = None) -> tuple[bool | None, str]:
    """Whether a worker ticks: (True, "ok") when one did within STALE_AFTER; (False,
    "no tick since <time>") when the latest tick is older; (None, "never ran") when no
    worker ever ticked on this database."""
    now = now or utcnow()
    ticked = last_tick()
    if ticked is None:
        return None, "never ran"
    if now - ticked > STALE_AFTER:
        return False, f"no tick since {ticked.isoformat(timespec='seconds')}"
    return True, "ok"
