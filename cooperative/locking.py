"""Locking an event's row: the one way to serialise changes to who holds a seat.

`lock_event` holds the event's row until the transaction ends, so whatever counts and
then writes (seats, meals, the waiting list) sees every other such change before or
after it, never half of one. A lock is waited for at most LOCK_TIMEOUT_SECONDS: then
`LockTimeout` is raised and the visitor gets a "busy, try again" page (errors.py), not
a 500 and not a request that hangs. As in pretix (`base/services/locking.py`), a lock
is refused outside a transaction, where it would end as soon as it was taken.

Nothing slow happens while a lock is held: no call to Stripe or to a mail server. Those
are recorded in the transaction (the outbox, `services/stripe_calls.py`) and made after
the commit.
"""

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy import exc as sa_exc

from .extensions import db
from .models import (
    Collective,
    Event,
    EventSeries,
    Meeting,
    Membership,
    Organisation,
    Question,
    SharedCost,
    User,
)

# PostgreSQL's SQLSTATE for "lock_not_available" (a lock_timeout ran out).
PG_LOCK_NOT_AVAILABLE = "55P03"
# Where a pooled SQLite connection remembers the busy timeout it has.
BUSY_TIMEOUT_MS = "busy_timeout_ms"


class LockTimeout(Exception):
    """Someone else held the event for longer than LOCK_TIMEOUT_SECONDS: try again."""


class NotInTransaction(RuntimeError):
    """`lock_event` was called where no transaction would keep the lock."""


def lock_event(event: Event) -> None:
    """Hold `event`'s row until the transaction ends; others who lock it wait meanwhile.

    PostgreSQL: `SELECT ... FOR UPDATE` under `SET LOCAL lock_timeout`
    (LOCK_TIMEOUT_SECONDS). SQLite has no row locks: a write to the row takes the
    database's write lock, which every writer on the site queues for until commit, so
    it is waited for as long as any write: SQLITE_BUSY_TIMEOUT_SECONDS.

    Refuses (NotInTransaction) on a connection that commits each statement on its own
    (AUTOCOMMIT), where the lock would end as soon as it was taken; a session otherwise
    begins its transaction on first use, and the lock lasts until its commit or
    rollback. Raises LockTimeout when the lock is not had in time (the
    transaction must then be rolled back; errors.py does that for a request).
    """
    _lock_row(Event, event.id)


def _lock_row(model, row_id: int) -> None:
    """Hold one row of `model`'s table until the transaction ends (see `lock_event`)."""
    connection = db.session.connection()
    if not connection.in_transaction() or _commits_each_statement(connection):
        raise NotInTransaction("a lock outside a transaction would end at once")
    try:
        if connection.dialect.name == "sqlite":
            _lock_sqlite(connection, model, row_id)
        else:
            timeout_ms = int(current_app.config["LOCK_TIMEOUT_SECONDS"] * 1000)
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {timeout_ms}")
            connection.execute(sa.select(model.id).where(model.id == row_id).with_for_update())
    except sa_exc.OperationalError as error:
        if is_lock_timeout(error):
            raise LockTimeout(str(error.orig)) from error
        raise


def lock_meeting(meeting: Meeting) -> None:
    """Hold `meeting`'s row until the transaction ends, as `lock_event` holds an event's:
    whatever counts a meeting's proxies and then writes one waits for every other."""
    _lock_row(Meeting, meeting.id)


def lock_numbers(key: int, membership: Membership) -> None:
    """Hold the lock every giver of one kind of number waits for (member numbers, share
    numbers: `key` names the kind) until the transaction ends, so the highest number is
    read by one at a time.

    PostgreSQL: a transaction-level advisory lock on `key`. SQLite has none: a write to
    `membership`'s row takes the database's write lock before anything is read."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            sa.update(Membership).where(Membership.id == membership.id).values(id=Membership.id),
            execution_options={"synchronize_session": False},
        )
    else:
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def lock_author(user: User) -> None:
    """Hold `user`'s row until the transaction ends (see `lock_event`): what they send is
    sent one at a time, so a double click's second announcement sees the first."""
    _lock_row(User, user.id)


def lock_question(question: Question) -> None:
    """Hold `question`'s row until the transaction ends (see `lock_event`), and read it
    again: two responses, a koppel formed and the question closed wait for each other,
    so each sees what the one before it did (a double click is refused, not a 500)."""
    _lock_row(Question, question.id)
    db.session.flush()  # what the caller changed is kept, not read over
    db.session.refresh(question)


def lock_collective(collective: Collective) -> None:
    """Hold `collective`'s row until the transaction ends (see `lock_event`), and read it
    again: two staff making it an organisation at the same moment wait for each other,
    and the second is told it is one already (or that it was taken off the directory)."""
    _lock_row(Collective, collective.id)
    db.session.flush()  # what the caller changed is kept, not read over
    db.session.refresh(collective)


def lock_organisation(organisation: Organisation) -> None:
    """Hold `organisation`'s row until the transaction ends (see `lock_event`): the same
    person added twice at once is refused the second time, not a 500."""
    _lock_row(Organisation, organisation.id)


def lock_series(series: EventSeries) -> None:
    """Hold `series`' row until the transaction ends (see `lock_event`), so one worker at
    a time makes its occurrences, and a change to the series waits for it."""
    _lock_row(EventSeries, series.id)


def lock_cost(cost: SharedCost) -> None:
    """Hold a shared cost's row until the transaction ends (see `lock_event`): a new
    split, a payment arriving and a transfer recorded for its shares wait for each other,
    so a share is never paid twice nor split again under a payment."""
    _lock_row(SharedCost, cost.id)


def _commits_each_statement(connection: sa.Connection) -> bool:
    """Whether the driver's connection is in autocommit mode (asked without a query)."""
    driver = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite":
        return driver.isolation_level is None
    return bool(getattr(driver, "autocommit", False))


def _lock_sqlite(connection: sa.Connection, model, row_id: int) -> None:
    """Take SQLite's write lock by writing the row, waiting at most
    SQLITE_BUSY_TIMEOUT_SECONDS (set on each connection when it opens; again here only
    when the setting changed since)."""
    wanted_ms = busy_timeout_ms(current_app.config)
    info = connection.connection.info
    if info.get(BUSY_TIMEOUT_MS) != wanted_ms:
        _set_busy_timeout(connection.connection.dbapi_connection, info, wanted_ms)
    connection.execute(sa.update(model).where(model.id == row_id).values(id=model.id))


def busy_timeout_ms(config) -> int:
    return int(config["SQLITE_BUSY_TIMEOUT_SECONDS"] * 1000)


def _set_busy_timeout(dbapi_connection, info: dict, milliseconds: int) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {milliseconds}")
    cursor.close()
    info[BUSY_TIMEOUT_MS] = milliseconds


def init_app(app: Flask) -> None:
    """On SQLite, every connection waits up to SQLITE_BUSY_TIMEOUT_SECONDS for the
    database's write lock (every writer queues for it) instead of failing at once."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return

    def on_connect(dbapi_connection, record) -> None:
        _set_busy_timeout(dbapi_connection, record.info, busy_timeout_ms(app.config))

    with app.app_context():
        sa.event.listen(db.engine, "connect", on_connect)


def is_lock_timeout(error: BaseException) -> bool:
    """Whether a database error says a lock was waited for too long (PostgreSQL's
    lock_timeout, SQLite's "database is locked")."""
    if isinstance(error, LockTimeout):
        return True
    original = getattr(error, "orig", None)
    if getattr(original, "sqlstate", None) == PG_LOCK_NOT_AVAILABLE:
        return True
    return "database is locked" in str(original or "")
