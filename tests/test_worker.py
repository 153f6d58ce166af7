"""The worker's job list and schedules, claiming each due run once, and a failing job."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from apscheduler.triggers.interval import IntervalTrigger

from cooperative import worker_jobs
from cooperative.extensions import db
from cooperative.models import Domain, OutboxMessage, OutboxStatus, WorkerJob, utcnow
from cooperative.services import job_runs
from cooperative.services.mail import queue_mail
from cooperative.worker import Outcome, Worker, due_time, run_due
from cooperative.worker_jobs import JOBS, Job, daily, every
from tests.factories import make_user


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def job(name: str) -> Job:
    return next(job for job in JOBS if job.name == name)


def test_the_job_list_has_every_periodic_job_once_with_its_schedule():
    assert [job.name for job in JOBS] == [
        "send-mail",
        "send-stripe",
        "expire-holds",
        "event-reminders",
        "purge",
        "series-dates",
        "membership-reminders",
        "collect-dues",
    ]
    assert all(callable(job.run) for job in JOBS)
    # A winter afternoon (CET, UTC+1).
    now = utc(2026, 12, 7, 12, 0, 7)
    assert due_time(job("send-mail").trigger, now) == utc(2026, 12, 7, 12, 0, 5)
    assert due_time(job("send-stripe").trigger, now) == utc(2026, 12, 7, 12, 0)
    assert due_time(job("expire-holds").trigger, now) == utc(2026, 12, 7, 12, 0)
    assert due_time(job("event-reminders").trigger, now) == utc(2026, 12, 7, 12, 0)
    assert due_time(job("purge").trigger, now) == utc(2026, 12, 7, 2, 30)  # 03:30 there
    assert due_time(job("series-dates").trigger, now) == utc(2026, 12, 7, 3, 15)
    assert due_time(job("membership-reminders").trigger, now) == utc(2026, 12, 7, 5, 15)
    assert due_time(job("collect-dues").trigger, now) == utc(2026, 12, 7, 5, 45)


def test_every_job_has_a_name_of_its_own_that_fits_its_row():
    names = [job.name for job in JOBS]
    assert len(set(names)) == len(names)
    assert all(0 < len(name) <= 60 for name in names)


def test_daily_jobs_keep_amsterdam_time_across_the_clock_changes():
    purge = job("purge").trigger
    # 29 March 2026: 02:00 becomes 03:00; 03:30 is then 01:30 UTC.
    assert due_time(purge, utc(2026, 3, 29, 12)) == utc(2026, 3, 29, 1, 30)
    assert due_time(purge, utc(2026, 3, 29, 1, 29)) == utc(2026, 3, 28, 2, 30)
    # 25 October 2026: 03:00 becomes 02:00 again; 03:30 comes once, at 02:30 UTC.
    assert due_time(purge, utc(2026, 10, 25, 12)) == utc(2026, 10, 25, 2, 30)
    assert due_time(purge, utc(2026, 10, 25, 2, 29)) == utc(2026, 10, 24, 1, 30)
    # The frequent jobs keep their grid through the change.
    assert due_time(job("send-mail").trigger, utc(2026, 3, 29, 1, 0, 3)) == utc(2026, 3, 29, 1)
    assert due_time(job("send-mail").trigger, utc(2026, 10, 25, 1, 0, 9)) == utc(
        2026, 10, 25, 1, 0, 5
    )


def test_a_run_is_due_from_its_very_time_until_the_next():
    trigger = daily(6, 15)
    assert due_time(trigger, utc(2026, 12, 7, 5, 15)) == utc(2026, 12, 7, 5, 15)
    just_before = utc(2026, 12, 7, 5, 15) - timedelta(microseconds=1)
    assert due_time(trigger, just_before) == utc(2026, 12, 6, 5, 15)
    assert due_time(every(minutes=1), utc(2026, 12, 7, 5, 15, 59, 999999)) == utc(
        2026, 12, 7, 5, 15
    )
    not_yet = IntervalTrigger(seconds=5, start_date=utc(2030, 1, 1))
    assert due_time(not_yet, utc(2026, 12, 7)) is None


def test_each_due_run_is_claimed_once(app):
    due = utc(2026, 12, 7, 5, 15)
    with app.app_context():
        job_runs.ensure_jobs(["trial"])
        job_runs.ensure_jobs(["trial"])  # a second worker starting: still one row
        assert job_runs.claim("trial", due, "host-a:1")
        assert not job_runs.claim("trial", due, "host-b:2")
        assert not job_runs.claim("trial", due - timedelta(seconds=5), "host-b:2")
        assert job_runs.claim("trial", due + timedelta(seconds=5), "host-b:2")
        rows = db.session.scalars(sa.select(WorkerJob)).all()
        assert [(row.name, row.due_at, row.claimed_by) for row in rows] == [
            ("trial", due + timedelta(seconds=5), "host-b:2")
        ]


def test_frequent_runs_leave_one_row_per_job(app):
    calls = []
    trial = Job("trial", every(seconds=5), lambda: calls.append(1))
    start = utc(2026, 12, 7, 12)
    for step in range(50):
        now = start + timedelta(seconds=5 * step)
        assert run_due(app, trial, "host-a:1", now=now).outcome is Outcome.RAN
        assert run_due(app, trial, "host-b:2", now=now).outcome is Outcome.TAKEN
    assert len(calls) == 50
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WorkerJob)) == 1
        row = db.session.get(WorkerJob, "trial")
        assert row.due_at == start + timedelta(seconds=5 * 49)
        assert row.finished_at is not None and row.error == "" and row.failures == 0


def test_a_failing_job_is_logged_and_runs_again_at_its_next_due_time(app, caplog):
    calls = []

    def flaky() -> str:
        calls.append(len(calls))
        db.session.add(Domain(slug="half-done", name_nl="Half", name_en="Half", position=99))
        db.session.flush()
        if len(calls) == 1:
            raise RuntimeError("de server is kapot")
        return "went well"

    others = []
    jobs = [
        Job("flaky", every(seconds=5), flaky),
        Job("other", every(seconds=5), lambda: others.append(1)),
    ]
    worker = Worker(app, jobs, name="host-a:1")
    with caplog.at_level(logging.ERROR, logger="cooperative.worker"):
        results = worker.run_once()
    assert results["flaky"].outcome is Outcome.FAILED
    assert results["flaky"].report == "RuntimeError: de server is kapot"
    assert results["other"].outcome is Outcome.RAN and others == [1]
    failure = next(r for r in caplog.records if r.name == "cooperative.worker")
    assert failure.getMessage().startswith("Job flaky (due at ")
    assert failure.exc_info[0] is RuntimeError
    with app.app_context():
        row = db.session.get(WorkerJob, "flaky")
        assert "RuntimeError: de server is kapot" in row.error
        assert "Traceback (most recent call last)" in row.error
        assert row.failures == 1 and row.last_success_at is None
        # What the failed run had written is rolled back.
        assert db.session.scalar(sa.select(Domain).where(Domain.slug == "half-done")) is None

    # Not again for the same due time; at the next one, it runs and goes well.
    due = job_runs_due("flaky", app)
    assert run_due(app, jobs[0], "host-b:2", now=due).outcome is Outcome.TAKEN
    later = run_due(app, jobs[0], "host-b:2", now=due + timedelta(seconds=5))
    assert later == type(later)(Outcome.RAN, "went well")
    with app.app_context():
        row = db.session.get(WorkerJob, "flaky")
        assert row.error == "" and row.failures == 0 and row.last_success_at is not None
        assert db.session.scalar(sa.select(Domain).where(Domain.slug == "half-done"))


def job_runs_due(name: str, app) -> datetime:
    with app.app_context():
        return db.session.get(WorkerJob, name).due_at


def test_the_send_mail_job_delivers_the_outbox(app, smtp_server):
    with app.app_context():
        queue_mail(
            "ada@example.org",
            "Hallo",
            "account_exists",
            "nl",
            user=make_user(name="Ada"),
            login_url="http://localhost/auth/login",
            reset_url="http://localhost/auth/reset",
        )
        db.session.commit()
    result = run_due(app, job("send-mail"), "host-a:1")
    assert result.outcome is Outcome.RAN
    assert result.report == "sent 1 e-mails, 0 failed"
    assert [m["Subject"] for m in smtp_server.to("ada@example.org")] == ["Hallo"]


def test_the_purge_job_deletes_old_mail(app):
    with app.app_context():
        old = utcnow() - timedelta(days=40)
        db.session.add(
            OutboxMessage(
                to_address="ada@example.org",
                subject="Oud",
                body_text="...",
                status=OutboxStatus.SENT,
                created_at=old,
                sent_at=old,
            )
        )
        db.session.commit()
    result = run_due(app, job("purge"), "host-a:1")
    assert result.outcome is Outcome.RAN
    assert "1 e-mails" in result.report
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


@pytest.mark.parametrize("name", [job.name for job in JOBS])
def test_every_job_runs_on_an_empty_database(app, name):
    assert run_due(app, job(name), "host-a:1").outcome is Outcome.RAN


def test_worker_jobs_zone_is_the_sites_zone(app):
    assert str(worker_jobs.ZONE) == app.config["BABEL_DEFAULT_TIMEZONE"]
