"""Public event pages."""

import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template
from flask_login import current_user

from ..extensions import db, htmx
from ..forms.registration import RegistrationForm
from ..models import Event, EventStatus
from ..services.calendar import event_calendar

bp = Blueprint("events", __name__, url_prefix="/events")


@bp.get("")
def index():
    """Upcoming published events, soonest first."""
    events = db.session.scalars(
        Event.upcoming().options(
            sa.orm.selectinload(Event.collective), sa.orm.selectinload(Event.meal_options)
        )
    ).all()
    return render_template("events/index.html", events=events)


def published_event(slug: str) -> Event:
    """The event with this slug, with its meals and host; 404 for a draft or none."""
    event = db.session.scalar(
        sa.select(Event)
        .where(Event.slug == slug, Event.status != EventStatus.DRAFT)
        .options(sa.orm.selectinload(Event.meal_options), sa.orm.joinedload(Event.collective))
    )
    if event is None:
        abort(404)
    return event


def registration_form(event, formdata=None) -> RegistrationForm:
    """The event's registration form; a logged-in person finds their own details in it."""
    form = RegistrationForm(event, formdata=formdata)
    if formdata is None and current_user.is_authenticated:
        form.contact_name.data = current_user.name
        form.contact_email.data = current_user.email
        form.people[0].form.name.data = current_user.name
    return form


def render_event(event, form: RegistrationForm, status: int = 200):
    """The event page with its form, or only the form when htmx asked for it."""
    if htmx and htmx.target == "registration":
        return render_template("registrations/_form.html", event=event, form=form), status
    return render_template("events/show.html", event=event, form=form), status


@bp.get("/<slug>.ics")
def calendar(slug: str):
    """One event as a calendar file."""
    event = published_event(slug)
    return Response(
        event_calendar([event], name=event.title),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{event.slug}.ics"'},
    )


@bp.get("/<slug>")
def show(slug: str):
    """One event with everything at a glance, and its registration form."""
    event = published_event(slug)
    return render_event(event, registration_form(event))
