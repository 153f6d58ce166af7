"""The worker: one long-running process (`flask --app cooperative coop worker`) that runs
every job of `worker_jobs.JOBS` on its schedule, with APScheduler 3 as the clock.

APScheduler keeps the schedules (cron-like and interval triggers in Europe/Amsterdam
time) in memory and calls each job in a thread of its own, so a slow purge never holds
up the outbox. What makes several workers safe is not the scheduler but the database:
before a job runs, its due run is claimed (services/job_runs.py), and a worker that finds
it claimed by another skips it. A job that raises is logged with its traceback, recorded
on its row, and simply runs again at its next due time; the others go on.

The due time of a run is worked out from the job's trigger and the clock (the latest time
the trigger fired at or before now), not taken from the scheduler, so every worker names
the same run by the same time. At start every job runs its latest due run, unless a worker
made it already: a daily job missed while no worker ran is caught up.
"""

import enum
import logging
import threading
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from . import worker_jobs
from .extensions import db
from .models import utcnow
from .services import job_runs

log = logging.getLogger("cooperative.worker")

# How often each worker writes its heartbeat (`/healthz` wants one within 5 minutes).
HEARTBEAT_SECONDS = 30
# How far back `due_time` looks for a trigger's latest time (a yearly job still works).
MAX_LOOKBACK = timedelta(days=400)


class Outcome(enum.StrEnum):
    RAN = "ran"
    FAILED = "failed"
    TAKEN = "already run"  # by another worker, or by this one at this due time
    NOT_DUE = "not due"


@dataclass(frozen=True)
class RunResult:
    outcome: Outcome
    report: str = ""


def due_time(trigger: BaseTrigger, now: datetime) -> datetime | None:
    """The latest time at or before `now` that `trigger` fires at (in UTC), or None when
    it fired at none within MAX_LOOKBACK. Looks back 1 s, 10 s, 100 s, ... until the window
    holds a fire time, then walks forward: a few steps, however often the trigger fires."""
    lookback = timedelta(seconds=1)
    while True:
        due = trigger.get_next_fire_time(None, now - lookback)
        if due is not None and due <= now:
            break
        if lookback >= MAX_LOOKBACK:
            return None
        lookback = min(lookback * 10, MAX_LOOKBACK)
    while True:
        following = trigger.get_next_fire_time(due, due)
        if following is None or following > now or following <= due:
            return due.astimezone(UTC)
        due = following


def run_due(app: Flask, job: worker_jobs.Job, worker: str, now=None) -> RunResult:
    """Run `job`'s latest due run for `worker` unless another worker claimed it; record
    how it ended. Never raises: a failure is logged with its traceback and recorded on the
    job's row, and the job runs again at its next due time."""
    with app.app_context():
        now = now or utcnow()
        due = due_time(job.trigger, now)
        if due is None:
            return RunResult(Outcome.NOT_DUE)
        try:
            if not job_runs.claim(job.name, due, worker, now):
                return RunResult(Outcome.TAKEN)
        except SQLAlchemyError:
            db.session.rollback()
            log.exception("Job %s: could not claim its run due at %s", job.name, due)
            return RunResult(Outcome.FAILED, "the database did not answer")
        try:
            report = job.run() or ""
            db.session.commit()
        except Exception as error:  # noqa: BLE001 - any failure: log it, run again later
            db.session.rollback()
            log.exception("Job %s (due at %s) failed", job.name, due.isoformat())
            _record(job.name, due, traceback.format_exc())
            return RunResult(Outcome.FAILED, f"{type(error).__name__}: {error}")
        _record(job.name, due, "")
        if report:
            log.info("Job %s: %s", job.name, report)
        return RunResult(Outcome.RAN, report)


def _record(name: str, due: datetime, error: str) -> None:
    try:
        job_runs.finish(name, due, error)
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("Job %s: could not record how its run due at %s ended", name, due)


class Worker:
    """One worker process: its name (host:pid), its jobs, its heartbeat."""

    def __init__(self, app: Flask, jobs: list[worker_jobs.Job] | None = None, name=None):
        self.app = app
        self.jobs = worker_jobs.JOBS if jobs is None else jobs
        self.name = name or job_runs.worker_name()
        self.started_at = utcnow()

    def prepare(self) -> None:
        """Make the jobs' rows, and tick once."""
        with self.app.app_context():
            job_runs.ensure_jobs([job.name for job in self.jobs])
        self.tick()

    def tick(self) -> None:
        """Write this worker's heartbeat (never raises: a database that is away for a
        moment shows as a late tick on /healthz)."""
        with self.app.app_context():
            try:
                job_runs.heartbeat(self.name, self.started_at)
            except SQLAlchemyError:
                db.session.rollback()
                log.exception("Worker %s: could not write its heartbeat", self.name)

    def run_once(self) -> dict[str, RunResult]:
        """Run each job's latest due run that no worker made yet, one after the other."""
        self.prepare()
        return {job.name: run_due(self.app, job, self.name) for job in self.jobs}

    def scheduler(self) -> BackgroundScheduler:
        """An APScheduler scheduler with the heartbeat and every job, each started at
        once (catching up what is due) and then on its trigger."""
        scheduler = BackgroundScheduler(
            timezone=worker_jobs.ZONE,
            executors={"default": ThreadPoolExecutor(max_workers=len(self.jobs) + 1)},
            # Late or missed runs (a busy machine, a suspended process) run once, late:
            # the claim decides which due run that is.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        now = datetime.now(worker_jobs.ZONE)
        heartbeat = IntervalTrigger(seconds=HEARTBEAT_SECONDS, timezone=worker_jobs.ZONE)
        scheduler.add_job(self.tick, heartbeat, id="heartbeat")
        for job in self.jobs:
            scheduler.add_job(
                run_due,
                job.trigger,
                args=(self.app, job, self.name),
                id=job.name,
                name=job.name,
                next_run_time=now,
            )
        return scheduler

    def run(self, stop: threading.Event, run_for: float | None = None) -> None:
        """Run the jobs until `stop` is set (or `run_for` seconds went by); then wait for
        the runs under way to end."""
        self.prepare()
        scheduler = self.scheduler()
        scheduler.start()
        try:
            stop.wait(run_for)
        finally:
            scheduler.shutdown(wait=True)
