"""Taking part in a general meeting on the service (issue 16): registering for the room
(a ticket through the registration service) or online, the meeting's event for active
members only, arriving at the door (the check-in's hook, and its undo) and online (its
window at both edges), and the quorum with and without a statutes quorum, counting a
represented member only while the holder is present."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    AttendanceMode,
    MeetingAttendance,
    MembershipStatus,
    OutboxMessage,
    ProxyStatus,
    Registration,
    RegistrationStatus,
)
from cooperative.refusals import Refused
from cooperative.services import attendance as door
from cooperative.services import meeting_attendance, meeting_proxies
from cooperative.services import registration as registrations
from cooperative.services.attendance import WalkIn
from tests.factories import make_admin, make_event, make_registration, make_user
from tests.meeting_fixtures import convened_meeting, make_meeting, make_voters


def _room(meeting, membership) -> Registration:
    meeting_attendance.register(meeting, membership, AttendanceMode.ROOM)
    db.session.commit()
    return meeting_attendance.room_registration(meeting, membership)


def test_the_room_gives_a_ticket_and_online_takes_it_back(app):
    with app.app_context():
        (ada,) = make_voters(1)
        meeting = convened_meeting()
        registration = _room(meeting, ada)
        assert registration.event_id == meeting.event_id and registration.user_id == ada.user_id
        assert registration.status == RegistrationStatus.CONFIRMED
        assert [a.name for a in registration.attendees] == ["Lid 1"]
        assert registration.attendees[0].ticket_code
        assert meeting_attendance.attendance_of(meeting, ada).mode == AttendanceMode.ROOM
        mails = db.session.scalars(
            sa.select(OutboxMessage.subject).where(OutboxMessage.to_address == "lid1@example.org")
        ).all()
        assert any(meeting.title in subject for subject in mails)  # the ticket's e-mail
        meeting_attendance.register(meeting, ada, AttendanceMode.ROOM)  # again: one ticket
        assert meeting_attendance.room_registration(meeting, ada).id == registration.id
        meeting_attendance.register(meeting, ada, AttendanceMode.ONLINE)
        db.session.commit()
        assert registration.status == RegistrationStatus.CANCELLED
        assert meeting_attendance.attendance_of(meeting, ada).mode == AttendanceMode.ONLINE
        again = _room(meeting, ada)
        assert again.id != registration.id and again.status == RegistrationStatus.CONFIRMED


def test_registering_is_for_active_members_of_a_convened_meeting_until_it_ends(app):
    with app.app_context():
        ada, bob = make_voters(2)
        draft = make_meeting(40, title="Concept")
        with pytest.raises(Refused, match="nog niet bijeengeroepen"):
            meeting_attendance.register(draft, ada, AttendanceMode.ONLINE)
        meeting = convened_meeting()
        with pytest.raises(Refused, match="voorbij"):
            meeting_attendance.register(meeting, ada, AttendanceMode.ONLINE, now=meeting.ends_at)
        bob.status = MembershipStatus.LAPSED
        with pytest.raises(Refused, match="actieve leden"):
            meeting_attendance.register(meeting, bob, AttendanceMode.ONLINE)


def test_unregistering_cancels_the_ticket_but_not_once_present(app):
    with app.app_context():
        ada, bob = make_voters(2)
        meeting = convened_meeting()
        registration = _room(meeting, ada)
        meeting_attendance.unregister(meeting, ada)
        db.session.commit()
        assert registration.status == RegistrationStatus.CANCELLED
        assert meeting_attendance.attendance_of(meeting, ada) is None
        meeting_attendance.arrive(meeting, bob, AttendanceMode.ONLINE)
        with pytest.raises(Refused, match="al op de vergadering"):
            meeting_attendance.unregister(meeting, bob)
        with pytest.raises(Refused, match="al op de vergadering"):
            meeting_attendance.register(meeting, bob, AttendanceMode.ROOM)


def test_the_meetings_event_takes_only_active_members_everywhere(app):
    with app.app_context():
        (ada,) = make_voters(1)
        guest = make_user("guest@example.org")
        meeting = convened_meeting()
        event = meeting.event
        for user in (None, guest):
            with pytest.raises(Refused, match="alleen actieve leden") as refused:
                registrations.register(
                    event,
                    "Gast",
                    "guest@example.org",
                    [registrations.PersonChoice("Gast")],
                    user=user,
                )
            assert refused.value.field == "event"
            db.session.rollback()
        with pytest.raises(Refused, match="alleen actieve leden"):
            door.add_walk_in(event, WalkIn(name="Loper"), make_admin("b2@example.org"))
        db.session.rollback()
        member_user = ada.user
        made = registrations.register(
            event,
            "Lid 1",
            "lid1@example.org",
            [registrations.PersonChoice("Lid 1")],
            user=member_user,
        )
        assert made.status == RegistrationStatus.CONFIRMED
        ordinary = make_event()  # any other event stays open to everyone
        assert make_registration(ordinary, email="guest@example.org").id


def test_the_door_makes_a_member_present_and_undo_takes_it_back(app):
    with app.app_context():
        ada, bob = make_voters(2)
        board = make_admin("b2@example.org")
        meeting = convened_meeting()
        proxy = meeting_proxies.give(meeting, ada, bob)
        meeting_proxies.accept(proxy, bob)
        ticket = _room(meeting, ada).attendees[0]
        done = door.check_in(meeting.event, ticket.id, board)
        assert done.changed == [ticket.id]
        attendance = meeting_attendance.attendance_of(meeting, ada)
        assert attendance.present_at is not None and attendance.attendee_id == ticket.id
        assert meeting_attendance.is_present(meeting, ada)
        db.session.refresh(proxy)
        assert proxy.status == ProxyStatus.CANCELLED
        db.session.commit()
        door.undo_check_in(meeting.event, ticket.id, board)
        db.session.commit()
        assert not meeting_attendance.is_present(meeting, ada)
        db.session.refresh(proxy)
        assert proxy.status == ProxyStatus.CANCELLED  # stays cancelled
        door.check_in_party(meeting.event, ticket.registration_id, board)
        assert meeting_attendance.is_present(meeting, ada)
        door.undo_party(meeting.event, ticket.registration_id, board)
        assert not meeting_attendance.is_present(meeting, ada)


def test_the_door_of_an_ordinary_event_touches_no_meeting(app):
    with app.app_context():
        (ada,) = make_voters(1)
        convened_meeting()
        event = make_event()
        registration = make_registration(event, email="lid1@example.org", user=ada.user)
        door.check_in(event, registration.attendees[0].id, make_admin("b2@example.org"))
        assert db.session.scalar(sa.select(sa.func.count(MeetingAttendance.id))) == 0


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        (lambda m: m.starts_at - timedelta(minutes=30), True),
        (lambda m: m.starts_at - timedelta(minutes=30, seconds=1), False),
        (lambda m: m.ends_at - timedelta(seconds=1), True),
        (lambda m: m.ends_at, False),
    ],
)
def test_online_arrival_opens_30_minutes_before_and_closes_at_the_end(app, moment, allowed):
    with app.app_context():
        (ada,) = make_voters(1)
        meeting = convened_meeting()
        now = moment(meeting)
        if allowed:
            attendance = meeting_attendance.arrive_online(meeting, ada, now=now)
            assert attendance.present_at == now and attendance.mode == AttendanceMode.ONLINE
        else:
            with pytest.raises(Refused, match="30 minuten"):
                meeting_attendance.arrive_online(meeting, ada, now=now)


def test_arriving_twice_keeps_the_first_time(app):
    with app.app_context():
        (ada,) = make_voters(1)
        meeting = convened_meeting()
        first = meeting.starts_at - timedelta(minutes=5)
        meeting_attendance.arrive_online(meeting, ada, now=first)
        later = meeting_attendance.arrive_online(meeting, ada, now=meeting.starts_at)
        assert later.present_at == first


def _present(meeting, members):
    for membership in members:
        meeting_attendance.arrive(meeting, membership, AttendanceMode.ONLINE)


@pytest.mark.parametrize(("present", "met"), [(5, True), (4, False)])
def test_the_quorum_at_its_edge(app, present, met):
    with app.app_context():
        members = make_voters(10)
        meeting = convened_meeting(quorum_percent=50)
        _present(meeting, members[:present])
        ordinary = meeting_attendance.quorum(meeting)
        assert (ordinary.members, ordinary.counted, ordinary.met) == (10, present, met)
        # Without a statutes quorum of its own, a statutes change needs the ordinary one.
        statutes = meeting_attendance.quorum(meeting, statutes=True)
        assert (statutes.percent, statutes.met) == (50, met)


def test_a_statutes_quorum_of_its_own_and_no_quorum_at_all(app):
    with app.app_context():
        members = make_voters(10)
        meeting = convened_meeting(quorum_percent=50, statutes_quorum_percent=67)
        _present(meeting, members[:6])
        assert meeting_attendance.quorum(meeting).met
        statutes = meeting_attendance.quorum(meeting, statutes=True)
        assert (statutes.percent, statutes.counted, statutes.met) == (67, 6, False)
        _present(meeting, members[6:7])
        assert meeting_attendance.quorum(meeting, statutes=True).met  # 7 of 10: 70 %
        free = convened_meeting(title="Zonder quorum")
        nobody = meeting_attendance.quorum(free, statutes=True)
        assert (nobody.percent, nobody.counted, nobody.met) == (None, 0, True)


def test_a_represented_member_counts_only_while_the_holder_is_present(app):
    with app.app_context():
        ada, bob, cor, dirk = make_voters(4)
        dirk.status = MembershipStatus.LAPSED  # not counted among the members
        meeting = convened_meeting(quorum_percent=60, max_proxies_per_member=2)
        accepted = meeting_proxies.give(meeting, ada, bob)
        meeting_proxies.accept(accepted, bob)
        meeting_proxies.give(meeting, cor, bob)  # given, never accepted: does not count
        assert meeting_attendance.taking_part_ids(meeting) == set()
        quorum = meeting_attendance.quorum(meeting)
        assert (quorum.members, quorum.counted, quorum.met) == (3, 0, False)
        meeting_attendance.arrive(meeting, bob, AttendanceMode.ROOM)
        assert meeting_attendance.taking_part_ids(meeting) == {ada.id, bob.id}
        quorum = meeting_attendance.quorum(meeting)
        assert (quorum.counted, quorum.met) == (2, True)  # 2 of 3 = 67 % >= 60 %
        listed = meeting_attendance.attendance_list(meeting)
        assert [a.membership_id for a in listed.present] == [bob.id]
        assert [p.grantor_id for p in listed.represented] == [ada.id]
        assert listed.ordinary.met and listed.statutes.met
