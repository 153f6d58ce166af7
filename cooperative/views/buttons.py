"""Which button sent a form that grows and shrinks in place (people, meals)."""

import re

from flask import request

# A row's number on a remove button: small, and digits only.
ROW_NUMBER_RE = re.compile(r"[0-9]{1,3}")


def submitted_action(*, add: str, remove: str, submit: str) -> tuple[str, int | None]:
    """What the posted form asks: `("add", None)`, `("remove", row)`, `("submit", None)`
    or `("redraw", None)`, by the name of the button that sent it (`add`, `remove`,
    `submit`). A remove button's value is the row's number; any other value gives
    `("remove", None)`, for the view to redraw the form unchanged."""
    if add in request.form:
        return "add", None
    if remove in request.form:
        value = request.form.get(remove, "")
        return "remove", int(value) if ROW_NUMBER_RE.fullmatch(value) else None
    if submit in request.form:
        return "submit", None
    return "redraw", None
