"""At the door: the attendance list of an event, check-in, door payments, walk-ins,
exports and messages, at `/manage/events/<id>/...`.

Only the event's organisers and admins get here (`managed_event`). Every action is a
POST with the CSRF token. With htmx, an action on a party answers with that party's row
(it replaces itself) and the `checkin-changed` event, so the counters follow; without
JavaScript it redirects (303) back to the list with its filters kept. The list and the
counters also poll, so two volunteers on two phones see each other's check-ins.
"""

import csv
import io
from decimal import Decimal

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_datetime, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..extensions import db, htmx
from ..forms.fields import strip
from ..forms.registration import MultiCheckboxField, parse_euros
from ..i18n import DIET_LABELS, current_locale, diet_list, in_diet_order, money
from ..models import Attendee, Event, Registration
from ..services import attendance, audit
from ..services import payments as payment_service
from ..services import registration as registrations
from ..services.attendance import AttendanceFilters, AttendanceRefused, PartyRow
from ..spreadsheets import csv_safe
from .manage import managed_event

bp = Blueprint("attendance", __name__, url_prefix="/manage")

LIST_ID = "attendee-list"
CHECKIN_CHANGED = "checkin-changed"


# --- Helpers ------------------------------------------------------------------------------


def _meal_names(event: Event) -> dict[int, str]:
    return {option.id: option.name for option in event.meal_options}


def _list_url(event: Event, filters: AttendanceFilters, anchor: str | None = None) -> str:
    return url_for("attendance.attendees", event_id=event.id, _anchor=anchor, **filters.as_args())


def _attendee_of(event: Event, attendee_id: int) -> Attendee:
    """The attendee `attendee_id` of this event; 404 for anyone else's."""
    attendee = db.session.scalar(
        sa.select(Attendee)
        .join(Registration, Attendee.registration_id == Registration.id)
        .where(Attendee.id == attendee_id, Registration.event_id == event.id)
    )
    if attendee is None:
        abort(404)
    return attendee


def _registration_of(event: Event, registration_id: int) -> Registration:
    """The registration `registration_id` of this event; 404 for anyone else's."""
    registration = db.session.scalar(
        sa.select(Registration).where(
            Registration.id == registration_id, Registration.event_id == event.id
        )
    )
    if registration is None:
        abort(404)
    return registration


def _back_to_ticket(event: Event) -> Attendee | None:
    """The ticket an action came from (`back=ticket`, `ticket_attendee=<id>`), if any."""
    if request.form.get("back") != "ticket":
        return None
    value = request.form.get("ticket_attendee", "")
    if not (value.isascii() and value.isdigit() and len(value) < 19):
        return None
    return _attendee_of(event, int(value))


def _done(event: Event, row: PartyRow, message: str, *, error: bool = False):
    """Answer an action on the party `row`: its row for htmx (with the screen-reader
    message and the `checkin-changed` event), else a redirect to the list or the ticket it
    came from; and commit the action.

    The answer is made before the commit, inside the action's transaction: a commit
    expires what the session holds, and the row, the event and the volunteer would all
    have to be loaded again to draw it.
    """
    filters = AttendanceFilters.from_args(request.form)
    ticket = _back_to_ticket(event)
    if htmx and ticket is None:
        html = render_template(
            "attendance/_party_response.html",
            row=row,
            event=event,
            filters=filters,
            meals=_meal_names(event),
            message=message,
            error=error,
        )
        headers = {"Vary": "HX-Request"}
        if not error:
            headers["HX-Trigger"] = CHECKIN_CHANGED
        db.session.commit()
        return html, (422 if error else 200), headers
    if ticket is not None:
        answer = redirect(url_for("registrations.ticket", ticket=ticket.ticket), code=303)
    else:
        answer = redirect(_list_url(event, filters, anchor=f"party-{row.id}"), code=303)
    db.session.commit()
    # Only once it is saved: a commit that fails leaves no message saying it is done.
    flash(message, "error" if error else "success")
    return answer


def _refused(event: Event, refusal: AttendanceRefused, **party):
    """Undo what the refused action began, and answer with the party (`registration_id=`
    or `attendee_id=`) as it is and why."""
    db.session.rollback()
    row = attendance.party_row(event, **party)
    if row is None:
        abort(404)
    return _done(event, row, str(refusal.message), error=True)


# --- The list and its counters ------------------------------------------------------------


@bp.get("/events/<int:event_id>/attendees")
@managed_event
def attendees(event: Event):
    """The attendance list: the parties with their people, meals, payment and check-in,
    PAGE_SIZE parties a page (`?page=`), the counters and the kitchen summary at the top,
    narrowed by `?q=` and `?show=`. A page past the end shows the last page.

    An htmx request aimed at the list (`HX-Target: attendee-list`: the search, the
    filters, the pages, the polling) gets only the list.
    """
    filters = AttendanceFilters.from_args(request.args)
    page = attendance.party_page(event, filters)
    filters = filters.on_page(page.number)
    context = {
        "event": event,
        "page": page,
        "rows": page.rows,
        "filters": filters,
        "meals": _meal_names(event),
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
@managed_event
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
@managed_event
def check_in(event: Event, attendee_id: int):
    """Check one person in (tapping twice is harmless)."""
    try:
        done = attendance.check_in(event, attendee_id, current_user)
    except AttendanceRefused as refusal:
        return _refused(event, refusal, attendee_id=attendee_id)
    if done is None:
        abort(404)
    if done.changed:
        message = _("%(name)s is checked in.", name=done.person.name)
    else:
        message = _("%(name)s was checked in already.", name=done.person.name)
    return _done(event, done.row, message)


@bp.post("/events/<int:event_id>/attendees/<int:attendee_id>/undo")
@managed_event
def undo(event: Event, attendee_id: int):
    """Take back one person's check-in."""
    done = attendance.undo_check_in(event, attendee_id, current_user)
    if done is None:
        abort(404)
    if done.changed:
        message = _("The check-in of %(name)s is undone.", name=done.person.name)
    else:
        message = _("%(name)s was not checked in.", name=done.person.name)
    return _done(event, done.row, message)


@bp.post("/events/<int:event_id>/parties/<int:registration_id>/check-in")
@managed_event
def check_in_party(event: Event, registration_id: int):
    """Check in everyone of a party who is not checked in yet."""
    try:
        done = attendance.check_in_party(event, registration_id, current_user)
    except AttendanceRefused as refusal:
        return _refused(event, refusal, registration_id=registration_id)
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
    return _done(event, done.row, message)


@bp.post("/events/<int:event_id>/parties/<int:registration_id>/undo")
@managed_event
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
    return _done(event, done.row, message)


# --- Paying at the door -------------------------------------------------------------------


@bp.route(
    "/events/<int:event_id>/parties/<int:registration_id>/door-payment", methods=["GET", "POST"]
)
@managed_event
def door_payment(event: Event, registration_id: int):
    """Record money paid at the door: from the list's one-tap button (what is still to
    pay), or from this page with another amount. Sending the same tap twice records it once.
    """
    registration = _registration_of(event, registration_id)
    on_page = request.method == "GET" or request.form.get("on_page") == "1"
    if request.method == "GET":
        return _door_page(event, registration)
    amount_text = request.form.get("amount", "")
    amount = parse_euros(amount_text)
    expected = request.form.get("expected_open_cents", "")
    expected_cents = (
        int(expected) if expected.isascii() and expected.isdigit() and len(expected) < 10 else None
    )
    try:
        payment = attendance.record_door_payment(
            registration, amount, current_user, expected_open_cents=expected_cents
        )
    except AttendanceRefused as refusal:
        if on_page:
            db.session.rollback()
            return _door_page(
                event, registration, error=str(refusal.message), amount=amount_text, status=422
            )
        return _refused(event, refusal, registration_id=registration_id)
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
            amount=money(payment.amount_cents),
            name=name,
        )
    return _done(event, attendance.party_row(event, registration_id), message)


def _door_page(event: Event, registration: Registration, *, error=None, amount=None, status=200):
    row = attendance.party_row(event, registration.id)
    return render_template(
        "attendance/door_payment.html",
        event=event,
        row=row,
        filters=AttendanceFilters.from_args(request.values),
        error=error,
        amount=amount if amount is not None else _euros(row.open_cents),
    ), status


def _euros(cents: int) -> str:
    """Cents as a plain amount to type over: `4,50` in Dutch, `4.50` in English."""
    text = f"{Decimal(cents) / 100:.2f}"
    return text.replace(".", ",") if current_locale() == "nl" else text


# --- Cancel and refund --------------------------------------------------------------------


@bp.route("/events/<int:event_id>/parties/<int:registration_id>/refund", methods=["GET", "POST"])
@managed_event
def refund(event: Event, registration_id: int):
    """Cancel a party that paid online and refund it through Stripe, whatever the refund
    deadline, after a confirming button. When Stripe does not answer, nothing changes."""
    registration = _registration_of(event, registration_id)
    row = attendance.party_row(event, registration.id)
    filters = AttendanceFilters.from_args(request.values)
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
        except registrations.RegistrationRefused as refusal:
            db.session.rollback()
            return _refund_page(event, registration.id, filters, str(refusal.message), 422)
        audit.record(
            current_user,
            "registration.refund",
            subject_user_id=registration.user_id,
            registration_id=registration.id,
            before=before,
            after=audit.snapshot(registration, "status", "payment_state", "amount_paid_cents"),
        )
        db.session.commit()
        flash(
            _(
                "The registration of %(name)s is cancelled and %(amount)s is refunded online. "
                "We have e-mailed them.",
                name=name,
                amount=money(row.paid_online_cents),
            ),
            "success",
        )
        return redirect(_list_url(event, filters), code=303)
    if request.method == "POST":
        flash(_("This party has nothing paid online to refund."), "info")
        return redirect(_list_url(event, filters), code=303)
    return _refund_page(event, registration.id, filters)


def _refund_page(event, registration_id, filters, error=None, status=200):
    return render_template(
        "attendance/refund.html",
        event=event,
        row=attendance.party_row(event, registration_id),
        filters=filters,
        meals=_meal_names(event),
        error=error,
    ), status


# --- Walk-ins -----------------------------------------------------------------------------


class WalkInForm(FlaskForm):
    """A person who comes in without registering."""

    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[DataRequired(_l("Please fill in their name.")), Length(max=120)],
    )
    meal = RadioField(_l("Meal"), default="", validate_choice=False)
    diets = MultiCheckboxField(_l("Diet"), validate_choice=False)
    diet_note = StringField(
        _l("Note for the kitchen"), filters=[strip], validators=[Optional(), Length(max=300)]
    )
    paid = StringField(
        _l("Paid at the door"),
        filters=[strip],
        validators=[Length(max=20)],
        description=_l("The amount they paid just now, like 5,00. Leave empty if they pay later."),
    )

    def __init__(self, event: Event, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.meal.choices = [SelectChoice("", _l("No meal"))] + [
            SelectChoice(str(option.id), option.name) for option in event.meal_options
        ]
        diets = in_diet_order(diet for option in event.meal_options for diet in option.diets)
        self.diets.choices = [SelectChoice(diet, DIET_LABELS.get(diet, diet)) for diet in diets]

    def validate_paid(self, field) -> None:
        if field.data and not parse_euros(field.data):
            raise ValidationError(_l("Please write an amount in euros, like 4,50."))

    def walk_in(self) -> attendance.WalkIn:
        value = self.meal.data or ""
        return attendance.WalkIn(
            name=self.name.data or "",
            meal_option_id=int(value)
            if value.isascii() and value.isdigit() and len(value) < 10
            else None,
            diets=list(self.diets.data or []),
            diet_note=self.diet_note.data or "",
            paid_cents=parse_euros(self.paid.data) if self.paid.data else None,
        )


@bp.route("/events/<int:event_id>/walk-in", methods=["GET", "POST"])
@managed_event
def walk_in(event: Event):
    """Add a person at the door, within the seats and meals left: confirmed and checked in
    at once, and paid at the door when they paid. No e-mail address is needed."""
    form = WalkInForm(event, formdata=request.form if request.method == "POST" else None)
    filters = AttendanceFilters.from_args(request.values)
    if request.method == "POST" and form.validate():
        try:
            registration = attendance.add_walk_in(
                event, form.walk_in(), current_user, locale=current_locale()
            )
        except AttendanceRefused as refusal:
            db.session.rollback()
            target = {
                "name": form.name,
                "meal": form.meal,
                "diets": form.diets,
                "paid": form.paid,
            }.get(refusal.field)
            if target is not None:
                target.errors = [refusal.message]
            else:
                form.form_errors.append(refusal.message)
        else:
            name = registration.contact_name
            registration_id = registration.id
            db.session.commit()
            flash(_("%(name)s is added and checked in.", name=name), "success")
            # Back to the page of the list the new party is on, when it is on the list.
            page = attendance.page_of(event, filters, registration_id)
            if page is not None:
                filters = filters.on_page(page)
            return redirect(_list_url(event, filters, anchor=f"party-{registration_id}"), code=303)
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
@managed_event
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


class MessageForm(FlaskForm):
    """The organisers' message to the parties of an event."""

    audience = RadioField(_l("Send to"), default="confirmed", validate_choice=False)
    subject = StringField(
        _l("Subject"),
        filters=[strip],
        validators=[DataRequired(_l("Please write a subject.")), Length(max=150)],
    )
    body = TextAreaField(
        _l("Message"),
        filters=[strip],
        validators=[DataRequired(_l("Please write your message.")), Length(max=5000)],
        description=_l("We add a greeting, the event’s details and each party’s own link."),
    )


@bp.route("/events/<int:event_id>/message", methods=["GET", "POST"])
@managed_event
def message(event: Event):
    """Write a message that goes by e-mail (through the outbox) to every party with a
    place, or to every party on the waiting list."""
    form = MessageForm(formdata=request.form if request.method == "POST" else None)
    counts = {
        audience: len(attendance.recipients(event, audience)) for audience in attendance.AUDIENCES
    }
    form.audience.choices = [
        SelectChoice(
            "confirmed",
            ngettext(
                "Everyone with a place (%(num)d party)",
                "Everyone with a place (%(num)d parties)",
                counts["confirmed"],
            ),
        ),
        SelectChoice(
            "waiting",
            ngettext(
                "The waiting list (%(num)d party)",
                "The waiting list (%(num)d parties)",
                counts["waiting"],
            ),
        ),
    ]
    if request.method == "POST" and form.validate():
        try:
            sent = attendance.send_message(
                event, form.audience.data, form.subject.data, form.body.data, current_user
            )
        except AttendanceRefused as refusal:
            db.session.rollback()
            getattr(form, refusal.field, form.subject).errors = [refusal.message]
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


def _csv_amount(cents: int, decimal_comma: bool) -> str:
    text = f"{Decimal(cents) / 100:.2f}"
    return text.replace(".", ",") if decimal_comma else text


def _status_words(registration: Registration) -> str:
    return {
        "confirmed": _("Confirmed"),
        "pending_payment": _("Paying online"),
        "waitlisted": _("Waiting list"),
        "cancelled": _("Cancelled"),
    }[registration.status]


@bp.get("/events/<int:event_id>/attendees.csv")
@managed_event
def attendees_csv(event: Event):
    """The list (with its filters, all its pages) as a spreadsheet: one row per person, in
    UTF-8 with a byte order mark so Excel reads the accents. Dutch uses `;` between columns
    and a decimal comma, as Dutch Excel expects; English uses `,` and a decimal point."""
    filters = AttendanceFilters.from_args(request.args)
    rows = attendance.party_rows(event, filters)
    dutch = current_locale() == "nl"
    meals = _meal_names(event)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if dutch else ",", lineterminator="\r\n")
    writer.writerow(
        [
            _("Party"),
            _("Contact e-mail"),
            _("Name"),
            _("Meal"),
            _("Diets"),
            _("Note for the kitchen"),
            _("Status"),
            _("Price"),
            _("Payment"),
            _("Checked in"),
            _("Checked in by"),
            _("Ticket code"),
        ]
    )
    for row in rows:
        registration = row.registration
        for attendee in row.attendees:
            writer.writerow(
                [
                    csv_safe(registration.contact_name),
                    csv_safe(registration.contact_email),
                    csv_safe(attendee.name),
                    csv_safe(meals.get(attendee.meal_option_id, "")),
                    diet_list(attendee.diets),
                    csv_safe(attendee.diet_note),
                    _("Cancelled") if attendee.cancelled_at else _status_words(registration),
                    _csv_amount(event.ticket_price_cents + attendee.meal_price_cents, dutch),
                    row.payment_words,
                    format_datetime(attendee.checked_in_at, "yyyy-MM-dd HH:mm")
                    if attendee.checked_in_at
                    else "",
                    row.checked_in_by(attendee),
                    attendance.short_code(attendee),
                ]
            )
    filename = "{}-{}.csv".format(event.slug, _("attendees"))
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/events/<int:event_id>/attendees/print")
@managed_event
def print_list(event: Event):
    """The list (with its filters, all its pages) to print on A4: one line per person,
    sorted by name, with a box to tick at the door."""
    filters = AttendanceFilters.from_args(request.args)
    rows = attendance.party_rows(event, filters)
    return render_template(
        "attendance/print_list.html",
        event=event,
        filters=filters,
        people=attendance.people(rows),
        meals=_meal_names(event),
    )


@bp.get("/events/<int:event_id>/kitchen")
@managed_event
def kitchen(event: Event):
    """The kitchen summary to print: meals per meal and diet, with the notes."""
    return render_template(
        "attendance/kitchen.html", event=event, summary=attendance.summary(event)
    )
