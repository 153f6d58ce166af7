"""Who takes part in a general meeting, and how: registered for the room or online, and
present (checked in at the door, or joined online).

Rules:
- Active members register (`register`) for the room or online, from the convocation until
  the meeting ends. The room is a registration for the meeting's event, made by the
  registration service, so the member gets a ticket with a QR code for the door; online
  is the attendance alone. Changing from the room to online cancels that registration.
  The meeting's event is for active members only (`registration.check_members_only`).
- A member is present once checked in at the door (`arrived_at_door`, called by the
  check-in in the same transaction) or once they say so online (`arrive_online`), from
  ONLINE_OPENS_BEFORE the start until the end. Undoing the check-in takes the presence
  back (`left_at_door`); the proxy that arriving cancelled stays cancelled.
- Being present cancels the proxy the member gave (`meeting_proxies.cancel_given`). The
  quorum counts the active members present and those represented by a present holder.

Services flush; the caller commits.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..locking import lock_meeting
from ..models import (
    AttendanceMode,
    Attendee,
    Event,
    Meeting,
    MeetingAttendance,
    Membership,
    MembershipStatus,
    Proxy,
    ProxyStatus,
    Registration,
    RegistrationStatus,
    utcnow,
)
from ..refusals import Refused
from . import meeting_proxies
from . import registration as registrations

# Members may say they are there online from this long before the meeting starts.
ONLINE_OPENS_BEFORE = timedelta(minutes=30)


def attendance_of(meeting: Meeting, membership: Membership) -> MeetingAttendance | None:
    return db.session.scalar(
        sa.select(MeetingAttendance).where(
            MeetingAttendance.meeting_id == meeting.id,
            MeetingAttendance.membership_id == membership.id,
        )
    )


def is_present(meeting: Meeting, membership: Membership) -> bool:
    """Whether the member is at the meeting now: checked in at the door or joined online."""
    attendance = attendance_of(meeting, membership)
    return attendance is not None and attendance.present_at is not None


def arrive(
    meeting: Meeting,
    membership: Membership,
    mode: AttendanceMode,
    attendee: Attendee | None = None,
    now: datetime | None = None,
) -> MeetingAttendance:
    """Mark the member present (in the room with `attendee`'s ticket, or online), whether
    they registered or not, and cancel the proxy they gave. Arriving twice keeps the
    first time. Holds the meeting's row (`locking.lock_meeting`), as giving a proxy
    does, so a proxy given at the same moment is cancelled too, or refused."""
    now = now or utcnow()
    lock_meeting(meeting)
    attendance = attendance_of(meeting, membership)
    if attendance is None:
        attendance = MeetingAttendance(
            meeting_id=meeting.id, membership_id=membership.id, mode=mode, registered_at=now
        )
        db.session.add(attendance)
    attendance.mode = mode
    if attendee is not None:
        attendance.attendee_id = attendee.id
    if attendance.present_at is None:
        attendance.present_at = now
    meeting_proxies.cancel_given(meeting, membership, now)
    db.session.flush()
    return attendance


def taking_part_ids(meeting: Meeting) -> set[int]:
    """The members taking part now: present, or represented by the holder of their
    accepted proxy who is present."""
    present = set(
        db.session.scalars(
            sa.select(MeetingAttendance.membership_id).where(
                MeetingAttendance.meeting_id == meeting.id,
                MeetingAttendance.present_at.is_not(None),
            )
        )
    )
    holders = db.session.execute(
        sa.select(Proxy.grantor_id, Proxy.holder_id).where(
            Proxy.meeting_id == meeting.id, Proxy.status == ProxyStatus.ACCEPTED
        )
    ).all()
    return present | {grantor for grantor, holder in holders if holder in present}


@dataclass
class Quorum:
    members: int  # active members now
    counted: int  # of them present, represented (or otherwise counted, e.g. voted online)
    percent: int | None  # the share the statutes ask for; None: no quorum
    met: bool


def quorum(meeting: Meeting, statutes: bool = False, counted_ids: set[int] | None = None) -> Quorum:
    """Whether enough members take part for a decision (`statutes`: one that changes the
    statutes, with its own quorum when the meeting has one). `counted_ids`: the members to
    count, `taking_part_ids` by default (the votes add those who voted online)."""
    percent = meeting.quorum_percent
    if statutes and meeting.statutes_quorum_percent is not None:
        percent = meeting.statutes_quorum_percent
    active = set(
        db.session.scalars(
            sa.select(Membership.id).where(Membership.status == MembershipStatus.ACTIVE)
        )
    )
    counted = len(active & (taking_part_ids(meeting) if counted_ids is None else counted_ids))
    met = percent is None or counted * 100 >= percent * len(active)
    return Quorum(members=len(active), counted=counted, percent=percent, met=met)


# --- registering --------------------------------------------------------------------------


def meeting_of_event(event: Event) -> Meeting | None:
    """The meeting held at `event`, or None for an ordinary event (no query where the
    event was loaded with `Event.meeting`)."""
    return event.meeting


def active_membership(user) -> Membership | None:
    """The active register entry of `user` (maybe anonymous), or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        sa.select(Membership).where(
            Membership.user_id == user.id, Membership.status == MembershipStatus.ACTIVE
        )
    )


def room_registration(meeting: Meeting, membership: Membership) -> Registration | None:
    """The member's registration for the meeting's event that is not cancelled, if any."""
    user = membership.user
    if user is None:
        return None
    return db.session.scalar(
        sa.select(Registration)
        .where(
            Registration.event_id == meeting.event_id,
            Registration.status != RegistrationStatus.CANCELLED,
            sa.or_(Registration.user_id == user.id, Registration.contact_email == user.email),
        )
        .order_by(Registration.id)
        .limit(1)
    )


def _check_may_register(meeting: Meeting, membership: Membership, now: datetime) -> None:
    if membership.status != MembershipStatus.ACTIVE or membership.user is None:
        raise Refused(_l("Only active members take part in the general meeting."), "mode")
    if not meeting.is_convened:
        raise Refused(_l("This meeting has not been convened yet."), "mode")
    if meeting.is_over(now):
        raise Refused(_l("This meeting is over."), "mode")
    attendance = attendance_of(meeting, membership)
    if attendance is not None and attendance.present_at is not None:
        raise Refused(_l("You are at the meeting already."), "mode")


def register(
    meeting: Meeting, membership: Membership, mode: AttendanceMode, now: datetime | None = None
) -> MeetingAttendance:
    """Register the member to come to the room (with a ticket for the meeting's event)
    or to join online; registering again changes how. Refuses a member who is not
    active (or has no account), a meeting not convened or over, a member present
    already, and the room once the event's registration has closed."""
    now = now or utcnow()
    _check_may_register(meeting, membership, now)
    registration = room_registration(meeting, membership)
    if mode == AttendanceMode.ROOM and registration is None:
        user = membership.user
        name = meeting_proxies.display_name(membership)
        try:
            registrations.register(
                meeting.event,
                name,
                user.email,
                [registrations.PersonChoice(name=name)],
                user=user,
                locale=user.locale,
                now=now,
            )
        except registrations.AlreadyRegistered:  # pragma: no cover - looked up above
            pass
        except Refused as refusal:
            raise Refused(refusal.message, "mode") from refusal
    elif mode == AttendanceMode.ONLINE and registration is not None:
        registrations.cancel(registration, now)
    attendance = attendance_of(meeting, membership)
    if attendance is None:
        attendance = MeetingAttendance(
            meeting_id=meeting.id, membership_id=membership.id, registered_at=now
        )
        db.session.add(attendance)
    attendance.mode = mode
    db.session.flush()
    return attendance


def unregister(meeting: Meeting, membership: Membership, now: datetime | None = None) -> None:
    """Take back the member's registration (and cancel their ticket for the room).
    Refuses a member present already, and a meeting that is over."""
    now = now or utcnow()
    _check_may_register(meeting, membership, now)
    registration = room_registration(meeting, membership)
    if registration is not None:
        registrations.cancel(registration, now)
    attendance = attendance_of(meeting, membership)
    if attendance is not None:
        db.session.delete(attendance)
    db.session.flush()


def online_open(meeting: Meeting, now: datetime | None = None) -> bool:
    """Whether members may say now that they are there online."""
    now = now or utcnow()
    return meeting.starts_at - ONLINE_OPENS_BEFORE <= now < meeting.ends_at


def arrive_online(
    meeting: Meeting, membership: Membership, now: datetime | None = None
) -> MeetingAttendance:
    """The member says they are at the meeting online ("Ik ben er"). Refuses a member
    who is not active, a meeting not convened, and any moment outside `online_open`."""
    now = now or utcnow()
    if membership.status != MembershipStatus.ACTIVE:
        raise Refused(_l("Only active members take part in the general meeting."))
    if not meeting.online_url:
        raise Refused(_l("This meeting is held in the room only: there is no joining online."))
    if not meeting.is_convened or not online_open(meeting, now):
        raise Refused(
            _l(
                "You can say you are there from %(minutes)s minutes before the meeting "
                "starts until it ends.",
                minutes=int(ONLINE_OPENS_BEFORE.total_seconds() // 60),
            )
        )
    return arrive(meeting, membership, AttendanceMode.ONLINE, now=now)


# --- the door -----------------------------------------------------------------------------


def arrived_at_door(event: Event, attendee_ids: list[int], now: datetime) -> None:
    """Called by the check-in, in its transaction: the members among `attendee_ids` (of
    `event`) are present at its meeting, if it is one's. Nothing for other events."""
    if not attendee_ids:
        return
    meeting = meeting_of_event(event)
    if meeting is None:
        return
    rows = db.session.execute(
        sa.select(Attendee, Membership)
        .join(Registration, Registration.id == Attendee.registration_id)
        .join(Membership, Membership.user_id == Registration.user_id)
        .where(Attendee.id.in_(attendee_ids), Membership.status == MembershipStatus.ACTIVE)
    ).all()
    for attendee, membership in rows:
        arrive(meeting, membership, AttendanceMode.ROOM, attendee, now)


def left_at_door(event: Event, attendee_ids: list[int]) -> None:
    """Called when a check-in is undone: those people are no longer present at the
    meeting (the proxy their arrival cancelled stays cancelled)."""
    if not attendee_ids:
        return
    meeting = meeting_of_event(event)
    if meeting is None:
        return
    db.session.execute(
        sa.update(MeetingAttendance)
        .where(
            MeetingAttendance.meeting_id == meeting.id,
            MeetingAttendance.attendee_id.in_(attendee_ids),
        )
        .values(present_at=None)
        .execution_options(synchronize_session="fetch")
    )


# --- the board's list ---------------------------------------------------------------------


@dataclass
class AttendanceList:
    """Who takes part in a meeting, as the board sees it during the meeting."""

    present: list[MeetingAttendance] = field(default_factory=list)
    waiting: list[MeetingAttendance] = field(default_factory=list)  # registered, not here
    represented: list[Proxy] = field(default_factory=list)  # accepted, holder present
    unrepresented: list[Proxy] = field(default_factory=list)  # accepted, holder not here
    ordinary: Quorum | None = None
    statutes: Quorum | None = None


def attendance_list(meeting: Meeting) -> AttendanceList:
    """The meeting's attendance list and both quorums, in a fixed number of queries
    however many members there are."""
    attendances = db.session.scalars(
        sa.select(MeetingAttendance)
        .join(MeetingAttendance.membership)
        .where(MeetingAttendance.meeting_id == meeting.id)
        .options(sa.orm.contains_eager(MeetingAttendance.membership).joinedload(Membership.user))
        .order_by(Membership.number, Membership.id)
    ).all()
    listed = AttendanceList()
    present_ids = set()
    for attendance in attendances:
        if attendance.present_at is not None:
            listed.present.append(attendance)
            present_ids.add(attendance.membership_id)
        else:
            listed.waiting.append(attendance)
    grantor = sa.orm.aliased(Membership)
    accepted = db.session.scalars(
        sa.select(Proxy)
        .join(grantor, Proxy.grantor_id == grantor.id)
        .where(Proxy.meeting_id == meeting.id, Proxy.status == ProxyStatus.ACCEPTED)
        .options(
            sa.orm.joinedload(Proxy.grantor).joinedload(Membership.user),
            sa.orm.joinedload(Proxy.holder).joinedload(Membership.user),
        )
        .order_by(grantor.number, Proxy.id)
    ).all()
    for proxy in accepted:
        if proxy.holder_id in present_ids:
            listed.represented.append(proxy)
        else:
            listed.unrepresented.append(proxy)
    listed.ordinary = quorum(meeting)
    listed.statutes = quorum(meeting, statutes=True)
    return listed
