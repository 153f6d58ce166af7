"""Fixtures: an app on a database built by the migrations, a client, mail, log-in.

The database is a temporary SQLite file, or a fresh PostgreSQL database created on the
server named by TEST_DATABASE_URL and dropped at the end. Every table is emptied after
each test. With pytest-xdist (`make test` runs `pytest -n 2`) each worker process has its
own session: its own SQLite file (its own tmp_path) or PostgreSQL database, and the
servers the fixtures start (SMTP, fake Stripe, the live server) take free ports.
"""

import functools
import os
import re
import secrets
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from cooperative import create_app, page_cache
from cooperative.extensions import db, limiter
from tests.fake_stripe import FakeStripe

# One round of pbkdf2: as cheap as werkzeug's hashes get, still a real salted hash.
TEST_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"
CATALOGS = Path(__file__).resolve().parents[1] / "cooperative" / "translations"


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogs():
    """Compile each translation catalog (.po) whose .mo is missing or older, as
    `make translations` does, so a plain `pytest` sees the pages in Dutch. Each test
    process (`-n 2`: each xdist worker) may do it at once: a catalog is written to a file
    of its own and renamed over the .mo, so no process reads one half written."""
    for po_path in CATALOGS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parents[1].name)
        written = mo_path.with_name(f"{mo_path.name}.{os.getpid()}")
        with written.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        written.replace(mo_path)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    server_url = os.environ.get("TEST_DATABASE_URL")
    if not server_url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
        return
    server = make_url(server_url)
    name = f"coop_test_{secrets.token_hex(4)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        # As the SQLite file below: a throwaway database need not wait for the disk at
        # each commit. Every connection to it, the worker processes' too, takes this.
        connection.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "BASE_URL": "http://localhost",
            "MAIL_SERVER": "",
            "RATELIMIT_STORAGE_URI": "memory://",
            # scrypt costs ~0.1-0.2 s a password: the tests make hundreds of accounts.
            "PASSWORD_HASH_METHOD": TEST_PASSWORD_HASH_METHOD,
        }
    )
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            # A throwaway database need not survive a power cut: no disk sync per commit.
            sa.event.listen(db.engine, "connect", _no_disk_sync)
        upgrade()
        if db.engine.dialect.name == "postgresql":
            _keep_insertion_order()
    yield app
    with app.app_context():
        db.engine.dispose()


def _keep_insertion_order() -> None:
    """No autovacuum on the test database's tables: it would free the slots of the rows
    emptied after each test (`empty_tables` deletes them), and new rows taking those slots
    come back before older ones from a query without ORDER BY, as they never do after
    TRUNCATE or on SQLite. Tests should order what they compare; this keeps a forgotten
    ORDER BY from failing one run in ten."""
    with db.engine.begin() as connection:
        for table in db.metadata.sorted_tables:
            connection.execute(
                sa.text(f'ALTER TABLE "{table.name}" SET (autovacuum_enabled = off)')
            )


def _no_disk_sync(connection, record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


@pytest.fixture(autouse=True)
def _clean_state(request):
    """Empty every table and reset the rate limits after each test that used the app."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        # The page version row stays: its number only goes up, and the kept pages go.
        tables = [t for t in reversed(db.metadata.sorted_tables) if t.name != "page_versions"]
        with _cleaning_engine(db.engine).begin() as connection:
            empty_tables(connection, tables)
        limiter.reset()
    if "page_cache" in app.extensions:
        forget_pages(app)


@functools.cache
def _cleaning_engine(engine: sa.Engine) -> sa.Engine:
    """What empties the tables after each test. On PostgreSQL a connection of its own that
    runs nothing else, so psycopg keeps its few statements prepared: on the app's
    connections a test's own statements pushed them out of psycopg's cache of 100, and
    planning the query that finds the filled tables took about 7 ms a test."""
    if engine.dialect.name != "postgresql":
        return engine
    return sa.create_engine(engine.url, pool_size=1, max_overflow=0)


def empty_tables(connection, tables: list[sa.Table]) -> None:
    """Delete the rows of `tables` (children before parents), and on PostgreSQL start their
    ids at 1 again, as TRUNCATE ... RESTART IDENTITY would. A test fills a few of the
    tables: one query finds them, and only those are emptied. (TRUNCATE of every table
    made new files for each table and index at each commit: seconds per test on a busy
    disk.)"""
    names = tuple(t.name for t in tables)
    filled = set(connection.scalars(sa.text(_filled_tables_query(names))))
    for name in names:
        if name in filled:
            connection.execute(sa.text(f'DELETE FROM "{name}"'))
    if connection.dialect.name == "postgresql":
        # Every sequence a table owns and that gave out a number, back to its start.
        connection.execute(
            sa.text(
                "SELECT setval(s.seqrelid::regclass, s.seqstart, false)"
                " FROM pg_sequence s"
                " JOIN pg_depend d ON d.classid = 'pg_class'::regclass"
                " AND d.objid = s.seqrelid AND d.deptype IN ('a', 'i')"
                " JOIN pg_class t ON t.oid = d.refobjid"
                " WHERE t.relname = ANY(:names)"
                " AND pg_sequence_last_value(s.seqrelid) IS NOT NULL"
            ),
            {"names": list(names)},
        )


@functools.cache
def _filled_tables_query(names: tuple[str, ...]) -> str:
    """SQL for the names of those of the tables that hold a row (written once: it is run
    after every test)."""
    return " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in names
    )


@pytest.fixture
def client(app):
    return app.test_client()


class QueryCounter:
    """Counts the SQL statements the app runs while it is active (`with count_queries:`)."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    def __enter__(self):
        self.statements = []
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc_info):
        sa.event.remove(self.engine, "before_cursor_execute", self._record)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """`with count_queries as counted: client.get(...)`, then `counted.count`."""
    with app.app_context():
        engine = db.engine
    return QueryCounter(engine)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# A form's token, as WTForms writes it or by hand.
CSRF_RE = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def csrf_token(client, url: str = "/collectives/suggest") -> str:
    """The CSRF token of `client`'s session, read from a page as a browser would."""
    match = CSRF_RE.search(client.get(url).get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1)


def forget_pages(app) -> None:
    """Drop the public pages kept in memory: the next request reads the page version and
    builds its page again."""
    with app.app_context():
        page_cache.store().clear()
        app.extensions["page_versions"].forget()


def post_form(client, url: str, data: dict | None = None, **kwargs):
    """POST a form with the session's CSRF token, like a browser that loaded the page."""
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)


@dataclass
class AuthActions:
    client: object

    def login(self, email="resident@example.org", password="correct horse battery"):
        return post_form(self.client, "/auth/login", {"email": email, "password": password})

    def logout(self):
        return post_form(self.client, "/auth/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Inbox:
    """What the local SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp_server(app, monkeypatch):
    """A real SMTP server on 127.0.0.1; the app's mail settings point at it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", controller.port)
    yield inbox
    controller.stop()


def body_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def link_in(message: EmailMessage, path_prefix: str) -> str:
    """The path of the first link in the e-mail that starts with `path_prefix`."""
    match = re.search(r"http://localhost(" + re.escape(path_prefix) + r"\S+)", body_of(message))
    assert match, f"no link to {path_prefix} in the e-mail"
    return match.group(1)


@pytest.fixture
def fake_stripe(app, monkeypatch):
    """A fake Stripe on 127.0.0.1 that the app's real Stripe SDK talks to.

    Webhook events wait in `fake_stripe.pending_events`: post them with the test client
    (`deliver_webhook`), or set `webhook_url` to a live server's address.
    """
    with FakeStripe(webhook_secret="whsec_test_coop", api_key="sk_test_coop") as fake:
        monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", fake.api_key)
        monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", fake.webhook_secret)
        monkeypatch.setitem(app.config, "STRIPE_API_BASE", fake.url)
        yield fake


def deliver_webhook(client, fake, event: dict, **signing):
    """POST one Stripe event to the app's webhook, signed as Stripe signs it."""
    body, headers = fake.webhook_request(event, **signing)
    return client.post(
        "/payments/stripe/webhook", data=body, headers=headers, content_type="application/json"
    )


def second_click(app, click):
    """Start `click` (the same action as the caller's, not committed yet) in a thread and
    a request of its own, in English, and check that it waits for the caller's
    transaction. Returns a function that, once the caller committed, gives its answer:
    "done", or the words it was refused with."""
    from cooperative.refusals import Refused

    answer = {}

    def run() -> None:
        with app.test_request_context("/?lang=en"):
            try:
                click()
                db.session.commit()
                answer["is"] = "done"
            except Refused as refusal:
                db.session.rollback()
                answer["is"] = str(refusal)

    clicking = threading.Thread(target=run)
    clicking.start()
    clicking.join(timeout=0.5)
    assert clicking.is_alive(), "the second click did not wait for the first"

    def outcome() -> str:
        clicking.join(timeout=10)
        return answer["is"]

    return outcome
