"""The minutes of a general meeting: the secretary's page at
`/manage/meetings/<id>/minutes` (write, fill in from the meeting's data, preview, save,
approve, publish, withdraw), and the published minutes for members at
`/meetings/<slug>/minutes` (and as a section of the meeting's page).

The board's pages are for the board and admins (`board_required`). The members' page is
for whoever may read the meetings (`meetings.may_read`), and only once the minutes are
published; before, it is 404. The rules are in `services.meeting_minutes`.
"""

import sqlalchemy as sa
from flask import Blueprint, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..forms.fields import show_refusal
from ..forms.minutes import ApproveMinutesForm, MinutesForm
from ..i18n import current_locale, local_zone
from ..models import Meeting, User, utcnow
from ..refusals import Refused
from ..services import meeting_minutes as minutes
from ..services import meetings as meeting_service
from ..services.meeting_minutes_draft import draft
from .decorators import board_required
from .going_back import commit_or_go_back, commit_or_show
from .meetings import meeting_with_agenda, members_only

bp = Blueprint("minutes", __name__)


@bp.app_template_filter("markdown")
def markdown_filter(text: str, top_level: int = 2):
    """Markdown as safe HTML (`meeting_minutes.render`)."""
    return minutes.render(text, top_level)


def _edit_url(meeting: Meeting) -> str:
    return url_for("minutes.edit", meeting_id=meeting.id)


def _render(meeting: Meeting, form=None, approve_form=None, preview=None, status=200):
    if form is None:
        form = MinutesForm(formdata=None, text=meeting.minutes_text)
    if approve_form is None:
        approve_form = ApproveMinutesForm(
            formdata=None, approved_on=utcnow().astimezone(local_zone()).date()
        )
    updated_by = (
        db.session.get(User, meeting.minutes_updated_by_id)
        if meeting.minutes_updated_by_id
        else None
    )
    return (
        render_template(
            "manage_meetings/minutes.html",
            meeting=meeting,
            form=form,
            approve_form=approve_form,
            preview=preview,
            started=minutes.has_started(meeting),
            locked=minutes.is_locked(meeting),
            updated_by=updated_by,
        ),
        status,
    )


@bp.route("/manage/meetings/<int:meeting_id>/minutes", methods=["GET", "POST"])
@board_required
def edit(meeting_id: int):
    """Write the minutes. Buttons: save (the default), fill in a draft from the
    meeting's data (into the text area, not saved), preview. Refused (422, the text kept)
    before the meeting starts and once published."""
    meeting = meeting_with_agenda(Meeting.id == meeting_id)
    if request.method == "GET":
        return _render(meeting)
    form = MinutesForm()
    if not form.validate_on_submit():
        return _render(meeting, form=form, status=422)
    if "fill" in request.form or "preview" in request.form:
        try:
            minutes.check_writable(meeting)
        except Refused as refusal:
            show_refusal(form, refusal, default="text")
            return _render(meeting, form=form, status=422)
        if "preview" in request.form:
            return _render(meeting, form=form, preview=form.text.data or "")
        filled = draft(meeting, current_locale())
        typed = (form.text.data or "").rstrip()
        form.text.data = f"{typed}\n\n{filled}" if typed else filled
        flash(_("The data of the meeting are filled in below. Nothing is saved yet."), "info")
        return _render(meeting, form=form)
    saved = commit_or_show(
        form,
        lambda: minutes.save(meeting, form.text.data or "", current_user),
        done=lambda unapproved: (
            _("The minutes are saved. They changed after approval: approve them again.")
            if unapproved
            else _("The minutes are saved.")
        ),
        to=_edit_url(meeting),
        default="text",
    )
    if saved:
        return saved
    return _render(meeting_with_agenda(Meeting.id == meeting_id), form=form, status=422)


@bp.post("/manage/meetings/<int:meeting_id>/minutes/approve")
@board_required
def approve(meeting_id: int):
    """Record the day the minutes were approved (422 with the day kept when refused)."""
    meeting = meeting_with_agenda(Meeting.id == meeting_id)
    form = ApproveMinutesForm()
    if form.validate_on_submit():
        approved = commit_or_show(
            form,
            lambda: minutes.approve(meeting, form.approved_on.data),
            done=_("The minutes are approved. Publish them for the members when ready."),
            to=_edit_url(meeting),
            default="approved_on",
        )
        if approved:
            return approved
        meeting = meeting_with_agenda(Meeting.id == meeting_id)
    return _render(meeting, approve_form=form, status=422)


def _publication(meeting_id: int, change, done: str, unchanged: str):
    """Ask `change(meeting)` to publish or withdraw the minutes and go back to their
    page, saying `done`, or `unchanged` when they were so already (a second tap)."""
    meeting = meeting_with_agenda(Meeting.id == meeting_id)
    return commit_or_go_back(
        lambda: change(meeting),
        back=_edit_url(meeting),
        done=lambda changed: done if changed else unchanged,
    )


@bp.post("/manage/meetings/<int:meeting_id>/minutes/publish")
@board_required
def publish(meeting_id: int):
    """Publish the approved minutes to the members."""
    return _publication(
        meeting_id,
        minutes.publish,
        _("The minutes are published: members read them on the meeting's page."),
        _("The minutes were published already."),
    )


@bp.post("/manage/meetings/<int:meeting_id>/minutes/unpublish")
@board_required
def unpublish(meeting_id: int):
    """Take the minutes from the members' pages, so they may be changed."""
    return _publication(
        meeting_id,
        minutes.unpublish,
        _("The publication is withdrawn: members no longer see the minutes."),
        _("The minutes were not published."),
    )


@bp.get("/meetings/<slug>/minutes")
@login_required
def show(slug: str):
    """The published minutes, for members; 404 until they are published."""
    if not meeting_service.may_read(current_user):
        return members_only(None)
    meeting = db.first_or_404(
        sa.select(Meeting).where(
            Meeting.slug == slug,
            Meeting.convened_at.is_not(None),
            Meeting.minutes_published_at.is_not(None),
        )
    )
    return render_template("meetings/minutes.html", meeting=meeting)
