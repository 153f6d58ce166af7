"""Registering for an event, and a registration's private pages: `/r/<token>`, `/t/<ticket>`.

Nobody needs an account: the private link in the e-mail is the key. A registration's
pages show only that registration.
"""

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from ..extensions import db, limiter
from ..forms.fields import checkout_session_id, show_refusal
from ..forms.registration import PartyChangeForm
from ..i18n import clock_time, current_locale
from ..models import Attendee, EventStatus, Payment, Registration, RegistrationStatus
from ..qr import qr_svg
from ..refusals import Refused
from ..services import attendance, payments, privacy, tickets
from ..services import registration as registrations
from .buttons import submitted_action
from .checkout import go_to_checkout
from .decorators import at_the_door
from .events import meeting_page, published_event, registration_form, render_event
from .going_back import commit_or_go_back, go_to, roll_back_to

bp = Blueprint("registrations", __name__)


def _pressed() -> tuple[str, int | None]:
    """Which button sent the form: register, add a person, remove one, or just redraw."""
    return submitted_action(add="add_person", remove="remove_person", submit="submit")


def _registration_limit() -> str:
    return current_app.config["REGISTRATION_RATE_LIMIT"]


def _only_redrawn() -> bool:
    """Adding or removing a person redraws the form: it does not count toward the limit."""
    return _pressed()[0] != "submit"


@bp.post("/events/<slug>/register")
@limiter.limit(_registration_limit, exempt_when=_only_redrawn)
def register(slug: str):
    """Register a party, or redraw the form after adding or removing a person.

    A refused registration (full, closed, bad input) comes back as the form with its
    messages and everything typed, with status 422.
    """
    event = published_event(slug)
    to_meeting = meeting_page(event)
    if to_meeting is not None:  # a general meeting: members register on its page
        return to_meeting
    form = registration_form(event, request.form)
    action, index = _pressed()
    if action != "submit":
        if action == "add":
            form.add_person()
        elif action == "remove":
            form.remove_person(index if index is not None else -1)
        # The running total says what is wrong with the amount per meal, as submit does.
        form.check_meal_amount()
        return render_event(event, form)
    if not form.validate():
        return render_event(event, form, 422)
    try:
        registration = registrations.register(
            event,
            form.contact_name.data,
            form.contact_email.data,
            form.choices(),
            meal_amount_cents=form.meal_amount_cents,
            user=current_user if current_user.is_authenticated else None,
            locale=current_locale(),
            join_waitlist=request.form.get("submit") == "waitlist",
            pay_online=form.pays_online,
        )
    except registrations.AlreadyRegistered as known:
        registrations.resend_link(known.registration)
        db.session.commit()
        return go_to(url_for("registrations.already_registered", slug=event.slug))
    except Refused as refusal:
        db.session.rollback()
        show_refusal(form, refusal)
        return render_event(event, form, 422)
    if registration.status == RegistrationStatus.PENDING_PAYMENT:
        db.session.commit()
        return _checkout(registration)
    # Made before the commit, which would expire the registration and load it again.
    private_page = url_for("registrations.manage", token=registration.token)
    db.session.commit()
    return go_to(private_page)


def _checkout(registration: Registration):
    """Send the person to Stripe's page to pay what the registration owes.

    When Stripe does not answer, the seats stay held and the private page says so, with
    a button to try again.
    """
    try:
        url = go_to_checkout(lambda: registrations.start_payment(registration))
    except payments.PaymentUnavailable:
        db.session.rollback()
        flash(
            _(
                "Online payment does not work right now. Your seats are held until %(time)s: "
                "please try again in a moment.",
                time=clock_time(registration.hold_expires_at),
            ),
            "error",
        )
        return go_to(url_for("registrations.manage", token=registration.token))
    except Refused as refusal:
        db.session.rollback()
        flash(str(refusal.message), "error")
        return go_to(url_for("registrations.manage", token=registration.token))
    return go_to(url)


@bp.get("/events/<slug>/registered")
def already_registered(slug: str):
    """Said when an address registers twice: the link went to that address, not to here."""
    event = published_event(slug)
    return render_template("registrations/already.html", event=event)


def _registration_or_404(token: str) -> Registration:
    registration = registrations.find_registration(token)
    if registration is None:
        abort(404)
    return registration


@bp.get("/r/<token>")
def manage(token: str):
    """A registration's private page: status, party, meals, amount, tickets.

    Coming back from Stripe (`session_id`), it asks Stripe how the payment stands, so the
    page is right even before the webhook arrives; then it shows itself at its plain URL.
    """
    registration = _registration_or_404(token)
    session_id = request.args.get("session_id", "")
    if session_id:
        # Looked up only when shaped like Stripe's (never a NUL, never 10 MB of text).
        payment = checkout_session_id(session_id) and db.session.scalar(
            sa.select(Payment).where(
                Payment.registration_id == registration.id,
                Payment.stripe_checkout_session_id == session_id,
            )
        )
        if payment:
            try:
                payments.sync_checkout(payment)
            except payments.PaymentUnavailable:
                db.session.rollback()  # Stripe's webhook settles it a little later
            else:
                db.session.commit()
        return redirect(url_for("registrations.manage", token=token), code=303)
    if (
        request.args.get("checkout") == "cancelled"
        and registration.status == RegistrationStatus.PENDING_PAYMENT
    ):
        flash(_("You have not paid yet. Your seats are held for a little while."), "info")
        return redirect(url_for("registrations.manage", token=token), code=303)
    return render_template(
        "registrations/manage.html",
        registration=registration,
        event=registration.event,
        position=registrations.waitlist_position(registration),
        qr=ticket_qr,
    )


@bp.post("/r/<token>/pay")
def pay(token: str):
    """Go (again) to Stripe's page to pay a held registration."""
    return _checkout(_registration_or_404(token))


@bp.route("/r/<token>/cancel", methods=["GET", "POST"])
def cancel(token: str):
    """Cancel the whole party or one person (`attendee`), after a confirming button."""
    registration = _registration_or_404(token)
    attendee = _attendee_of(registration, request.values.get("attendee", ""))
    if request.method == "POST":
        here = url_for("registrations.manage", token=token)
        try:
            if attendee is not None:
                return commit_or_go_back(
                    lambda: registrations.cancel_attendee(attendee),
                    back=here,
                    done=lambda _cancelled: _("%(name)s’s place is cancelled.", name=attendee.name),
                )
            return commit_or_go_back(
                lambda: registrations.cancel(registration),
                back=here,
                done=_("Your registration is cancelled. We have sent you an e-mail."),
            )
        except payments.PaymentUnavailable:
            return roll_back_to(
                here,
                _(
                    "The refund could not be made right now, so nothing is cancelled yet. "
                    "Please try again in a moment."
                ),
            )
    return render_template(
        "registrations/cancel.html",
        registration=registration,
        event=registration.event,
        attendee=attendee,
    )


def _attendee_of(registration: Registration, value: str) -> Attendee | None:
    """The active attendee `value` (an id) of this registration; 404 for anyone else's."""
    if not value:
        return None
    attendee = next(
        (a for a in registration.active_attendees if str(a.id) == value),
        None,
    )
    if attendee is None:
        abort(404)
    return attendee


@bp.route("/r/<token>/forget", methods=["GET", "POST"])
def forget(token: str):
    """After the event, a guest removes their names and address (after a confirming button).

    The counts and amounts stay, without anyone's name; the link then shows nothing personal.
    """
    registration = _registration_or_404(token)
    if request.method == "POST":
        return commit_or_go_back(
            lambda: privacy.forget_guest(registration),
            back=url_for("registrations.manage", token=token),
            done=_("Your data is removed. Thank you for coming!"),
        )
    return render_template(
        "registrations/forget.html", registration=registration, event=registration.event
    )


@bp.route("/r/<token>/edit", methods=["GET", "POST"])
def edit(token: str):
    """Change the names of the party, and diets until each meal's deadline.

    The party is read by `PartyChangeForm`, each person cleaned and limited as when
    registering. Refuses (422, nothing saved, what was typed kept, the message next to its
    field) an empty or too long name or note, what the service refuses, and a form for a
    party that has changed since it was opened.
    """
    registration = _registration_or_404(token)
    form = PartyChangeForm(registration)
    refused = False
    if request.method == "POST":
        refused = not form.validate()
        for entry, attendee in [] if form.party_changed else form.party:
            if entry.errors:
                continue
            person = entry.form
            try:
                registrations.update_attendee(
                    attendee, person.name.data, person.diets.data or [], person.diet_note.data or ""
                )
            except Refused as refusal:
                form.show_refusal(entry, refusal)
                refused = True
        if not refused:
            db.session.commit()
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("registrations.manage", token=token), code=303)
        db.session.rollback()
    return render_template(
        "registrations/edit.html",
        registration=registration,
        event=registration.event,
        form=form,
        refused=refused,
    ), (422 if refused else 200)


def ticket_qr(attendee: Attendee) -> Markup:
    """The ticket's QR code as inline SVG; it links to the ticket's page."""
    return qr_svg(tickets.ticket_url(attendee))


@bp.get("/t/<ticket>")
def ticket(ticket: str):
    """One person's ticket with its QR code."""
    attendee = registrations.find_attendee(ticket)
    if attendee is None:
        abort(404)
    event = attendee.registration.event
    # The event's organisers (who scanned the QR code at the door) also see the party,
    # meal and payment, with the check-in button.
    door = None
    if at_the_door(event):
        door = attendance.party_row(event, attendee.registration_id)
    return render_template(
        "registrations/ticket.html",
        attendee=attendee,
        registration=attendee.registration,
        event=event,
        qr=ticket_qr,
        cancelled=(
            attendee.cancelled_at is not None
            or attendee.registration.event.status == EventStatus.CANCELLED
        ),
        short_code=attendance.short_code(attendee),
        door=door,
        door_meals={option.id: option.name for option in event.meal_options},
        door_filters=attendance.AttendanceFilters(),
    )
