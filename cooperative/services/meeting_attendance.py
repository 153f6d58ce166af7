"""Who takes part in a general meeting, and how: registered for the room or online, and
present (checked in at the door, or joined online).

Being present cancels the proxy the member gave (`meeting_proxies.cancel_given`). The
quorum counts the active members present and those represented by a present holder.

Services flush; the caller commits.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    AttendanceMode,
    Attendee,
    Meeting,
    MeetingAttendance,
    Membership,
    MembershipStatus,
    Proxy,
    ProxyStatus,
    utcnow,
)
from . import meeting_proxies


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
    first time."""
    now = now or utcnow()
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
