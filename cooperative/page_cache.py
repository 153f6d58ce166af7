"""Public pages kept in memory for visitors who are not logged in, and dropped as soon as
what they show changes.

Home, the event list, an event page, the directory, a collective's page and the open-data
API are the same for every visitor who is not logged in, and take tens of milliseconds to
build. A view marked `@cached_page` is built once per process and then answered from memory:

- only for GET and HEAD by a visitor who is not logged in and has no message waiting, and
  only answers 200 that set no cookie and change nothing in the session. The key is the
  path, the query string, the language and the htmx headers the views look at;
- a kept page is used while `page_versions.version` is still the number it was built at.
  Every transaction that writes a table or column a public page may show counts that
  number up as it commits, however it writes (the engine sees every statement). A model
  declares what no public page shows where its columns are (`NOT_ON_PUBLIC_PAGES`: who
  came to an event, the outbox); a new table or column counts. The process that
  committed sees the change at once; every other process on every host reads the number
  at most PAGE_CACHE_CHECK_MS later (0: on every request). A page is also never older than
  PAGE_CACHE_SECONDS, nor kept past the moment its view says it changes by the clock
  (`keep_until`: registration opens). A change made by hand in the database shows after
  PAGE_CACHE_SECONDS too;
- a page with a form keeps a mark where the CSRF token was, filled in with each visitor's
  own token; a page without one (most) sets no cookie at all;
- a page without a token is kept compressed (br and gzip, which every browser takes) and
  answers a browser's `If-None-Match` with 304; Flask-Compress compresses the others.

PAGE_CACHE_BYTES bounds the memory each process spends (the least recently used pages go
first); 0 turns the cache off.
"""

import gzip
import hashlib
import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial, wraps

import brotli
import sqlalchemy as sa
from flask import Flask, Response, current_app, g, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from .extensions import db
from .i18n import select_locale
from .models import PageVersion, utcnow
from .models.pages import on_public_pages

HTMX_HEADERS = ("HX-Request", "HX-Target", "HX-Trigger")
# Random per process, so no text on a page (an event's description) can contain it.
TOKEN_MARK = f"csrf-token-{secrets.token_hex(16)}".encode()
DROPPED_HEADERS = frozenset({"content-length", "set-cookie", "etag"})
KEPT_ENCODINGS = ("br", "gzip")
VERSION = sa.select(PageVersion.version).where(PageVersion.id == 1)


@dataclass(frozen=True)
class Page:
    """A kept answer: the view's headers and body, with TOKEN_MARK for the CSRF token."""

    version: int
    expires_at: float
    headers: tuple[tuple[str, str], ...]
    body: bytes
    has_token: bool
    etag: str | None
    # The body compressed in KEPT_ENCODINGS (pages without a token only).
    encoded: dict[str, bytes] = field(default_factory=dict)

    def response(self) -> Response:
        """The page for this request: with the visitor's own token, or compressed the way
        the browser takes (br or gzip, which every browser does) and 304 when it has it.
        Otherwise Flask-Compress compresses it like any other answer."""
        if self.has_token:
            body = self.body.replace(TOKEN_MARK, generate_csrf().encode())
            return Response(body, status=200, headers=list(self.headers))
        encoding = request.accept_encodings.best_match(KEPT_ENCODINGS)
        body = self.body if encoding is None else self.encoded[encoding]
        response = Response(body, status=200, headers=list(self.headers))
        if encoding is None:
            response.set_etag(self.etag)
            return response
        response.headers["Content-Encoding"] = encoding
        response.vary.add("Accept-Encoding")
        response.set_etag(f"{self.etag}:{encoding}")
        if "If-None-Match" in request.headers:
            response.make_conditional(request)
        return response

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(body) for body in self.encoded.values())


def _compress(body: bytes, encoding: str) -> bytes:
    """`body` in `encoding`, at Flask-Compress's levels."""
    if encoding == "br":
        return brotli.compress(body, quality=current_app.config["COMPRESS_BR_LEVEL"])
    return gzip.compress(body, compresslevel=current_app.config["COMPRESS_LEVEL"])


class PageStore:
    """The kept pages of one process, least recently used first, within `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[tuple, Page] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple, version: int) -> Page | None:
        """The page kept under `key` if it was built at `version` and is not too old."""
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                return None
            if page.version != version or page.expires_at < time.monotonic():
                self._drop(key)
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, key: tuple, page: Page) -> None:
        """Keep `page`, dropping the least recently used ones to stay within the budget;
        a page larger than a quarter of the budget is not kept."""
        if page.size > self.max_bytes // 4:
            return
        with self._lock:
            self._drop(key)
            self._pages[key] = page
            self._bytes += page.size
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._pages)))

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._pages)

    def _drop(self, key: tuple) -> None:
        page = self._pages.pop(key, None)
        if page is not None:
            self._bytes -= page.size


def store() -> PageStore | None:
    """This app's page store, or None when the cache is off."""
    return current_app.extensions.get("page_cache")


# --- Counting changes up ---------------------------------------------------------------------
# The engine's own events see every statement, however it was sent: an ORM flush, a bulk
# statement, `session.connection().execute()` or raw SQL. What the pages show is declared on
# the models (NOT_ON_PUBLIC_PAGES, models/pages.py); everything else counts.

# Raw SQL that may write (the table is not known: it counts).
WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|MERGE|REPLACE|UPSERT|TRUNCATE|COPY|WITH)\b", re.I)
# A column an UPDATE sets: SQLAlchemy writes `SET a=?, b=(b + ?)`, with no space before the
# `=` (a comparison has one: `a.id = ?`). SQLAlchemy has no public way to ask for them.
SET_COLUMN = re.compile(r'(?:\bSET\s+|,\s*)"?(\w+)"?=')
WROTE = "public_pages_wrote"
CHANGED_SCHEMA = "public_pages_changed_schema"
COUNTED_UP = "public_pages_counted_up"
COUNT_UP = sa.update(PageVersion).values(version=PageVersion.version + 1)


def _may_change_pages(statement: str, context) -> bool:
    """Whether this statement writes a table or column that public pages may show: an
    INSERT or DELETE on a shown table, an UPDATE that sets a shown column (or sets columns
    it cannot read), and raw SQL that writes."""
    if not (context.isinsert or context.isupdate or context.isdelete):
        return bool(WRITES.match(statement))
    table = context.compiled.statement.table
    if not isinstance(table, sa.Table):  # an UPDATE of a join
        return True
    if not on_public_pages(table):
        return False
    if not context.isupdate:
        return True
    names = set(SET_COLUMN.findall(statement))
    columns = [column for column in table.columns if column.name in names]
    return not columns or any(on_public_pages(column) for column in columns)


def _note_statement(conn, cursor, statement, parameters, context, executemany) -> None:
    if context.isddl:
        conn.info[CHANGED_SCHEMA] = True
    elif WROTE not in conn.info and _may_change_pages(statement, context):
        conn.info[WROTE] = True


def _count_up(conn) -> None:
    """As a transaction commits: count the version up when it wrote something shown. Last
    in the transaction, so the row's lock is held only while committing. A transaction
    that changed the schema (a migration) is not counted: the processes start afresh."""
    wrote = conn.info.pop(WROTE, False)
    changed_schema = conn.info.pop(CHANGED_SCHEMA, False)
    if wrote and not changed_schema:
        conn.execute(COUNT_UP)
        conn.info[COUNTED_UP] = True


def _forget(conn) -> None:
    """After a rollback: nothing to count. A savepoint's rollback keeps the note (what the
    transaction wrote before it still commits). A lost connection has nothing to forget:
    its notes go with it, and asking for them would raise."""
    if conn.invalidated:
        return
    conn.info.pop(WROTE, None)
    conn.info.pop(CHANGED_SCHEMA, None)


def _returned(reader: "VersionReader | None", dbapi_connection, record) -> None:
    """A connection back in the pool, after its commit or rollback: when it counted the
    version up, this process reads it again on its next request."""
    record.info.pop(WROTE, None)
    record.info.pop(CHANGED_SCHEMA, None)
    if record.info.pop(COUNTED_UP, False) and reader is not None:
        reader.forget()


# --- Answering from memory -------------------------------------------------------------------


def _for_everyone() -> bool:
    """Whether this request gets the page every anonymous visitor gets."""
    return (
        request.method in ("GET", "HEAD")
        and current_user.is_anonymous
        and "_flashes" not in session
    )


class VersionReader:
    """Reads the version public pages are at, on one connection of its own kept open in
    autocommit (one round trip: no checkout ping, transaction or rollback), at most once
    every `interval` seconds. A commit in this process that counts the version up makes
    the next request read it again at once; another process's shows within `interval`."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._connection: sa.Connection | None = None
        self._version: int | None = None
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def current(self) -> int | None:
        """The version now (None without the row: nothing is kept then). A connection
        that broke (the database restarted) is opened again once."""
        with self._lock:
            if time.monotonic() - self._read_at < self.interval:
                return self._version
            for attempt in range(2):
                if self._connection is None:
                    self._connection = db.engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT"
                    )
                try:
                    self._version = self._connection.execute(VERSION).scalar()
                    self._read_at = time.monotonic()
                    return self._version
                except sa.exc.DBAPIError:
                    self._connection.invalidate()
                    self._connection = None
                    if attempt:
                        raise

    def forget(self) -> None:
        """Read the version again on the next request."""
        with self._lock:
            self._read_at = float("-inf")


def keep_until(moment: datetime | None) -> None:
    """Said by a view whose page changes by the clock alone at `moment` (registration
    opens): a page kept from this request is not used after it."""
    if moment is not None:
        g.page_keep_until = min(g.get("page_keep_until", moment), moment)


def _key() -> tuple:
    return (
        request.path,
        request.query_string,
        select_locale(),
        *(request.headers.get(name, "") for name in HTMX_HEADERS),
    )


def _csrf_key() -> str:
    """Where Flask-WTF keeps the visitor's token in the session."""
    return current_app.config["WTF_CSRF_FIELD_NAME"]


def _session_apart_from_token() -> dict:
    return {name: value for name, value in session.items() if name != _csrf_key()}


def _keepable(response: Response, version: int) -> Page | None:
    """The view's answer as a Page, or None when it is not the same for everyone."""
    if response.status_code != 200 or response.is_streamed or "Set-Cookie" in response.headers:
        return None
    body = response.get_data()
    # The view's own token (the same one again), when this visitor's session has one.
    token = generate_csrf() if _csrf_key() in session else None
    has_token = bool(token) and token.encode() in body
    if has_token:
        body = body.replace(token.encode(), TOKEN_MARK)
    seconds = current_app.config["PAGE_CACHE_SECONDS"]
    if "page_keep_until" in g:
        seconds = min(seconds, (g.page_keep_until - utcnow()).total_seconds())
    return Page(
        version=version,
        expires_at=time.monotonic() + seconds,
        headers=tuple(
            (name, value)
            for name, value in response.headers.items()
            if name.lower() not in DROPPED_HEADERS
        ),
        body=body,
        has_token=has_token,
        # The ETag of a page with a token would bring back an old token: none for those.
        etag=None if has_token else hashlib.sha256(body).hexdigest()[:32],
        encoded={} if has_token else {name: _compress(body, name) for name in KEPT_ENCODINGS},
    )


def cached_page(view):
    """Answer visitors who are not logged in from memory while nothing the page shows has
    changed (see the module's docstring); everyone else gets the view itself."""

    @wraps(view)
    def answer(*args, **kwargs):
        pages = store()
        if pages is None or not _for_everyone():
            return view(*args, **kwargs)
        version = current_app.extensions["page_versions"].current()
        if version is None:
            return view(*args, **kwargs)
        key = _key()
        page = pages.get(key, version)
        if page is None:
            session_before = _session_apart_from_token()
            response = current_app.make_response(view(*args, **kwargs))
            page = _keepable(response, version)
            if page is None or _session_apart_from_token() != session_before:
                return response
            pages.put(key, page)
        return page.response()

    return answer


def init_app(app: Flask) -> None:
    """Count public changes up on every commit, and give the app its page store."""
    reader = None
    if app.config["PAGE_CACHE_BYTES"] > 0:
        app.extensions["page_cache"] = PageStore(app.config["PAGE_CACHE_BYTES"])
        reader = VersionReader(app.config["PAGE_CACHE_CHECK_MS"] / 1000)
        app.extensions["page_versions"] = reader
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", _note_statement)
    sa.event.listen(engine, "commit", _count_up)
    sa.event.listen(engine, "rollback", _forget)
    sa.event.listen(engine, "checkin", partial(_returned, reader))
