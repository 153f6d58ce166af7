"""Casting ballots in a general meeting's votes: a member for themselves, and the holder
of proxies for the members they represent.

Rules:
- Only an active member votes, on an open vote, as their register entry, until the end
  of the vote's `opening_window`. Each submission holds the meeting's row
  (`locking.lock_meeting`) and reads the vote again under it, so a ballot in flight
  while the chair closes the vote is refused rather than counted after the result.
- In the room a member must be checked in at the door. A member who is not, or who
  follows the meeting online, may vote only when the meeting allows online voting; the
  ballot is then marked online, and a member not present has the proxy they gave
  cancelled (`meeting_proxies.cancel_given`): they vote themselves after all.
- A holder also votes for each member whose accepted proxy they carry
  (`meeting_proxies.represented_by`) who is active, not present and has not voted; a
  ballot for anyone else is refused (`NotRepresented`).
- One ballot per member per vote: checked first for a clear message, and backed by the
  unique constraints (open: `uq_open_ballot_member`; secret: `uq_secret_voter_member`).
  Everything one submission casts is flushed together; when a ballot of the same member
  got in first (two phones at once) the transaction is rolled back and the submission
  refused as a whole.
- A ballot weighs the member's votes (`Meeting.vote_weighting`): one per member, or one
  per paid share not repaid, at least one (art. 2:38 lid 1 BW).
- A secret vote writes who voted (`SecretVoter`) and the anonymous ballots
  (`SecretBallot`: random id, no time, no member, weight 1: a member with more votes
  casts that many ballots) in the same transaction; the ballots of
  one submission are inserted in a random order, so their order says nothing either (on
  SQLite with a random `rowid` too). At the close the vote's ballots are written again
  in a random order (`shuffle_ballots`): PostgreSQL's row places (`ctid`) follow the
  order of writing until then.

Services flush; the caller commits (or, after a refused submission, finds it rolled back).
"""

import secrets
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..locking import lock_meeting
from ..models import (
    AttendanceMode,
    Meeting,
    Membership,
    MembershipStatus,
    OpenBallot,
    Proxy,
    ProxyStatus,
    SecretBallot,
    SecretVoter,
    Vote,
    VoteKind,
    VoteStatus,
    VoteWeighting,
    utcnow,
)
from ..refusals import Refused
from . import meeting_attendance, meeting_proxies, share_totals


class NotRepresented(Refused):
    """A ballot for a member whose proxy the voter does not carry."""


def weights(meeting: Meeting, membership_ids: list[int]) -> dict[int, int]:
    """Each member's number of votes at `meeting`: 1, or their paid shares not repaid
    (at least 1) when the meeting votes per share."""
    if meeting.vote_weighting != VoteWeighting.PER_SHARE:
        return dict.fromkeys(membership_ids, 1)
    return {
        member: max(1, count)
        for member, count in share_totals.paid_counts(list(membership_ids)).items()
    }


def voted_ids(vote: Vote, membership_ids: list[int] | None = None) -> set[int]:
    """The members (of `membership_ids`, or all) who have a ballot in `vote`."""
    table = OpenBallot if vote.kind == VoteKind.OPEN else SecretVoter
    query = sa.select(table.membership_id).where(table.vote_id == vote.id)
    if membership_ids is not None:
        query = query.where(table.membership_id.in_(membership_ids))
    return set(db.session.scalars(query))


def votes_voted_in(votes: list[Vote], membership: Membership) -> set[int]:
    """Which of `votes` `membership` has a ballot in (two queries at most)."""
    voted: set[int] = set()
    for kind, table in ((VoteKind.OPEN, OpenBallot), (VoteKind.SECRET, SecretVoter)):
        ids = [vote.id for vote in votes if vote.kind == kind]
        if ids:
            voted.update(
                db.session.scalars(
                    sa.select(table.vote_id).where(
                        table.vote_id.in_(ids), table.membership_id == membership.id
                    )
                )
            )
    return voted


@dataclass
class Standing:
    """Where one member stands in one vote."""

    voted: bool  # they have a ballot (cast by themselves, or by their holder)
    cast_by_holder: bool  # ... cast by the holder of their proxy
    may_vote: bool  # they may cast their own ballot now
    online: bool  # it would be an online ballot (they are not present)
    why_not: str = ""  # why they may not, when they have not voted
    represented: list[Membership] = field(default_factory=list)  # they may vote for these
    represented_done: list[Membership] = field(default_factory=list)  # ... already voted


def _ballot_of(vote: Vote, membership: Membership):
    table = OpenBallot if vote.kind == VoteKind.OPEN else SecretVoter
    return db.session.scalar(
        sa.select(table).where(table.vote_id == vote.id, table.membership_id == membership.id)
    )


def standing(vote: Vote, membership: Membership | None) -> Standing:
    """What `membership` (maybe None: not a member) may do in `vote` now."""
    if membership is None or membership.status != MembershipStatus.ACTIVE:
        return Standing(
            voted=False,
            cast_by_holder=False,
            may_vote=False,
            online=False,
            why_not=str(_l("Only active members vote.")),
        )
    meeting = vote.item.meeting
    ballot = _ballot_of(vote, membership)
    present = meeting_attendance.is_present(meeting, membership)
    why_not = ""
    if vote.status != VoteStatus.OPEN:
        why_not = str(_l("This vote is not open."))
    elif not present and not meeting.online_voting:
        why_not = str(
            _l("You vote in the room once you are checked in at the meeting (or by proxy).")
        )
    represented, done = [], []
    if vote.status == VoteStatus.OPEN and (present or meeting.online_voting):
        represented, done = _represented(vote, meeting, membership)
    return Standing(
        voted=ballot is not None,
        cast_by_holder=ballot is not None and ballot.cast_by_id not in (None, membership.id),
        may_vote=ballot is None and not why_not,
        online=not present,
        why_not=why_not,
        represented=represented,
        represented_done=done,
    )


def _represented(
    vote: Vote, meeting: Meeting, holder: Membership
) -> tuple[list[Membership], list[Membership]]:
    """The members `holder` may vote for now, and those they represent who voted."""
    grantors = [
        grantor
        for grantor in meeting_proxies.represented_by(meeting, holder)
        if grantor.status == MembershipStatus.ACTIVE
    ]
    voted = voted_ids(vote, [grantor.id for grantor in grantors])
    open_to, done = [], []
    for grantor in grantors:
        if grantor.id in voted:
            done.append(grantor)
        elif not meeting_attendance.is_present(meeting, grantor):
            open_to.append(grantor)
    return open_to, done


def proxies_carried(meeting: Meeting, holder: Membership) -> set[int]:
    """The members whose proxy `holder` accepted for `meeting`, also those cancelled
    since (the member came, or voted online): a ballot form loaded before may still name
    them, which is out of date, not forged."""
    return set(
        db.session.scalars(
            sa.select(Proxy.grantor_id).where(
                Proxy.meeting_id == meeting.id,
                Proxy.holder_id == holder.id,
                Proxy.accepted_at.is_not(None),
                Proxy.status.in_((ProxyStatus.ACCEPTED, ProxyStatus.CANCELLED)),
            )
        )
    )


@dataclass
class Cast:
    members: list[int]  # the members a ballot was cast for, the voter first
    online: bool


def cast(
    vote: Vote, voter: Membership, choices: dict[int, int], now: datetime | None = None
) -> Cast:
    """Cast the ballots of one submission: `choices` maps each member voted for (the
    voter, and members they represent) to an option of `vote`.

    Refuses a vote that is not open, a voter who is not an active member, one not
    present when the meeting has no online voting, an empty submission, an option of
    another vote, a member the voter does not represent (`NotRepresented`), and a member
    who already voted (also when their ballot got in a moment earlier: then the whole
    submission is rolled back)."""
    now = now or utcnow()
    meeting = vote.item.meeting
    # One submission at a time per meeting, and the vote's state as it is now: a ballot
    # in flight while the chair closes the vote is refused, not counted after the result.
    lock_meeting(meeting)
    db.session.refresh(vote)
    if vote.status != VoteStatus.OPEN:
        raise Refused(_l("This vote is not open."), "vote")
    from .meeting_votes import opening_window  # it imports this module

    if now > opening_window(meeting)[1]:
        raise Refused(_l("The meeting is over: this vote takes no more ballots."), "vote")
    if voter.status != MembershipStatus.ACTIVE:
        raise Refused(_l("Only active members vote."), "vote")
    attendance = meeting_attendance.attendance_of(meeting, voter)
    # In the room: checked in at the door. Whoever follows online, or is not there, votes
    # online, which the statutes must allow (`Meeting.online_voting`, art. 2:38 BW).
    in_room = (
        attendance is not None
        and attendance.present_at is not None
        and attendance.mode == AttendanceMode.ROOM
    )
    present = attendance is not None and attendance.present_at is not None
    if not in_room and not meeting.online_voting:
        raise Refused(
            _l("You vote in the room once you are checked in at the meeting (or by proxy)."),
            "vote",
        )
    if not choices:
        raise Refused(_l("Please choose an answer."), "choice")
    options = {option.id for option in vote.options}
    for member_id, option_id in choices.items():
        if option_id not in options:
            raise Refused(_l("Please choose one of the answers given."), _field(voter, member_id))
    others = set(choices) - {voter.id}
    if others - {member.id for member in meeting_proxies.represented_by(meeting, voter)}:
        raise NotRepresented(_l("You do not hold a proxy to vote for this member."), "vote")
    if voted_ids(vote, list(choices)):
        raise Refused(_already_voted(voter, choices), "vote")
    if others - {member.id for member in _represented(vote, meeting, voter)[0]}:
        raise Refused(_l("A member you represent is at the meeting and votes themselves."), "vote")
    online = not in_room
    if not present:
        meeting_proxies.cancel_given(meeting, voter, now)
    members = sorted(choices, key=lambda member: (member != voter.id, member))
    weight_of = weights(meeting, members)
    try:
        if vote.kind == VoteKind.OPEN:
            _cast_open(vote, voter, choices, members, weight_of, online, now)
        else:
            _cast_secret(vote, voter, choices, members, weight_of, online, now)
    except IntegrityError:
        db.session.rollback()
        raise Refused(_already_voted(voter, choices), "vote") from None
    return Cast(members=members, online=online)


def _field(voter: Membership, member_id: int) -> str:
    return "choice" if member_id == voter.id else f"for_{member_id}"


def _already_voted(voter: Membership, choices: dict[int, int]):
    if set(choices) == {voter.id}:
        return _l("Your vote is recorded already: a member votes once.")
    return _l("A vote in this submission is recorded already: a member votes once.")


def _cast_open(vote, voter, choices, members, weight_of, online, now) -> None:
    db.session.add_all(
        OpenBallot(
            vote_id=vote.id,
            membership_id=member,
            option_id=choices[member],
            weight=weight_of[member],
            cast_by_id=voter.id,
            online=online,
            cast_at=now,
        )
        for member in members
    )
    db.session.flush()


def _cast_secret(vote, voter, choices, members, weight_of, online, now) -> None:
    # Who voted first: a second ballot for the same member fails here, before any
    # anonymous ballot is written (the rollback would take those away too).
    db.session.add_all(
        SecretVoter(
            vote_id=vote.id, membership_id=member, cast_by_id=voter.id, online=online, cast_at=now
        )
        for member in members
    )
    db.session.flush()
    # One anonymous ballot of weight 1 per vote a member has: a ballot of an unusual
    # weight would point to the member who holds that many shares.
    ballots = [{"option_id": choices[m], "weight": 1} for m in members for _ in range(weight_of[m])]
    _insert_ballots(vote, ballots)


def _insert_ballots(vote: Vote, ballots: list[dict]) -> None:
    """Insert anonymous ballots (`option_id`, `weight`) with new random ids, in a random
    order: one Core INSERT each (the ORM would sort them). SQLite numbers every row of a
    table without an integer key (`rowid`) in the order it is written, which would give
    away whose ballot is whose: a random rowid instead."""
    ballots = [dict(ballot) for ballot in ballots]
    secrets.SystemRandom().shuffle(ballots)
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    for ballot in ballots:
        values = {"id": secrets.token_hex(16), "vote_id": vote.id, **ballot}
        if sqlite:
            db.session.execute(
                sa.text(
                    "INSERT INTO meeting_secret_ballots (rowid, id, vote_id, option_id, weight) "
                    "VALUES (:rowid, :id, :vote_id, :option_id, :weight)"
                ),
                {"rowid": secrets.randbelow(2**62) + 1, **values},
            )
        else:
            db.session.execute(sa.insert(SecretBallot).values(**values))


def shuffle_ballots(vote: Vote) -> None:
    """Write a secret vote's ballots again, in a random order with new ids (at its close):
    PostgreSQL keeps a row where it was written (`ctid`, which anyone who reads the table
    can select), so while a vote is open the places of its ballots follow the order they
    were cast in. Afterwards they follow nothing."""
    rows = db.session.execute(
        sa.select(SecretBallot.option_id, SecretBallot.weight).where(
            SecretBallot.vote_id == vote.id
        )
    ).all()
    db.session.execute(sa.delete(SecretBallot).where(SecretBallot.vote_id == vote.id))
    _insert_ballots(vote, [{"option_id": option, "weight": weight} for option, weight in rows])
