"""The votes of a general meeting, as the chair runs them: put a vote to an agenda item,
open it, close it (its result is kept then, `meeting_vote_results`). Casting is in
`meeting_ballots`.

Rules:
- A vote belongs to an agenda item the members vote on (`AgendaItem.has_vote`).
- A proposal gets the options for, against and abstain; an election one option per
  candidate (at least one, each named once) and abstain.
- A proposal that changes the statutes needs two thirds by default, any other a simple
  majority; the chair may choose otherwise.
- A vote opens only for a convened meeting: when the meeting allows online voting from
  `ONLINE_VOTING_DAYS` days before it starts (art. 2:38 lid 2 BW lets the statutes allow
  votes cast electronically before the meeting, at most 30 days), otherwise on the
  meeting's day from `ROOM_OPENS_BEFORE` before the start; never after the meeting's day
  (or its end, when it runs past midnight).
- Draft, then open, then closed: a closed vote stays closed. Only a draft can be removed.
  Opening and closing are conditional UPDATEs, so two clicks at once do it once.

Services flush; the caller commits.
"""

from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from ..extensions import db
from ..i18n import local_zone
from ..locking import lock_meeting
from ..models import (
    AgendaItem,
    Majority,
    Meeting,
    OpenBallot,
    OptionMeaning,
    SecretVoter,
    User,
    Vote,
    VoteKind,
    VoteOption,
    VoteQuestion,
    VoteStatus,
    utcnow,
)
from ..refusals import Refused
from . import meeting_ballots, meeting_vote_results

ONLINE_VOTING_DAYS = 30  # art. 2:38 lid 2 BW
ROOM_OPENS_BEFORE = timedelta(minutes=30)
MAX_CANDIDATES = 50
TITLE_MAX_LENGTH = 300
LABEL_MAX_LENGTH = 200

# The answers of a proposal ("vote" context: "For" alone means something else elsewhere).
PROPOSAL_OPTIONS = (
    (OptionMeaning.FOR, lazy_pgettext("vote", "For")),
    (OptionMeaning.AGAINST, lazy_pgettext("vote", "Against")),
    (OptionMeaning.ABSTAIN, lazy_pgettext("vote", "Abstain")),
)


def default_majority(item: AgendaItem) -> Majority:
    """Two thirds for a change of the statutes, a simple majority for anything else."""
    return Majority.TWO_THIRDS if item.changes_statutes else Majority.SIMPLE


def candidate_names(text: str) -> list[str]:
    """The candidates typed one per line, spaces around them and empty lines dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def add_vote(
    item: AgendaItem,
    *,
    kind: VoteKind,
    question: VoteQuestion = VoteQuestion.PROPOSAL,
    title: str = "",
    majority: Majority | None = None,
    candidates: list[str] = (),
) -> Vote:
    """Put a draft vote to `item`, with its options. Refuses an item the members do not
    vote on, an election without candidates, more than MAX_CANDIDATES, a candidate named
    twice or a name over LABEL_MAX_LENGTH characters."""
    if not item.has_vote:
        raise Refused(_l("The members do not vote on this agenda item."), "item")
    vote = Vote(
        agenda_item_id=item.id,
        title=(title or "").strip()[:TITLE_MAX_LENGTH] or item.title_nl,
        kind=kind,
        question=question,
        majority=majority or default_majority(item),
        status=VoteStatus.DRAFT,
    )
    if question == VoteQuestion.ELECTION:
        names = [name.strip() for name in candidates if name.strip()]
        if not names:
            raise Refused(
                _l("Please write the names of the candidates, one per line."), "candidates"
            )
        if len(names) > MAX_CANDIDATES:
            raise Refused(
                _l("At most %(count)s candidates, please.", count=MAX_CANDIDATES), "candidates"
            )
        if any(len(name) > LABEL_MAX_LENGTH for name in names):
            raise Refused(
                _l("A name may be at most %(count)s characters.", count=LABEL_MAX_LENGTH),
                "candidates",
            )
        if len({name.casefold() for name in names}) < len(names):
            raise Refused(_l("Each candidate may be named only once."), "candidates")
        options = [(OptionMeaning.CANDIDATE, name) for name in names]
        options.append((OptionMeaning.ABSTAIN, ""))
    else:
        options = [(meaning, "") for meaning, _label in PROPOSAL_OPTIONS]
    vote.options = [
        VoteOption(position=position, meaning=meaning, label=label)
        for position, (meaning, label) in enumerate(options, start=1)
    ]
    db.session.add(vote)
    db.session.flush()
    return vote


def option_label(option: VoteOption) -> str:
    """What an option says: the candidate's name, or for, against, abstain in the
    reader's language."""
    if option.meaning == OptionMeaning.CANDIDATE:
        return option.label
    return str(dict(PROPOSAL_OPTIONS)[option.meaning])


def remove_vote(vote: Vote) -> None:
    """Take a draft vote away. Refuses one that was opened."""
    if vote.status != VoteStatus.DRAFT:
        raise Refused(_l("Only a vote that has not been opened can be removed."), "vote")
    db.session.delete(vote)
    db.session.flush()


# --- when a vote may open ---


def opening_window(meeting: Meeting) -> tuple[datetime, datetime]:
    """From when to when a vote of `meeting` may be opened."""
    zone = local_zone()
    day = meeting.starts_at.astimezone(zone).date()
    day_ends = datetime.combine(day + timedelta(days=1), time(0), zone)
    until = max(day_ends, meeting.ends_at)
    if meeting.online_voting:
        return meeting.starts_at - timedelta(days=ONLINE_VOTING_DAYS), until
    return max(meeting.starts_at - ROOM_OPENS_BEFORE, datetime.combine(day, time(0), zone)), until


def check_can_open(vote: Vote, now: datetime | None = None) -> None:
    """Refuses a vote that is open or closed already, one of a meeting not convened, and
    one outside `opening_window`."""
    now = now or utcnow()
    if vote.status == VoteStatus.OPEN:
        raise Refused(_l("This vote is open already."), "vote")
    if vote.status == VoteStatus.CLOSED:
        raise Refused(_l("This vote is closed: a closed vote stays closed."), "vote")
    meeting = vote.item.meeting
    if not meeting.is_convened:
        raise Refused(_l("The meeting has not been convened: no vote can open yet."), "vote")
    start, end = opening_window(meeting)
    if now < start:
        if meeting.online_voting:
            message = _l(
                "Too early: votes open at most %(days)s days before the meeting.",
                days=ONLINE_VOTING_DAYS,
            )
        else:
            message = _l(
                "Too early: without online voting a vote opens on the day of the meeting, "
                "from half an hour before the start."
            )
        raise Refused(message, "vote")
    if now >= end:
        raise Refused(_l("The meeting is over: no vote can open any more."), "vote")


def _move(vote: Vote, was: VoteStatus, refusal: Refused, **values) -> None:
    """Change `vote` from the status `was` (to `values`) in one conditional UPDATE, so a
    double tap or a second chair changes it once; `refusal` when it was not `was` by then."""
    moved = db.session.execute(
        sa.update(Vote)
        .where(Vote.id == vote.id, Vote.status == was)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise refusal
    db.session.refresh(vote)


def open_vote(vote: Vote, by: User, now: datetime | None = None) -> None:
    """Open the vote for ballots. Refusals as in `check_can_open`."""
    now = now or utcnow()
    check_can_open(vote, now)
    _move(
        vote,
        VoteStatus.DRAFT,
        Refused(_l("This vote is open already."), "vote"),
        status=VoteStatus.OPEN,
        opened_at=now,
        opened_by_id=by.id,
    )


def close_vote(vote: Vote, by: User, now: datetime | None = None) -> dict:
    """Close an open vote and keep its result (`Vote.result`), which it returns. Refuses
    a vote that is not open."""
    now = now or utcnow()
    lock_meeting(vote.item.meeting)  # the ballots in flight are in, or refused
    if vote.status != VoteStatus.OPEN:
        raise Refused(_l("Only an open vote can be closed."), "vote")
    _move(
        vote,
        VoteStatus.OPEN,
        Refused(_l("Only an open vote can be closed."), "vote"),
        status=VoteStatus.CLOSED,
        closed_at=now,
        closed_by_id=by.id,
    )
    if vote.kind == VoteKind.SECRET:
        meeting_ballots.shuffle_ballots(vote)
    vote.result = meeting_vote_results.tally(vote)
    db.session.flush()
    return vote.result


# --- what the pages list ---


def votes_of(meeting: Meeting, statuses: tuple[VoteStatus, ...] | None = None) -> list[Vote]:
    """The meeting's votes in agenda order (then as they were added), with their options."""
    query = (
        sa.select(Vote)
        .join(Vote.item)
        .where(AgendaItem.meeting_id == meeting.id)
        .options(sa.orm.selectinload(Vote.options), sa.orm.contains_eager(Vote.item))
        .order_by(AgendaItem.position, Vote.id)
    )
    if statuses is not None:
        query = query.where(Vote.status.in_(statuses))
    return db.session.scalars(query).all()


def ballots_cast(votes: list[Vote]) -> dict[int, int]:
    """How many members have a ballot in each of these votes (two queries at most)."""
    counts = {vote.id: 0 for vote in votes}
    for kind, table in ((VoteKind.OPEN, OpenBallot), (VoteKind.SECRET, SecretVoter)):
        ids = [vote.id for vote in votes if vote.kind == kind]
        if ids:
            counts.update(
                db.session.execute(
                    sa.select(table.vote_id, sa.func.count())
                    .where(table.vote_id.in_(ids))
                    .group_by(table.vote_id)
                ).all()
            )
    return counts
