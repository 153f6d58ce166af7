"""Several workers on one database (threads with their own sessions, and real processes,
on PostgreSQL when TEST_DATABASE_URL is set): each due run is made once; and the `coop
worker` command starting, ticking and stopping."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from cooperative import worker_jobs
from cooperative.extensions import db
from cooperative.models import WorkerHeartbeat, WorkerJob
from cooperative.services import job_runs
from cooperative.worker import Outcome, Worker, run_due
from cooperative.worker_jobs import JOBS, Job, every

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FLASK = [str(Path(sys.executable).parent / "flask"), "--app", "cooperative", "coop", "worker"]
DAILY = {"purge", "membership-reminders", "collect-dues"}


def _environment(database_url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "worker-test-secret",
        "COOP_ENV": "development",
        "MAIL_SERVER": "",
        "BASE_URL": "http://localhost",
    }


def test_two_workers_racing_for_each_due_run_make_it_once(app):
    """Two workers ask for the same due run at the same moment, 20 times over."""
    calls = []
    trial = Job("trial", every(seconds=5), lambda: calls.append(1))
    start = datetime(2026, 12, 7, 12, tzinfo=UTC)
    barrier = threading.Barrier(2)
    outcomes: dict[str, list[Outcome]] = {"host-a:1": [], "host-b:2": []}

    def work(name: str) -> None:
        for step in range(20):
            barrier.wait(timeout=30)
            now = start + timedelta(seconds=5 * step)
            outcomes[name].append(run_due(app, trial, name, now=now).outcome)

    threads = [threading.Thread(target=work, args=(name,)) for name in outcomes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(calls) == 20
    for a, b in zip(outcomes["host-a:1"], outcomes["host-b:2"], strict=True):
        assert {a, b} == {Outcome.RAN, Outcome.TAKEN}


def test_two_schedulers_run_each_due_run_once_and_a_failure_stops_nothing(app, monkeypatch):
    """Two workers with real APScheduler clocks, each in its own thread, for a few
    seconds: a job due every second is made once per second, while another fails each
    time. Which due time a run has is what its claim won (the job's row may already hold
    a later one when the run reads it: another worker claimed the next second)."""
    won: list[datetime] = []
    made: list[str] = []
    lock = threading.Lock()
    claim = job_runs.claim

    def claim_and_note(name, due, worker, now=None) -> bool:
        claimed = claim(name, due, worker, now)
        if claimed and name == "counted":
            with lock:
                won.append(due)
        return claimed

    monkeypatch.setattr(job_runs, "claim", claim_and_note)

    def counted() -> None:
        with lock:
            made.append("counted")

    def broken() -> None:
        raise RuntimeError("kapot")

    jobs = [Job("counted", every(seconds=1), counted), Job("broken", every(seconds=1), broken)]
    workers = [Worker(app, jobs, name=f"host-{n}:{n}") for n in "ab"]
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop, 4.5)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(won) == len(set(won)), "a due run was claimed twice"
    assert len(made) == len(won) >= 3, "each run claimed was made once"
    with app.app_context():
        broken_row = db.session.get(WorkerJob, "broken")
        assert broken_row.failures >= 3 and "RuntimeError: kapot" in broken_row.error
        assert db.session.get(WorkerJob, "counted").error == ""
        ticked = db.session.scalars(sa.select(WorkerHeartbeat.worker)).all()
        assert sorted(ticked) == ["host-a:a", "host-b:b"]


def test_two_worker_processes_make_each_daily_run_once(app, database_url):
    processes = [
        subprocess.Popen(  # noqa: S603 - our own command line
            [*FLASK, "--once"],
            cwd=PROJECT_ROOT,
            env=_environment(database_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        outputs.append(dict(line.split(": ", 1) for line in out.splitlines()))
    for name in DAILY:
        assert sorted(output[name] for output in outputs) == ["already run", "ran"], name
    for output in outputs:
        assert set(output) == {job.name for job in JOBS}
    with app.app_context():
        rows = {row.name: row for row in db.session.scalars(sa.select(WorkerJob))}
        assert set(rows) == {job.name for job in JOBS}
        assert all(rows[name].finished_at and rows[name].error == "" for name in DAILY)
        assert len(db.session.scalars(sa.select(WorkerHeartbeat)).all()) == 2


def test_the_worker_command_ticks_and_stops_on_sigterm(app, client, database_url):
    process = subprocess.Popen(  # noqa: S603 - our own command line
        FLASK,
        cwd=PROJECT_ROOT,
        env=_environment(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read()
            with app.app_context():
                sent = db.session.get(WorkerJob, "send-mail")
                if sent is not None and sent.finished_at is not None:
                    break
                db.session.rollback()
            time.sleep(0.2)
        else:
            raise AssertionError("the worker sent no outbox within a minute")
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.get_json()["worker"] == "ok"
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "runs: send-mail, send-stripe, expire-holds" in out
    assert out.rstrip().endswith("stopped.")


def test_run_for_starts_and_stops_the_worker(app, runner):
    before = signal.getsignal(signal.SIGTERM)
    started = time.monotonic()
    result = runner.invoke(args=["coop", "worker", "--run-for", "1.5"])
    assert result.exit_code == 0, result.output
    assert 1.5 <= time.monotonic() - started < 30
    assert "stopped." in result.output
    assert signal.getsignal(signal.SIGTERM) is before, "the handlers are given back"
    with app.app_context():
        names = set(db.session.scalars(sa.select(WorkerJob.name)))
        assert names == {job.name for job in JOBS}


def test_once_says_how_each_job_went_and_fails_when_one_failed(app, runner, monkeypatch):
    def broken() -> None:
        raise RuntimeError("kapot")

    jobs = [
        Job("send-mail", every(seconds=5), worker_jobs.send_mail),
        Job("broken", worker_jobs.daily(3, 30), broken),
    ]
    monkeypatch.setattr(worker_jobs, "JOBS", jobs)
    result = runner.invoke(args=["coop", "worker", "--once"])
    assert result.exit_code == 1
    assert "send-mail: ran\n" in result.output
    assert "broken: failed (RuntimeError: kapot)\n" in result.output
    again = runner.invoke(args=["coop", "worker", "--once"])
    assert "broken: already run\n" in again.output
