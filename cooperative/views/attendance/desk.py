"""Beside the door: walk-ins, finding a ticket by its code, messages to the parties, and
the exports (the CSV file, the printed list, the kitchen summary)."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ...extensions import db
from ...forms.attendance import MessageForm, WalkInForm
from ...forms.fields import show_refusal
from ...forms.filters import AttendanceFilterForm
from ...i18n import current_locale
from ...models import Event
from ...refusals import Refused
from ...services import attendance
from ...spreadsheets import csv_response
from ..decorators import door_event
from . import display
from .blueprint import bp, list_url, meal_names

# --- Walk-ins -----------------------------------------------------------------------------


@bp.route("/events/<int:event_id>/walk-in", methods=["GET", "POST"])
@door_event
def walk_in(event: Event):
    """Add a person at the door, within the seats and meals left: confirmed and checked in
    at once, and paid at the door when they paid. No e-mail address is needed."""
    form = WalkInForm(event, formdata=request.form if request.method == "POST" else None)
    filters = AttendanceFilterForm(request.values).filters
    if request.method == "POST" and form.validate():
        try:
            registration = attendance.add_walk_in(
                event, form.walk_in(), current_user, locale=current_locale()
            )
        except Refused as refusal:
            db.session.rollback()
            show_refusal(form, refusal)
        else:
            name = registration.contact_name
            registration_id = registration.id
            db.session.commit()
            flash(_("%(name)s is added and checked in.", name=name), "success")
            # Back to the page of the list the new party is on, when it is on the list.
            page = attendance.page_of(event, filters, registration_id)
            if page is not None:
                filters = filters.on_page(page)
            return redirect(list_url(event, filters, anchor=f"party-{registration_id}"), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "attendance/walk_in.html",
        event=event,
        form=form,
        filters=filters,
        summary=attendance.summary(event),
    ), status


# --- Checking in by code ------------------------------------------------------------------


@bp.get("/events/<int:event_id>/check-in")
@door_event
def check_in_by_code(event: Event):
    """Find a ticket of this event by its typed code (or scanned address) and open it,
    with its check-in button."""
    code = request.args.get("code", "").strip()[:300]
    error = None
    if code:
        attendee = attendance.find_ticket(event, code)
        if attendee is not None:
            return redirect(url_for("registrations.ticket", ticket=attendee.ticket))
        error = _(
            "No ticket of this event has this code. Check the code, or search the list by name."
        )
    return render_template("attendance/check_in.html", event=event, code=code, error=error), (
        422 if error else 200
    )


# --- Messages -----------------------------------------------------------------------------


@bp.route("/events/<int:event_id>/message", methods=["GET", "POST"])
@door_event
def message(event: Event):
    """Write a message that goes by e-mail (through the outbox) to every party with a
    place, or to every party on the waiting list."""
    counts = {
        audience: len(attendance.recipients(event, audience)) for audience in attendance.AUDIENCES
    }
    form = MessageForm(counts, formdata=request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        try:
            sent = attendance.send_message(
                event, form.audience.data, form.subject.data, form.body.data, current_user
            )
        except Refused as refusal:
            db.session.rollback()
            show_refusal(form, refusal, default="subject")
        else:
            db.session.commit()
            flash(
                ngettext(
                    "Your message is on its way to %(num)d party.",
                    "Your message is on its way to %(num)d parties.",
                    sent,
                ),
                "success",
            )
            return redirect(url_for("attendance.attendees", event_id=event.id), code=303)
    return render_template("attendance/message.html", event=event, form=form), (
        422 if request.method == "POST" else 200
    )


# --- Exports ------------------------------------------------------------------------------


@bp.get("/events/<int:event_id>/attendees.csv")
@door_event
def attendees_csv(event: Event):
    """The list (with its filters, all its pages) as a spreadsheet: one row per person,
    made the way every export is (`spreadsheets.csv_response`)."""
    rows = attendance.party_rows(event, AttendanceFilterForm(request.args).filters)
    return csv_response(
        "{}-{}.csv".format(event.slug, _("attendees")),
        display.csv_columns(),
        display.csv_rows(event, rows, meal_names(event)),
    )


@bp.get("/events/<int:event_id>/attendees/print")
@door_event
def print_list(event: Event):
    """The list (with its filters, all its pages) to print on A4: one line per person,
    sorted by name, with a box to tick at the door."""
    filters = AttendanceFilterForm(request.args).filters
    rows = attendance.party_rows(event, filters)
    return render_template(
        "attendance/print_list.html",
        event=event,
        filters=filters,
        people=attendance.people(rows),
        meals=meal_names(event),
    )


@bp.get("/events/<int:event_id>/kitchen")
@door_event
def kitchen(event: Event):
    """The kitchen summary to print: meals per meal and diet, with the notes."""
    return render_template(
        "attendance/kitchen.html", event=event, summary=attendance.summary(event)
    )
