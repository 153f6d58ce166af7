"""The votes of a general meeting as services (issue 16): putting a vote, when it opens,
casting (present, online, by proxy, once), weights, and the result at its edges."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    AttendanceMode,
    Majority,
    MeetingAttendance,
    MembershipStatus,
    OpenBallot,
    OptionMeaning,
    Proxy,
    ProxyStatus,
    SecretBallot,
    SecretVoter,
    VoteKind,
    VoteQuestion,
    VoteStatus,
    VoteWeighting,
    utcnow,
)
from cooperative.refusals import Refused
from cooperative.services import meeting_ballots, meeting_votes, meetings
from cooperative.services.meeting_ballots import NotRepresented
from cooperative.services.meeting_vote_results import passes
from tests.meeting_fixtures import make_meeting
from tests.vote_fixtures import (
    arrive,
    chair,
    give_proxy,
    give_shares,
    members,
    open_vote,
    option,
    voting_meeting,
)


def _close(vote) -> dict:
    result = meeting_votes.close_vote(vote, chair())
    db.session.commit()
    return result


def _cast(vote, voter, answer: str, **for_others) -> None:
    choices = {voter.id: option(vote, answer)} if answer else {}
    choices.update({member.id: option(vote, a) for member, a in for_others.values()})
    meeting_ballots.cast(vote, voter, choices)
    db.session.commit()


# --- putting a vote ---------------------------------------------------------------------


def test_a_proposal_gets_for_against_abstain_and_statutes_need_two_thirds(app):
    with app.app_context():
        meeting = voting_meeting()
        ordinary = meeting_votes.add_vote(meeting.items[0], kind=VoteKind.OPEN)
        statutes = meeting_votes.add_vote(meeting.items[1], kind=VoteKind.SECRET)
        chosen = meeting_votes.add_vote(
            meeting.items[1], kind=VoteKind.OPEN, majority=Majority.SIMPLE, title=" Amendement "
        )
        assert [o.meaning for o in ordinary.options] == [
            OptionMeaning.FOR,
            OptionMeaning.AGAINST,
            OptionMeaning.ABSTAIN,
        ]
        assert ordinary.title == "Jaarrekening 2026" and ordinary.majority == Majority.SIMPLE
        assert statutes.majority == Majority.TWO_THIRDS and statutes.status == VoteStatus.DRAFT
        assert chosen.majority == Majority.SIMPLE and chosen.title == "Amendement"


def test_an_election_lists_its_candidates_and_abstain(app):
    with app.app_context():
        meeting = voting_meeting()
        vote = meeting_votes.add_vote(
            meeting.items[0],
            kind=VoteKind.SECRET,
            question=VoteQuestion.ELECTION,
            candidates=meeting_votes.candidate_names(" Ada \n\n Bea\r\nCor "),
        )
        assert [(o.meaning, o.label) for o in vote.options] == [
            (OptionMeaning.CANDIDATE, "Ada"),
            (OptionMeaning.CANDIDATE, "Bea"),
            (OptionMeaning.CANDIDATE, "Cor"),
            (OptionMeaning.ABSTAIN, ""),
        ]


@pytest.mark.parametrize(
    ("candidates", "message"),
    [
        ([], "namen van de kandidaten"),
        (["Ada", "ada"], "maar één keer"),
        (["x" * 201], "hoogstens 200"),
        ([f"Kandidaat {i}" for i in range(51)], "Hoogstens 50"),
    ],
)
def test_an_election_needs_candidates_each_named_once(app, candidates, message):
    with app.app_context():
        meeting = voting_meeting()
        with pytest.raises(Refused, match=message) as refused:
            meeting_votes.add_vote(
                meeting.items[0],
                kind=VoteKind.OPEN,
                question=VoteQuestion.ELECTION,
                candidates=candidates,
            )
        assert refused.value.field == "candidates"


def test_only_items_members_vote_on_get_a_vote(app):
    with app.app_context():
        meeting = make_meeting(30)
        with pytest.raises(Refused, match="stemmen de leden niet"):
            meeting_votes.add_vote(meeting.items[0], kind=VoteKind.OPEN)


# --- opening and closing -----------------------------------------------------------------


def _draft(meeting):
    vote = meeting_votes.add_vote(meeting.items[0], kind=VoteKind.OPEN)
    db.session.commit()
    return vote


def test_a_vote_opens_only_for_a_convened_meeting(app):
    with app.app_context():
        meeting = make_meeting(30, items=())
        meetings.add_item(meeting, "Begroting", has_vote=True)
        vote = _draft(meeting)
        with pytest.raises(Refused, match="niet bijeengeroepen"):
            meeting_votes.open_vote(vote, chair(), now=meeting.starts_at)


def test_in_the_room_a_vote_opens_on_the_day_from_half_an_hour_before(app):
    with app.app_context():
        meeting = voting_meeting(starts_in=timedelta(days=3))
        vote = _draft(meeting)
        start = meeting.starts_at
        for too_early in (start - timedelta(days=1), start - timedelta(minutes=31)):
            with pytest.raises(Refused, match="Te vroeg"):
                meeting_votes.open_vote(vote, chair(), now=too_early)
        day_after = start + timedelta(days=1, hours=1)
        with pytest.raises(Refused, match="voorbij"):
            meeting_votes.open_vote(vote, chair(), now=day_after)
        meeting_votes.open_vote(vote, chair(), now=start - timedelta(minutes=30))
        assert vote.status == VoteStatus.OPEN and vote.opened_by_id == chair().id


def test_with_online_voting_a_vote_opens_thirty_days_before(app):
    with app.app_context():
        meeting = voting_meeting(online_voting=True, starts_in=timedelta(days=40))
        vote = _draft(meeting)
        start = meeting.starts_at
        with pytest.raises(Refused, match="hoogstens 30 dagen"):
            meeting_votes.open_vote(vote, chair(), now=start - timedelta(days=30, seconds=1))
        meeting_votes.open_vote(vote, chair(), now=start - timedelta(days=30))
        assert vote.status == VoteStatus.OPEN


def test_open_then_closed_and_a_closed_vote_stays_closed(app):
    with app.app_context():
        meeting = voting_meeting()
        vote = _draft(meeting)
        with pytest.raises(Refused, match="Alleen een open stemming"):
            meeting_votes.close_vote(vote, chair())
        meeting_votes.open_vote(vote, chair())
        with pytest.raises(Refused, match="al open"):
            meeting_votes.open_vote(vote, chair())
        with pytest.raises(Refused, match="Alleen een stemming die nog niet open"):
            meeting_votes.remove_vote(vote)
        _close(vote)
        assert vote.status == VoteStatus.CLOSED and vote.result is not None
        with pytest.raises(Refused, match="blijft gesloten"):
            meeting_votes.open_vote(vote, chair())
        with pytest.raises(Refused, match="Alleen een open stemming"):
            meeting_votes.close_vote(vote, chair())


def test_a_draft_vote_can_be_removed(app):
    with app.app_context():
        meeting = voting_meeting()
        vote = _draft(meeting)
        meeting_votes.remove_vote(vote)
        db.session.commit()
        assert meeting_votes.votes_of(meeting) == []


# --- casting -------------------------------------------------------------------------------


def test_in_the_room_only_a_present_member_votes_once(app):
    with app.app_context():
        meeting = voting_meeting()
        ada, bea = members("Ada", "Bea")
        arrive(meeting, ada)
        vote = open_vote(meeting)
        with pytest.raises(Refused, match="ingecheckt"):
            _cast(vote, bea, "for")
        _cast(vote, ada, "for")
        with pytest.raises(Refused, match="al vastgelegd"):
            _cast(vote, ada, "against")
        ballot = db.session.scalar(sa.select(OpenBallot))
        assert (ballot.membership_id, ballot.cast_by_id, ballot.online) == (ada.id, ada.id, False)
        assert ballot.option_id == option(vote, "for") and ballot.weight == 1


def test_refusals_before_any_ballot(app):
    with app.app_context():
        meeting = voting_meeting()
        ada, bea = members("Ada", "Bea")
        arrive(meeting, ada, bea)
        vote = open_vote(meeting)
        other = open_vote(meeting, item=1)
        with pytest.raises(Refused, match="Kies een antwoord"):
            meeting_ballots.cast(vote, ada, {})
        with pytest.raises(Refused, match="gegeven antwoorden") as refused:
            meeting_ballots.cast(vote, ada, {ada.id: option(other, "for")})
        assert refused.value.field == "choice"
        with pytest.raises(NotRepresented):
            meeting_ballots.cast(
                vote, ada, {ada.id: option(vote, "for"), bea.id: option(vote, "for")}
            )
        bea.status = MembershipStatus.LAPSED
        db.session.commit()
        with pytest.raises(Refused, match="Alleen actieve leden"):
            _cast(vote, bea, "for")
        _close(other)
        with pytest.raises(Refused, match="niet open"):
            _cast(other, ada, "for")
        assert db.session.scalar(sa.select(sa.func.count(OpenBallot.id))) == 0


def test_online_voting_marks_the_ballot_and_cancels_the_members_own_proxy(app):
    with app.app_context():
        meeting = voting_meeting(online_voting=True)
        ada, bea = members("Ada", "Bea")
        arrive(meeting, bea)
        proxy = give_proxy(meeting, ada, bea)
        vote = open_vote(meeting)
        assert meeting_ballots.standing(vote, ada).online
        _cast(vote, ada, "against")
        ballot = db.session.scalar(sa.select(OpenBallot))
        assert ballot.online and ballot.membership_id == ada.id
        assert db.session.get(Proxy, proxy.id).status == ProxyStatus.CANCELLED
        assert meeting_ballots.standing(vote, bea).represented == []


def test_a_holder_votes_for_each_member_they_represent_who_is_away_and_has_not_voted(app):
    with app.app_context():
        meeting = voting_meeting()
        holder, cor, dirk, eva, fay = members("Holder", "Cor", "Dirk", "Eva", "Fay")
        arrive(meeting, holder)
        for grantor in (cor, dirk, eva):
            give_proxy(meeting, grantor, holder)
        # Eva came after all (a row written directly keeps her proxy: the rule still holds).
        db.session.add(
            MeetingAttendance(
                meeting_id=meeting.id,
                membership_id=eva.id,
                mode=AttendanceMode.ROOM,
                present_at=utcnow(),
            )
        )
        db.session.commit()
        vote = open_vote(meeting, kind=VoteKind.OPEN)
        standing = meeting_ballots.standing(vote, holder)
        assert [m.id for m in standing.represented] == [cor.id, dirk.id]
        with pytest.raises(Refused, match="stemt zelf"):
            _cast(vote, holder, "for", eva=(eva, "for"))
        with pytest.raises(NotRepresented):
            _cast(vote, holder, "for", fay=(fay, "for"))
        _cast(vote, holder, "for", cor=(cor, "against"), dirk=(dirk, "abstain"))
        rows = db.session.execute(
            sa.select(OpenBallot.membership_id, OpenBallot.option_id, OpenBallot.cast_by_id)
        ).all()
        assert sorted(rows) == sorted(
            [
                (holder.id, option(vote, "for"), holder.id),
                (cor.id, option(vote, "against"), holder.id),
                (dirk.id, option(vote, "abstain"), holder.id),
            ]
        )
        after = meeting_ballots.standing(vote, holder)
        assert after.voted and not after.may_vote and after.represented == []
        assert [m.id for m in after.represented_done] == [cor.id, dirk.id]
        assert meeting_ballots.standing(vote, cor).cast_by_holder


def test_one_submission_is_cast_whole_or_not_at_all(app):
    with app.app_context():
        meeting = voting_meeting()
        holder, cor = members("Holder", "Cor")
        arrive(meeting, holder)
        give_proxy(meeting, cor, holder)
        vote = open_vote(meeting)
        # Cor's ballot gets in first (written as if by another request a moment earlier).
        db.session.add(
            OpenBallot(vote_id=vote.id, membership_id=cor.id, option_id=option(vote, "for"))
        )
        db.session.commit()
        with pytest.raises(Refused, match="al vastgelegd"):
            _cast(vote, holder, "for", cor=(cor, "against"))
        assert db.session.scalar(sa.select(sa.func.count(OpenBallot.id))) == 1


def test_a_ballot_that_gets_in_between_the_check_and_the_insert_refuses_the_whole(app, monkeypatch):
    with app.app_context():
        meeting = voting_meeting(online_voting=True)
        holder, cor, dirk = members("Holder", "Cor", "Dirk")
        give_proxy(meeting, cor, holder)
        own = give_proxy(meeting, holder, dirk)  # cancelled when the holder votes online
        vote = open_vote(meeting, kind=VoteKind.SECRET)
        db.session.add(SecretVoter(vote_id=vote.id, membership_id=cor.id))
        db.session.commit()
        # The other request's ballot is not there yet when this one looks.
        monkeypatch.setattr(meeting_ballots, "voted_ids", lambda vote, ids=None: set())
        with pytest.raises(Refused, match="al vastgelegd"):
            _cast(vote, holder, "for", cor=(cor, "against"))
        monkeypatch.undo()
        assert db.session.scalar(sa.select(sa.func.count(SecretVoter.id))) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SecretBallot)) == 0
        assert db.session.get(Proxy, own.id).status == ProxyStatus.ACCEPTED  # rolled back too


def test_weights_per_share_count_paid_shares_not_repaid_at_least_one(app):
    with app.app_context():
        meeting = voting_meeting(weighting=VoteWeighting.PER_SHARE)
        ada, bea, cor = members("Ada", "Bea", "Cor")
        give_shares(ada, paid=3, unpaid=2, repaid=1)
        give_shares(bea, paid=0, unpaid=1)
        assert meeting_ballots.weights(meeting, [ada.id, bea.id, cor.id]) == {
            ada.id: 3,
            bea.id: 1,
            cor.id: 1,
        }
        meeting.vote_weighting = VoteWeighting.PER_MEMBER
        assert meeting_ballots.weights(meeting, [ada.id]) == {ada.id: 1}


# --- the result ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("votes_for", "against", "majority", "passed"),
    [
        (1, 1, Majority.SIMPLE, False),  # exactly half is no majority
        (2, 1, Majority.SIMPLE, True),
        (51, 49, Majority.SIMPLE, True),
        (2, 1, Majority.TWO_THIRDS, True),  # exactly two thirds passes
        (199, 101, Majority.TWO_THIRDS, False),  # just under two thirds
        (0, 0, Majority.SIMPLE, False),  # nothing for or against passes nothing
        (1, 0, Majority.TWO_THIRDS, True),
    ],
)
def test_the_majority_rule_at_its_edges(votes_for, against, majority, passed):
    assert passes(votes_for, against, majority) is passed


def _vote_in_room(meeting, names_answers, **vote_kwargs):
    """Members arrive, a vote opens, each answers (None: present, does not vote)."""
    voters = members(*names_answers)
    arrive(meeting, *voters)
    vote = open_vote(meeting, **vote_kwargs)
    for voter, answer in zip(voters, names_answers.values(), strict=True):
        if answer:
            _cast(vote, voter, answer)
    return vote, voters


def test_exactly_half_is_not_a_simple_majority_and_abstentions_do_not_count(app):
    with app.app_context():
        meeting = voting_meeting()
        vote, _voters = _vote_in_room(
            meeting, {"Ada": "for", "Bea": "against", "Cor": "abstain", "Dirk": None}
        )
        result = _close(vote)
        assert result["passed"] is False
        assert result["eligible"] == 4 and result["voters"] == 3 and result["weight"] == 3
        assert result["turnout_percent"] == 75 and result["present"] == 4
        by_meaning = {o["meaning"]: (o["count"], o["weight"]) for o in result["options"]}
        assert by_meaning == {"for": (1, 1), "against": (1, 1), "abstain": (1, 1)}


def test_exactly_two_thirds_passes_a_change_of_the_statutes(app):
    with app.app_context():
        meeting = voting_meeting()
        vote, _ = _vote_in_room(
            meeting, {"Ada": "for", "Bea": "for", "Cor": "against", "Dirk": "abstain"}, item=1
        )
        result = _close(vote)
        assert result["majority"] == "two_thirds" and result["passed"] is True


def test_weights_change_the_outcome(app):
    with app.app_context():
        meeting = voting_meeting(weighting=VoteWeighting.PER_SHARE)
        ada, bea, cor = members("Ada", "Bea", "Cor")
        give_shares(cor, paid=3)
        arrive(meeting, ada, bea, cor)
        vote = open_vote(meeting)
        _cast(vote, ada, "for")
        _cast(vote, bea, "for")
        _cast(vote, cor, "against")
        result = _close(vote)
        by_meaning = {o["meaning"]: (o["count"], o["weight"]) for o in result["options"]}
        assert by_meaning["for"] == (2, 2) and by_meaning["against"] == (1, 3)
        assert result["passed"] is False  # two members for, but three votes against
        assert result["eligible_weight"] == 5 and result["weight"] == 5


def test_without_the_quorum_nothing_passes_and_online_voters_count_for_it(app):
    with app.app_context():
        meeting = voting_meeting(online_voting=True, quorum_percent=50)
        ada, bea, cor, dirk, eva = members("Ada", "Bea", "Cor", "Dirk", "Eva")
        arrive(meeting, ada)
        give_proxy(meeting, bea, ada)
        vote = open_vote(meeting)
        _cast(vote, ada, "for", bea=(bea, "for"))
        result = _close(vote)
        assert result["present"] == 2 and result["quorum_percent"] == 50
        assert result["quorum_met"] is False and result["passed"] is False
        second = open_vote(meeting)
        _cast(second, ada, "for")
        _cast(second, cor, "for")  # online: Cor counts for the quorum of this vote
        result = _close(second)
        assert result["present"] == 3 and result["quorum_met"] is True and result["passed"]
        assert dirk.id and eva.id


def test_an_election_elects_the_most_votes_and_a_tie_lists_all(app):
    with app.app_context():
        meeting = voting_meeting()
        candidates = ["Ada", "Bea", "Cor"]
        vote, _ = _vote_in_room(
            meeting,
            {"Vera": "Ada", "Wim": "Bea", "Xan": "Ada", "Yus": "Bea", "Zoe": "abstain"},
            question=VoteQuestion.ELECTION,
            candidates=candidates,
        )
        result = _close(vote)
        assert sorted(result["elected"]) == sorted([option(vote, "Ada"), option(vote, "Bea")])
        assert "passed" not in result
        single, _ = _vote_in_room(
            voting_meeting(),
            {"Pim": "Cor"},
            question=VoteQuestion.ELECTION,
            candidates=candidates,
        )
        assert _close(single)["elected"] == [option(single, "Cor")]
