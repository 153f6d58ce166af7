"""Error pages in the visitor's language, for browsers and for htmx requests alike."""

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db


def render_error(error: HTTPException):
    """Render the error page for `error` with its own status code."""
    return render_template("errors/error.html", error=error, code=error.code), error.code


def render_csrf_error(error: CSRFError):
    return render_template("errors/error.html", error=error, code=400, csrf=True), 400


def render_server_error(error: Exception):
    """A 500: undo the half-done transaction, then say sorry."""
    db.session.rollback()
    return render_template("errors/error.html", error=InternalServerError(), code=500), 500


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, render_csrf_error)
    for code in (400, 403, 404, 405, 429):
        app.register_error_handler(code, render_error)
    app.register_error_handler(500, render_server_error)
