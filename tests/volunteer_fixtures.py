"""Test data for volunteer tasks, as plain functions. Call them inside an app context;
they commit."""

from datetime import timedelta

from cooperative.extensions import db
from cooperative.models import Event, Task
from cooperative.services import volunteers


def make_task(
    event: Event,
    name: str = "Koken",
    slots: int = 3,
    starts_after: timedelta | None = timedelta(hours=-2),
    hours: float = 2.5,
    **kw,
) -> Task:
    """A task at `event`, made through the service; it starts `starts_after` from the
    event's start (None: no time of its own) and lasts `hours`."""
    starts_at = event.starts_at + starts_after if starts_after is not None else None
    plan = volunteers.TaskPlan(
        name=name,
        slots=slots,
        description=kw.pop("description", ""),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours) if starts_at else None,
    )
    task = volunteers.save_task(event, plan)
    db.session.commit()
    return task


def guest_signup(task: Task, name: str = "Gerda Gast", email: str = "gerda@example.org"):
    """A guest's slot in `task`, committed."""
    signup = volunteers.sign_up(task, name=name, email=email)
    db.session.commit()
    return signup
