"""How a view answers when what was asked is not done: the change is rolled back, the
person is told why in a flash, and sent on with a redirect after the POST (303)."""

from flask import flash, redirect

from ..extensions import db


def roll_back_to(location: str, message, category: str = "error"):
    """Undo what the request changed, flash `message` (a refusal's, or why a payment
    provider could not be reached) and redirect to `location` with 303."""
    db.session.rollback()
    flash(str(message), category)
    return redirect(location, code=303)
