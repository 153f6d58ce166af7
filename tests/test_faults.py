"""Faults from outside: the mail server away, the database lost mid-request, Stripe silent.

Each fault is real at its layer: nothing listens on the SMTP port, the database
connection dies under a statement (on PostgreSQL the server kills the backend), Stripe's
API does not answer in time. Together with test_commands.py (one e-mail, retries, giving
up) and test_payments.py (a checkout timing out, then a retry).
"""

import re
import threading
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from werkzeug.serving import make_server

from cooperative.errors import COMMITTED
from cooperative.extensions import db
from cooperative.models import (
    Attendee,
    Domain,
    OutboxMessage,
    PaymentMode,
    Registration,
    RegistrationStatus,
    utcnow,
)
from tests.conftest import CSRF_RE, Inbox, csrf_token, free_port, post_form
from tests.factories import make_collective, make_event, make_organiser, make_registration

REGISTER = "/events/buurtdiner/register"


def text(response) -> str:
    """The page's text with its white space squeezed (a test client's or `requests`')."""
    body = response.text if isinstance(response, requests.Response) else response.get_data(True)
    return re.sub(r"\s+", " ", body)


def make_outbox_due(app) -> None:
    """Every waiting e-mail is due now, as if the worker's wait before a retry had passed."""
    with app.app_context():
        db.session.execute(
            sa.update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()


def party(name: str, email: str, **fields) -> dict:
    return {
        "contact_name": name,
        "contact_email": email,
        "people-0-name": name,
        "people-0-meal": "",
        "submit": "register",
        **fields,
    }


# --- The mail server down, then back ------------------------------------------------------


def test_mail_server_down_then_back_delivers_every_confirmation_once(
    app, client, runner, monkeypatch
):
    """Eight residents register while the mail server is down: nothing is lost, and once
    it is back each gets their confirmation exactly once, however often the worker runs."""
    with app.app_context():
        make_event(capacity=20)
    addresses = [f"resident{i}@example.org" for i in range(8)]
    for number, address in enumerate(addresses):
        assert post_form(client, REGISTER, party(f"Resident {number}", address)).status_code == 303

    port = free_port()  # nothing listens here yet
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    result = runner.invoke(args=["coop", "send-mail"])
    assert "Sent 0, failed 8." in result.output
    with app.app_context():
        waiting = db.session.scalars(sa.select(OutboxMessage)).all()
        assert sorted(m.to_address for m in waiting) == sorted(addresses)
        assert {(m.status, m.attempts) for m in waiting} == {("pending", 1)}
        assert all("ConnectionRefusedError" in m.last_error for m in waiting)

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        # Not due yet: the worker waits before trying again.
        assert "Sent 0, failed 0." in runner.invoke(args=["coop", "send-mail"]).output
        make_outbox_due(app)
        assert "Sent 8, failed 0." in runner.invoke(args=["coop", "send-mail"]).output
        assert "Sent 0, failed 0." in runner.invoke(args=["coop", "send-mail"]).output
    finally:
        controller.stop()

    for address in addresses:
        assert len(inbox.to(address)) == 1, address
    assert len(inbox.messages) == 8
    with app.app_context():
        assert {(m.status, m.attempts) for m in db.session.scalars(sa.select(OutboxMessage))} == {
            ("sent", 2)
        }


class FlakyInbox(Inbox):
    """A mail server that answers "try again later" (451) to every third message once."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0
        self.turned_away: set[str] = set()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.seen += 1
        to = envelope.rcpt_tos[0]
        if self.seen % 3 == 0 and to not in self.turned_away:
            self.turned_away.add(to)
            return "451 Local error in processing, try again later"
        return await super().handle_DATA(server, session, envelope)


def test_a_mail_server_failing_in_the_middle_of_a_batch_loses_nothing(
    app, client, runner, monkeypatch
):
    """The server turns some messages away in the middle of the batch: the others are
    sent, the turned-away ones later, each exactly once."""
    with app.app_context():
        make_event(capacity=20)
    addresses = [f"resident{i}@example.org" for i in range(6)]
    for number, address in enumerate(addresses):
        post_form(client, REGISTER, party(f"Resident {number}", address))

    inbox = FlakyInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", controller.port)
    try:
        assert "Sent 4, failed 2." in runner.invoke(args=["coop", "send-mail"]).output
        make_outbox_due(app)
        assert "Sent 2, failed 0." in runner.invoke(args=["coop", "send-mail"]).output
    finally:
        controller.stop()

    assert len(inbox.turned_away) == 2
    assert sorted(m["To"] for m in inbox.messages) == sorted(addresses)
    with app.app_context():
        assert {m.status for m in db.session.scalars(sa.select(OutboxMessage))} == {"sent"}


# --- The database lost in the middle of a request -----------------------------------------


class ConnectionLoss:
    """Lose the database connection just before the first statement matching `pattern`.

    On PostgreSQL the server itself ends the connection (`pg_terminate_backend`), so the
    driver meets a dead socket; on SQLite, which has no server, the driver raises its own
    OperationalError ("disk I/O error"). Either way SQLAlchemy sees a real DBAPI error.
    """

    def __init__(self, engine, pattern: str, lasting: bool = False) -> None:
        self.engine = engine
        self.pattern = re.compile(pattern, re.IGNORECASE)
        self.lasting = lasting  # the database stays away: every later statement fails too
        self.fired = 0

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if self.fired and self.lasting:
            raise conn.dialect.loaded_dbapi.OperationalError("the database is gone")
        if self.fired or not self.pattern.search(statement):
            return
        self.fired += 1
        if conn.dialect.name == "postgresql":
            pid = conn.connection.dbapi_connection.info.backend_pid
            killer = sa.create_engine(self.engine.url, poolclass=sa.pool.NullPool)
            with killer.connect() as other:
                other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            killer.dispose()
        else:
            raise conn.dialect.loaded_dbapi.OperationalError("disk I/O error")

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._before)
        return self

    def __exit__(self, *exc_info):
        sa.event.remove(self.engine, "before_cursor_execute", self._before)


@pytest.fixture
def engine(app):
    with app.app_context():
        return db.engine


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_losing_the_database_mid_registration_says_so_and_writes_nothing(app, client, engine, lang):
    """The connection dies after the registration row is written and before its people
    are: the visitor gets a 503 page in their language, and nothing is half-saved."""
    with app.app_context():
        make_event(capacity=5)
    token = csrf_token(client, f"/events/buurtdiner?lang={lang}")
    data = {"csrf_token": token, **party("Ada", "ada@example.org")}

    with ConnectionLoss(engine, r"^INSERT INTO attendees") as loss:
        response = client.post(REGISTER, data=data)
    assert loss.fired == 1

    assert response.status_code == 503
    # About a minute: the rate limiter's own Retry-After (its window's rest) may stand.
    assert 55 <= int(response.headers["Retry-After"]) <= 60
    page = text(response)
    assert f'<html lang="{lang}"' in page
    if lang == "en":
        assert "We cannot reach our database" in page
        assert "Nothing you sent has been saved. Please try again in a minute." in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(Attendee.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0

    # A minute later the same form goes through, once.
    retry = client.post(REGISTER, data=data)
    assert retry.status_code == 303 and retry.headers["Location"].startswith("/r/")
    with app.app_context():
        [saved] = db.session.scalars(sa.select(Registration)).all()
        assert saved.status == RegistrationStatus.CONFIRMED
        assert [a.name for a in saved.attendees] == ["Ada"]


def test_losing_the_database_on_the_first_query_is_a_503_too(app, client, engine):
    """Even reading the event page fails softly when the database is gone."""
    with app.app_context():
        make_event(capacity=5)
    with ConnectionLoss(engine, r"FROM events"):
        response = client.get("/events/buurtdiner?lang=en")
    assert response.status_code == 503
    assert "We cannot reach our database" in text(response)
    assert client.get("/events/buurtdiner?lang=en").status_code == 200


def test_an_organiser_checking_in_while_the_database_is_away_gets_the_503_page(
    app, client, engine, auth
):
    """The database goes away for good during a check-in: even the page that cannot load
    who is logged in says what happened, and nobody is checked in."""
    with app.app_context():
        host = make_collective("zonnedak", "Zonnedak")
        make_organiser(host, email="organiser@example.org")
        event = make_event(capacity=5, collective_id=host.id)
        ada = make_registration(event, ["Ada"]).attendees[0]
        url = f"/manage/events/{event.id}/attendees/{ada.id}/check-in"
        ada_id = ada.id
    auth.login("organiser@example.org")
    token = csrf_token(client, f"/manage/events/{event.id}/attendees?lang=en")

    with ConnectionLoss(engine, r"^UPDATE attendees", lasting=True):
        response = client.post(url, data={"csrf_token": token})

    assert response.status_code == 503
    assert "We cannot reach our database" in text(response)
    with app.app_context():
        assert db.session.get(Attendee, ada_id).checked_in_at is None


# --- The database lost as a request ends --------------------------------------------------


class LostAtRollback:
    """Lose the database connection just as the first ROLLBACK is sent: the rollback
    that ends a request which read (or failed) without committing.

    On PostgreSQL the server ends the connection (`pg_terminate_backend`); on SQLite the
    driver's connection is closed under SQLAlchemy. Either way the driver's own rollback
    then fails, as it does when a connection dies between a page's last query and the end
    of its request.
    """

    def __init__(self, engine) -> None:
        self.engine = engine
        self.fired = 0

    def _rollback(self, conn) -> None:
        if self.fired:
            return
        self.fired += 1
        if conn.dialect.name == "postgresql":
            pid = conn.connection.dbapi_connection.info.backend_pid
            killer = sa.create_engine(self.engine.url, poolclass=sa.pool.NullPool)
            with killer.connect() as other:
                other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            killer.dispose()
        else:
            conn.connection.dbapi_connection.close()

    def __enter__(self):
        sa.event.listen(self.engine, "rollback", self._rollback)
        return self

    def __exit__(self, *exc_info):
        sa.event.remove(self.engine, "rollback", self._rollback)


@pytest.fixture
def live_server(app):
    """The app behind a real WSGI server in a thread, as gunicorn serves it: an error
    that escapes Flask becomes the server's bare "Internal Server Error" there."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_losing_the_database_as_a_page_ends_answers_the_503_page(app, engine, live_server):
    """The event page is read and rendered, then the connection dies before the
    request's rollback: the visitor gets the site's 503 page, not the server's bare 500,
    and the next visitor gets the page."""
    with app.app_context():
        make_event(capacity=5)

    with LostAtRollback(engine) as loss:
        response = requests.get(f"{live_server}/events/buurtdiner?lang=en", timeout=10)
    assert loss.fired == 1

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert "Content-Security-Policy" in response.headers
    page = text(response)
    assert '<html lang="en"' in page
    assert "We cannot reach our database" in page
    assert "Nothing you sent has been saved. Please try again in a minute." in page
    again = requests.get(f"{live_server}/events/buurtdiner?lang=en", timeout=10)
    assert again.status_code == 200 and "Buurtdiner" in again.text


def test_losing_the_database_as_a_refused_form_ends_saves_nothing(app, engine, live_server):
    """A registration refused by the form (no name) reads the event to show the form
    again; the connection dies before the rollback: the 503 page, and nothing saved."""
    with app.app_context():
        make_event(capacity=5)
    browser = requests.Session()
    token = CSRF_RE.search(browser.get(f"{live_server}/events/buurtdiner?lang=nl").text)
    data = {"csrf_token": token.group(1), **party("", "ada@example.org")}

    with LostAtRollback(engine) as loss:
        response = browser.post(f"{live_server}{REGISTER}", data=data, timeout=10)
    assert loss.fired == 1

    assert response.status_code == 503
    page = text(response)
    assert '<html lang="nl"' in page and "Internal Server Error" not in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_the_api_answers_json_when_the_database_is_lost_as_a_request_ends(app, engine, live_server):
    """The open-data API says it in JSON, readable from any site like its other answers."""
    with app.app_context():
        make_event(capacity=5)

    with LostAtRollback(engine) as loss:
        response = requests.get(f"{live_server}/api/v1/events/buurtdiner", timeout=10)
    assert loss.fired == 1

    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Retry-After"] == "60"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.json() == {"error": "service unavailable"}


def test_the_api_answers_json_when_the_database_is_lost_mid_request(app, client, engine):
    with app.app_context():
        make_event(capacity=5)
    with ConnectionLoss(engine, r"FROM events"):
        response = client.get("/api/v1/events/buurtdiner")
    assert response.status_code == 503
    assert response.json == {"error": "service unavailable"}


def test_a_session_whose_connection_is_lost_ends_quietly(app, engine):
    """The last line of defence, Flask's teardown: a rollback that fails there is logged
    and the session thrown away, never raised into the server."""
    context = app.app_context()
    context.push()
    session = db.session()
    assert session.execute(sa.select(1)).scalar() == 1

    with LostAtRollback(engine) as loss:
        context.pop()
    assert loss.fired == 1

    assert not session.in_transaction()
    with app.app_context():
        assert db.session.execute(sa.select(1)).scalar() == 1


def test_an_answer_after_a_commit_stands_when_the_database_is_lost_after_it(app, client, engine):
    """Ada registers a second time: her link is queued again (committed), then the event
    is read for the redirect and the connection dies before the rollback. What she sent
    is saved, so she is sent on as usual, not told that nothing was saved."""
    with app.app_context():
        make_event(capacity=5)
    assert post_form(client, REGISTER, party("Ada", "ada@example.org")).status_code == 303
    data = {"csrf_token": csrf_token(client), **party("Ada", "ada@example.org")}

    with LostAtRollback(engine) as loss:
        response = client.post(REGISTER, data=data)
    assert loss.fired == 1

    assert response.status_code == 303
    assert response.headers["Location"] == "/events/buurtdiner/registered"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 1
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 2


def test_a_savepoint_released_is_not_yet_saved(app):
    """Releasing a savepoint (`begin_nested`) fires `after_commit` too, but nothing is saved
    until the transaction commits: only then does a request count what it sent as saved
    (and answer as usual if the connection dies after it)."""
    with app.app_context():
        db.session.execute(sa.select(1))  # the transaction begins
        with db.session.begin_nested():
            db.session.add(Domain(slug="energie", name_nl="Energie", name_en="Energy"))
        assert COMMITTED not in db.session.info
        db.session.commit()
        assert db.session.info[COMMITTED] is True
        assert db.session.scalar(sa.select(Domain.slug)) == "energie"


# --- Stripe silent when a checkout is created ---------------------------------------------


def test_stripe_silent_holds_the_last_seat_only_until_the_hold_ends(
    app, client, runner, fake_stripe, monkeypatch
):
    """Stripe does not answer while Ada pays for the last seat. Her seat stays held, with
    a clear message and a button to try again (test_payments.py shows the retry); nobody
    else can take it meanwhile. If she never comes back, the hold ends on time and the
    seat goes to the next person."""
    with app.app_context():
        make_event(capacity=1, ticket_price_cents=300, payment_mode=PaymentMode.ONLINE)
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT_SECONDS", 0.3)
    fake_stripe.timeout_next_requests(2, 2.0)  # the SDK tries twice

    response = post_form(client, REGISTER + "?lang=en", party("Ada", "ada@example.org"))
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"] + "?lang=en"))
    assert "Online payment does not work right now." in page
    assert "Your seats are held until" in page
    assert f'action="{response.headers["Location"]}/pay"' in page and "Pay now" in page

    other = app.test_client()
    bob = post_form(other, REGISTER + "?lang=en", party("Bob", "bob@example.org"))
    assert bob.status_code == 422
    assert "There are not enough seats left for your party." in text(bob)

    with app.app_context():
        ada = db.session.scalar(sa.select(Registration))
        assert ada.status == RegistrationStatus.PENDING_PAYMENT
        ada.hold_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert "Released 1 expired holds." in runner.invoke(args=["coop", "expire-holds"]).output

    bob = post_form(other, REGISTER + "?lang=en", party("Bob", "bob@example.org"))
    assert bob.status_code == 303
    assert "/pay/cs_" in bob.headers["Location"], "Stripe answers again: Bob pays"
