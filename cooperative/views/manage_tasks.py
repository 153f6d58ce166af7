"""The organisers' volunteer tasks of an event: add, change and remove them, and see who
does what, at `/manage/events/<id>/tasks`.

Only the event's organisers and admins (`decorators.managed_event`); a task of another
event is 404. Removing a task that people signed up for asks first, then e-mails them.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from ..extensions import db
from ..forms.volunteers import TaskForm
from ..models import Event, Task
from ..services import volunteers
from .decorators import managed_event
from .going_back import commit_or_redraw, form_page

bp = Blueprint("manage_tasks", __name__, url_prefix="/manage/events/<int:event_id>/tasks")


def _task(event: Event, task_id: int) -> Task:
    task = volunteers.task_of(event, task_id)
    if task is None:
        abort(404)
    return task


def _index_url(event: Event) -> str:
    return url_for("manage_tasks.index", event_id=event.id)


@bp.route("", methods=["GET", "POST"])
@managed_event
def index(event: Event):
    """The event's tasks with the people in each, and the form to add one."""
    form = TaskForm() if request.method == "POST" else TaskForm(formdata=None)
    # The roster is read when the page is drawn (after a refusal's rollback, in its two
    # queries), not before the change.
    return commit_or_redraw(
        form,
        lambda: volunteers.save_task(event, form.plan()),
        done=lambda task: _("The task “%(name)s” is added.", name=task.name),
        to=_index_url(event),
        default="name",
        redraw=lambda status: (
            render_template(
                "manage_tasks/index.html", form=form, event=event, tasks=volunteers.roster(event)
            ),
            status,
        ),
    )


@bp.route("/<int:task_id>/edit", methods=["GET", "POST"])
@managed_event
def edit(event: Event, task_id: int):
    """Change a task; it keeps the people signed up (never fewer slots than them)."""
    task = _task(event, task_id)
    form = TaskForm() if request.method == "POST" else TaskForm.for_task(task)
    return form_page(
        form,
        lambda: volunteers.save_task(event, form.plan(), task),
        done=_("Your changes are saved."),
        to=_index_url(event),
        default="name",
        template="manage_tasks/edit.html",
        event=event,
        task=task,
    )


@bp.route("/<int:task_id>/remove", methods=["GET", "POST"])
@managed_event
def remove(event: Event, task_id: int):
    """Remove a task. With people signed up it asks first (a page with a confirming
    button), then e-mails each of them; an empty task goes at once."""
    task = _task(event, task_id)
    people = task.active_signups
    if request.method == "GET" or (people and request.form.get("confirm") != "1"):
        return render_template("manage_tasks/remove.html", event=event, task=task, people=people)
    name = task.name
    told = volunteers.remove_task(task)
    db.session.commit()
    if told:
        flash(
            ngettext(
                "The task “%(name)s” is removed. We have e-mailed %(num)d person.",
                "The task “%(name)s” is removed. We have e-mailed %(num)d people.",
                len(told),
                name=name,
            ),
            "success",
        )
    else:
        flash(_("The task “%(name)s” is removed.", name=name), "success")
    return redirect(_index_url(event), code=303)
