"""Announcements (issue 17): the admins and the organisers write to members by interest
and to the people registered for an event; the record of what went to how many.

`/manage/announcements` lists them, `/manage/announcements/new` writes one: the form,
then a preview with the number of people it will reach (no JavaScript needed: the
preview carries the text in hidden fields), then sending. The rules of who may write
to whom, and who gets it, are in services/announcements.py.
"""

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..extensions import db
from ..forms.announcements import AnnouncementForm
from ..forms.fields import page_number
from ..i18n import current_locale
from ..models import Announcement
from ..services import announcements
from ..services.meeting_minutes import render as render_markdown
from .decorators import organiser_required
from .going_back import commit_or_show

bp = Blueprint("announcements", __name__, url_prefix="/manage/announcements")


@bp.get("/")
@organiser_required
def index():
    """The announcements this person may read, newest first, with how many each reached."""
    page = page_number(request.args.get("page"), 100_000)
    found, more = announcements.history(current_user, page)
    return render_template("announcements/index.html", announcements=found, page=page, more=more)


def _form(**kwargs) -> AnnouncementForm:
    form = AnnouncementForm(**kwargs)
    form.set_audiences(announcements.audiences_for(current_user), current_locale())
    return form


def _done(announcement: Announcement) -> str:
    return ngettext(
        "Your announcement is on its way to %(num)d person.",
        "Your announcement is on its way to %(num)d people.",
        announcement.recipient_count,
    )


@bp.route("/new", methods=["GET", "POST"])
@organiser_required
def new():
    """Write an announcement. A POST previews it (the default button), goes back to the
    form to change it (`action=edit`), or sends it (`action=send`); a refusal is shown by
    its field with 422, the typing kept."""
    if request.method == "GET":
        form = _form(formdata=None)
        form.audience.data = request.args.get("audience", "")
        return render_template("announcements/new.html", form=form)
    form = _form()
    if not form.validate_on_submit():
        return render_template("announcements/new.html", form=form), 422
    audience = announcements.find_audience(form.audience.data)
    if audience is None or not announcements.may_send(current_user, audience):
        form.audience.errors.append(_("Please choose who gets the announcement."))
        return render_template("announcements/new.html", form=form), 422
    action = request.form.get("action", "preview")
    if action == "edit":
        return render_template("announcements/new.html", form=form)
    if action == "send":
        sent = commit_or_show(
            form,
            lambda: announcements.send(
                current_user, audience, form.subject.data, form.body.data, current_locale()
            ),
            done=_done,
            to=lambda announcement: url_for("announcements.show", announcement_id=announcement.id),
        )
        return sent or (render_template("announcements/new.html", form=form), 422)
    return render_template(
        "announcements/preview.html",
        form=form,
        audience=audience,
        count=len(announcements.recipients(audience)),
        body_html=render_markdown(form.body.data),
    )


@bp.get("/<int:announcement_id>")
@organiser_required
def show(announcement_id: int):
    """One announcement's record: who wrote it, to which audience, what it said, when,
    to how many, and how its mails stand while that is kept. 404 when there is none,
    403 for an organiser of another collective."""
    announcement = db.session.scalar(
        announcements.visible_to(current_user).where(Announcement.id == announcement_id)
    )
    if announcement is None:
        abort(403 if db.session.get(Announcement, announcement_id) else 404)
    return render_template(
        "announcements/show.html",
        announcement=announcement,
        delivery=announcements.delivery(announcement),
    )
