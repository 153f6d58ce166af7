"""The result of a vote, made when the chair closes it and kept in `Vote.result`
(its shape is in `Vote`'s docstring), and the list of how members voted.

Rules:
- Counts and weights per option; the eligible members are the active members now, with
  their weight (`meeting_ballots.weights`).
- The quorum is `meeting_attendance.quorum` (the statutes' own when the item changes
  them), counting the members taking part (present, or represented by a present holder)
  and those who voted online in this vote.
- A proposal passes when the quorum is met and the votes (weights) for it are, of the
  votes for and against (abstentions do not count): more than half (simple), or at
  least two thirds. Exactly half is not a simple majority; no votes for or against
  pass nothing.
- An election elects the candidate with the most votes; a tie elects (lists) all of
  the tied; nobody without the quorum or without a vote for a candidate.
- After the close, an open vote shows each member and how they voted; a secret vote only
  who voted.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    Majority,
    Membership,
    MembershipStatus,
    OpenBallot,
    OptionMeaning,
    SecretBallot,
    SecretVoter,
    Vote,
    VoteKind,
    VoteQuestion,
)
from . import meeting_attendance
from .meeting_ballots import weights


def passes(votes_for: int, votes_against: int, majority: Majority) -> bool:
    """Whether `votes_for` is the `majority` of the votes for and against."""
    cast = votes_for + votes_against
    if cast == 0:
        return False
    if majority == Majority.TWO_THIRDS:
        return 3 * votes_for >= 2 * cast
    return 2 * votes_for > cast


def _counts(vote: Vote) -> dict[int, tuple[int, int]]:
    """(count, weight) per option id, from the ballots."""
    table = OpenBallot if vote.kind == VoteKind.OPEN else SecretBallot
    rows = db.session.execute(
        sa.select(table.option_id, sa.func.count(), sa.func.coalesce(sa.func.sum(table.weight), 0))
        .where(table.vote_id == vote.id)
        .group_by(table.option_id)
    ).all()
    return {option_id: (count, int(weight)) for option_id, count, weight in rows}


def _online_voter_ids(vote: Vote) -> set[int]:
    table = OpenBallot if vote.kind == VoteKind.OPEN else SecretVoter
    return set(
        db.session.scalars(
            sa.select(table.membership_id).where(table.vote_id == vote.id, table.online)
        )
    )


def tally(vote: Vote) -> dict:
    """The vote's result now, in the shape `Vote.result` keeps."""
    meeting = vote.item.meeting
    counts = _counts(vote)
    options = [
        {
            "id": option.id,
            "meaning": option.meaning.value,
            "label": option.label,  # a candidate's name; the pages name the others
            "count": counts.get(option.id, (0, 0))[0],
            "weight": counts.get(option.id, (0, 0))[1],
        }
        for option in vote.options
    ]
    active = list(
        db.session.scalars(
            sa.select(Membership.id).where(Membership.status == MembershipStatus.ACTIVE)
        )
    )
    counted = meeting_attendance.taking_part_ids(meeting) | _online_voter_ids(vote)
    quorum = meeting_attendance.quorum(
        meeting, statutes=vote.item.changes_statutes, counted_ids=counted
    )
    result = {
        "eligible": len(active),
        "eligible_weight": sum(weights(meeting, active).values()),
        "voters": sum(option["count"] for option in options),
        "weight": sum(option["weight"] for option in options),
        "options": options,
        "quorum_percent": quorum.percent,
        "quorum_met": quorum.met,
        "present": quorum.counted,
        "majority": vote.majority.value,
    }
    result["turnout_percent"] = (
        round(100 * result["voters"] / result["eligible"]) if result["eligible"] else 0
    )
    if vote.question == VoteQuestion.PROPOSAL:
        weight_of = {option["meaning"]: option["weight"] for option in options}
        result["passed"] = quorum.met and passes(
            weight_of.get(OptionMeaning.FOR, 0),
            weight_of.get(OptionMeaning.AGAINST, 0),
            vote.majority,
        )
    else:
        candidates = [o for o in options if o["meaning"] == OptionMeaning.CANDIDATE]
        most = max((o["weight"] for o in candidates), default=0)
        result["elected"] = (
            [o["id"] for o in candidates if o["weight"] == most] if quorum.met and most else []
        )
    return result


@dataclass
class Voter:
    """One line of the list after a close: a member, and (open votes only) their answer."""

    name: str
    number: int | None
    option_id: int | None  # None in a secret vote
    weight: int | None
    by_proxy: bool
    online: bool


def how_members_voted(vote: Vote) -> list[Voter]:
    """Who voted, by member number, in one query; how each voted only in an open vote."""
    from .shares import holder_name

    table = OpenBallot if vote.kind == VoteKind.OPEN else SecretVoter
    columns = [table.membership_id, table.cast_by_id, table.online]
    if vote.kind == VoteKind.OPEN:
        columns += [OpenBallot.option_id, OpenBallot.weight]
    rows = db.session.execute(
        sa.select(Membership, *columns)
        .join(table, table.membership_id == Membership.id)
        .where(table.vote_id == vote.id)
        .options(sa.orm.joinedload(Membership.user))
        .order_by(Membership.number, Membership.id)
    ).all()
    return [
        Voter(
            name=holder_name(row[0]),
            number=row[0].number,
            option_id=row[4] if vote.kind == VoteKind.OPEN else None,
            weight=row[5] if vote.kind == VoteKind.OPEN else None,
            by_proxy=row[2] not in (None, row[1]),
            online=row[3],
        )
        for row in rows
    ]
