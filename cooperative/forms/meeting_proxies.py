"""Forms of taking part in a general meeting: giving a proxy, the board's paper proxy,
and registering for the room or online."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired

from ..models import AttendanceMode
from .fields import WholeNumberField, email_field, whole_number_range


def member_number(label, message) -> WholeNumberField:
    """A member number: a whole number from 1, required."""
    return WholeNumberField(label, validators=[InputRequired(message), whole_number_range(1)])


class ProxyForm(FlaskForm):
    """A member names the member they give their proxy to: that member's number and the
    e-mail address of their account (both must match: nobody can browse the members)."""

    number = member_number(
        _l("Member number of the holder"), _l("Please fill in the holder's member number.")
    )
    email = email_field(_l("E-mail address of the holder"))


class PaperProxyForm(FlaskForm):
    """The board records a proxy given on paper, by the two member numbers."""

    grantor_number = member_number(
        _l("Member number of the member who gives the proxy"),
        _l("Please fill in the member number of who gives the proxy."),
    )
    holder_number = member_number(
        _l("Member number of the holder"), _l("Please fill in the holder's member number.")
    )


class AttendForm(FlaskForm):
    """How a member takes part: in the room (with a ticket) or online."""

    mode = RadioField(
        _l("How do you take part?"),
        choices=[
            SelectChoice(
                AttendanceMode.ROOM.value, _l("In the room (you get a ticket to show at the door)")
            ),
            SelectChoice(AttendanceMode.ONLINE.value, _l("Online")),
        ],
        validators=[DataRequired(_l("Please choose how you take part."))],
    )
