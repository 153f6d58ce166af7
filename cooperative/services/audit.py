"""The audit log: every change an admin or organiser makes to another person's data.

One function records an entry (`record`, or `record_many` for one action on several
people at once); the places that change people's data call it in the same transaction as
the change, so an entry exists exactly when the change does. `entries` reads the log with
its filters for the admins' page, in a fixed number of queries.

What counts: a membership approved or rejected, a fee recorded, a role in a collective
given or taken; at the door a check-in or its undo, a payment, a walk-in added; a party
cancelled (and refunded) by an organiser, also by cancelling the whole event.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..i18n import local_zone
from ..models import Attendee, AuditEntry, Registration, User, utcnow
from ..paging import one_page

ACTIONS = {
    "membership.approve": _l("Membership approved"),
    "membership.reject": _l("Membership rejected"),
    "membership.bank_transfer": _l("Bank transfer recorded"),
    "membership.cancellation": _l("Cancellation letter recorded"),
    "membership.end": _l("End of membership recorded"),
    "membership.legal_person": _l("Member marked as a legal person"),
    "role.add": _l("Role in a collective given"),
    "role.remove": _l("Role in a collective taken away"),
    "programme_staff.add": _l("Programme-staff role given"),
    "programme_staff.remove": _l("Programme-staff role taken away"),
    "attendee.check_in": _l("Checked in"),
    "attendee.undo_check_in": _l("Check-in undone"),
    "registration.door_payment": _l("Paid at the door"),
    "registration.walk_in": _l("Walk-in added"),
    "registration.refund": _l("Cancelled and refunded by an organiser"),
    "registration.event_cancelled": _l("Cancelled with the event"),
    "dues.result": _l("Direct debit result recorded"),
}


def _plain(values: dict | None) -> dict | None:
    """Values as JSON keeps them: enums as their value, times as ISO text."""
    if values is None:
        return None
    plain = {}
    for key, value in values.items():
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, datetime | date):
            value = value.isoformat()
        plain[key] = value
    return plain


def record(
    actor: User,
    action: str,
    *,
    subject_user_id: int | None = None,
    registration_id: int | None = None,
    attendee_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add one entry: `actor` did `action` (a key of ACTIONS) to a person (an account,
    a registration and/or one of its people), changing `before` into `after`. Flushes
    nothing; the caller's commit saves it with the change. Refuses (ValueError) an
    unknown action or an entry about nobody."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if subject_user_id is None and registration_id is None and attendee_id is None:
        raise ValueError("an audit entry is about somebody")
    entry = AuditEntry(
        at=at or utcnow(),
        actor_id=actor.id,
        action=action,
        subject_user_id=subject_user_id,
        registration_id=registration_id,
        attendee_id=attendee_id,
        before=_plain(before),
        after=_plain(after),
    )
    db.session.add(entry)
    return entry


def record_many(
    actor: User, action: str, subjects: list[dict], *, before=None, after=None, at=None
) -> None:
    """One entry per subject (dicts of `subject_user_id`, `registration_id`,
    `attendee_id`), all with the same change, in one INSERT. Refuses (ValueError) an
    unknown action."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if not subjects:
        return
    at = at or utcnow()
    db.session.execute(
        sa.insert(AuditEntry),
        [
            {
                "at": at,
                "actor_id": actor.id,
                "action": action,
                "subject_user_id": subject.get("subject_user_id"),
                "registration_id": subject.get("registration_id"),
                "attendee_id": subject.get("attendee_id"),
                "before": _plain(before),
                "after": _plain(after),
            }
            for subject in subjects
        ],
    )


def snapshot(thing, *names: str) -> dict:
    """The named attributes of `thing`, to keep as `before` or `after`."""
    return _plain({name: getattr(thing, name) for name in names})


def record_registration(
    actor: User, action: str, registration: Registration, before: dict | None, *names: str, at=None
) -> AuditEntry:
    """Add one entry: `actor` did `action` to `registration` (and so to its account, if
    it has one), changing `before` into the registration's `names` as they are now."""
    return record(
        actor,
        action,
        subject_user_id=registration.user_id,
        registration_id=registration.id,
        before=before,
        after=snapshot(registration, *names),
        at=at,
    )


# --- Reading -------------------------------------------------------------------------------


@dataclass
class AuditFilters:
    """What the admins' page shows: by whom (an account id), about whom (words of a name
    or e-mail address), from and until which day (local days, both included), which page."""

    actor_id: int | None = None
    subject: str = ""
    since: date | None = None
    until: date | None = None
    page: int = 1


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), local_zone())


def _subject_matches(words: str):
    """The entry is about a person whose name or e-mail address holds `words`: the
    account, the registration's contact, or the person at the door."""
    text = words.lower()

    def holds(column):  # `%` and `_` in the words are searched for as themselves
        return sa.func.lower(column).contains(text, autoescape=True)

    subject_user = sa.orm.aliased(User)
    about_user = sa.select(subject_user.id).where(
        subject_user.id == AuditEntry.subject_user_id,
        sa.or_(
            holds(subject_user.name),
            holds(subject_user.email),
        ),
    )
    about_registration = sa.select(Registration.id).where(
        Registration.id == AuditEntry.registration_id,
        sa.or_(
            holds(Registration.contact_name),
            holds(Registration.contact_email),
        ),
    )
    about_attendee = sa.select(Attendee.id).where(
        Attendee.id == AuditEntry.attendee_id, holds(Attendee.name)
    )
    return sa.or_(about_user.exists(), about_registration.exists(), about_attendee.exists())


def entries_query(filters: AuditFilters) -> sa.Select:
    """The entries the filters select, newest first."""
    query = sa.select(AuditEntry)
    if filters.actor_id is not None:
        query = query.where(AuditEntry.actor_id == filters.actor_id)
    if filters.subject:
        query = query.where(_subject_matches(filters.subject))
    if filters.since is not None:
        query = query.where(AuditEntry.at >= _start_of(filters.since))
    if filters.until is not None:
        query = query.where(AuditEntry.at < _start_of(filters.until + timedelta(days=1)))
    return query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def entries(filters: AuditFilters, page_size: int) -> tuple[list[AuditEntry], bool]:
    """One page of entries with the people they name loaded alongside (a fixed number of
    queries, however many entries), and whether there is a next page."""
    query = entries_query(filters).options(
        sa.orm.joinedload(AuditEntry.actor),
        sa.orm.joinedload(AuditEntry.subject_user),
        sa.orm.joinedload(AuditEntry.registration).joinedload(Registration.event),
        sa.orm.joinedload(AuditEntry.attendee),
    )
    return one_page(query, filters.page, page_size)


def actors() -> list[User]:
    """The people who have entries in the log, by name (for the filter)."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.id.in_(sa.select(AuditEntry.actor_id).distinct()))
            .order_by(User.name, User.id)
        )
    )
