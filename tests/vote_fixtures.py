"""Test data for the votes of a general meeting (issue 16): a convened meeting that
started ten minutes ago (so a vote may open whatever the time of day), members present
or represented, shares paid, votes opened. Plain functions, inside an app context; they
commit."""

from datetime import timedelta
from itertools import count

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    AttendanceMode,
    Majority,
    Meeting,
    Membership,
    Proxy,
    ProxyStatus,
    Share,
    ShareClass,
    User,
    VoteKind,
    VoteQuestion,
    VoteWeighting,
    utcnow,
)
from cooperative.services import meeting_attendance, meeting_votes, meetings
from tests.factories import make_admin
from tests.meeting_fixtures import make_voter

_numbers = count(1)


def chair() -> User:
    """The admin who convenes and runs the votes (made once)."""
    return db.session.scalar(
        sa.select(User).where(User.email == "chair@example.org")
    ) or make_admin("chair@example.org")


def voting_meeting(
    online_voting: bool = False,
    weighting: VoteWeighting = VoteWeighting.PER_MEMBER,
    quorum_percent: int | None = None,
    statutes_quorum_percent: int | None = None,
    starts_in: timedelta = timedelta(minutes=-10),
) -> Meeting:
    """A convened meeting starting `starts_in` from now, with two items voted on: the
    accounts (ordinary) and a change of the statutes."""
    starts = utcnow() + starts_in
    meeting = meetings.save_meeting(
        meetings.MeetingPlan(
            title="Algemene ledenvergadering",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            location="Buurthuis De Meent",
            online_voting=online_voting,
            quorum_percent=quorum_percent,
            statutes_quorum_percent=statutes_quorum_percent,
        )
    )
    meetings.add_item(meeting, "Jaarrekening 2026", has_vote=True)
    meetings.add_item(meeting, "Statutenwijziging", changes_statutes=True)
    meeting.vote_weighting = weighting
    meetings.convene(meeting, "Welkom.", chair(), now=starts - timedelta(days=20))
    db.session.commit()
    return meeting


def members(*names: str) -> list[Membership]:
    """Active members, one per name (e-mail from the name)."""
    return [make_voter(f"{name.lower()}@example.org", name=name)[1] for name in names]


def arrive(meeting: Meeting, *memberships: Membership) -> None:
    for membership in memberships:
        meeting_attendance.arrive(meeting, membership, AttendanceMode.ROOM)
    db.session.commit()


def give_proxy(meeting: Meeting, grantor: Membership, holder: Membership) -> Proxy:
    """An accepted proxy, written as a row (the give/accept service is another's)."""
    proxy = Proxy(
        meeting_id=meeting.id,
        grantor_id=grantor.id,
        holder_id=holder.id,
        status=ProxyStatus.ACCEPTED,
        accepted_at=utcnow(),
    )
    db.session.add(proxy)
    db.session.commit()
    return proxy


def give_shares(membership: Membership, paid: int, unpaid: int = 0, repaid: int = 0) -> None:
    """Shares of one class: `paid` paid, `unpaid` not paid yet, `repaid` paid back."""
    share_class = db.session.scalar(sa.select(ShareClass).where(ShareClass.slug == "stem"))
    if share_class is None:
        share_class = ShareClass(slug="stem", name_nl="Aandeel", name_en="Share", amount_cents=2500)
        db.session.add(share_class)
        db.session.flush()
    now = utcnow()
    states = [(now, None)] * paid + [(None, None)] * unpaid + [(now, now)] * repaid
    for paid_at, repaid_at in states:
        db.session.add(
            Share(
                number=next(_numbers) + 10_000 * membership.id,
                share_class_id=share_class.id,
                membership_id=membership.id,
                amount_cents=2500,
                paid_at=paid_at,
                repaid_at=repaid_at,
                repaid_cents=2500 if repaid_at else None,
            )
        )
    db.session.commit()


def open_vote(
    meeting: Meeting,
    item: int = 0,
    kind: VoteKind = VoteKind.OPEN,
    question: VoteQuestion = VoteQuestion.PROPOSAL,
    majority: Majority | None = None,
    candidates=(),
):
    """A vote on the meeting's `item` (index), opened by the chair."""
    vote = meeting_votes.add_vote(
        meeting.items[item], kind=kind, question=question, majority=majority, candidates=candidates
    )
    meeting_votes.open_vote(vote, chair())
    db.session.commit()
    return vote


def option(vote, meaning_or_label: str) -> int:
    """The id of the vote's option with this meaning (for, against, abstain) or label."""
    return next(o.id for o in vote.options if meaning_or_label in (o.meaning.value, o.label))
