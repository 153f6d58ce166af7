"""Test data for the minutes of a general meeting: a meeting that was held (convened
before, started yesterday), and its rows written directly: who was present and how, the
proxies, and closed votes with their results as `Vote.result` keeps them."""

from datetime import timedelta
from types import SimpleNamespace

from cooperative.extensions import db
from cooperative.models import (
    AttendanceMode,
    EventStatus,
    Majority,
    Meeting,
    MeetingAttendance,
    OptionMeaning,
    Proxy,
    ProxyStatus,
    Vote,
    VoteKind,
    VoteOption,
    VoteQuestion,
    VoteStatus,
    VoteWeighting,
)
from tests.meeting_fixtures import make_meeting, make_voter


def hold(meeting: Meeting, days_ago: int = 20) -> Meeting:
    """Mark `meeting` convened `days_ago` before it starts, its event published."""
    meeting.convened_at = meeting.starts_at - timedelta(days=days_ago)
    meeting.convocation_text = "Welkom."
    meeting.event.status = EventStatus.PUBLISHED
    db.session.commit()
    return meeting


def held_meeting(days: int = -1, **fields) -> Meeting:
    """A meeting that started `days` from today (yesterday by default) and was convened,
    with two items: the accounts (a vote) and the board (an election)."""
    meeting = make_meeting(
        days, items=(("Jaarrekening 2026", False), ("Bestuursverkiezing", False)), **fields
    )
    return hold(meeting)


def closed_vote(item, title, options, result, *, kind=VoteKind.OPEN, question=None) -> Vote:
    """A closed vote on `item` with `options` [(meaning, label)]; `result` is the kept
    result, in which "options" name the options by position (filled in with their ids)."""
    vote = Vote(
        agenda_item_id=item.id,
        title=title,
        kind=kind,
        question=question or VoteQuestion.PROPOSAL,
        majority=Majority.SIMPLE,
        status=VoteStatus.CLOSED,
        closed_at=item.meeting.starts_at + timedelta(minutes=30),
        options=[
            VoteOption(position=i, meaning=meaning, label=label)
            for i, (meaning, label) in enumerate(options)
        ],
    )
    db.session.add(vote)
    db.session.flush()
    kept = dict(result)
    kept["options"] = [
        {"id": option.id, "meaning": option.meaning.value, "label": option.label, **numbers}
        for option, numbers in zip(vote.options, result["options"], strict=True)
    ]
    if "elected" in result:
        kept["elected"] = [vote.options[i].id for i in result["elected"]]
    vote.result = kept
    db.session.commit()
    return vote


def a_held_meeting_with_its_rows(weighted: bool = False) -> SimpleNamespace:
    """A held meeting: Ada in the room, Bram online, Cor represented by Ada's accepted
    proxy, Dirk absent, Eva's proxy to Bram withdrawn (so not counted); a closed open vote
    on the accounts (adopted), a closed secret election (Fien elected), and a vote still
    open (not in the draft)."""
    _, ada = make_voter("ada@example.org", name="Ada *Lovelace*")
    _, bram = make_voter("bram@example.org", name="Bram Bakker")
    _, cor = make_voter("cor@example.org", name="Cor Claassen")
    make_voter("dirk@example.org", name="Dirk Dekker")
    _, eva = make_voter("eva@example.org", name="Eva Evers")
    meeting = held_meeting(quorum_percent=50)
    if weighted:
        meeting.vote_weighting = VoteWeighting.PER_SHARE
    started = meeting.starts_at
    db.session.add_all(
        [
            MeetingAttendance(
                meeting_id=meeting.id,
                membership_id=ada.id,
                mode=AttendanceMode.ROOM,
                present_at=started,
            ),
            MeetingAttendance(
                meeting_id=meeting.id,
                membership_id=bram.id,
                mode=AttendanceMode.ONLINE,
                present_at=started,
            ),
            # Registered, never came: not present.
            MeetingAttendance(
                meeting_id=meeting.id, membership_id=eva.id, mode=AttendanceMode.ROOM
            ),
            Proxy(
                meeting_id=meeting.id,
                grantor_id=cor.id,
                holder_id=ada.id,
                status=ProxyStatus.ACCEPTED,
            ),
            Proxy(
                meeting_id=meeting.id,
                grantor_id=eva.id,
                holder_id=bram.id,
                status=ProxyStatus.WITHDRAWN,
            ),
        ]
    )
    db.session.commit()
    accounts, board = meeting.items
    closed_vote(
        accounts,
        "Vaststelling jaarrekening 2026",
        [(OptionMeaning.FOR, ""), (OptionMeaning.AGAINST, ""), (OptionMeaning.ABSTAIN, "")],
        {
            "eligible": 5,
            "eligible_weight": 9,
            "voters": 3,
            "weight": 6,
            "options": [
                {"count": 2, "weight": 5},
                {"count": 1, "weight": 1},
                {"count": 0, "weight": 0},
            ],
            "quorum_percent": 50,
            "quorum_met": True,
            "present": 3,
            "majority": "simple",
            "passed": True,
        },
    )
    closed_vote(
        board,
        "Verkiezing penningmeester",
        [(OptionMeaning.CANDIDATE, "Fien Faber"), (OptionMeaning.CANDIDATE, "Gijs Goud")],
        {
            "eligible": 5,
            "eligible_weight": 9,
            "voters": 3,
            "weight": 6,
            "options": [{"count": 2, "weight": 4}, {"count": 1, "weight": 2}],
            "quorum_percent": 50,
            "quorum_met": True,
            "present": 3,
            "majority": "simple",
            "elected": [0],
        },
        kind=VoteKind.SECRET,
        question=VoteQuestion.ELECTION,
    )
    still_open = Vote(
        agenda_item_id=accounts.id,
        title="Nog open stemming",
        kind=VoteKind.OPEN,
        status=VoteStatus.OPEN,
    )
    db.session.add(still_open)
    db.session.commit()
    return SimpleNamespace(id=meeting.id, slug=meeting.slug, title=meeting.title)
