"""The votes for members: the open votes on the meeting's page (polled, so phones in the
room see a vote the moment the chair opens it), and one vote's page: the question, the
ballot (their own, and one for each member whose proxy they carry), "your vote is
recorded" once cast, and the result when it is closed; for an open vote, also how each
member voted (for a secret vote only who voted).

Members only, as the meeting's pages (`meetings.may_read`); draft votes are 404 here.
"""

import re

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db, htmx
from ..forms.fields import show_refusal
from ..forms.votes import ballot_form, choices_of
from ..models import AgendaItem, Meeting, MembershipStatus, Vote, VoteStatus
from ..refusals import Refused
from ..services import meeting_ballots, meeting_vote_results, meeting_votes
from ..services import meetings as meeting_service
from ..services.meeting_ballots import NotRepresented
from ..services.membership import current_membership
from .meetings import members_only

bp = Blueprint("meeting_votes", __name__, url_prefix="/meetings")

SHOWN = (VoteStatus.OPEN, VoteStatus.CLOSED)
FOR_FIELD = re.compile(r"for_(\d+)")


def _meeting(slug: str) -> Meeting:
    return db.first_or_404(
        sa.select(Meeting).where(Meeting.slug == slug, Meeting.convened_at.is_not(None))
    )


def _vote(slug: str, vote_id: int) -> Vote:
    """The opened (or closed) vote of this convened meeting; 404 otherwise."""
    return db.first_or_404(
        sa.select(Vote)
        .join(Vote.item)
        .join(AgendaItem.meeting)
        .where(
            Vote.id == vote_id,
            Meeting.slug == slug,
            Meeting.convened_at.is_not(None),
            Vote.status.in_(SHOWN),
        )
        .options(
            sa.orm.contains_eager(Vote.item).contains_eager(AgendaItem.meeting),
            sa.orm.selectinload(Vote.options),
        )
    )


@bp.get("/<slug>/votes")
@login_required
def open_votes(slug: str):
    """The body of the meeting page's votes section, for it to poll (htmx): 204 when
    nothing changed since `seen`. Without htmx, the meeting's page itself."""
    if not meeting_service.may_read(current_user):
        return members_only(None)
    meeting = _meeting(slug)
    if not htmx:
        return redirect(url_for("meetings.show", slug=slug, _anchor="votes"), code=303)
    section = votes_section(meeting)
    if request.args.get("seen") == section["key"]:
        response = make_response("", 204)
    else:
        response = make_response(
            render_template("meetings/_votes.html", meeting=meeting, section=section, fragment=True)
        )
    response.vary.update(("HX-Request",))
    return response


@bp.app_context_processor
def _votes_section():
    """`meeting_votes_section(meeting)` for `meetings/_votes.html`, so the meeting's page
    includes the section without its view knowing of votes."""
    return {"meeting_votes_section": votes_section}


def votes_section(meeting: Meeting) -> dict:
    """What `meetings/_votes.html` shows: the opened and closed votes, which of the open
    ones the member has a ballot in, and whether the meeting is over (then only the
    results, and nothing polls)."""
    votes = meeting_votes.votes_of(meeting, SHOWN)
    membership = current_membership(current_user)
    open_votes = [vote for vote in votes if vote.status == VoteStatus.OPEN]
    voted = meeting_ballots.votes_voted_in(open_votes, membership) if membership else set()
    key = "-".join(
        f"{vote.id}{vote.status.value[0]}{'v' if vote.id in voted else ''}" for vote in votes
    )
    # The key changes when the meeting ends: the page polling then gets the results
    # without the polling.
    ended = meeting.is_over()
    key = (key or "none") + ("-ended" if ended else "")
    return {"votes": votes, "voted": voted, "key": key, "ended": ended}


def _render(vote: Vote, form, standing, status: int = 200):
    closed = vote.status == VoteStatus.CLOSED
    return (
        render_template(
            "meeting_votes/show.html",
            meeting=vote.item.meeting,
            vote=vote,
            form=form,
            standing=standing,
            option_label=meeting_votes.option_label,
            voters=meeting_vote_results.how_members_voted(vote) if closed else [],
            options={option.id: option for option in vote.options},
        ),
        status,
    )


def _why_nothing_is_cast(standing, gone: set[int]) -> str:
    """Why a submission casts nothing: the vote is closed or the member may not vote,
    they voted already, or (a form loaded earlier) a member they represent voted or
    came to the meeting in the meantime."""
    if standing.why_not:
        return standing.why_not
    if gone and (standing.may_vote or standing.represented):
        return _(
            "A member you represent has voted or come to the meeting in the meantime: "
            "please check your votes again."
        )
    return _("Your vote is recorded already: a member votes once.")


@bp.route("/<slug>/votes/<int:vote_id>", methods=["GET", "POST"])
@login_required
def show(slug: str, vote_id: int):
    """A vote: its question and the ballot while open, its result once closed."""
    if not meeting_service.may_read(current_user):
        return members_only(None)
    vote = _vote(slug, vote_id)
    membership = current_membership(current_user)
    standing = meeting_ballots.standing(vote, membership)
    own = standing.may_vote
    form = ballot_form(vote, own, standing.represented) if vote.status == VoteStatus.OPEN else None
    if request.method == "GET":
        return _render(vote, form, standing)
    if membership is None or membership.status != MembershipStatus.ACTIVE:
        abort(403)  # the board may read the meeting, only members vote
    asked = {int(m.group(1)) for m in map(FOR_FIELD.fullmatch, request.form) if m}
    if asked - meeting_ballots.proxies_carried(vote.item.meeting, membership):
        abort(403)  # a ballot for a member whose proxy they do not carry
    gone = asked - {member.id for member in standing.represented}
    if form is None or not (own or standing.represented) or gone:
        flash(_why_nothing_is_cast(standing, gone), "error")
        return _render(vote, form, standing, 422)
    if not form.validate_on_submit():
        return _render(vote, form, standing, 422)
    try:
        meeting_ballots.cast(vote, membership, choices_of(form, membership, standing.represented))
    except NotRepresented:
        db.session.rollback()
        abort(403)
    except Refused as refusal:
        db.session.rollback()
        show_refusal(form, refusal, default="choice" if own else None)
        vote = _vote(slug, vote_id)
        return _render(vote, form, meeting_ballots.standing(vote, membership), 422)
    db.session.commit()
    flash(_("Your vote is recorded."), "success")
    return redirect(url_for("meeting_votes.show", slug=slug, vote_id=vote_id), code=303)
