"""`/healthz` and the worker: 200 while a worker ticks, 503 with the reason when its last
tick is over 5 minutes old, and when none ever ran where a worker is required."""

from datetime import timedelta

import pytest

from cooperative import config
from cooperative.extensions import db
from cooperative.models import WorkerHeartbeat, utcnow
from cooperative.services import job_runs


def tick(app, ago: timedelta, worker: str = "host-a:1") -> None:
    with app.app_context():
        now = utcnow()
        job_runs.heartbeat(worker, now - timedelta(hours=1), now=now - ago)


def test_a_fresh_site_without_a_worker_is_healthy_and_says_so(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "worker": "never ran"}


def test_without_a_worker_where_one_is_required_it_is_503(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WORKER_REQUIRED", True)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "database": "ok",
        "worker": "never ran",
        "reason": "worker: never ran",
    }


@pytest.mark.parametrize("required", [True, False])
def test_a_worker_ticking_within_5_minutes_is_healthy(client, app, monkeypatch, required):
    monkeypatch.setitem(app.config, "WORKER_REQUIRED", required)
    tick(app, timedelta(minutes=4, seconds=55))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "worker": "ok"}


@pytest.mark.parametrize("required", [True, False])
def test_a_worker_silent_for_over_5_minutes_is_503_with_its_last_tick(
    client, app, monkeypatch, required
):
    monkeypatch.setitem(app.config, "WORKER_REQUIRED", required)
    tick(app, timedelta(minutes=5, seconds=5))
    with app.app_context():
        last = db.session.get(WorkerHeartbeat, "host-a:1").ticked_at
    response = client.get("/healthz")
    assert response.status_code == 503
    since = last.isoformat(timespec="seconds")
    assert response.get_json()["reason"] == f"worker: no tick since {since}"
    assert response.get_json()["worker"] == f"no tick since {since}"


def test_the_latest_tick_of_any_worker_counts(client, app):
    tick(app, timedelta(hours=2), worker="host-a:1")
    tick(app, timedelta(seconds=10), worker="host-b:2")
    assert client.get("/healthz").status_code == 200


def test_workers_not_heard_of_for_a_week_are_forgotten(app):
    tick(app, timedelta(days=8), worker="gone:1")
    tick(app, timedelta(days=6), worker="quiet:2")
    tick(app, timedelta(0), worker="host-a:3")
    with app.app_context():
        workers = {row.worker for row in db.session.query(WorkerHeartbeat)}
    assert workers == {"quiet:2", "host-a:3"}


def test_healthz_asks_the_database_once(client, count_queries):
    client.get("/healthz")
    with count_queries as counted:
        client.get("/healthz")
    assert counted.count == 1


def test_a_worker_is_required_in_production_unless_said_otherwise(monkeypatch, tmp_path):
    monkeypatch.delenv("WORKER_REQUIRED", raising=False)
    monkeypatch.setenv("COOP_ENV", "development")
    assert config.from_environment(str(tmp_path))["WORKER_REQUIRED"] is False
    monkeypatch.setenv("COOP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-production-secret-of-its-own-0123456789")
    assert config.from_environment(str(tmp_path))["WORKER_REQUIRED"] is True
    monkeypatch.setenv("WORKER_REQUIRED", "0")
    assert config.from_environment(str(tmp_path))["WORKER_REQUIRED"] is False
