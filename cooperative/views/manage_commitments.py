"""A collaboration's commitments and their progress, in the back office
(/manage/collaborations/<id>/commitments...): programme staff add, change and remove
commitments and moderate progress; the contact of the party that made a commitment (or
staff) records progress on it.

Who may: `views.decorators.programme_collaboration` and `contact_collaboration`; whether
this person records progress on this commitment is `services.partners`' rule (403 when
not), checked again by the service.
"""

from flask import Blueprint, abort, request
from flask_babel import gettext as _
from flask_login import current_user

from ..forms.collaborations import CommitmentForm, ProgressForm
from ..models import Collaboration, Commitment
from ..services import commitments as service
from ..services import partners
from .decorators import contact_collaboration, programme_collaboration
from .going_back import commit_or_go_back, commit_or_redraw, form_page
from .manage_collaborations import render_collaboration, show_url

bp = Blueprint(
    "manage_commitments", __name__, url_prefix="/manage/collaborations/<int:collaboration_id>"
)


def _commitment(collaboration: Collaboration, commitment_id: int) -> Commitment:
    commitment = next((c for c in collaboration.commitments if c.id == commitment_id), None)
    if commitment is None:
        abort(404)
    return commitment


def _anchor(commitment: Commitment) -> str:
    return f"commitment-{commitment.id}"


@bp.post("/commitments")
@programme_collaboration
def add(collaboration: Collaboration):
    """Add a commitment of one of the parties."""
    form = CommitmentForm()
    form.set_parties(collaboration.parties)
    return commit_or_redraw(
        form,
        lambda: service.save_commitment(collaboration, form.plan()),
        done=_("The commitment is added."),
        to=lambda commitment: show_url(collaboration, _anchor(commitment)),
        default="title",
        redraw=lambda status: render_collaboration(collaboration, status, commitment_form=form),
    )


@bp.route("/commitments/<int:commitment_id>", methods=["GET", "POST"])
@programme_collaboration
def edit(collaboration: Collaboration, commitment_id: int):
    """Change a commitment: its party, words, target and due date."""
    commitment = _commitment(collaboration, commitment_id)
    form = CommitmentForm() if request.method == "POST" else CommitmentForm(formdata=None)
    form.set_parties(collaboration.parties)
    if request.method == "GET":
        form.fill(commitment)
    return form_page(
        form,
        lambda: service.save_commitment(collaboration, form.plan(), commitment),
        done=_("The commitment is saved."),
        to=show_url(collaboration, _anchor(commitment)),
        default="title",
        template="manage_collaborations/commitment.html",
        collaboration=collaboration,
        commitment=commitment,
    )


@bp.post("/commitments/<int:commitment_id>/remove")
@programme_collaboration
def remove(collaboration: Collaboration, commitment_id: int):
    """Take a commitment away, with its progress."""
    commitment = _commitment(collaboration, commitment_id)
    title = commitment.title
    return commit_or_go_back(
        lambda: service.remove_commitment(commitment),
        back=show_url(collaboration, "commitments"),
        done=_("“%(title)s” is removed.", title=title),
    )


@bp.post("/commitments/<int:commitment_id>/progress")
@contact_collaboration
def progress(collaboration: Collaboration, commitment_id: int):
    """Record progress on a commitment: its party's contact, or programme staff."""
    commitment = _commitment(collaboration, commitment_id)
    if not partners.may_record_progress(current_user, commitment):
        abort(403)
    form = ProgressForm(prefix=f"progress-{commitment.id}")
    return commit_or_redraw(
        form,
        lambda: service.record_progress(commitment, current_user, form.plan()),
        done=_("The progress is recorded."),
        to=show_url(collaboration, _anchor(commitment)),
        default="note",
        redraw=lambda status: render_collaboration(
            collaboration, status, progress_forms={commitment.id: form}
        ),
    )


@bp.post("/updates/<int:update_id>/remove")
@programme_collaboration
def remove_progress(collaboration: Collaboration, update_id: int):
    """Take a progress update away (moderation)."""
    update = next(
        (u for c in collaboration.commitments for u in c.updates if u.id == update_id), None
    )
    if update is None:
        abort(404)
    commitment = update.commitment
    return commit_or_go_back(
        lambda: service.remove_progress(update),
        back=show_url(collaboration, _anchor(commitment)),
        done=_("The progress update is removed."),
    )
