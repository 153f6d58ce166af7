"""The board's pages for taking part in a general meeting: every proxy with its state
and a form to record one given on paper, and the attendance list with the quorum,
refreshed every few seconds during the meeting.

The board and admins only (`board_required`): others get 403, whoever is not logged in
is sent to the log-in page.
"""

import sqlalchemy as sa
from flask import Blueprint, make_response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db, htmx
from ..forms.meeting_proxies import PaperProxyForm
from ..models import Meeting, utcnow
from ..services import meeting_attendance, meeting_proxies
from .decorators import board_required
from .going_back import commit_or_show

bp = Blueprint("manage_meeting_proxies", __name__, url_prefix="/manage/meetings")

ATTENDANCE_ID = "meeting-attendance"


def _meeting(meeting_id: int) -> Meeting:
    return db.first_or_404(sa.select(Meeting).where(Meeting.id == meeting_id))


@bp.route("/<int:meeting_id>/proxies", methods=["GET", "POST"])
@board_required
def proxies(meeting_id: int):
    """Every proxy of the meeting with its state; record a proxy given on paper (by the
    two member numbers): accepted at once."""
    meeting = _meeting(meeting_id)
    form = PaperProxyForm() if request.method == "POST" else PaperProxyForm(formdata=None)
    if request.method == "POST" and form.validate_on_submit():

        def record():
            grantor = meeting_proxies.member_by_number(form.grantor_number.data, "grantor_number")
            holder = meeting_proxies.member_by_number(form.holder_number.data, "holder_number")
            return meeting_proxies.record_paper(meeting, grantor, holder, current_user)

        saved = commit_or_show(
            form,
            record,
            done=_("The paper proxy is recorded."),
            to=lambda proxy: request.path,
            default="grantor_number",
        )
        if saved:
            return saved
        meeting = _meeting(meeting_id)
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "manage_meetings/proxies.html",
            meeting=meeting,
            proxies=meeting_proxies.all_proxies(meeting),
            form=form,
            name_of=meeting_proxies.display_name,
        ),
        status,
    )


@bp.get("/<int:meeting_id>/attendance")
@board_required
def attendance(meeting_id: int):
    """Who is present (in the room, online), who is represented by whom, who registered
    and is not here (yet), and the quorum for ordinary decisions and for a change of the
    statutes. An htmx request aimed at the list (its polling) gets only the list."""
    meeting = _meeting(meeting_id)
    context = {
        "meeting": meeting,
        "listed": meeting_attendance.attendance_list(meeting),
        "name_of": meeting_proxies.display_name,
        "now": utcnow(),
    }
    if htmx and htmx.target == ATTENDANCE_ID:
        html = render_template("manage_meetings/_attendance.html", **context)
    else:
        html = render_template("manage_meetings/attendance.html", **context)
    response = make_response(html)
    response.vary.update(("HX-Request", "HX-Target"))
    return response
