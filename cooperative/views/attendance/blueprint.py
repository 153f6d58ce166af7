"""The attendance blueprint, and how an action on a party answers (`answer`, `refused`)."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from ...extensions import db, htmx
from ...forms.filters import AttendanceFilterForm
from ...ids import row_id
from ...models import Attendee, Event, Registration
from ...refusals import Refused
from ...services import attendance
from ...services.attendance import AttendanceFilters, PartyRow
from . import display

bp = Blueprint("attendance", __name__, url_prefix="/manage")

LIST_ID = "attendee-list"
CHECKIN_CHANGED = "checkin-changed"

bp.add_app_template_filter(display.payment_words, "payment_words")


# --- Helpers ------------------------------------------------------------------------------


def meal_names(event: Event) -> dict[int, str]:
    return {option.id: option.name for option in event.meal_options}


def list_url(event: Event, filters: AttendanceFilters, anchor: str | None = None) -> str:
    return url_for("attendance.attendees", event_id=event.id, _anchor=anchor, **filters.as_args())


def attendee_of(event: Event, attendee_id: int) -> Attendee:
    """The attendee `attendee_id` of this event; 404 for anyone else's."""
    return db.first_or_404(
        sa.select(Attendee)
        .join(Registration, Attendee.registration_id == Registration.id)
        .where(Attendee.id == attendee_id, Registration.event_id == event.id)
    )


def registration_of(event: Event, registration_id: int) -> Registration:
    """The registration `registration_id` of this event; 404 for anyone else's."""
    return db.first_or_404(
        sa.select(Registration).where(
            Registration.id == registration_id, Registration.event_id == event.id
        )
    )


def _back_to_ticket(event: Event) -> Attendee | None:
    """The ticket an action came from (`back=ticket`, `ticket_attendee=<id>`), if any."""
    if request.form.get("back") != "ticket":
        return None
    attendee_id = row_id(request.form.get("ticket_attendee"))
    return attendee_of(event, attendee_id) if attendee_id else None


def answer(event: Event, row: PartyRow, message: str, *, error: bool = False):
    """Answer an action on the party `row`: its row for htmx (with the screen-reader
    message and the `checkin-changed` event), else a redirect to the list or the ticket it
    came from; and commit the action.

    The answer is made before the commit, inside the action's transaction: a commit
    expires what the session holds, and the row, the event and the volunteer would all
    have to be loaded again to draw it.
    """
    filters = AttendanceFilterForm(request.form).filters
    ticket = _back_to_ticket(event)
    if htmx and ticket is None:
        html = render_template(
            "attendance/_party_response.html",
            row=row,
            event=event,
            filters=filters,
            meals=meal_names(event),
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
        answer = redirect(list_url(event, filters, anchor=f"party-{row.id}"), code=303)
    db.session.commit()
    # Only once it is saved: a commit that fails leaves no message saying it is done.
    flash(message, "error" if error else "success")
    return answer


def refused(event: Event, refusal: Refused, **party):
    """Undo what the refused action began, and answer with the party (`registration_id=`
    or `attendee_id=`) as it is and why."""
    db.session.rollback()
    row = attendance.party_row(event, **party)
    if row is None:
        abort(404)
    return answer(event, row, str(refusal.message), error=True)
