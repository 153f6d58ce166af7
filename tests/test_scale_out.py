"""Several app processes on one database, as on several hosts.

Two gunicorn instances on two ports share the test database (PostgreSQL when
TEST_DATABASE_URL is set, else the SQLite file): people registering through both at
once never get more seats than there are. Two `coop send-mail` workers started as two
processes on one outbox never send a message twice.
"""

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Event, OutboxMessage, OutboxStatus, Registration, utcnow
from tests.conftest import free_port
from tests.factories import make_event

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _environment(database_url: str, **extra) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "scale-out-test-secret",
        "COOP_ENV": "development",
        "MAIL_SERVER": "",
        "BASE_URL": "http://localhost",
        **extra,
    }


def _request(port: int, method: str, path: str, headers=None, body: bytes | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Set-Cookie") or "", response.read()
    finally:
        connection.close()


def _wait_for(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn stopped at start"
        try:
            if _request(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer within a minute")


@pytest.fixture
def two_instances(app, database_url):
    """Two gunicorn instances (two workers each) on two ports, on the test database."""
    processes, ports = [], []
    try:
        for _ in range(2):
            port = free_port()
            process = subprocess.Popen(  # noqa: S603 - our own command line
                [
                    str(BIN / "gunicorn"),
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "2",
                    "--log-level",
                    "warning",
                    "wsgi:app",
                ],
                cwd=PROJECT_ROOT,
                env=_environment(database_url),
                start_new_session=True,
            )
            processes.append(process)
            ports.append(port)
        for port, process in zip(ports, processes, strict=True):
            _wait_for(port, process)
        yield ports
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _register(port: int, slug: str, index: int, barrier: threading.Barrier) -> int:
    """A resident loads the event page, fills in the form and sends it (no JavaScript)."""
    status, cookie, page = _request(port, "GET", f"/events/{slug}")
    assert status == 200
    token = CSRF_RE.search(page.decode()).group(1)
    body = urlencode(
        {
            "csrf_token": token,
            "contact_name": f"Bewoner {index}",
            "contact_email": f"bewoner{index}@example.org",
            "people-0-name": f"Bewoner {index}",
            "people-0-meal": "",
            "submit": "register",
        }
    ).encode()
    barrier.wait(timeout=60)
    status, _, _ = _request(
        port,
        "POST",
        f"/events/{slug}/register",
        {
            "Cookie": cookie.split(";", 1)[0],
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body,
    )
    return status


def test_registrations_through_two_instances_never_oversell(app, two_instances):
    with app.app_context():
        event = make_event(slug="volle-avond", capacity=10)
        event_id = event.id

    people = 30
    barrier = threading.Barrier(people)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        status = _register(two_instances[index % 2], "volle-avond", index, barrier)
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)

    assert len(statuses) == people, "an answer got lost"
    assert statuses.count(303) == 10, "ten people got a seat"
    assert statuses.count(422) == 20, "the others were told the event is full"
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.seats_taken == 10
        stored = db.session.scalar(
            sa.select(sa.func.count(Registration.id)).where(Registration.event_id == event_id)
        )
        assert stored == 10


def test_two_mail_workers_never_send_a_message_twice(app, database_url, smtp_server):
    count = 40
    with app.app_context():
        for index in range(count):
            db.session.add(
                OutboxMessage(
                    to_address=f"bewoner{index}@example.org",
                    subject=f"Bericht {index}",
                    body_text=f"Hallo bewoner {index}.",
                    attachments=[],
                    status=OutboxStatus.PENDING,
                    attempts=0,
                    next_attempt_at=utcnow(),
                )
            )
        db.session.commit()

    environment = _environment(
        database_url,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(app.config["MAIL_PORT"]),
    )
    workers = [
        subprocess.Popen(  # noqa: S603 - our own command line
            [str(BIN / "flask"), "--app", "cooperative", "coop", "send-mail"],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), outputs

    received = [message["To"] for message in smtp_server.messages]
    assert sorted(received) == sorted(f"bewoner{i}@example.org" for i in range(count))
    assert len(set(received)) == count, "no one got the same message twice"
    with app.app_context():
        statuses = db.session.scalars(sa.select(OutboxMessage.status)).all()
        assert statuses == [OutboxStatus.SENT] * count
