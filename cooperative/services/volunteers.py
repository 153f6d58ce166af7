"""Volunteers: the organisers' tasks for an event, and the people who sign up for a slot.

Every change to who holds a slot, or to how many slots there are, first locks the
event's row (`locking.lock_event`, as seats do), then counts and writes in the same
transaction: two people never take the last slot at once, and a task is never made
smaller than the people already in it. The e-mails go through the outbox
(`volunteer_mail`). The caller commits; these functions only flush.
"""

import hmac
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from ..extensions import db
from ..locking import lock_event
from ..models import Event, EventStatus, Task, TaskSignup, User, normalise_email, utcnow
from ..refusals import Refused
from . import volunteer_mail
from .registration import new_secret

# The most slots one task may have: a guard against typos.
SLOTS_MAX = 100
_TOKEN_RE = re.compile(r"([0-9]{1,18})-([A-Za-z0-9_-]{20,64})")


@dataclass
class TaskPlan:
    """A task as the organiser's form gave it."""

    name: str
    slots: int
    description: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class AlreadySignedUp(Exception):
    """This person has a slot in the task already."""

    def __init__(self, signup: TaskSignup) -> None:
        super().__init__(signup.id)
        self.signup = signup


# --- The organisers' tasks ---------------------------------------------------------------


def _recount(event: Event) -> None:
    """Lock the event, then read it and its tasks (slots taken) afresh under the lock."""
    lock_event(event)
    db.session.refresh(event, [column.key for column in sa.inspect(Event).column_attrs])
    db.session.scalars(
        sa.select(Task).where(Task.event_id == event.id).execution_options(populate_existing=True)
    ).all()


def save_task(event: Event, plan: TaskPlan, task: Task | None = None) -> Task:
    """Add a task to `event`, or change `task`.

    With the event locked: refuses fewer than 1 or more than SLOTS_MAX slots, fewer
    slots than people signed up already (on `slots`), and an end before the start
    (on `ends_at`)."""
    if plan.starts_at and plan.ends_at and plan.ends_at <= plan.starts_at:
        raise Refused(_l("The task must end after it starts."), field="ends_at")
    if not 1 <= plan.slots <= SLOTS_MAX:
        raise Refused(_l("Please write a number from 1 to %(max)d.", max=SLOTS_MAX), field="slots")
    _recount(event)
    if task is not None and plan.slots < task.slots_taken:
        raise Refused(
            lazy_ngettext(
                "%(num)d person has signed up: the task needs at least that many slots.",
                "%(num)d people have signed up: the task needs at least that many slots.",
                task.slots_taken,
            ),
            field="slots",
        )
    if task is None:
        task = Task(event=event)
        db.session.add(task)
    task.name = plan.name.strip()
    task.description = plan.description.strip()
    task.slots = plan.slots
    task.starts_at = plan.starts_at
    task.ends_at = plan.ends_at
    db.session.flush()
    return task


def remove_task(task: Task) -> list[TaskSignup]:
    """Remove a task and its signups; e-mail each person who still had a slot in it.
    Returns those signups (the caller asked the organiser to confirm when there were any).
    """
    _recount(task.event)
    people = [signup for signup in task.signups if signup.is_active]
    for signup in people:
        volunteer_mail.task_removed(signup)
    db.session.delete(task)
    db.session.flush()
    return people


def tasks_of(event: Event) -> list[Task]:
    """The event's tasks in the order of their start (untimed ones last), with their
    slots taken; one query."""
    return list(
        db.session.scalars(
            sa.select(Task)
            .where(Task.event_id == event.id)
            .order_by(Task.starts_at.is_(None), Task.starts_at, Task.id)
        )
    )


def roster(event: Event) -> list[Task]:
    """The event's tasks with the people doing them (and their accounts): who does what.
    Two queries, whatever the number of tasks and people."""
    tasks = db.session.scalars(
        sa.select(Task)
        .where(Task.event_id == event.id)
        .order_by(Task.starts_at.is_(None), Task.starts_at, Task.id)
        .options(sa.orm.selectinload(Task.signups).joinedload(TaskSignup.user))
    ).all()
    return list(tasks)


def task_of(event: Event, task_id: int) -> Task | None:
    """The task `task_id` if it belongs to `event`."""
    return db.session.scalar(sa.select(Task).where(Task.id == task_id, Task.event_id == event.id))


# --- Signing up and leaving ----------------------------------------------------------------


def signup_state(task: Task, now: datetime | None = None) -> str:
    """`open`, or why a slot cannot be taken now: `cancelled`, `draft`, `started` or
    `full`."""
    now = now or utcnow()
    event = task.event
    if event.status == EventStatus.CANCELLED:
        return "cancelled"
    if event.status == EventStatus.DRAFT:
        return "draft"
    if now >= task.begins:
        return "started"
    if task.is_full:
        return "full"
    return "open"


CLOSED_MESSAGES = {
    "cancelled": _l("This event is cancelled."),
    "draft": _l("This event is not open yet."),
    "started": _l("This task has started: signing up has closed."),
    "full": _l("This task is full."),
}


def _existing(task: Task, user: User | None, email: str) -> TaskSignup | None:
    """The person's active signup for the task, by account or by address (a guest who
    gives a member's address is that member)."""
    active = sa.select(TaskSignup).where(
        TaskSignup.task_id == task.id, TaskSignup.cancelled_at.is_(None)
    )
    if user is not None:
        return db.session.scalar(
            active.where(
                sa.or_(
                    TaskSignup.user_id == user.id,
                    sa.and_(TaskSignup.user_id.is_(None), TaskSignup.email == user.email),
                )
            )
        )
    return db.session.scalar(
        active.outerjoin(User, TaskSignup.user_id == User.id).where(
            sa.or_(
                sa.and_(TaskSignup.user_id.is_(None), TaskSignup.email == email),
                User.email == email,
            )
        )
    )


def sign_up(
    task: Task,
    *,
    user: User | None = None,
    name: str = "",
    email: str = "",
    locale: str = "nl",
    now: datetime | None = None,
) -> TaskSignup:
    """Give a member (`user`) or a guest (`name` and `email`) a slot in `task`, and
    e-mail them its private link and a calendar file.

    With the event locked: refuses (on `task`) a cancelled or draft event, a task that
    has started, a full task; a guest without a name or address. Raises AlreadySignedUp
    when the person has a slot in the task already."""
    now = now or utcnow()
    if user is None:
        name, email = name.strip(), normalise_email(email)
        if not name:
            raise Refused(_l("Please fill in your name."), field="name")
        if not email:
            raise Refused(_l("Please fill in your e-mail address."), field="email")
    _recount(task.event)
    state = signup_state(task, now)
    if state != "open":
        raise Refused(CLOSED_MESSAGES[state], field="task")
    existing = _existing(task, user, email)
    if existing is not None:
        raise AlreadySignedUp(existing)
    signup = TaskSignup(
        task=task,
        user=user,
        guest_name="" if user else name,
        email="" if user else email,
        locale=user.locale if user else locale,
        secret=new_secret(),
        created_at=now,
    )
    db.session.add(signup)
    db.session.flush()
    volunteer_mail.signed_up(signup)
    return signup


def leave(signup: TaskSignup, now: datetime | None = None) -> bool:
    """Give up a slot. Returns False when it was given up already (a second tap is
    harmless). With the event locked: refuses (on `task`) once the task has started."""
    now = now or utcnow()
    _recount(signup.task.event)
    db.session.refresh(signup)
    if signup.cancelled_at is not None:
        return False
    if now >= signup.task.begins and signup.task.event.status != EventStatus.CANCELLED:
        raise Refused(
            _l("This task has started. Please tell the organisers if you cannot come."),
            field="task",
        )
    signup.cancelled_at = now
    db.session.flush()
    return True


def held_slot_count(event: Event) -> int:
    """How many slots in the event's tasks are held (not given up): one query."""
    return db.session.scalar(
        sa.select(sa.func.count(TaskSignup.id))
        .join(Task, TaskSignup.task_id == Task.id)
        .where(Task.event_id == event.id, TaskSignup.cancelled_at.is_(None))
    )


def release_slots(event: Event, now: datetime | None = None) -> list[TaskSignup]:
    """The event is cancelled: give up every slot still held in its tasks and e-mail
    each person, in their language. Called by `events.cancel_event` with the event
    locked already. Returns the slots given up."""
    now = now or utcnow()
    held = db.session.scalars(
        sa.select(TaskSignup)
        .join(Task, TaskSignup.task_id == Task.id)
        .where(Task.event_id == event.id, TaskSignup.cancelled_at.is_(None))
        .order_by(TaskSignup.id)
        .options(sa.orm.joinedload(TaskSignup.user))
    ).all()
    for signup in held:
        signup.cancelled_at = now
        volunteer_mail.event_cancelled(signup)
    db.session.flush()
    return list(held)


def find_signup(token: str) -> TaskSignup | None:
    """The signup of a private link `/v/<id>-<secret>`, or None. The secret is compared
    in constant time."""
    match = _TOKEN_RE.fullmatch(token or "")
    if match is None:
        return None
    signup = db.session.get(TaskSignup, int(match.group(1)))
    if signup is None or not hmac.compare_digest(signup.secret.encode(), match.group(2).encode()):
        return None
    return signup


def slots_of(user: User, now: datetime | None = None) -> list[TaskSignup]:
    """The person's slots in tasks of events that have not ended, soonest first; one
    query."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(TaskSignup)
            .join(Task, TaskSignup.task_id == Task.id)
            .join(Event, Task.event_id == Event.id)
            .where(
                TaskSignup.user_id == user.id,
                TaskSignup.cancelled_at.is_(None),
                Event.ends_at >= now,
            )
            .order_by(Event.starts_at, Task.starts_at, Task.id)
            .options(sa.orm.contains_eager(TaskSignup.task).contains_eager(Task.event))
        )
    )


def own_signup_ids(user: User, tasks: list[Task]) -> dict[int, int]:
    """For the event page: {task id: signup id} of the person's active slots in `tasks`;
    one query (none without tasks)."""
    if not tasks:
        return {}
    rows = db.session.execute(
        sa.select(TaskSignup.task_id, TaskSignup.id).where(
            TaskSignup.user_id == user.id,
            TaskSignup.cancelled_at.is_(None),
            TaskSignup.task_id.in_([task.id for task in tasks]),
        )
    )
    return {task_id: signup_id for task_id, signup_id in rows}


def export_slots(user: User) -> list[dict]:
    """Every slot the person ever took (given up ones too), for their data export."""
    signups = db.session.scalars(
        sa.select(TaskSignup)
        .where(TaskSignup.user_id == user.id)
        .order_by(TaskSignup.id)
        .options(sa.orm.joinedload(TaskSignup.task).joinedload(Task.event))
    )
    return [
        {
            "task": signup.task.name,
            "event": signup.task.event.title,
            "starts_at": signup.task.begins.isoformat(),
            "signed_up_at": signup.created_at.isoformat(),
            "given_up_at": signup.cancelled_at.isoformat() if signup.cancelled_at else None,
        }
        for signup in signups
    ]


def forget_user(user: User) -> None:
    """An account is deleted: its signups go with it (the database's cascade, said
    here too for SQLite, which does not enforce foreign keys)."""
    db.session.execute(
        sa.delete(TaskSignup).where(TaskSignup.user_id == user.id),
        execution_options={"synchronize_session": False},
    )
