"""Edges of casting a ballot found in review (issue 16): who votes in the room and who
online, a ballot after the meeting, secret ballots of a member with many votes, and
joining online only where the meeting can be followed online."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    AttendanceMode,
    OpenBallot,
    SecretBallot,
    VoteKind,
    VoteWeighting,
    utcnow,
)
from cooperative.refusals import Refused
from cooperative.services import meeting_attendance, meeting_ballots
from tests.vote_fixtures import (
    give_shares,
    members,
    open_vote,
    option,
    voting_meeting,
)


def test_following_online_is_no_vote_in_the_room(app):
    with app.app_context():
        meeting = voting_meeting(online_voting=False)
        meeting.online_url = "https://meet.example.org/alv"
        [ada] = members("Ada")
        meeting_attendance.arrive(meeting, ada, AttendanceMode.ONLINE)
        db.session.commit()
        vote = open_vote(meeting)
        with pytest.raises(Refused, match="ingecheckt"):
            meeting_ballots.cast(vote, ada, {ada.id: option(vote, "for")})
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(OpenBallot.id))) == 0


def test_following_online_votes_online_where_the_statutes_allow_it(app):
    with app.app_context():
        meeting = voting_meeting(online_voting=True)
        [ada, bea] = members("Ada", "Bea")
        meeting_attendance.arrive(meeting, ada, AttendanceMode.ONLINE)
        meeting_attendance.arrive(meeting, bea, AttendanceMode.ROOM)
        db.session.commit()
        vote = open_vote(meeting)
        meeting_ballots.cast(vote, ada, {ada.id: option(vote, "for")})
        meeting_ballots.cast(vote, bea, {bea.id: option(vote, "against")})
        db.session.commit()
        online = dict(
            db.session.execute(sa.select(OpenBallot.membership_id, OpenBallot.online)).all()
        )
        assert online == {ada.id: True, bea.id: False}


def test_no_ballot_after_the_meeting(app):
    with app.app_context():
        meeting = voting_meeting(online_voting=True)
        [ada] = members("Ada")
        vote = open_vote(meeting)
        after = max(meeting.ends_at, utcnow()) + timedelta(days=1, hours=1)
        with pytest.raises(Refused, match="vergadering is voorbij"):
            meeting_ballots.cast(vote, ada, {ada.id: option(vote, "for")}, now=after)


def test_a_secret_ballot_of_many_votes_is_that_many_ballots_of_one(app):
    with app.app_context():
        meeting = voting_meeting(online_voting=True, weighting=VoteWeighting.PER_SHARE)
        [ada, bea] = members("Ada", "Bea")
        give_shares(ada, paid=7)
        vote = open_vote(meeting, kind=VoteKind.SECRET)
        meeting_ballots.cast(vote, ada, {ada.id: option(vote, "for")})
        meeting_ballots.cast(vote, bea, {bea.id: option(vote, "against")})
        db.session.commit()
        weights = db.session.scalars(sa.select(SecretBallot.weight)).all()
        assert sorted(weights) == [1] * 8  # nobody's 7 stands out
        for_votes = db.session.scalar(
            sa.select(sa.func.count()).where(SecretBallot.option_id == option(vote, "for"))
        )
        assert for_votes == 7


def test_joining_online_needs_a_meeting_that_can_be_followed_online(app):
    with app.app_context():
        meeting = voting_meeting(online_voting=True)  # no online link: in the room only
        [ada] = members("Ada")
        with pytest.raises(Refused, match="alleen in de zaal"):
            meeting_attendance.arrive_online(meeting, ada)
        meeting.online_url = "https://meet.example.org/alv"
        assert meeting_attendance.arrive_online(meeting, ada).present_at is not None
