"""Public pages kept in memory for visitors who are not logged in, and dropped as soon as
what they show changes.

Home, the event list, an event page, the directory, a collective's page and the open-data
API are the same for every visitor who is not logged in, and take tens of milliseconds to
build. A view marked `@cached_page` is built once per process and then answered from memory:

- only for GET and HEAD by a visitor who is not logged in and has no message waiting, and
  only answers 200 that set no cookie and change nothing in the session. The key is the
  path, the query string, the language and the htmx headers the views look at;
- a kept page is used while `page_versions.version` is still the number it was built at.
  Every transaction that writes a table a public page shows counts that number up as it
  commits (a check-in says it changes nothing shown: UNSHOWN_CHANGE). The process that
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
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from itertools import chain

import brotli
import sqlalchemy as sa
from flask import Flask, Response, current_app, g, has_app_context, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from .extensions import db
from .i18n import select_locale
from .models import PageVersion, utcnow

# Tables no public page shows: writing only these leaves the kept pages alone.
UNSHOWN_TABLES = frozenset(
    {
        "page_versions",
        "outbox_messages",
        "check_in_records",
        "stripe_events",
        "payments",
        "audit_log",
        "two_factor",
        "recovery_codes",
    }
)
CHANGED = "public_pages_changed"
COUNTED_UP = "public_pages_counted_up"
# The execution options of a bulk statement on a shown table that changes nothing public
# pages show (a check-in: who came is for the organisers only).
UNSHOWN_OPTION = "public_pages_unchanged"
UNSHOWN_CHANGE = {UNSHOWN_OPTION: True}
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


def _shown(table_name: str) -> bool:
    return table_name not in UNSHOWN_TABLES


def _note_flush(session, flush_context) -> None:
    changed = chain(session.new, session.dirty, session.deleted)
    if any(_shown(sa.inspect(instance).mapper.local_table.name) for instance in changed):
        session.info[CHANGED] = True


def _note_statement(state) -> None:
    """Bulk INSERT, UPDATE and DELETE statements (a purge) count too, unless they say
    they change nothing shown (UNSHOWN_CHANGE)."""
    if (
        (state.is_insert or state.is_update or state.is_delete)
        and _shown(state.statement.table.name)
        and not state.execution_options.get(UNSHOWN_OPTION)
    ):
        state.session.info[CHANGED] = True


def _count_up(session) -> None:
    """Just before a commit: count the version up when this transaction changed a public
    table. Last in the transaction, so the row's lock is held only while committing (a
    savepoint's release waits for the transaction's own commit)."""
    if session.in_nested_transaction():
        return
    session.flush()
    if session.info.pop(CHANGED, False):
        session.execute(sa.update(PageVersion).values(version=PageVersion.version + 1))
        session.info[COUNTED_UP] = True


def _counted_up(session) -> None:
    """After the commit: this process reads the new version on its next request."""
    if session.in_nested_transaction():
        return
    if session.info.pop(COUNTED_UP, False) and has_app_context():
        reader = current_app.extensions.get("page_versions")
        if reader is not None:
            reader.forget()


def _forget(session, *args) -> None:
    """After a rollback: nothing to count, unless only a savepoint was rolled back (what
    the transaction wrote before it still commits)."""
    if session.in_nested_transaction():
        return
    session.info.pop(CHANGED, None)
    session.info.pop(COUNTED_UP, None)


SESSION_EVENTS = {
    "after_flush": _note_flush,
    "do_orm_execute": _note_statement,
    "before_commit": _count_up,
    "after_commit": _counted_up,
    "after_rollback": _forget,
}


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


def _session_apart_from_token() -> dict:
    return {name: value for name, value in session.items() if name != "csrf_token"}


def _keepable(response: Response, version: int) -> Page | None:
    """The view's answer as a Page, or None when it is not the same for everyone."""
    if response.status_code != 200 or response.is_streamed or "Set-Cookie" in response.headers:
        return None
    body = response.get_data()
    token = g.get("csrf_token")
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
    for name, listener in SESSION_EVENTS.items():
        if not sa.event.contains(db.session, name, listener):
            sa.event.listen(db.session, name, listener)
    if app.config["PAGE_CACHE_BYTES"] > 0:
        app.extensions["page_cache"] = PageStore(app.config["PAGE_CACHE_BYTES"])
        app.extensions["page_versions"] = VersionReader(app.config["PAGE_CACHE_CHECK_MS"] / 1000)
