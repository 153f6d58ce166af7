"""How a view answers after a change was asked: when it is refused, the change is rolled
back and the person is told why (on the form, or in a flash); when it is done, it is
committed, the person is told so in a flash, and sent on with a redirect after the POST
(303; for a form htmx sent, a full page load: `go_to`). A view with a form says it with
`commit_or_redraw` (or `form_page`, for a page of its own), a button with
`commit_or_go_back`."""

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template

from ..extensions import db, htmx
from ..forms.fields import show_refusal
from ..refusals import Refused


def roll_back_to(location: str, message, category: str = "error"):
    """Undo what the request changed, flash `message` (a refusal's, or why a payment
    provider could not be reached) and redirect to `location` with 303."""
    db.session.rollback()
    flash(str(message), category)
    return redirect(location, code=303)


def go_to(location: str):
    """Redirect after a POST (303). To htmx, which would put the next page inside the form
    it sent, an empty answer with `HX-Redirect`: the next page loads whole."""
    if htmx:
        return "", 204, {"HX-Redirect": location}
    return redirect(location, code=303)


def _for(value, result):
    return value(result) if callable(value) else value


def commit_or_show(
    form,
    change: Callable[[], Any],
    *,
    done,
    to,
    default: str | None = None,
    category: str = "success",
):
    """The shape of every form that asks a service for a change: call `change()` (it
    flushes); when it refuses, roll back, put the refusal on `form` (next to the field it
    names, else `default`, else above the form) and answer None, for the view to show the
    form again with 422. Otherwise commit, flash `done` (in `category`) and go to `to`
    (`go_to`). `done` and `to` may be functions of what `change()` returned."""
    try:
        result = change()
    except Refused as refusal:
        db.session.rollback()
        show_refusal(form, refusal, default=default)
        return None
    db.session.commit()
    flash(_for(done, result), category)
    return go_to(_for(to, result))


def commit_or_redraw(
    form,
    change: Callable[[], Any],
    *,
    done,
    to,
    redraw: Callable[[int], Any],
    default: str | None = None,
    category: str = "success",
):
    """The shape of every view whose form asks a service for a change: when the form is
    sent and valid, `commit_or_show` (the redirect when the change is done). Otherwise
    `redraw(status)`: the page again with the form, 422 after a post that changed nothing
    (invalid or refused), 200 when it is only opened. `change` is called only for a valid
    form; `done`, `to` and `category` are as for `commit_or_show` (a function of what
    `change()` returned where they read the form or the result)."""
    if form.validate_on_submit():
        answer = commit_or_show(form, change, done=done, to=to, default=default, category=category)
        if answer:
            return answer
    return redraw(422 if form.is_submitted() else 200)


def form_page(
    form,
    change: Callable[[], Any],
    *,
    done,
    to,
    template: str,
    default: str | None = None,
    **context,
):
    """`commit_or_redraw` for a page of its own: drawn from `template` with `form` and
    `context`. The context is worked out before the change: give it the rows the view has
    at hand; a list to query (after a refusal's rollback every row read before is read
    again, one by one) belongs in a `commit_or_redraw` whose `redraw` queries it."""
    return commit_or_redraw(
        form,
        change,
        done=done,
        to=to,
        default=default,
        redraw=lambda status: (render_template(template, form=form, **context), status),
    )


def commit_or_go_back(change: Callable[[], Any], *, back: str, done, to=None):
    """The shape of a button that asks a service for a change: call `change()` (it
    flushes); when it refuses, roll back, flash the refusal and redirect to `back`.
    Otherwise commit, flash `done` as a success and redirect to `to` (`back` when not
    given), with 303. `done` and `to` may be functions of what `change()` returned."""
    try:
        result = change()
    except Refused as refusal:
        return roll_back_to(back, refusal.message)
    db.session.commit()
    flash(_for(done, result), "success")
    return redirect(_for(to, result) if to is not None else back, code=303)
