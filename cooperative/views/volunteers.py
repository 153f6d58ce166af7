"""Signing up for a volunteer task, and leaving it again.

- The event page lists its tasks (`events/_tasks.html`, filled by `event_tasks`): a
  member signs up with one button, a guest on `/events/<slug>/tasks/<id>/signup` with
  their name and e-mail address.
- Everyone gets a private link `/v/<token>` by e-mail: whoever holds it sees that one
  slot and may leave it, without logging in; it changes nothing else.
- Members see their slots on their account page (`my_task_slots`) and leave them there;
  another member's slot is 404.
"""

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db, limiter
from ..forms.fields import show_refusal
from ..forms.volunteers import GuestSignupForm
from ..i18n import current_locale
from ..models import Task, TaskSignup, utcnow
from ..page_cache import keep_until
from ..refusals import Refused
from ..services import volunteer_mail, volunteers
from .events import published_event

bp = Blueprint("volunteers", __name__)


@bp.app_template_global("event_tasks")
def event_tasks(event) -> dict:
    """The event page's tasks with slots left and, for a logged-in person, their own
    slots ({task id: signup id}); one query, two when logged in and there are tasks."""
    tasks = volunteers.tasks_of(event)
    # A task's button goes when it starts: a kept copy of the page is not used after.
    now = utcnow()
    keep_until(min((task.begins for task in tasks if task.begins > now), default=None))
    mine = {}
    if tasks and current_user.is_authenticated:
        mine = volunteers.own_signup_ids(current_user, tasks)
    return {"tasks": tasks, "mine": mine}


@bp.app_template_global("my_task_slots")
def my_task_slots() -> list[TaskSignup]:
    """The logged-in person's coming slots, for their account page."""
    return volunteers.slots_of(current_user)


@bp.app_template_global("volunteer_roster")
def volunteer_roster(event) -> list[Task]:
    """Who does what at the event, for the attendance list."""
    return volunteers.roster(event)


def _signup_limit() -> str:
    return current_app.config["REGISTRATION_RATE_LIMIT"]


def _event_task(slug: str, task_id: int) -> tuple:
    event = published_event(slug)
    task = volunteers.task_of(event, task_id)
    if task is None:
        abort(404)
    return event, task


def _render_signup(event, task, form, status: int = 200):
    return (
        render_template(
            "volunteers/signup.html",
            event=event,
            task=task,
            form=form,
            state=volunteers.signup_state(task),
        ),
        status,
    )


@bp.route("/events/<slug>/tasks/<int:task_id>/signup", methods=["GET", "POST"])
@limiter.limit(_signup_limit, methods=["POST"])
def signup(slug: str, task_id: int):
    """Take a slot in a task: a member with one button, a guest with their name and
    address. A refusal (full, started, cancelled, bad input) comes back with its message
    and what was typed, with 422."""
    event, task = _event_task(slug, task_id)
    member = current_user if current_user.is_authenticated else None
    form = GuestSignupForm() if request.method == "POST" else GuestSignupForm(formdata=None)
    if request.method == "GET":
        return _render_signup(event, task, form)
    # A member's slot needs no fields (the CSRF token is checked for every POST).
    if member is None and not form.validate_on_submit():
        return _render_signup(event, task, form, 422)
    try:
        made = volunteers.sign_up(
            task,
            user=member,
            name=form.name.data or "",
            email=form.email.data or "",
            locale=current_locale(),
        )
    except volunteers.AlreadySignedUp as known:
        if member is not None:
            db.session.rollback()
            flash(_("You have signed up for this task already."), "info")
        else:
            volunteer_mail.signed_up(known.signup)
            db.session.commit()
            flash(
                _(
                    "This address has signed up for this task already: we have e-mailed "
                    "its link again."
                ),
                "info",
            )
        return redirect(url_for("events.show", slug=event.slug, _anchor="tasks"), code=303)
    except Refused as refusal:
        db.session.rollback()
        show_refusal(form, refusal)
        return _render_signup(event, task, form, 422)
    private_page = url_for("volunteers.slot", token=made.token)
    db.session.commit()
    flash(
        _(
            "Thank you! You help with %(task)s. We have e-mailed you the details.",
            task=task.name,
        ),
        "success",
    )
    if member is not None:
        return redirect(url_for("events.show", slug=event.slug, _anchor="tasks"), code=303)
    return redirect(private_page, code=303)


def _signup_by_token(token: str) -> TaskSignup:
    signup = volunteers.find_signup(token)
    if signup is None:
        abort(404)
    return signup


@bp.get("/v/<token>")
def slot(token: str):
    """A slot's private page: the task, the event, and a button to leave it."""
    signup = _signup_by_token(token)
    return render_template(
        "volunteers/slot.html", signup=signup, task=signup.task, event=signup.task.event
    )


def _leave(signup: TaskSignup, back: str):
    """Leave the slot and go back to `back`, saying what happened."""
    try:
        left = volunteers.leave(signup)
    except Refused as refusal:
        db.session.rollback()
        flash(str(refusal.message), "error")
        return redirect(back, code=303)
    db.session.commit()
    if left:
        flash(_("You have given up your place. Thank you for letting us know."), "success")
    else:
        flash(_("You had given up this place already."), "info")
    return redirect(back, code=303)


@bp.post("/v/<token>/leave")
def leave(token: str):
    """Leave a slot with its private link (no log-in)."""
    signup = _signup_by_token(token)
    return _leave(signup, url_for("volunteers.slot", token=signup.token))


@bp.post("/account/tasks/<int:signup_id>/leave")
@login_required
def leave_own(signup_id: int):
    """Leave one of one's own slots from the account page; anyone else's is 404."""
    signup = db.session.scalar(
        sa.select(TaskSignup).where(
            TaskSignup.id == signup_id, TaskSignup.user_id == current_user.id
        )
    )
    if signup is None:
        abort(404)
    return _leave(signup, url_for("account.index", _anchor="tasks-title"))
