"""Check-in and undo, of one person or a whole party.

Each is one conditional UPDATE (`... WHERE checked_in_at IS NULL`), so two volunteers
tapping the same person at once record one check-in, and tapping twice is harmless; then
a record per person changed (`CheckInRecord`, the door's trail, and the audit log) and one
query for the party's row afterwards (which the door's phone gets back). Nobody is loaded
before the UPDATE.
"""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import (
    HOLDING,
    Attendee,
    CheckInRecord,
    Event,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)
from ...refusals import Refused
from .. import audit, meeting_attendance
from .lists import PartyRow, party_row


def _of_party(event: Event, *, with_place: bool = False):
    """The person's party is one of `event` (and, `with_place`, holds a place). A correlated
    EXISTS: the database looks up that one party, not every party with a place."""
    party = sa.select(Registration.id).where(
        Registration.id == Attendee.registration_id, Registration.event_id == event.id
    )
    if with_place:
        party = party.where(Registration.status.in_(HOLDING))
    return party.exists()


def _why_not(attendee: Attendee) -> str:
    registration = attendee.registration
    if registration.status == RegistrationStatus.WAITLISTED:
        return _l(
            "%(name)s is on the waiting list: they have no place to check in.", name=attendee.name
        )
    return _l("The place of %(name)s is cancelled: they cannot be checked in.", name=attendee.name)


def _record(attendee_ids: list[int], action: str, by: User, now: datetime) -> None:
    """Keep who checked whom in (or took it back) and when, one row per person: one
    INSERT for the whole party."""
    if attendee_ids:
        db.session.execute(
            sa.insert(CheckInRecord),
            [
                {"attendee_id": attendee_id, "action": action, "by_id": by.id, "at": now}
                for attendee_id in attendee_ids
            ],
        )


def _set_check_in(update: sa.Update, action: str, by: User, now: datetime) -> list[int]:
    """Run one conditional check-in UPDATE, record what it changed (also in the audit
    log), return those ids."""
    changed = db.session.execute(
        update.returning(Attendee.id, Attendee.registration_id),
        execution_options={"synchronize_session": False},
    ).all()
    ids = [row.id for row in changed]
    _record(ids, action, by, now)
    checked_in = action == "check_in"
    audit.record_many(
        by,
        "attendee.check_in" if checked_in else "attendee.undo_check_in",
        [{"registration_id": row.registration_id, "attendee_id": row.id} for row in changed],
        before={"checked_in": not checked_in},
        after={"checked_in": checked_in},
        at=now,
    )
    return ids


def _mark_checked_in(event: Event, which, by: User, now: datetime) -> list[int]:
    """Check in the people of `event` that `which` selects who hold a place and are not in
    yet, in one conditional UPDATE (so two volunteers never both count them); returns
    their ids. At a general meeting's event, the members among them are present at it."""
    ids = _set_check_in(
        sa.update(Attendee)
        .where(
            which,
            Attendee.checked_in_at.is_(None),
            Attendee.cancelled_at.is_(None),
            _of_party(event, with_place=True),
        )
        .values(checked_in_at=now, checked_in_by_id=by.id),
        "check_in",
        by,
        now,
    )
    meeting_attendance.arrived_at_door(event, ids, now)
    return ids


def _unmark_checked_in(event: Event, which, by: User, now: datetime) -> list[int]:
    """Take back the check-in of the people of `event` that `which` selects; returns their
    ids. At a general meeting's event, they are no longer present at it."""
    ids = _set_check_in(
        sa.update(Attendee)
        .where(which, Attendee.checked_in_at.is_not(None), _of_party(event))
        .values(checked_in_at=None, checked_in_by_id=None),
        "undo",
        by,
        now,
    )
    meeting_attendance.left_at_door(event, ids)
    return ids


@dataclass
class DoorChange:
    """What a check-in or undo did: the ids of the people it changed, their party's row as
    the list shows it now, and the person it was about (None for a whole party)."""

    changed: list[int]
    row: PartyRow
    person: Attendee | None = None


# Each of these is one UPDATE, a record per person changed, and one query for the party's
# row afterwards (which the door's phone gets back): nobody is loaded before the UPDATE.


def check_in(
    event: Event, attendee_id: int, by: User, now: datetime | None = None
) -> DoorChange | None:
    """Check in the person `attendee_id` of `event`, recording who did it and when; None
    when the event has no such person.

    Nobody in `changed` when they were checked in already (by this or another volunteer),
    which is harmless. Refuses (Refused) a person on the waiting list or whose
    place is cancelled.
    """
    changed = _mark_checked_in(event, Attendee.id == attendee_id, by, now or utcnow())
    row = party_row(event, attendee_id=attendee_id)
    person = row.person(attendee_id) if row else None
    if person is None:
        return None
    if not changed and (person.checked_in_at is None or person.cancelled_at is not None):
        raise Refused(_why_not(person))
    return DoorChange(changed, row, person)


def undo_check_in(
    event: Event, attendee_id: int, by: User, now: datetime | None = None
) -> DoorChange | None:
    """Take back the check-in of the person `attendee_id` of `event` (nobody in `changed`
    when they were not checked in: harmless); None when the event has no such person."""
    changed = _unmark_checked_in(event, Attendee.id == attendee_id, by, now or utcnow())
    row = party_row(event, attendee_id=attendee_id)
    person = row.person(attendee_id) if row else None
    return DoorChange(changed, row, person) if person is not None else None


def check_in_party(
    event: Event, registration_id: int, by: User, now: datetime | None = None
) -> DoorChange | None:
    """Check in everyone of the party `registration_id` of `event` who is not checked in
    yet (nobody in `changed` when they all were already); None when the event has no such
    party. Refuses (Refused) a party on the waiting list or cancelled."""
    changed = _mark_checked_in(
        event, Attendee.registration_id == registration_id, by, now or utcnow()
    )
    row = party_row(event, registration_id)
    if row is None:
        return None
    if not changed and row.registration.status == RegistrationStatus.WAITLISTED:
        raise Refused(_l("This party is on the waiting list: they have no place to check in."))
    if not changed and row.registration.status == RegistrationStatus.CANCELLED:
        raise Refused(_l("This registration is cancelled: nobody can be checked in."))
    return DoorChange(changed, row)


def undo_party(
    event: Event, registration_id: int, by: User, now: datetime | None = None
) -> DoorChange | None:
    """Take back the check-in of everyone in the party `registration_id` of `event`; None
    when the event has no such party."""
    changed = _unmark_checked_in(
        event, Attendee.registration_id == registration_id, by, now or utcnow()
    )
    row = party_row(event, registration_id)
    return DoorChange(changed, row) if row is not None else None
