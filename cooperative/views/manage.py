"""The organisers' back office: their collectives' events.

Organisers (people with a role in a collective) manage the events of their collectives;
admins manage every event, also those without a host collective. Everyone else gets 403,
and whoever is not logged in is sent to the log-in page (`views.decorators`).
"""

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..extensions import db, htmx
from ..forms.events import EventForm
from ..models import Collective, Event, EventStatus, Registration, RegistrationStatus
from ..refusals import Refused
from ..services import audit, volunteers
from ..services import events as event_service
from ..services.payments import PaymentUnavailable
from .buttons import submitted_action
from .decorators import managed_event, organiser_required
from .going_back import commit_or_go_back, commit_or_show, roll_back_to

bp = Blueprint("manage", __name__, url_prefix="/manage")

FORM_ID = "event-form"


@bp.get("/")
@organiser_required
def index():
    """The back office starts at the events."""
    return redirect(url_for("manage.events"))


@bp.get("/events")
@organiser_required
def events():
    """The person's events, upcoming first, then past, with seats and meals taken."""
    upcoming, past = event_service.managed_events(current_user)
    return render_template("manage/events.html", upcoming=upcoming, past=past)


def _collective_choices() -> list[tuple[int, str]]:
    """The collectives the person may host an event under: all of them for admins."""
    query = sa.select(Collective.id, Collective.name).order_by(Collective.name, Collective.id)
    if not current_user.is_admin:
        query = query.where(Collective.id.in_(current_user.managed_collective_ids))
    return [(collective_id, name) for collective_id, name in db.session.execute(query)]


def _event_form(formdata=None, event: Event | None = None) -> EventForm:
    """The event form with the person's collectives; filled from `event` when nothing
    was posted."""
    options = {"collectives": _collective_choices(), "allow_no_host": current_user.is_admin}
    if formdata is None and event is not None:
        return EventForm.for_event(event, **options)
    return EventForm(formdata=formdata, **options)


def _render_form(
    form: EventForm,
    event: Event | None,
    status: int = 200,
    *,
    focus: str | None = None,
    meal_errors: dict[int, str] | None = None,
):
    """The event's form page, or only the form when htmx asked for it."""
    if focus is None and status == 422:
        focus = form.first_error_id()
    context = {
        "form": form,
        "event": event,
        "focus": focus,
        "meal_errors": meal_errors or {},
        "meals_taken": (
            {str(option.id): option.meals_taken for option in event.meal_options}
            if event is not None
            else {}
        ),
        "form_url": (
            url_for("manage.edit_event", event_id=event.id)
            if event is not None
            else url_for("manage.new_event")
        ),
    }
    if htmx and htmx.target == FORM_ID:
        template = "manage/_event_form.html"
    else:
        template = "manage/event_form.html"
    return render_template(template, **context), status, {"Vary": "HX-Request, HX-Target"}


def with_new_meal(form, owner, render):
    """The event or series form drawn again with an empty meal added and its name in
    focus; with the reason (422) when it has as many meals as it may. `render` draws
    the form of `owner` (the event or series, None for a new one)."""
    if not form.add_meal():
        form.meals.errors = [_("You can offer at most %(count)d meals.", count=len(form.meals))]
        return render(form, owner, 422)
    return render(form, owner, focus=f"meals-{len(form.meals) - 1}-name")


def _edit(event: Event | None):
    """Draw the form, redraw it with a meal added or removed, or save it."""
    if request.method == "GET":
        return _render_form(_event_form(event=event), event)
    action, index = submitted_action(add="add_meal", remove="remove_meal", submit="save")
    if action == "add":
        return with_new_meal(_event_form(request.form, event), event, _render_form)
    if action == "remove":
        posted = _event_form(request.form, event)
        if index is None or not 0 <= index < len(posted.meals):
            return _render_form(posted, event)
        meal_id = posted.meals[index].form.plan().id
        if event is not None and meal_id in event_service.meal_options_in_use(event):
            message = _(
                "People have chosen this meal, so it cannot be removed. You can change it instead."
            )
            return _render_form(
                posted, event, 422, focus=f"meal-{index}-remove", meal_errors={index: message}
            )
        form = _event_form(EventForm.without_meal(request.form, index), event)
        return _render_form(form, event, focus="add-meal")
    form = _event_form(request.form, event)
    if action == "redraw":
        return _render_form(form, event)
    if not form.validate():
        return _render_form(form, event, 422)
    saved = commit_or_show(
        form,
        lambda: event_service.save_event(form.plan(), event),
        done=(
            _("Your changes are saved.")
            if event is not None
            else _("The event is saved as a draft. Publish it when it is ready.")
        ),
        to=lambda saved: url_for("manage.edit_event", event_id=saved.id),
    )
    return saved or _render_form(form, event, 422)


@bp.route("/events/new", methods=["GET", "POST"])
@organiser_required
def new_event():
    """A new event with its meals; saving makes a draft."""
    return _edit(None)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@managed_event
def edit_event(event: Event):
    """Change an event and its meals; people's registrations stay attached."""
    return _edit(event)


@bp.post("/events/<int:event_id>/publish")
@managed_event
def publish_event(event: Event):
    """Make a draft public and open for registration."""
    try:
        published = event_service.publish(event)
    except Refused as refusal:
        return roll_back_to(url_for("manage.edit_event", event_id=event.id), refusal.message)
    db.session.commit()
    if published:
        flash(_("The event is published: everyone can see it and register."), "success")
    else:
        flash(_("The event was published already."), "info")
    return redirect(url_for("manage.edit_event", event_id=event.id), code=303)


def _party_states(event: Event) -> dict[int, dict]:
    """The status and payment state of each party not cancelled yet (for the audit log)."""
    rows = db.session.execute(
        sa.select(Registration.id, Registration.status, Registration.payment_state).where(
            Registration.event_id == event.id,
            Registration.status != RegistrationStatus.CANCELLED,
        )
    )
    return {row.id: audit.snapshot(row, "status", "payment_state") for row in rows}


def _cancel_and_record(event: Event) -> list[Registration]:
    """Cancel the event (`events.cancel_event`) and write each party's change in the
    audit log; returns the registrations cancelled."""
    before = _party_states(event)
    cancelled = event_service.cancel_event(event)
    for registration in cancelled:
        audit.record_registration(
            current_user,
            "registration.event_cancelled",
            registration,
            before.get(registration.id),
            "status",
            "payment_state",
        )
    return cancelled


@bp.route("/events/<int:event_id>/cancel", methods=["GET", "POST"])
@managed_event
def cancel_event(event: Event):
    """Cancel the event after a confirming button: every registration and every
    volunteer's slot is cancelled, and each party and volunteer is e-mailed."""
    if request.method == "POST":
        try:
            return commit_or_go_back(
                lambda: _cancel_and_record(event),
                back=url_for("manage.events"),
                done=lambda cancelled: ngettext(
                    "The event is cancelled. We have e-mailed %(num)d party.",
                    "The event is cancelled. We have e-mailed %(num)d parties.",
                    len(cancelled),
                ),
            )
        except PaymentUnavailable:
            return roll_back_to(
                url_for("manage.cancel_event", event_id=event.id),
                _(
                    "The online payments could not be refunded right now, so the event is "
                    "not cancelled yet. Please try again in a moment."
                ),
            )
    parties = db.session.scalar(
        sa.select(sa.func.count(Registration.id)).where(
            Registration.event_id == event.id,
            Registration.status != RegistrationStatus.CANCELLED,
        )
    )
    return render_template(
        "manage/cancel.html",
        event=event,
        parties=parties,
        helpers=volunteers.held_slot_count(event),
        already=event.status == EventStatus.CANCELLED,
    )
