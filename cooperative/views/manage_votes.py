"""The chair's pages for the votes of a general meeting: put a vote to an agenda item,
open it, see how many ballots are in while it is open (not how they voted), close it and
read its result; remove a vote that was never opened.

The board and admins only (`board_required`).
"""

import sqlalchemy as sa
from flask import Blueprint, abort, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db, htmx
from ..forms.votes import VoteForm
from ..i18n import current_locale
from ..models import AgendaItem, Majority, Meeting, Vote, VoteKind, VoteQuestion, VoteStatus
from ..services import meeting_votes
from ..services.meeting_votes import candidate_names
from .decorators import board_required
from .going_back import commit_or_go_back, commit_or_redraw
from .meetings import meeting_with_agenda

bp = Blueprint("manage_votes", __name__, url_prefix="/manage/meetings")


def _votes_url(meeting_id: int, vote: Vote | None = None, item: AgendaItem | None = None) -> str:
    anchor = f"vote-{vote.id}" if vote is not None else f"item-{item.id}" if item else None
    return url_for("manage_votes.index", meeting_id=meeting_id, _anchor=anchor)


def _vote(meeting_id: int, vote_id: int) -> Vote:
    """The vote of this meeting, with its item and meeting; 404 when there is none."""
    return db.first_or_404(
        sa.select(Vote)
        .join(Vote.item)
        .where(Vote.id == vote_id, AgendaItem.meeting_id == meeting_id)
        .options(sa.orm.contains_eager(Vote.item).joinedload(AgendaItem.meeting))
    )


def vote_form_for(item: AgendaItem, formdata=None) -> VoteForm:
    """The form to put a vote to `item` (each item's fields have their own names)."""
    if formdata is None:
        return VoteForm(
            formdata=None,
            prefix=f"vote-{item.id}",
            majority=meeting_votes.default_majority(item).value,
        )
    return VoteForm(prefix=f"vote-{item.id}")


def _render(meeting: Meeting, status: int = 200, forms: dict | None = None):
    votes = meeting_votes.votes_of(meeting)
    by_item: dict[int, list[Vote]] = {}
    for vote in votes:
        by_item.setdefault(vote.agenda_item_id, []).append(vote)
    return (
        render_template(
            "manage_votes/index.html",
            meeting=meeting,
            votes_by_item=by_item,
            counts=meeting_votes.ballots_cast(
                [vote for vote in votes if vote.status == VoteStatus.OPEN]
            ),
            forms=forms or {},
            form_for=vote_form_for,
            locale=current_locale(),
            option_label=meeting_votes.option_label,
        ),
        status,
    )


@bp.get("/<int:meeting_id>/votes")
@board_required
def index(meeting_id: int):
    """The votes per agenda item that members vote on, with a form to add one."""
    return _render(meeting_with_agenda(Meeting.id == meeting_id))


@bp.post("/<int:meeting_id>/items/<int:item_id>/votes")
@board_required
def add(meeting_id: int, item_id: int):
    """Put a draft vote to an item; bad input is shown on the form (422)."""
    meeting = meeting_with_agenda(Meeting.id == meeting_id)
    item = next((item for item in meeting.items if item.id == item_id), None)
    if item is None:
        abort(404)
    form = vote_form_for(item, formdata=True)
    return commit_or_redraw(
        form,
        lambda: meeting_votes.add_vote(
            item,
            kind=VoteKind(form.kind.data),
            question=VoteQuestion(form.question.data),
            title=form.title.data or "",
            majority=Majority(form.majority.data),
            candidates=candidate_names(form.candidates.data),
        ),
        done=_("The vote is added. Open it when the meeting gets to it."),
        to=lambda vote: _votes_url(meeting_id, vote),
        default="title",
        redraw=lambda status: _render(
            meeting_with_agenda(Meeting.id == meeting_id), status, {item_id: form}
        ),
    )


@bp.post("/<int:meeting_id>/votes/<int:vote_id>/open")
@board_required
def open_vote(meeting_id: int, vote_id: int):
    """Open a vote for ballots (refused with why: not convened, too early, closed)."""
    vote = _vote(meeting_id, vote_id)
    return commit_or_go_back(
        lambda: meeting_votes.open_vote(vote, current_user),
        back=_votes_url(meeting_id, vote),
        done=_("The vote is open. Members can vote now."),
    )


@bp.post("/<int:meeting_id>/votes/<int:vote_id>/close")
@board_required
def close_vote(meeting_id: int, vote_id: int):
    """Close a vote; its result is counted and kept."""
    vote = _vote(meeting_id, vote_id)
    return commit_or_go_back(
        lambda: meeting_votes.close_vote(vote, current_user),
        back=_votes_url(meeting_id, vote),
        done=_("The vote is closed. The result is below."),
    )


@bp.post("/<int:meeting_id>/votes/<int:vote_id>/remove")
@board_required
def remove(meeting_id: int, vote_id: int):
    """Remove a vote that was never opened."""
    vote = _vote(meeting_id, vote_id)
    return commit_or_go_back(
        lambda: meeting_votes.remove_vote(vote),
        back=_votes_url(meeting_id, item=vote.item),
        done=_("The vote is removed."),
    )


@bp.get("/<int:meeting_id>/votes/<int:vote_id>/count")
@board_required
def count(meeting_id: int, vote_id: int):
    """How many members have voted, for the page to poll while the vote is open (never
    how they voted). Without htmx: back to the page."""
    vote = _vote(meeting_id, vote_id)
    if not htmx:
        return redirect(_votes_url(meeting_id, vote), code=303)
    response = make_response(
        render_template(
            "manage_votes/_count.html",
            meeting=vote.item.meeting,
            vote=vote,
            cast=meeting_votes.ballots_cast([vote])[vote.id],
        )
    )
    response.vary.update(("HX-Request",))
    return response
