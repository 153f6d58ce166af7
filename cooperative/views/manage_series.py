"""The organisers' pages for event series (`/manage/series`): make a series, change it,
see its dates, cancel one date.

Organisers manage the series of their own collectives, admins every series; others get
403, and whoever is not logged in is sent to the log-in page. Changing a series that has
dates people registered for shows those dates and asks, in a second step on the same
form, whether to change them too (their people are e-mailed) or leave them.
"""

from datetime import date
from functools import wraps

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..extensions import db, htmx
from ..forms.series import CHANGE, KEEP, SeriesForm
from ..i18n import local_zone
from ..models import Event, EventSeries, utcnow
from ..services import series as series_service
from ..services.payments import PaymentUnavailable
from ..services.recurrence import occurs_on
from .buttons import submitted_action
from .decorators import organiser_required
from .going_back import commit_or_go_back, commit_or_show, roll_back_to
from .manage import _collective_choices, with_new_meal

bp = Blueprint("manage_series", __name__, url_prefix="/manage/series")

FORM_ID = "series-form"


def managed_series(view):
    """Load the series `series_id` for a view that manages it: 404 when there is none,
    403 for anyone but the organisers of its collective and admins."""

    @wraps(view)
    @organiser_required
    def checked(series_id: int, **kwargs):
        series = db.session.get(EventSeries, series_id)
        if series is None:
            abort(404)
        if not current_user.can_manage(series.collective_id):
            abort(403)
        return view(series, **kwargs)

    return checked


@bp.get("/")
@organiser_required
def index():
    """The series the person manages, with their rhythm and next date."""
    query = (
        sa.select(EventSeries)
        .options(sa.orm.joinedload(EventSeries.collective))
        .order_by(EventSeries.title, EventSeries.id)
    )
    if not current_user.is_admin:
        query = query.where(EventSeries.collective_id.in_(current_user.managed_collective_ids))
    all_series = db.session.scalars(query).all()
    next_starts = dict(
        db.session.execute(
            sa.select(Event.series_id, sa.func.min(Event.starts_at))
            .where(
                Event.series_id.in_([series.id for series in all_series]),
                Event.starts_at > utcnow(),
                Event.status != "cancelled",
            )
            .group_by(Event.series_id)
        ).all()
    )
    return render_template(
        "manage_series/index.html", all_series=all_series, next_starts=next_starts
    )


def _form(formdata=None, series: EventSeries | None = None) -> SeriesForm:
    options = {"collectives": _collective_choices()}
    if formdata is None and series is not None:
        return SeriesForm.for_series(series, **options)
    return SeriesForm(formdata=formdata, **options)


def _render_form(form, series, status=200, *, focus=None, changes=(), meal_errors=None):
    """The series form page, or only the form when htmx asked for it."""
    if focus is None and status == 422:
        focus = form.first_error_id()
    context = {
        "form": form,
        "series": series,
        "focus": focus,
        "changes": changes,
        "meal_errors": meal_errors or {},
        "meals_taken": {},
        "form_url": (
            url_for("manage_series.edit", series_id=series.id)
            if series is not None
            else url_for("manage_series.new")
        ),
    }
    template = (
        "manage_series/_form.html" if htmx and htmx.target == FORM_ID else "manage_series/form.html"
    )
    return render_template(template, **context), status, {"Vary": "HX-Request, HX-Target"}


def _edit(series: EventSeries | None):
    """Draw the form, redraw it with a meal added or removed, or save it."""
    if request.method == "GET":
        return _render_form(_form(series=series), series)
    action, index = submitted_action(add="add_meal", remove="remove_meal", submit="save")
    if action == "add":
        return with_new_meal(_form(request.form, series), series, _render_form)
    if action == "remove":
        form = _form(request.form, series)
        if index is not None and 0 <= index < len(form.meals):
            form = _form(SeriesForm.without_meal(request.form, index), series)
        return _render_form(form, series, focus="add-meal")
    form = _form(request.form, series)
    if action == "redraw":
        return _render_form(form, series)
    if not form.validate():
        return _render_form(form, series, 422)
    settings = form.settings()
    if series is None:
        saved = commit_or_show(
            form,
            lambda: series_service.save_series(settings),
            done=_("The series is saved and its first dates are online."),
            to=lambda made: url_for("manage_series.show", series_id=made.id),
        )
        return saved or _render_form(form, series, 422)
    changes = series_service.review_change(series, settings)
    registered = [change for change in changes if change.registered]
    if registered and form.registered_dates.data not in (KEEP, CHANGE):
        form.registered_dates.errors = [
            ngettext(
                "People have registered for %(num)d date this change touches. "
                "Please choose what happens to it.",
                "People have registered for %(num)d dates this change touches. "
                "Please choose what happens to them.",
                len(registered),
            )
        ]
        return _render_form(form, series, 422, focus="registered_dates-0", changes=registered)
    try:
        saved = commit_or_show(
            form,
            lambda: series_service.change_series(
                series, settings, include_registered=form.registered_dates.data == CHANGE
            ),
            done=_changed_message,
            to=url_for("manage_series.show", series_id=series.id),
        )
    except PaymentUnavailable:
        db.session.rollback()
        form.form_errors.append(
            _("The online payments could not be refunded right now. Please try again.")
        )
        saved = None
    return saved or _render_form(form, series, 422, changes=registered)


def _changed_message(outcome: series_service.ChangeOutcome) -> str:
    return _(
        "Your changes are saved: %(changed)d dates changed, %(dropped)d taken out, "
        "%(kept)d left as they were, %(made)d new. %(mailed)d parties e-mailed.",
        changed=len(outcome.changed),
        dropped=len(outcome.dropped),
        kept=len(outcome.kept),
        made=len(outcome.made),
        mailed=outcome.mailed,
    )


@bp.route("/new", methods=["GET", "POST"])
@organiser_required
def new():
    """A new series: its rhythm and the event it repeats."""
    return _edit(None)


@bp.route("/<int:series_id>/edit", methods=["GET", "POST"])
@managed_series
def edit(series: EventSeries):
    """Change a series; dates with registrations change only when the organiser says so."""
    return _edit(series)


@bp.get("/<int:series_id>")
@managed_series
def show(series: EventSeries):
    """The series' rhythm and its dates to come, each with its parties and a cancel link."""
    now = utcnow()
    events = db.session.scalars(
        sa.select(Event)
        .where(Event.series_id == series.id, Event.ends_at >= now)
        .order_by(Event.starts_at, Event.id)
    ).all()
    parties = series_service.active_party_counts([event.id for event in events])
    return render_template("manage_series/show.html", series=series, events=events, parties=parties)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(404)


@bp.route("/<int:series_id>/dates/<value>/cancel", methods=["GET", "POST"])
@managed_series
def cancel_date(series: EventSeries, value: str):
    """Cancel one date after a confirming button: its event is cancelled (its people are
    e-mailed) and the date is not made again."""
    day = _day(value)
    if not occurs_on(series, day, local_zone()):
        abort(404)
    back = url_for("manage_series.show", series_id=series.id)
    if request.method == "POST":
        try:
            return commit_or_go_back(
                lambda: series_service.cancel_date(series, day),
                back=back,
                done=lambda cancelled: ngettext(
                    "The date is cancelled. We have e-mailed %(num)d party.",
                    "The date is cancelled. We have e-mailed %(num)d parties.",
                    len(cancelled),
                ),
            )
        except PaymentUnavailable:
            return roll_back_to(
                back,
                _(
                    "The online payments could not be refunded right now, so the date is "
                    "not cancelled yet. Please try again in a moment."
                ),
            )
    event = db.session.scalar(
        sa.select(Event).where(Event.series_id == series.id, Event.occurrence_date == day)
    )
    parties = series_service.active_party_counts([event.id]).get(event.id, 0) if event else 0
    return render_template(
        "manage_series/cancel_date.html", series=series, day=day, event=event, parties=parties
    )
