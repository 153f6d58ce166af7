"""The board's pages for the general meeting: create and change a meeting,
its agenda and documents; write, preview and send the convocation; print the letters.

The board and admins only (`board_required`): others get 403, whoever is not logged in
is sent to the log-in page.
"""

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..forms.fields import show_refusal
from ..forms.meetings import AgendaItemForm, ConvocationForm, DocumentForm, MeetingForm
from ..i18n import current_locale
from ..models import AgendaDocument, AgendaItem, Meeting, utcnow
from ..refusals import Refused
from ..services import meetings as meeting_service
from ..services.mail import external_url
from .decorators import board_required
from .going_back import commit_or_go_back, commit_or_redraw, form_page, roll_back_to
from .meetings import document_with_content, meeting_with_agenda, pdf_response

bp = Blueprint("manage_meetings", __name__, url_prefix="/manage/meetings")

# Room for the form's other fields and the multipart framing around a document.
UPLOAD_OVERHEAD = 64 * 1024


@bp.url_value_preprocessor
def _room_for_documents(endpoint, values) -> None:
    """An upload may be as large as MEETING_DOCUMENT_MAX_BYTES (and a little more, so a
    file just over it gets a clear message on the form, not 413). This runs before any
    `before_request` reads the body (the CSRF check does)."""
    if endpoint == "manage_meetings.upload":
        request.max_content_length = (
            current_app.config["MEETING_DOCUMENT_MAX_BYTES"] + UPLOAD_OVERHEAD
        )


def _meeting(meeting_id: int) -> Meeting:
    return meeting_with_agenda(Meeting.id == meeting_id)


def _show_url(meeting: Meeting, item: AgendaItem | None = None) -> str:
    """The meeting's page, at `item` when given."""
    anchor = f"item-{item.id}" if item is not None else None
    return url_for("manage_meetings.show", meeting_id=meeting.id, _anchor=anchor)


def _item(meeting: Meeting, item_id: int) -> AgendaItem:
    item = next((item for item in meeting.items if item.id == item_id), None)
    if item is None:
        abort(404)
    return item


@bp.get("/")
@board_required
def index():
    """Every meeting, latest first."""
    meetings = db.session.scalars(
        sa.select(Meeting).order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    ).all()
    return render_template("manage_meetings/index.html", meetings=meetings)


@bp.route("/new", methods=["GET", "POST"])
@board_required
def new():
    """A new meeting, with its event (a draft until the convocation goes out)."""
    form = MeetingForm()
    if request.method == "GET":
        form = MeetingForm(
            formdata=None,
            notice_days=current_app.config["MEETING_NOTICE_DAYS"],
            max_proxies_per_member=current_app.config["MEETING_MAX_PROXIES"],
            proxies_allowed=True,
        )
    return form_page(
        form,
        lambda: meeting_service.save_meeting(form.plan()),
        done=_("The meeting is saved. Now add its agenda."),
        to=_show_url,
        default="title",
        template="manage_meetings/form.html",
        meeting=None,
    )


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@board_required
def edit(meeting_id: int):
    """Change the meeting (until its convocation went out)."""
    meeting = _meeting(meeting_id)
    form = MeetingForm.for_meeting(meeting) if request.method == "GET" else MeetingForm()
    return form_page(
        form,
        lambda: meeting_service.save_meeting(form.plan(), meeting),
        done=_("The meeting is saved."),
        to=_show_url(meeting),
        default="title",
        template="manage_meetings/form.html",
        meeting=meeting,
    )


def _render_meeting(meeting: Meeting, status: int = 200, **forms):
    return (
        render_template(
            "manage_meetings/show.html",
            meeting=meeting,
            item_form=forms.get("item_form") or AgendaItemForm(formdata=None),
            document_forms=forms.get("document_forms", {}),
            document_form_for=_document_form,
            counts=meeting_service.convocation_counts(meeting),
            locale=current_locale(),
        ),
        status,
    )


def _document_form(item: AgendaItem) -> DocumentForm:
    """An empty upload form for one item (each item's fields have their own names)."""
    return DocumentForm(formdata=None, prefix=f"item-{item.id}")


@bp.get("/<int:meeting_id>")
@board_required
def show(meeting_id: int):
    """The meeting with its agenda, documents and convocation."""
    return _render_meeting(_meeting(meeting_id))


@bp.post("/<int:meeting_id>/items")
@board_required
def add_item(meeting_id: int):
    """Add an item at the end of the agenda."""
    meeting = _meeting(meeting_id)
    form = AgendaItemForm()
    return commit_or_redraw(
        form,
        lambda: meeting_service.add_item(
            meeting,
            form.title_nl.data,
            form.title_en.data or "",
            form.description.data or "",
            form.has_vote.data,
            form.changes_statutes.data,
        ),
        done=_("The item is on the agenda."),
        to=_show_url(meeting),
        default="title_nl",
        redraw=lambda status: _render_meeting(_meeting(meeting_id), status, item_form=form),
    )


@bp.post("/<int:meeting_id>/items/<int:item_id>/move")
@board_required
def move_item(meeting_id: int, item_id: int):
    """Move an item one place up or down (`direction`: up or down)."""
    meeting = _meeting(meeting_id)
    item = _item(meeting, item_id)
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if step is None:
        abort(400)
    try:
        meeting_service.move_item(item, step)
    except Refused as refusal:
        return roll_back_to(_show_url(meeting), refusal)
    db.session.commit()
    return redirect(_show_url(meeting, item), code=303)


@bp.post("/<int:meeting_id>/items/<int:item_id>/remove")
@board_required
def remove_item(meeting_id: int, item_id: int):
    """Take an item off the agenda."""
    meeting = _meeting(meeting_id)
    item = _item(meeting, item_id)
    return commit_or_go_back(
        lambda: meeting_service.remove_item(item),
        back=_show_url(meeting),
        done=_("The item is taken off the agenda."),
    )


@bp.post("/<int:meeting_id>/items/<int:item_id>/documents")
@board_required
def upload(meeting_id: int, item_id: int):
    """Attach a PDF to an item; a file that is no PDF or too large is refused (422)."""
    meeting = _meeting(meeting_id)
    item = _item(meeting, item_id)
    form = DocumentForm(prefix=f"item-{item.id}")

    def add():
        upload = form.file.data
        return meeting_service.add_document(
            item, upload.filename, upload.mimetype, upload.read(), current_user
        )

    return commit_or_redraw(
        form,
        add,
        done=_("The document is added."),
        to=_show_url(meeting, item),
        default="file",
        redraw=lambda status: _render_meeting(
            _meeting(meeting_id), status, document_forms={item_id: form}
        ),
    )


@bp.get("/<int:meeting_id>/documents/<int:document_id>")
@board_required
def document(meeting_id: int, document_id: int):
    """A document as the board sees it, also before the convocation."""
    document = _document(meeting_id, document_id)
    return pdf_response(document)


def _document(meeting_id: int, document_id: int) -> AgendaDocument:
    return document_with_content(
        AgendaDocument.id == document_id, AgendaItem.meeting_id == meeting_id
    )


@bp.post("/<int:meeting_id>/documents/<int:document_id>/remove")
@board_required
def remove_document(meeting_id: int, document_id: int):
    """Take a document off its item; refused (with why) for a statutes change's text once
    the meeting is convened."""
    document = _document(meeting_id, document_id)
    return commit_or_go_back(
        lambda: meeting_service.remove_document(document),
        back=url_for("manage_meetings.show", meeting_id=meeting_id),
        done=_("The document is removed."),
    )


@bp.route("/<int:meeting_id>/convocation", methods=["GET", "POST"])
@board_required
def convocation(meeting_id: int):
    """Write the convocation, preview it (the e-mail as members get it), then send it."""
    meeting = _meeting(meeting_id)
    form = ConvocationForm()
    if request.method == "GET":
        form = ConvocationForm(formdata=None, text=meeting.convocation_text)
    preview = None
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        if "send" in request.form:
            try:
                sent = meeting_service.convene(meeting, form.text.data, current_user)
            except Refused as refusal:
                db.session.rollback()
                show_refusal(form, refusal, default="text")
                meeting = _meeting(meeting_id)
                status = 422
            else:
                db.session.commit()
                flash(
                    _(
                        "The convocation is sent: %(emailed)s by e-mail, %(letters)s by letter.",
                        emailed=sent.emailed,
                        letters=sent.letters,
                    ),
                    "success",
                )
                return redirect(_show_url(meeting), code=303)
        else:
            preview = render_template(
                "mail/meeting_convocation.txt",
                meeting=meeting,
                name=current_user.name,
                link=external_url("meetings.show", slug=meeting.slug),
                text=form.text.data,
            )
    elif request.method == "POST":
        status = 422
    problem = None
    if not meeting.is_convened:
        try:
            meeting_service.check_can_convene(meeting)
        except Refused as refusal:
            problem = str(refusal)
    return (
        render_template(
            "manage_meetings/convocation.html",
            meeting=meeting,
            form=form,
            preview=preview,
            problem=problem,
            needed=meeting_service.notice_needed(meeting),
            letters=len(meeting_service.letter_recipients(meeting)),
            emailed=len(db.session.scalars(meeting_service.email_recipients_query()).all())
            if not meeting.is_convened
            else meeting_service.convocation_counts(meeting)["email"],
            now=utcnow(),
        ),
        status,
    )


@bp.get("/<int:meeting_id>/letters")
@board_required
def letters(meeting_id: int):
    """The convocation as letters to print, one per member without e-mail consent, with
    their address labels (the register's letter list)."""
    meeting = _meeting(meeting_id)
    entries = meeting_service.letter_recipients(meeting)
    return render_template(
        "manage_meetings/letters.html",
        meeting=meeting,
        entries=entries,
        locale=current_locale(),
    )
