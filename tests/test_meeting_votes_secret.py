"""Secret votes keep who voted apart from what they voted (issue 16): the schema has no
way to link them, and after members voted nothing in the database does. And one ballot
per member when several phones cast for the same member at the same moment, each thread
on its own connection (PostgreSQL with TEST_DATABASE_URL; on SQLite the write lock
serialises them, and the outcome must be the same)."""

import threading

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Membership,
    OpenBallot,
    SecretBallot,
    SecretVoter,
    Vote,
    VoteKind,
)
from cooperative.refusals import Refused
from cooperative.services import meeting_ballots, meeting_votes
from tests.vote_fixtures import (
    arrive,
    chair,
    give_proxy,
    members,
    open_vote,
    option,
    voting_meeting,
)


def test_the_ballot_table_has_no_way_to_a_member_or_a_time(app):
    with app.app_context():
        inspector = sa.inspect(db.engine)
        columns = {c["name"]: c for c in inspector.get_columns("meeting_secret_ballots")}
        assert set(columns) == {"id", "vote_id", "option_id", "weight"}
        for column in columns.values():
            assert not isinstance(column["type"], (sa.DateTime, sa.Date, sa.Time, sa.Interval))
        referred = {
            fk["referred_table"] for fk in inspector.get_foreign_keys("meeting_secret_ballots")
        }
        assert referred == {"meeting_votes", "meeting_vote_options"}
        voters = {c["name"] for c in inspector.get_columns("meeting_secret_voters")}
        assert "option_id" not in voters and "ballot_id" not in voters
        referred = {
            fk["referred_table"] for fk in inspector.get_foreign_keys("meeting_secret_voters")
        }
        assert "meeting_secret_ballots" not in referred and "meeting_vote_options" not in referred


def _links(table: sa.Table) -> set[str]:
    return {fk.column.table.name for fk in table.foreign_keys}


def _row_counts() -> dict[str, int]:
    with db.engine.connect() as connection:
        return {
            table.name: connection.scalar(sa.select(sa.func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


def test_after_seven_members_voted_nothing_says_who_voted_what(app):
    with app.app_context():
        meeting = voting_meeting()
        voters = members("Ada", "Bea", "Cor", "Dirk", "Eva", "Fer", "Gijs")
        arrive(meeting, *voters)
        vote = open_vote(meeting, kind=VoteKind.SECRET)
        cycle = ("for", "against", "abstain")
        answers = {member.id: cycle[n % 3] for n, member in enumerate(voters)}
        before = _row_counts()
        for member in voters:
            meeting_ballots.cast(vote, member, {member.id: option(vote, answers[member.id])})
            db.session.commit()
        after = _row_counts()
        # The casting wrote who voted and the ballots, and nothing else (no log, no mail).
        changed = {
            name: after[name] - before[name] for name in after if after[name] != before[name]
        }
        assert changed == {"meeting_secret_voters": 7, "meeting_secret_ballots": 7}
        who = db.session.execute(sa.select(SecretVoter.__table__)).mappings().all()
        assert {row["membership_id"] for row in who} == set(answers)
        assert all(
            set(row) == {"id", "vote_id", "membership_id", "cast_by_id", "online", "cast_at"}
            for row in who
        )
        ballots = db.session.execute(sa.select(SecretBallot.__table__)).mappings().all()
        assert sorted(row["option_id"] for row in ballots) == sorted(
            option(vote, answer) for answer in answers.values()
        )
        assert all(set(row) == {"id", "vote_id", "option_id", "weight"} for row in ballots)
        # Only the open ballots' table links a member to an answer, and it holds none.
        linking = [
            table.name
            for table in db.metadata.sorted_tables
            if {"memberships", "users"} & _links(table) and "meeting_vote_options" in _links(table)
        ]
        assert linking == ["meeting_open_ballots"]
        assert db.session.scalar(sa.select(sa.func.count(OpenBallot.id))) == 0
        # Nor does an order: not the ids, nor where the database keeps the rows. (Seven
        # answers of three kinds fall in 210 orders: both in the cast order by chance is
        # one in 44,100.)
        cast_order = [option(vote, answers[m.id]) for m in voters]
        by_id = [row["option_id"] for row in sorted(ballots, key=lambda row: row["id"])]
        assert len({row["id"] for row in ballots}) == 7
        assert by_id != cast_order or _by_place() != cast_order


def _by_place() -> list[int]:
    """The ballots' answers in the order the database keeps their rows."""
    place = "rowid" if db.engine.dialect.name == "sqlite" else "ctid"
    return list(
        db.session.scalars(
            sa.text(f"SELECT option_id FROM meeting_secret_ballots ORDER BY {place}")
        )
    )


def test_many_ballots_are_not_kept_in_the_order_they_were_cast(app):
    with app.app_context():
        meeting = voting_meeting()
        voters = members(*[f"Lid{i}" for i in range(12)])
        arrive(meeting, *voters)
        vote = open_vote(meeting, kind=VoteKind.SECRET)
        answers = ["for", "against", "abstain"]
        cast_order = []
        for i, voter in enumerate(voters):
            answer = option(vote, answers[(i * 7 + i // 3) % 3])
            meeting_ballots.cast(vote, voter, {voter.id: answer})
            db.session.commit()
            cast_order.append(answer)
        by_id = list(
            db.session.scalars(sa.select(SecretBallot.option_id).order_by(SecretBallot.id))
        )
        assert sorted(by_id) == sorted(cast_order)
        # 12 ballots: the chance that a random order equals the cast order is tiny.
        assert by_id != cast_order
        if db.engine.dialect.name == "sqlite":  # PostgreSQL's places: shuffled at the close
            assert _by_place() != cast_order
        ids_before = set(db.session.scalars(sa.select(SecretBallot.id)))
        meeting_votes.close_vote(vote, chair())
        db.session.commit()
        assert sorted(_by_place()) == sorted(cast_order) and _by_place() != cast_order
        assert not ids_before & set(db.session.scalars(sa.select(SecretBallot.id)))


def test_a_holder_casts_secret_ballots_for_the_members_they_represent(app):
    with app.app_context():
        meeting = voting_meeting()
        holder, cor, dirk = members("Holder", "Cor", "Dirk")
        arrive(meeting, holder)
        give_proxy(meeting, cor, holder)
        give_proxy(meeting, dirk, holder)
        vote = open_vote(meeting, kind=VoteKind.SECRET)
        meeting_ballots.cast(
            vote,
            holder,
            {
                holder.id: option(vote, "for"),
                cor.id: option(vote, "for"),
                dirk.id: option(vote, "against"),
            },
        )
        db.session.commit()
        voters = db.session.execute(
            sa.select(SecretVoter.membership_id, SecretVoter.cast_by_id)
        ).all()
        assert sorted(voters) == sorted(
            [(holder.id, holder.id), (cor.id, holder.id), (dirk.id, holder.id)]
        )
        result = meeting_votes.close_vote(vote, chair())
        by_meaning = {o["meaning"]: o["count"] for o in result["options"]}
        assert by_meaning == {"for": 2, "against": 1, "abstain": 0}
        assert result["voters"] == 3 and result["passed"] is True


# --- at the same moment -----------------------------------------------------------------------


def cast_at_once(app, vote_id: int, attempts: list[tuple[int, dict[int, int]]]) -> list[str]:
    """Start each (voter id, choices) cast together, each on its own session; outcomes."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(voter_id: int, choices: dict[int, int]) -> None:
        barrier.wait(timeout=30)
        with app.app_context():
            try:
                vote = db.session.get(Vote, vote_id)
                meeting_ballots.cast(vote, db.session.get(Membership, voter_id), choices)
                db.session.commit()
                outcome = "cast"
            except Refused:
                db.session.rollback()
                outcome = "refused"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=each) for each in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == len(attempts), "a cast got lost"
    return outcomes


@pytest.mark.parametrize("kind", [VoteKind.OPEN, VoteKind.SECRET])
def test_one_member_voting_from_several_phones_at_once_gets_one_ballot(app, kind):
    """Ada votes online from two phones while the holder of her proxy votes for her in
    the room: one ballot for Ada, the other five casts refused (never an error)."""
    with app.app_context():
        meeting = voting_meeting(online_voting=True)
        ada, holder = members("Ada", "Holder")
        arrive(meeting, holder)
        give_proxy(meeting, ada, holder)
        vote = open_vote(meeting, kind=kind)
        answers = [option(vote, a) for a in ("for", "against", "abstain")]
        attempts = [(ada.id, {ada.id: answers[i % 3]}) for i in range(3)]
        attempts += [(holder.id, {ada.id: answers[i % 3]}) for i in range(3)]
        vote_id, ada_id = vote.id, ada.id
    outcomes = cast_at_once(app, vote_id, attempts)
    assert sorted(outcomes) == ["cast"] + ["refused"] * 5
    with app.app_context():
        count = sa.func.count()
        table = OpenBallot if kind == VoteKind.OPEN else SecretVoter
        assert (
            db.session.scalar(
                sa.select(count).select_from(table).where(table.membership_id == ada_id)
            )
            == 1
        )
        if kind == VoteKind.SECRET:
            assert db.session.scalar(sa.select(count).select_from(SecretBallot)) == 1
