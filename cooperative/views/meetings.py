"""The general meetings for members: the list, a meeting with its agenda and
documents, the way to register for it (the meeting's event), and its published minutes
(`views/minutes.py`).

Members only: an active member, or the board. The public sees that a meeting exists and
nothing more: whoever else visits the list sees the titles and dates, and a meeting's
page shows its title, date and "for members; log in" (200 for a visitor who is not logged
in, 403 for one logged in who is no member), never the agenda, the place, the online
link or the documents. Documents send whoever is not logged in to the log-in page. A
meeting that has not been convened yet is 404 here (the board sees it at /manage/meetings).
"""

import sqlalchemy as sa
from flask import Blueprint, make_response, render_template
from flask_login import current_user, login_required

from ..extensions import db
from ..i18n import current_locale
from ..models import AgendaDocument, AgendaItem, Meeting, utcnow
from ..services import meetings as meeting_service
from . import meeting_proxies as taking_part

bp = Blueprint("meetings", __name__, url_prefix="/meetings")


def members_only(meeting: Meeting | None):
    """What the public sees of a meeting (its title and date, when given) and the way
    in: 200 for a visitor who is not logged in (log in), 403 for one logged in who is no
    member (become one)."""
    status = 403 if current_user.is_authenticated else 200
    return render_template("meetings/members_only.html", meeting=meeting), status


def members_only_response():
    """The 403 page as a response, for `abort`."""
    return make_response(members_only(None))


@bp.get("/")
def index():
    """Every meeting that was convened, latest first; the public sees title and date."""
    meetings = db.session.scalars(meeting_service.for_members()).all()
    return render_template(
        "meetings/index.html",
        meetings=meetings,
        now=utcnow(),
        members=meeting_service.may_read(current_user),
    )


@bp.get("/<slug>")
def show(slug: str):
    """A meeting: when, where, the agenda with its documents, registering, and the
    minutes once published; the public sees its title and date (`members_only`)."""
    if not meeting_service.may_read(current_user):
        return members_only(
            db.first_or_404(
                sa.select(Meeting).where(Meeting.slug == slug, Meeting.convened_at.is_not(None))
            )
        )
    meeting = meeting_with_agenda(Meeting.slug == slug, Meeting.convened_at.is_not(None))
    return render_show(meeting)


def render_show(meeting: Meeting, status: int = 200, **forms):
    """The meeting page, with the visitor's own part in it (`forms`: a refused form to
    show again, as `proxy_form=` or `attend_form=`)."""
    return (
        render_template(
            "meetings/show.html",
            meeting=meeting,
            locale=current_locale(),
            **taking_part.member_part(meeting, **forms),
        ),
        status,
    )


@bp.get("/<slug>/documents/<int:document_id>")
@login_required
def document(slug: str, document_id: int):
    """One agenda document as a PDF download; members only, once convened."""
    if not meeting_service.may_read(current_user):
        return members_only(None)
    document = document_with_content(
        AgendaDocument.id == document_id,
        Meeting.slug == slug,
        Meeting.convened_at.is_not(None),
    )
    return pdf_response(document)


def meeting_with_agenda(*conditions) -> Meeting:
    """The meeting that meets `conditions`, with its event, agenda and documents loaded
    in three queries; 404 when there is none."""
    return db.first_or_404(
        sa.select(Meeting)
        .where(*conditions)
        .options(
            sa.orm.joinedload(Meeting.event),
            sa.orm.selectinload(Meeting.items).selectinload(AgendaItem.documents),
        )
    )


def document_with_content(*conditions) -> AgendaDocument:
    """The agenda document that meets `conditions` (on the document, its item or its
    meeting), with its bytes; 404 when there is none."""
    return db.first_or_404(
        sa.select(AgendaDocument)
        .join(AgendaDocument.item)
        .join(AgendaItem.meeting)
        .where(*conditions)
        .options(sa.orm.undefer(AgendaDocument.content))
    )


def pdf_response(document: AgendaDocument):
    """The document's bytes as a download, never kept by a shared cache."""
    response = make_response(meeting_service.document_bytes(document))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{_ascii(document.filename)}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _ascii(name: str) -> str:
    cleaned = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    return cleaned or "document.pdf"
