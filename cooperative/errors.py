"""Error pages in the visitor's language, for browsers and for htmx requests alike."""

import logging
from contextlib import suppress

import sqlalchemy as sa
from flask import Flask, Response, g, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db, htmx, login_manager
from .locking import LockTimeout, is_lock_timeout
from .security import OtherSiteRefused

log = logging.getLogger(__name__)

# What SQLAlchemy raises when the database cannot be reached: the connection lost, the
# server down, the pool exhausted.
UNREACHABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)
# When to try again: after a lock waited for too long (busy), or the database being away.
BUSY_RETRY_SECONDS = 5
UNAVAILABLE_RETRY_SECONDS = 60
# Set in a session's `info` once it committed: what the request sent is saved.
COMMITTED = "committed"


def render_error(error: HTTPException):
    """Render the error page for `error` with its own status code."""
    return render_template("errors/error.html", error=error, code=error.code), error.code


def render_csrf_error(error: CSRFError):
    return render_template("errors/error.html", error=error, code=400, csrf=True), 400


def render_other_site_error(error: OtherSiteRefused):
    """A 403 for a form sent from another site's page: say where to go instead."""
    return render_template("errors/error.html", error=error, code=403, other_site=True), 403


def render_server_error(error: Exception):
    """A 500: undo the half-done transaction, then say sorry."""
    db.session.rollback()
    return render_template("errors/error.html", error=InternalServerError(), code=500), 500


def render_database_unavailable(error: Exception):
    """A 503 when the database cannot be reached (connection lost, server down, pool
    exhausted), or a lock was waited for too long: undo the half-done transaction, so
    nothing is half-written, and ask the visitor to try again."""
    _discard_transaction()
    return database_unavailable(error, busy=is_lock_timeout(error))


def render_busy(error: LockTimeout):
    """A 503 when an event stayed locked by others for LOCK_TIMEOUT_SECONDS: nothing is
    saved; "try again in a few seconds", never a 500."""
    _discard_transaction()
    return database_unavailable(error, busy=True)


def database_unavailable(error: Exception, busy: bool = False) -> Response:
    """The answer while the database is away (or, `busy`, while what the request needs is
    locked by others): 503 with Retry-After, as JSON under the API and as the site's page
    in the visitor's language elsewhere. Never raises a database error itself: a page
    that cannot load who is logged in is shown as to a visitor."""
    if request.blueprint == "api":
        from .views.api import open_data_headers

        response = jsonify(error="busy, try again" if busy else "service unavailable")
        response = open_data_headers(response)
    else:
        try:
            page = render_template("errors/error.html", error=error, code=503, busy=busy)
        except sa_exc.SQLAlchemyError:
            _discard_transaction()
            g._login_user = login_manager.anonymous_user()
            page = render_template("errors/error.html", error=error, code=503, busy=busy)
        response = make_response(page)
        _discard_transaction()
    response.status_code = 503
    response.headers["Retry-After"] = str(BUSY_RETRY_SECONDS if busy else UNAVAILABLE_RETRY_SECONDS)
    return response


def end_transaction(response: Response) -> Response:
    """Roll back what the request left open while its answer can still change.

    Flask-SQLAlchemy would roll back at teardown, after the answer is made: when the
    connection is lost by then, the rollback raises where nothing turns it into a page,
    and the server sends its bare "Internal Server Error". Here a failed rollback makes
    the answer the 503 page instead, unless the request committed: then what it sent is
    saved and its own answer (a redirect, mostly) tells the truth.
    """
    if not db.session.registry.has():
        return response
    session = db.session()
    if not session.in_transaction():
        return response
    try:
        session.rollback()
    except sa_exc.SQLAlchemyError as error:
        log.warning(
            "The database was lost at the end of %s %s: %s", request.method, request.path, error
        )
        _discard_transaction()
        if session.info.get(COMMITTED):
            return response
        return database_unavailable(error)
    return response


def remove_session(exc: BaseException | None) -> None:
    """Flask-SQLAlchemy's teardown (end the session) that never raises: the answer is on
    its way by now. A session whose connection is lost is thrown away, not kept for the
    next request."""
    try:
        db.session.remove()
    except sa_exc.SQLAlchemyError as error:
        log.warning("The database was lost when a request ended: %s", error)
        _discard_transaction()
        db.session.registry.clear()


def _discard_transaction() -> None:
    """Roll back the session's transaction; when that fails too, drop its connection."""
    session = db.session()
    try:
        session.rollback()
    except sa_exc.SQLAlchemyError:
        with suppress(sa_exc.SQLAlchemyError):
            session.invalidate()


def _mark_committed(session: Session) -> None:
    """After a commit (not a savepoint released: nothing is saved yet then)."""
    if not session.in_nested_transaction():
        session.info[COMMITTED] = True


def show_whole_page_to_htmx(response: Response) -> Response:
    """An error page answers an htmx request too: it replaces the page's body, where the
    person sees it, instead of being dropped or squeezed into a small fragment."""
    if htmx and response.status_code >= 400 and response.status_code != 422:
        response.headers["HX-Retarget"] = "body"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def init_app(app: Flask) -> None:
    """Error pages and handlers. Called last in `create_app`: its answer hooks then run
    first, so every other hook (security headers, compression) sees the 503 page too."""
    app.after_request(show_whole_page_to_htmx)
    app.after_request(end_transaction)  # runs before show_whole_page_to_htmx
    # Runs before Flask-SQLAlchemy's own teardown, which then finds nothing left to end.
    app.teardown_appcontext(remove_session)
    if not sa.event.contains(db.session, "after_commit", _mark_committed):
        sa.event.listen(db.session, "after_commit", _mark_committed)
    app.register_error_handler(CSRFError, render_csrf_error)
    app.register_error_handler(OtherSiteRefused, render_other_site_error)
    for code in (400, 403, 404, 405, 413, 429):
        app.register_error_handler(code, render_error)
    app.register_error_handler(500, render_server_error)
    app.register_error_handler(LockTimeout, render_busy)
    for unreachable in UNREACHABLE:
        app.register_error_handler(unreachable, render_database_unavailable)
