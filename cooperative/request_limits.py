"""What a request may carry before any view sees it.

- No control character in its path (`/events/%00`): no page has one in its address, and
  PostgreSQL cannot even look such a text up (NUL is refused: a 500 there). A 404, before
  anything reads the database.
- At most `MAX_CONTENT_LENGTH` bytes of body (Flask's own setting, read from the
  environment in config.py): a larger body is refused with 413 before it is read, with
  the site's error page (or JSON under /api/, by the API's own error handler).

Form fields clean and limit their own text (forms/fields.py); this is the door in front.
"""

from flask import Flask, abort, request

from .forms.fields import CONTROL_CHARACTERS


def refuse_control_characters_in_path() -> None:
    """Answer 404 for a path with a control character (NUL, tab, newline, DEL, ...)."""
    if CONTROL_CHARACTERS.search(request.path):
        abort(404)


def init_app(app: Flask) -> None:
    """Check the path first of all, before any other `before_request` function (the page
    cache, rate limits, CSRF) might look at it."""
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_control_characters_in_path)
