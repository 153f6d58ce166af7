"""At the door: the attendance list and its counters, check-in and undo of a person or a
party, money paid at the door, and cancelling with a refund."""

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from ...extensions import db, htmx
from ...forms.attendance import DoorPaymentForm
from ...forms.fields import first_error, show_refusal
from ...forms.filters import AttendanceFilterForm
from ...models import Event, Registration
from ...money import format_euros
from ...refusals import Refused
from ...services import attendance, audit
from ...services import payments as payment_service
from ...services import registration as registrations
from ..decorators import door_event
from .blueprint import (
    LIST_ID,
    answer,
    bp,
    list_url,
    meal_names,
    refused,
    registration_of,
)

# --- The list and its counters ------------------------------------------------------------


@bp.get("/events/<int:event_id>/attendees")
@door_event
def attendees(event: Event):
    """The attendance list: the parties with their people, meals, payment and check-in,
    PAGE_SIZE parties a page (`?page=`), the counters and the kitchen summary at the top,
    narrowed by `?q=` and `?show=`. A page past the end shows the last page.

    An htmx request aimed at the list (`HX-Target: attendee-list`: the search, the
    filters, the pages, the polling) gets only the list.
    """
    filters = AttendanceFilterForm(request.args).filters
    page = attendance.party_page(event, filters)
    filters = filters.on_page(page.number)
    context = {
        "event": event,
        "page": page,
        "rows": page.rows,
        "filters": filters,
        "meals": meal_names(event),
    }
    if htmx and htmx.target == LIST_ID:
        # The list polls itself: only a search, a filter or another page is read out.
        html = render_template(
            "attendance/_list.html", fragment=True, announce=htmx.trigger != LIST_ID, **context
        )
    else:
        html = render_template(
            "attendance/attendees.html", summary=attendance.summary(event), **context
        )
    response = make_response(html)
    response.vary.update(("HX-Request", "HX-Target"))
    return response


@bp.get("/events/<int:event_id>/attendees/counters")
@door_event
def counters(event: Event):
    """The counters, and the kitchen summary beside them, for the list page to refresh."""
    if not htmx:
        return redirect(url_for("attendance.attendees", event_id=event.id))
    response = make_response(
        render_template(
            "attendance/_counters.html", event=event, summary=attendance.summary(event), oob=True
        )
    )
    response.vary.update(("HX-Request",))
    return response


# --- Check-in and undo --------------------------------------------------------------------


@bp.post("/events/<int:event_id>/attendees/<int:attendee_id>/check-in")
@door_event
def check_in(event: Event, attendee_id: int):
    """Check one person in (tapping twice is harmless)."""
    try:
        done = attendance.check_in(event, attendee_id, current_user)
    except Refused as refusal:
        return refused(event, refusal, attendee_id=attendee_id)
    return _answer_person(
        event, done, _l("%(name)s is checked in."), _l("%(name)s was checked in already.")
    )


@bp.post("/events/<int:event_id>/attendees/<int:attendee_id>/undo")
@door_event
def undo(event: Event, attendee_id: int):
    """Take back one person's check-in."""
    done = attendance.undo_check_in(event, attendee_id, current_user)
    return _answer_person(
        event, done, _l("The check-in of %(name)s is undone."), _l("%(name)s was not checked in.")
    )


def _answer_person(event: Event, done, changed, unchanged):
    """Answer a check-in of one person, or its undo: 404 when the event has no such
    person; the message `changed` or `unchanged` (with the person's `name`) as it did."""
    if done is None:
        abort(404)
    message = changed if done.changed else unchanged
    return answer(event, done.row, message % {"name": done.person.name})


@bp.post("/events/<int:event_id>/parties/<int:registration_id>/check-in")
@door_event
def check_in_party(event: Event, registration_id: int):
    """Check in everyone of a party who is not checked in yet."""
    try:
        done = attendance.check_in_party(event, registration_id, current_user)
    except Refused as refusal:
        return refused(event, refusal, registration_id=registration_id)
    if done is None:
        abort(404)
    name, count = done.row.registration.contact_name, len(done.changed)
    if count:
        message = ngettext(
            "%(num)d person of the party of %(name)s is checked in.",
            "%(num)d people of the party of %(name)s are checked in.",
            count,
            name=name,
        )
    else:
        message = _("Everyone of the party of %(name)s was checked in already.", name=name)
    return answer(event, done.row, message)


@bp.post("/events/<int:event_id>/parties/<int:registration_id>/undo")
@door_event
def undo_party(event: Event, registration_id: int):
    """Take back the check-in of a whole party."""
    done = attendance.undo_party(event, registration_id, current_user)
    if done is None:
        abort(404)
    message = ngettext(
        "The check-in of %(num)d person of the party of %(name)s is undone.",
        "The check-in of %(num)d people of the party of %(name)s is undone.",
        len(done.changed),
        name=done.row.registration.contact_name,
    )
    return answer(event, done.row, message)


# --- Paying at the door -------------------------------------------------------------------


@bp.route(
    "/events/<int:event_id>/parties/<int:registration_id>/door-payment", methods=["GET", "POST"]
)
@door_event
def door_payment(event: Event, registration_id: int):
    """Record money paid at the door: from the list's one-tap button (what is still to
    pay), or from this page with another amount. Sending the same tap twice records it once.
    """
    registration = registration_of(event, registration_id)
    if request.method == "GET":
        return _door_page(event, registration, DoorPaymentForm(formdata=None))
    form = DoorPaymentForm()
    payment = None
    if form.validate():
        try:
            payment = attendance.record_door_payment(
                registration,
                form.amount.data,
                current_user,
                expected_open_cents=form.expected_open_cents.data,
            )
        except Refused as refusal:
            show_refusal(form, refusal, default="amount")
    if form.errors:
        if request.form.get("on_page") == "1":
            db.session.rollback()
            return _door_page(event, registration, form, status=422)
        return refused(event, Refused(first_error(form)), registration_id=registration_id)
    name = registration.contact_name
    if payment is None:
        message = _(
            "Nothing new is recorded: this payment of the party of %(name)s was recorded "
            "already, or what they owe has changed. Please check the party.",
            name=name,
        )
    else:
        message = _(
            "%(amount)s paid at the door by the party of %(name)s is recorded.",
            amount=format_euros(payment.amount_cents),
            name=name,
        )
    return answer(event, attendance.party_row(event, registration_id), message)


def _door_page(event: Event, registration: Registration, form: DoorPaymentForm, status=200):
    """The party's own page for money paid at the door, the amount at first what is still
    open."""
    row = attendance.party_row(event, registration.id)
    if not form.is_submitted():
        form.amount.data = row.open_cents
    form.amount.description = _("Still to pay: %(amount)s.", amount=format_euros(row.open_cents))
    return render_template(
        "attendance/door_payment.html",
        event=event,
        row=row,
        form=form,
        filters=AttendanceFilterForm(request.values).filters,
    ), status


# --- Cancel and refund --------------------------------------------------------------------


@bp.route("/events/<int:event_id>/parties/<int:registration_id>/refund", methods=["GET", "POST"])
@door_event
def refund(event: Event, registration_id: int):
    """Cancel a party that paid online and refund it through Stripe, whatever the refund
    deadline, after a confirming button. When Stripe does not answer, nothing changes."""
    registration = registration_of(event, registration_id)
    row = attendance.party_row(event, registration.id)
    filters = AttendanceFilterForm(request.values).filters
    if request.method == "POST" and row.can_refund:
        name = registration.contact_name
        before = audit.snapshot(registration, "status", "payment_state", "amount_paid_cents")
        try:
            registrations.cancel(registration, by_organiser=True)
        except payment_service.PaymentUnavailable:
            db.session.rollback()
            return _refund_page(
                event,
                registration.id,
                filters,
                _(
                    "Stripe does not answer right now, so nothing is cancelled or refunded. "
                    "Please try again in a moment."
                ),
                503,
            )
        except Refused as refusal:
            db.session.rollback()
            return _refund_page(event, registration.id, filters, str(refusal.message), 422)
        audit.record_registration(
            current_user,
            "registration.refund",
            registration,
            before,
            "status",
            "payment_state",
            "amount_paid_cents",
        )
        db.session.commit()
        flash(
            _(
                "The registration of %(name)s is cancelled and %(amount)s is refunded online. "
                "We have e-mailed them.",
                name=name,
                amount=format_euros(row.paid_online_cents),
            ),
            "success",
        )
        return redirect(list_url(event, filters), code=303)
    if request.method == "POST":
        flash(_("This party has nothing paid online to refund."), "info")
        return redirect(list_url(event, filters), code=303)
    return _refund_page(event, registration.id, filters)


def _refund_page(event, registration_id, filters, error=None, status=200):
    return render_template(
        "attendance/refund.html",
        event=event,
        row=attendance.party_row(event, registration_id),
        filters=filters,
        meals=meal_names(event),
        error=error,
    ), status
