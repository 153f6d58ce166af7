"""Proxies for a general meeting on the service (issue 16, art. 2:38 BW): giving,
accepting, declining, withdrawing and the board's paper proxies; every refusal at its
edge (the holder's limit exactly, chains both ways, the start of the meeting); naming the
holder without revealing who is a member; two proxies at once to one holder."""

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    AttendanceMode,
    Meeting,
    Membership,
    MembershipStatus,
    OutboxMessage,
    Proxy,
    ProxyStatus,
    User,
)
from cooperative.refusals import Refused
from cooperative.services import meeting_attendance, meeting_proxies
from tests.factories import make_admin
from tests.meeting_fixtures import convened_meeting, make_meeting, make_voters


def _mails_to(address: str) -> list[OutboxMessage]:
    return db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.to_address == address)
        .order_by(OutboxMessage.id)
    ).all()


def _before(meeting: Meeting, **delta):
    return meeting.starts_at - timedelta(**delta)


def test_a_proxy_is_given_accepted_and_both_are_told(app):
    with app.app_context():
        ada, bob = make_voters(2)
        meeting = convened_meeting()
        proxy = meeting_proxies.give(meeting, ada, bob)
        db.session.commit()
        assert proxy.status == ProxyStatus.GIVEN and proxy.recorded_by_id is None
        (asked,) = _mails_to("lid2@example.org")[-1:]
        assert (
            "Lid 1" in asked.body_text and f"/meetings/{meeting.slug}#volmacht" in asked.body_text
        )
        assert meeting_proxies.represented_by(meeting, bob) == []  # not accepted yet
        meeting_proxies.accept(proxy, bob)
        db.session.commit()
        assert proxy.status == ProxyStatus.ACCEPTED and proxy.accepted_at is not None
        assert meeting_proxies.represented_by(meeting, bob) == [ada]
        told = _mails_to("lid1@example.org")[-1]
        assert "Lid 2" in told.body_text and "geaccepteerd" in told.subject


def test_a_declined_proxy_tells_the_grantor_and_frees_them_to_give_another(app):
    with app.app_context():
        ada, bob, cor = make_voters(3)
        meeting = convened_meeting()
        first = meeting_proxies.give(meeting, ada, bob)
        meeting_proxies.decline(first, bob)
        assert first.status == ProxyStatus.DECLINED and first.ended_at is not None
        assert "afgewezen" in _mails_to("lid1@example.org")[-1].subject
        second = meeting_proxies.give(meeting, ada, cor)
        db.session.commit()
        assert second.status == ProxyStatus.GIVEN
        with pytest.raises(Refused, match="niet meer"):
            meeting_proxies.accept(first, bob)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"proxies_allowed": False}, "niet toe"),
    ],
)
def test_proxies_not_allowed_by_the_statutes_are_refused(app, change, message):
    with app.app_context():
        ada, bob = make_voters(2)
        meeting = convened_meeting(**change)
        with pytest.raises(Refused, match=message):
            meeting_proxies.give(meeting, ada, bob)
        with pytest.raises(Refused, match=message):
            meeting_proxies.record_paper(meeting, ada, bob, make_admin("b2@example.org"))


def test_a_meeting_not_convened_takes_no_proxies(app):
    with app.app_context():
        ada, bob = make_voters(2)
        meeting = make_meeting(30)
        with pytest.raises(Refused, match="bijeengeroepen"):
            meeting_proxies.give(meeting, ada, bob)


def test_giving_and_withdrawing_end_when_the_meeting_starts(app):
    with app.app_context():
        ada, bob, cor = make_voters(3)
        meeting = convened_meeting()
        last_second = _before(meeting, seconds=1)
        proxy = meeting_proxies.give(meeting, ada, bob, now=last_second)
        with pytest.raises(Refused, match="begonnen"):
            meeting_proxies.give(meeting, cor, bob, now=meeting.starts_at)
        with pytest.raises(Refused, match="begonnen"):
            meeting_proxies.withdraw(proxy, ada, now=meeting.starts_at)
        meeting_proxies.withdraw(proxy, ada, now=last_second)
        assert proxy.status == ProxyStatus.WITHDRAWN
        with pytest.raises(Refused, match="niet van kracht"):
            meeting_proxies.withdraw(proxy, ada, now=last_second)


def test_only_the_grantor_withdraws_and_only_the_holder_answers(app):
    with app.app_context():
        ada, bob, cor = make_voters(3)
        meeting = convened_meeting()
        proxy = meeting_proxies.give(meeting, ada, bob)
        with pytest.raises(Refused, match="niet jouw volmacht"):
            meeting_proxies.withdraw(proxy, bob)
        with pytest.raises(Refused, match="niet aan jou"):
            meeting_proxies.accept(proxy, cor)
        with pytest.raises(Refused, match="niet aan jou"):
            meeting_proxies.decline(proxy, ada)
        assert proxy.status == ProxyStatus.GIVEN


def test_an_accepted_proxy_is_declined_only_before_the_start(app):
    with app.app_context():
        ada, bob = make_voters(2)
        meeting = convened_meeting()
        proxy = meeting_proxies.give(meeting, ada, bob)
        meeting_proxies.accept(proxy, bob)
        with pytest.raises(Refused, match="begonnen"):
            meeting_proxies.decline(proxy, bob, now=meeting.starts_at)
        meeting_proxies.decline(proxy, bob, now=_before(meeting, seconds=1))
        assert proxy.status == ProxyStatus.DECLINED


def test_the_holder_must_be_another_active_member(app):
    with app.app_context():
        ada, bob, cor = make_voters(3)
        meeting = convened_meeting()
        with pytest.raises(Refused, match="jezelf"):
            meeting_proxies.give(meeting, ada, ada)
        bob.status = MembershipStatus.LAPSED
        with pytest.raises(Refused, match="actief lid"):
            meeting_proxies.give(meeting, ada, bob)
        cor.status = MembershipStatus.CANCELLED
        with pytest.raises(Refused, match="actieve leden"):
            meeting_proxies.give(meeting, cor, ada)


def test_one_live_proxy_per_grantor(app):
    with app.app_context():
        ada, bob, cor = make_voters(3)
        meeting = convened_meeting()
        meeting_proxies.give(meeting, ada, bob)
        with pytest.raises(Refused, match="al een volmacht"):
            meeting_proxies.give(meeting, ada, cor)


@pytest.mark.parametrize("answered", [False, True])
def test_a_holder_carries_exactly_the_most_allowed(app, answered):
    """Given (not yet accepted) proxies count toward the limit as accepted ones do."""
    with app.app_context():
        holder, *grantors = make_voters(4)
        meeting = convened_meeting(max_proxies_per_member=2)
        for grantor in grantors[:2]:
            proxy = meeting_proxies.give(meeting, grantor, holder)
            if answered:
                meeting_proxies.accept(proxy, holder)
        with pytest.raises(Refused, match=r"meeste volmachten.*\(2\)"):
            meeting_proxies.give(meeting, grantors[2], holder)
        with pytest.raises(Refused, match="meeste"):
            meeting_proxies.record_paper(meeting, grantors[2], holder, make_admin("b2@example.org"))
        meeting_proxies.withdraw(meeting_proxies.live_proxy_of(meeting, grantors[0]), grantors[0])
        assert meeting_proxies.give(meeting, grantors[2], holder).status == ProxyStatus.GIVEN


def test_no_chains_either_way(app):
    with app.app_context():
        ada, bob, cor = make_voters(3)
        meeting = convened_meeting(max_proxies_per_member=3)
        meeting_proxies.give(meeting, ada, bob)  # ada -> bob
        with pytest.raises(Refused, match="ketens"):  # bob holds one: cannot pass his on
            meeting_proxies.give(meeting, bob, cor)
        with pytest.raises(Refused, match="ketens"):  # ada gave one: cannot hold one
            meeting_proxies.give(meeting, cor, ada)


def test_a_member_present_already_gives_no_proxy(app):
    with app.app_context():
        ada, bob = make_voters(2)
        meeting = convened_meeting()
        early = _before(meeting, minutes=10)
        meeting_attendance.arrive_online(meeting, ada, now=early)
        with pytest.raises(Refused, match="al op de vergadering"):
            meeting_proxies.give(meeting, ada, bob, now=early)


def test_a_paper_proxy_is_accepted_at_once_and_may_be_recorded_until_the_end(app):
    with app.app_context():
        ada, bob, cor = make_voters(3)
        board = make_admin("b2@example.org")
        meeting = convened_meeting()
        during = meeting.starts_at + timedelta(minutes=5)
        paper = meeting_proxies.record_paper(meeting, ada, bob, board, now=during)
        assert paper.status == ProxyStatus.ACCEPTED and paper.recorded_by_id == board.id
        assert meeting_proxies.represented_by(meeting, bob) == [ada]
        with pytest.raises(Refused, match="voorbij"):
            meeting_proxies.record_paper(meeting, cor, bob, board, now=meeting.ends_at)
        assert _mails_to("lid2@example.org")[-1].subject != "Een volmacht om te accepteren"


def test_the_holder_is_found_by_number_and_e_mail_together(app):
    with app.app_context():
        ada, bob = make_voters(2)
        found = meeting_proxies.find_holder(bob.number, "  LID2@example.org ")
        assert found.id == bob.id
        messages = set()
        for number, email in (
            (bob.number, "lid1@example.org"),  # another member's address
            (bob.number + 100, "lid2@example.org"),  # no such number
            (None, "lid2@example.org"),
            (bob.number, ""),
        ):
            with pytest.raises(Refused) as refused:
                meeting_proxies.find_holder(number, email)
            assert refused.value.field == "number"
            messages.add(str(refused.value))
        bob.status = MembershipStatus.LAPSED
        with pytest.raises(Refused) as refused:
            meeting_proxies.find_holder(bob.number, "lid2@example.org")
        messages.add(str(refused.value))
        assert len(messages) == 1  # one message: it never says which part was wrong


def test_coming_cancels_the_proxy_and_an_undone_arrival_leaves_it_cancelled(app):
    with app.app_context():
        ada, bob = make_voters(2)
        meeting = convened_meeting()
        proxy = meeting_proxies.give(meeting, ada, bob)
        meeting_proxies.accept(proxy, bob)
        attendance = meeting_attendance.arrive(meeting, ada, AttendanceMode.ONLINE)
        assert proxy.status == ProxyStatus.CANCELLED and proxy.ended_at is not None
        attendance.present_at = None
        db.session.flush()
        assert meeting_proxies.live_proxy_of(meeting, ada) is None
        assert meeting_proxies.latest_given(meeting, ada).status == ProxyStatus.CANCELLED


def test_two_proxies_at_once_to_one_holder_never_pass_the_limit(app):
    """Four members give their proxy to the same holder at the same moment, each on their
    own connection: with a limit of 1, one is given and three are refused (PostgreSQL
    too, with TEST_DATABASE_URL: the meeting's row is locked while counting)."""
    with app.app_context():
        holder, *grantors = make_voters(5)
        meeting_id = convened_meeting().id
        holder_id, grantor_ids = holder.id, [g.id for g in grantors]
    barrier = threading.Barrier(len(grantor_ids))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(grantor_id: int) -> None:
        barrier.wait(timeout=30)
        with app.app_context():
            try:
                meeting = db.session.get(Meeting, meeting_id)
                meeting_proxies.give(
                    meeting,
                    db.session.get(Membership, grantor_id),
                    db.session.get(Membership, holder_id),
                )
                db.session.commit()
                outcome = "given"
            except Refused:
                db.session.rollback()
                outcome = "refused"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(g,)) for g in grantor_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["given", "refused", "refused", "refused"]
    with app.app_context():
        live = db.session.scalar(
            sa.select(sa.func.count(Proxy.id)).where(
                Proxy.holder_id == holder_id, Proxy.status.in_(meeting_proxies.LIVE)
            )
        )
        assert live == 1
        assert db.session.scalar(sa.select(sa.func.count(User.id))) >= 5
