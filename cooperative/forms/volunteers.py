"""Volunteers: the organiser's task form, and a guest's sign-up for a slot."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..models import Task
from ..services.volunteers import SLOTS_MAX, TaskPlan
from .events import amsterdam_time
from .fields import WholeNumberField, email_field, ends_after, required_text, strip


class TaskForm(FlaskForm):
    """A task at an event: its name, how many people, and (optionally) when."""

    name = required_text(
        _l("Task"),
        _l("Please name the task, for example Cooking."),
        120,
        description=_l("For example: Cooking, At the door, Washing up."),
    )
    slots = WholeNumberField(
        _l("How many people"),
        validators=[
            InputRequired(_l("Please write how many people the task needs.")),
            NumberRange(
                1, SLOTS_MAX, _l("Please write a number from 1 to %(max)d.", max=SLOTS_MAX)
            ),
        ],
    )
    starts_at = amsterdam_time(
        _l("Starts (optional)"),
        description=_l(
            "Amsterdam time, for example 2030-06-12 15:00. Empty: when the event starts."
        ),
    )
    ends_at = amsterdam_time(
        _l("Ends (optional)"),
        description=_l("Amsterdam time, for example 2030-06-12 17:30. Empty: when the event ends."),
    )
    description = TextAreaField(
        _l("What to know (optional)"),
        filters=[strip],
        validators=[Optional(), Length(max=500)],
    )

    @classmethod
    def for_task(cls, task: Task) -> "TaskForm":
        return cls(formdata=None, obj=task)

    validate_ends_at = ends_after("starts_at", _l("The task must end after it starts."))

    def plan(self) -> TaskPlan:
        return TaskPlan(
            name=self.name.data,
            slots=self.slots.data,
            description=self.description.data or "",
            starts_at=self.starts_at.data,
            ends_at=self.ends_at.data,
        )


class GuestSignupForm(FlaskForm):
    """A guest's name and address for a slot; the private link goes to the address."""

    name = required_text(_l("Your name"), _l("Please fill in your name."), 120)
    email = email_field(_l("Your e-mail address"))
