"""The filters above the admins' audit log (a GET form, no CSRF)."""

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from .fields import ends_after, strip


class DayField(DateField):
    """A day typed as 2026-12-31 (a date picker sends that); says so when it is not."""

    def process_formdata(self, valuelist) -> None:
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            self.data = None
            return
        try:
            self.data = date.fromisoformat(text)
        except ValueError:
            self.data = None
            raise ValueError(_l("Please give a day like 2026-12-31.")) from None


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    actor = SelectField(_l("Done by"), validate_choice=False)
    subject = StringField(
        _l("About (name or e-mail)"), filters=[strip], validators=[Optional(), Length(max=120)]
    )
    since = DayField(_l("From"), validators=[Optional()], render_kw={"type": "date"})
    until = DayField(_l("Until"), validators=[Optional()], render_kw={"type": "date"})

    def validate_actor(self, field) -> None:
        value = field.data or ""
        if value and not (value.isascii() and value.isdigit() and len(value) < 10):
            raise ValidationError(_l("Please choose one of the people in the list."))

    validate_until = ends_after("since", _l("This day is before the first day."), or_same=True)
