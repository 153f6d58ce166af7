"""The real thing under load: gunicorn with 4 worker processes on the suite's database.

The test client runs one request at a time in one process. Here gunicorn serves the app
as in production (`gunicorn wsgi:app`), on PostgreSQL when TEST_DATABASE_URL is set, else
on the SQLite file, shared by the four processes. Clients are real HTTP sessions, each
with its own cookie and CSRF token, as separate browsers would be.
"""

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import requests
import sqlalchemy as sa

from cooperative.config import PROJECT_ROOT
from cooperative.extensions import db
from cooperative.models import Attendee, Event, Registration, RegistrationStatus
from tests.conftest import free_port
from tests.factories import make_collective, make_event, make_organiser, make_registration

GUNICORN = Path(sys.executable).parent / "gunicorn"
WORKERS = 4
TIMEOUT = 30  # seconds, for every single HTTP request
# A form's token, as WTForms writes it or by hand.
CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
NOT_ENOUGH_SEATS = "There are not enough seats left for your party."
VERY_HIGH = "100000 per minute"


@contextmanager
def gunicorn(database_url: str, log_path: Path):
    """Serve the app with gunicorn (4 workers) on a free port; yield its base URL.

    Settings go through the environment, as in production; the rate limits are set so
    high that the load itself is not refused. Gunicorn is stopped however the test ends.
    """
    port = free_port()
    env = {
        **os.environ,
        "COOP_ENV": "development",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "load-test-secret-key",
        "BASE_URL": f"http://127.0.0.1:{port}",
        "MAIL_SERVER": "",
        "RATELIMIT_STORAGE_URI": "memory://",
        "REGISTRATION_RATE_LIMIT": VERY_HIGH,
        "LOGIN_RATE_LIMIT": VERY_HIGH,
    }
    command = [
        str(GUNICORN),
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "wsgi:app",
    ]
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, f"gunicorn stopped:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, f"gunicorn not ready:\n{log_path.read_text()}"
            booted = log_path.read_text().count("Booting worker")
            try:
                if booted >= WORKERS and requests.get(base + "/", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


def csrf_of(page: str) -> str:
    match = CSRF_RE.search(page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def browser(base: str, url: str) -> tuple[requests.Session, str]:
    """A new browser session that opened `url` (in English); returns it and its token."""
    session = requests.Session()
    response = session.get(base + url, params={"lang": "en"}, timeout=TIMEOUT)
    assert response.status_code == 200
    return session, csrf_of(response.text)


def test_two_hundred_parties_for_fifty_seats_through_gunicorn(app, database_url, tmp_path):
    """200 registrations at once for 50 seats, across 4 worker processes.

    Requests 0..189 each use their own address; 190..199 send again the address of an
    earlier request that asked for the waiting list (a double click on another phone).
    Odd addresses ask for the waiting list (`submit=waitlist`), even ones only for a seat.
    """
    with app.app_context():
        event = make_event(capacity=50)
        event_id = event.id

    def address_of(request_number: int) -> int:
        return request_number if request_number < 190 else (request_number - 190) * 2 + 1

    def register(base: str, session: requests.Session, token: str, number: int):
        address = address_of(number)
        data = {
            "csrf_token": token,
            "contact_name": f"Party {address}",
            "contact_email": f"party{address}@example.org",
            "people-0-name": f"Person {address}",
            "people-0-meal": "",
            "submit": "waitlist" if address % 2 else "register",
        }
        response = session.post(
            base + "/events/buurtdiner/register",
            data=data,
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        return number, response.status_code, response.headers.get("Location", ""), response.text

    with gunicorn(database_url, tmp_path / "gunicorn.log") as base:
        with ThreadPoolExecutor(max_workers=50) as pool:
            browsers = list(
                pool.map(lambda _n: browser(base, "/events/buurtdiner"), range(200), timeout=60)
            )
            started = time.monotonic()
            outcomes = list(
                pool.map(
                    lambda n: register(base, *browsers[n], n),
                    range(200),
                    timeout=60,
                )
            )
        elapsed = time.monotonic() - started
    assert elapsed < 45

    registered = {n: loc for n, status, loc, _ in outcomes if status == 303 and "/r/" in loc}
    twice = [n for n, status, loc, _ in outcomes if status == 303 and loc.endswith("/registered")]
    refused = [n for n, status, _, page in outcomes if status == 422 and NOT_ENOUGH_SEATS in page]
    assert len(registered) + len(twice) + len(refused) == 200, [
        (n, status) for n, status, _, _ in outcomes
    ]
    assert len(twice) == 10, "each double click found the registration made by the other"
    assert all(address_of(n) % 2 == 0 for n in refused), "waiting-list askers are never refused"
    print(f"registered {len(registered)}, double clicks {len(twice)}, refused {len(refused)}")

    with app.app_context():
        rows = db.session.scalars(
            sa.select(Registration).where(Registration.event_id == event_id)
        ).all()
        by_token = {f"/r/{row.token}": row for row in rows}
        # None lost, none duplicated: one row per accepted request, one per address.
        assert len(rows) == len(registered) == 190 - len(refused)
        assert len({row.contact_email for row in rows}) == len(rows)
        for number, location in registered.items():
            row = by_token["/r/" + location.split("/r/", 1)[1]]
            assert row.contact_email == f"party{address_of(number)}@example.org"
        for number in refused:
            assert f"party{address_of(number)}@example.org" not in {r.contact_email for r in rows}

        statuses = [row.status for row in rows]
        assert statuses.count(RegistrationStatus.CONFIRMED) == 50
        assert statuses.count(RegistrationStatus.WAITLISTED) == len(rows) - 50
        assert db.session.get(Event, event_id).seats_taken == 50
        seated = db.session.scalar(
            sa.select(sa.func.count(Attendee.id))
            .join(Registration)
            .where(
                Registration.event_id == event_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
        )
        assert seated == 50


def test_fifty_taps_on_check_in_at_once_check_in_once(app, database_url, tmp_path):
    """One organiser's phone sends the same check-in 50 times at once (across 4 workers):
    one records it, the others answer that it was done already."""
    with app.app_context():
        host = make_collective("zonnedak", "Zonnedak")
        organiser = make_organiser(host, email="organiser@example.org")
        event = make_event(capacity=10, collective_id=host.id)
        party = make_registration(event, ["Ada"], email="ada@example.org")
        ids = (event.id, party.id, party.attendees[0].id, organiser.id)
    event_id, party_id, ada_id, organiser_id = ids
    url = f"/manage/events/{event_id}/attendees/{ada_id}/check-in"

    with gunicorn(database_url, tmp_path / "gunicorn.log") as base:
        phone, token = browser(base, "/auth/login")
        response = phone.post(
            base + "/auth/login",
            data={
                "csrf_token": token,
                "email": "organiser@example.org",
                "password": "correct horse battery",
            },
            timeout=TIMEOUT,
        )
        assert response.status_code == 200 and "Log out" in response.text
        _, token = browser_with(phone, base, f"/manage/events/{event_id}/attendees")

        def tap(_n: int):
            tab = requests.Session()
            tab.cookies.update(phone.cookies)
            response = tab.post(
                base + url,
                data={"csrf_token": token},
                headers={"HX-Request": "true", "HX-Target": f"party-{party_id}"},
                timeout=TIMEOUT,
            )
            return response.status_code, response.text

        with ThreadPoolExecutor(max_workers=50) as pool:
            answers = list(pool.map(tap, range(50), timeout=60))

    assert [status for status, _ in answers] == [200] * 50
    assert sum("Ada is checked in." in page for _, page in answers) == 1
    assert sum("Ada was checked in already." in page for _, page in answers) == 49
    with app.app_context():
        ada = db.session.get(Attendee, ada_id)
        assert ada.checked_in_at is not None
        assert ada.checked_in_by_id == organiser_id


def browser_with(session: requests.Session, base: str, url: str) -> tuple[requests.Session, str]:
    """Open `url` in an existing session (in English); returns it and its CSRF token."""
    response = session.get(base + url, params={"lang": "en"}, timeout=TIMEOUT)
    assert response.status_code == 200, response.status_code
    return session, csrf_of(response.text)
