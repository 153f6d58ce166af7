"""Volunteers: an event's tasks ("Koken 15:00–17:30", 3 people) and who signed up for them."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .events import Event
from .types import UTCDateTime, unique_where, utcnow


class Task(db.Model):
    """Work at an event that a few people sign up for: cooking, the door, the dishes.

    Its times are optional ("Afwas" needs no clock); without them the task lasts as
    long as the event."""

    __tablename__ = "tasks"
    __table_args__ = (sa.CheckConstraint("slots >= 1", name="slots_positive"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    event_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    description: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    starts_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    ends_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    slots: so.Mapped[int]
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    event: so.Mapped[Event] = so.relationship()
    signups: so.Mapped[list["TaskSignup"]] = so.relationship(
        back_populates="task",
        cascade="all, delete-orphan",
        order_by="TaskSignup.id",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return f"<Task {self.id} {self.name}>"

    @property
    def begins(self) -> datetime:
        """When the work starts: the task's own time, else the event's."""
        return self.starts_at or self.event.starts_at

    @property
    def finishes(self) -> datetime:
        """When the work ends: the task's own time, else the event's end."""
        return self.ends_at or self.event.ends_at

    @property
    def slots_left(self) -> int:
        return max(0, self.slots - self.slots_taken)

    @property
    def is_full(self) -> bool:
        return self.slots_left == 0

    @property
    def active_signups(self) -> list["TaskSignup"]:
        return [signup for signup in self.signups if signup.cancelled_at is None]


# The active guest slots that hold an address: one per address and task.
GUEST_WITH_ADDRESS = "cancelled_at IS NULL AND user_id IS NULL AND email <> ''"


class TaskSignup(db.Model):
    """One person doing a task: a member (their account) or a guest (a name and an
    e-mail address, with a private link to leave the task). Leaving keeps the row with
    `cancelled_at`; the same person may sign up again. A guest's name and address are
    removed some days after the event (`retention.purge_guest_slots`); the slot stays,
    as a count."""

    __tablename__ = "task_signups"
    __table_args__ = (
        # One person once per task: an account, or a guest's address, has at most one
        # signup that is not cancelled (checked by the service under the event's lock;
        # these indexes are the database's last word).
        unique_where(
            "uq_task_signups_active_user",
            "task_id",
            "user_id",
            where="cancelled_at IS NULL AND user_id IS NOT NULL",
        ),
        # A guest's slot whose address is purged (`retention.purge_guest_slots`) has
        # none left to be unique.
        unique_where("uq_task_signups_active_email", "task_id", "email", where=GUEST_WITH_ADDRESS),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    task_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("tasks.id", ondelete="CASCADE"), index=True
    )
    # A member's signup names their account (its name and address are the account's);
    # a guest's holds their own. Deleting the account deletes its signups.
    user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    guest_name: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    email: so.Mapped[str] = so.mapped_column(sa.String(254), default="")
    locale: so.Mapped[str] = so.mapped_column(sa.String(5), default="nl")
    secret: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Set once, when the reminder for this slot is put in the outbox: never twice.
    reminded_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    task: so.Mapped[Task] = so.relationship(back_populates="signups")
    user: so.Mapped["User | None"] = so.relationship()  # noqa: F821

    def __repr__(self) -> str:
        return f"<TaskSignup {self.id} task={self.task_id}>"

    @property
    def token(self) -> str:
        """The secret in the private link `/v/<token>`: the row id, then the random part."""
        return f"{self.id}-{self.secret}"

    @property
    def name(self) -> str:
        return self.user.name if self.user is not None else self.guest_name

    @property
    def address(self) -> str:
        """Where this person's e-mail goes: the account's address, or the guest's."""
        return self.user.email if self.user is not None else self.email

    @property
    def is_active(self) -> bool:
        return self.cancelled_at is None


def slots_taken() -> sa.Select:
    """The one count of slots taken: signups not cancelled. Counted over an alias of the
    table, so it stays a count of its own inside a query that loads signups too."""
    counted = so.aliased(TaskSignup, name="counted_signups")
    return (
        sa.select(sa.func.count(counted.id))
        .where(counted.cancelled_at.is_(None), counted.task_id == Task.id)
        .correlate_except(counted)
    )


# Counted in the query that loads a task, so a list of tasks costs no query per task.
Task.slots_taken = so.column_property(slots_taken().scalar_subquery(), deferred=False)
