"""Error pages in the visitor's language, for browsers and for htmx requests alike."""

from contextlib import suppress

from flask import Flask, Response, g, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db, htmx, login_manager


def render_error(error: HTTPException):
    """Render the error page for `error` with its own status code."""
    return render_template("errors/error.html", error=error, code=error.code), error.code


def render_csrf_error(error: CSRFError):
    return render_template("errors/error.html", error=error, code=400, csrf=True), 400


def render_server_error(error: Exception):
    """A 500: undo the half-done transaction, then say sorry."""
    db.session.rollback()
    return render_template("errors/error.html", error=InternalServerError(), code=500), 500


def render_database_unavailable(error: Exception):
    """A 503 when the database cannot be reached (connection lost, server down, pool
    exhausted): undo the half-done transaction, so nothing is half-written, and ask the
    visitor to try again in a minute."""
    with suppress(sa_exc.SQLAlchemyError):
        db.session.rollback()
    try:
        page = render_template("errors/error.html", error=error, code=503)
    except sa_exc.SQLAlchemyError:
        # Still unreachable: the page cannot even load who is logged in; show it anyway.
        with suppress(sa_exc.SQLAlchemyError):
            db.session.rollback()
        g._login_user = login_manager.anonymous_user()
        page = render_template("errors/error.html", error=error, code=503)
    return page, 503, {"Retry-After": "60"}


def show_whole_page_to_htmx(response: Response) -> Response:
    """An error page answers an htmx request too: it replaces the page's body, where the
    person sees it, instead of being dropped or squeezed into a small fragment."""
    if htmx and response.status_code >= 400 and response.status_code != 422:
        response.headers["HX-Retarget"] = "body"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def init_app(app: Flask) -> None:
    app.after_request(show_whole_page_to_htmx)
    app.register_error_handler(CSRFError, render_csrf_error)
    for code in (400, 403, 404, 405, 413, 429):
        app.register_error_handler(code, render_error)
    app.register_error_handler(500, render_server_error)
    for unreachable in (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError):
        app.register_error_handler(unreachable, render_database_unavailable)
