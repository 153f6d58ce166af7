"""The form of an announcement: to whom, its subject and its text (Markdown)."""

from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired

from ..services.announcements import BODY_MAX, SUBJECT_MAX
from .fields import keep_under, required_text, strip


class AnnouncementForm(FlaskForm):
    """An announcement as written, before the preview and again when it is sent.

    `audience` holds `domain-3`, `collective-5` or `event-7`; the view offers only those
    the person may write to (`set_audiences`) and the service checks again."""

    audience = SelectField(
        _l("To whom"),
        description=_l(
            "Members who chose the area or follow the collective and asked for the news,"
            " or everyone registered for an event."
        ),
        validate_choice=False,  # the view names a choice it does not know (422 by the field)
        validators=[InputRequired(_l("Please choose who gets the announcement."))],
    )
    subject = required_text(
        _l("Subject"),
        _l("Please write a subject."),
        SUBJECT_MAX,
        too_long=_l("Please keep the subject under 200 characters."),
    )
    body = TextAreaField(
        _l("Announcement"),
        filters=[strip],
        description=_l(
            "Markdown: a line starting with ## is a heading, - starts a list, "
            "**bold**, [text](https://...) a link. HTML is shown as text."
        ),
        validators=[
            DataRequired(_l("Please write your announcement.")),
            keep_under(BODY_MAX),
        ],
    )

    def set_audiences(self, audiences, locale: str) -> None:
        """Offer `audiences` (services.announcements.Audience), grouped by kind."""
        groups = {
            "domain": _l("Members interested in an area"),
            "collective": _l("Members who follow a collective"),
            "event": _l("Registered for an event"),
        }
        choices: dict = {}
        for audience in audiences:
            label = str(groups[audience.kind.value])
            name = audience.name(locale)
            if audience.kind.value == "event":  # a series' dates share their title
                name = f"{name} ({format_datetime(audience.target.starts_at, 'EEE d MMM HH:mm')})"
            choices.setdefault(label, []).append((audience.value, name))
        self.audience.choices = choices
