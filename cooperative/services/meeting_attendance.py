"""Who takes part in a general meeting, and how: registered for the room or online, and
present (checked in at the door, or joined online).

Being present cancels the proxy the member gave (`meeting_proxies.cancel_given`).

Services flush; the caller commits.
"""

from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import AttendanceMode, Attendee, Meeting, MeetingAttendance, Membership, utcnow
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
