"""A collaboration's commitments and their progress: programme staff write a party's
commitments (measurable where a baseline and a target are given); the contact of the party
that made one, or staff, records progress on it (`services.partners` says who may).

Where the issue is silent:
- a commitment's due date lies inside the collaboration's dates where they are given;
- a measurable target needs both a baseline and a target, and they differ (else there is
  no way to go);
- a value is only recorded on a measurable commitment; an update needs a value or a note.

Every change sets the collaboration's `updated_at` (`Collaboration.touch`). Services
flush; the views commit.
"""

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Collaboration, Commitment, ProgressUpdate, User
from ..refusals import Refused
from . import partners
from .register import today


@dataclass
class CommitmentPlan:
    """A commitment as programme staff write it: a party's promise, measurable where a
    baseline and a target are given."""

    party_id: int
    title: str
    description: str = ""
    baseline: float | None = None
    target: float | None = None
    unit: str = ""
    due_on: date | None = None


def save_commitment(
    collaboration: Collaboration, plan: CommitmentPlan, commitment: Commitment | None = None
) -> Commitment:
    """Add a commitment to the collaboration, or change one.

    Refuses a party that is not one of this collaboration's, a baseline without a target
    (or the other way round), a target equal to its baseline, and a due date outside the
    collaboration's start and end (where they are given)."""
    party = next((p for p in collaboration.parties if p.id == plan.party_id), None)
    if party is None:
        raise Refused(_l("Please choose one of this collaboration’s parties."), "party")
    if (plan.baseline is None) != (plan.target is None):
        missing = "target" if plan.target is None else "baseline"
        raise Refused(
            _l(
                "A measurable target needs both a starting value and a target; or leave both empty."
            ),
            missing,
        )
    if plan.baseline is not None and plan.baseline == plan.target:
        raise Refused(_l("The target must differ from the starting value."), "target")
    if plan.due_on is not None:
        if collaboration.starts_on and plan.due_on < collaboration.starts_on:
            raise Refused(
                _l(
                    "The due date cannot be before the collaboration starts (%(day)s).",
                    day=collaboration.starts_on.isoformat(),
                ),
                "due_on",
            )
        if collaboration.ends_on and plan.due_on > collaboration.ends_on:
            raise Refused(
                _l(
                    "The due date cannot be after the collaboration ends (%(day)s).",
                    day=collaboration.ends_on.isoformat(),
                ),
                "due_on",
            )
    if commitment is None:
        commitment = Commitment(
            position=max((c.position for c in collaboration.commitments), default=0) + 1
        )
        collaboration.commitments.append(commitment)
    commitment.party = party
    for name in ("title", "description", "baseline", "target", "unit", "due_on"):
        setattr(commitment, name, getattr(plan, name))
    collaboration.touch()
    db.session.flush()
    return commitment


def remove_commitment(commitment: Commitment) -> None:
    """Take a commitment and its progress updates away."""
    collaboration = commitment.collaboration
    collaboration.commitments.remove(commitment)
    db.session.delete(commitment)
    collaboration.touch()
    db.session.flush()


# --- Progress ------------------------------------------------------------------------


@dataclass
class ProgressPlan:
    """A progress update as its author writes it."""

    on: date
    value: float | None = None
    note: str = ""
    link: str = ""


def _refuse_bad_link(link: str) -> None:
    parts = urlsplit(link)
    try:
        parts.port  # noqa: B018 - raises on a port that is no number
    except ValueError:
        parts = parts._replace(netloc="")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(_l("Please give a web address that starts with https://."), "link")


def record_progress(
    commitment: Commitment, author: User, plan: ProgressPlan, now: datetime | None = None
) -> ProgressUpdate:
    """Record a step on a commitment: by the contact of the party that made it, or by
    programme staff (`partners.may_record_progress`).

    Refuses anyone else, an update with neither value nor note, a value on a commitment
    without a measurable target, a date before the collaboration starts or after today,
    and a link that is not an http(s) web address."""
    if not partners.may_record_progress(author, commitment):
        raise Refused(
            _l(
                "Only the contact of %(name)s records progress on this commitment.",
                name=commitment.party.organisation.title,
            )
        )
    if plan.value is None and not plan.note:
        raise Refused(_l("Please give a value or write a note."), "note")
    if plan.value is not None and not commitment.is_measurable:
        raise Refused(
            _l("This commitment has no measurable target: write a note instead."), "value"
        )
    collaboration = commitment.collaboration
    if collaboration.starts_on and plan.on < collaboration.starts_on:
        raise Refused(
            _l(
                "The date cannot be before the collaboration starts (%(day)s).",
                day=collaboration.starts_on.isoformat(),
            ),
            "on",
        )
    if plan.on > today(now):
        raise Refused(_l("The date cannot be in the future."), "on")
    if plan.link:
        _refuse_bad_link(plan.link)
    update = ProgressUpdate(
        on=plan.on, value=plan.value, note=plan.note, link=plan.link, author_id=author.id
    )
    commitment.updates.append(update)
    collaboration.touch(now)
    db.session.flush()
    return update


def remove_progress(update: ProgressUpdate) -> None:
    """Take a progress update away (programme staff moderate)."""
    commitment = update.commitment
    commitment.updates.remove(update)
    db.session.delete(update)
    commitment.collaboration.touch()
    db.session.flush()
