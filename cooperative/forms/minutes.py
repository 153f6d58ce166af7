"""Forms of the minutes of a general meeting: the text, and the day it was approved."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from ..services.meeting_minutes import TEXT_MAX_LENGTH
from .audit import DayField
from .fields import strip


class MinutesForm(FlaskForm):
    """The minutes in Markdown (saved, filled in from the meeting's data, or previewed)."""

    text = TextAreaField(
        _l("Minutes"),
        filters=[strip],
        description=_l(
            "Markdown: a line starting with ## is a heading, - starts a list, "
            "**bold**. HTML is shown as text."
        ),
        validators=[
            Length(
                max=TEXT_MAX_LENGTH,
                message=_l("Please keep the minutes under %(max)d characters."),
            )
        ],
    )


class ApproveMinutesForm(FlaskForm):
    """The day the minutes were approved (by the next meeting or the board)."""

    approved_on = DayField(
        _l("Approved on"),
        description=_l("The day the meeting or the board approved the minutes."),
        validators=[InputRequired(_l("Please give the day the minutes were approved."))],
        render_kw={"type": "date"},
    )
