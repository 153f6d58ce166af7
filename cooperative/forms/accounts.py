"""Forms for accounts: sign up, log in, reset a password."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from .fields import email_field, required_text

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 200


def password_limit() -> Length:
    """No password is longer than a new one may be: longer text is refused, not hashed."""
    return Length(
        max=PASSWORD_MAX_LENGTH,
        message=_l("A password has at most %(count)d characters.", count=PASSWORD_MAX_LENGTH),
    )


def password_field(label, message, **kwargs) -> PasswordField:
    """A password that must be filled in (`message` when it is not), no longer than a new
    one may be."""
    return PasswordField(label, validators=[DataRequired(message), password_limit()], **kwargs)


def _new_password_fields(new: bool = False) -> tuple[PasswordField, PasswordField]:
    """The password to choose and the same again; `new` names them so, where the person
    has one already (changing it, or choosing one after forgetting it)."""
    password = PasswordField(
        _l("New password") if new else _l("Password"),
        description=_l("At least %(count)d characters.", count=PASSWORD_MIN_LENGTH),
        validators=[
            DataRequired(_l("Please choose a password.")),
            Length(
                min=PASSWORD_MIN_LENGTH,
                max=PASSWORD_MAX_LENGTH,
                message=_l(
                    "Your password needs at least %(count)d characters.",
                    count=PASSWORD_MIN_LENGTH,
                ),
            ),
        ],
    )
    confirm = PasswordField(
        _l("New password again") if new else _l("Password again"),
        validators=[
            DataRequired(_l("Please type your password again.")),
            EqualTo("password", _l("The two passwords are not the same.")),
            password_limit(),
        ],
    )
    return password, confirm


class SignupForm(FlaskForm):
    name = required_text(_l("Your name"), _l("Please fill in your name."), 120)
    email = email_field()
    password, password_confirm = _new_password_fields()


class LoginForm(FlaskForm):
    email = email_field()
    password = password_field(_l("Password"), _l("Please fill in your password."))
    remember = BooleanField(_l("Keep me logged in on this device"))


class ResetRequestForm(FlaskForm):
    email = email_field()


class ResetPasswordForm(FlaskForm):
    password, password_confirm = _new_password_fields(new=True)


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token: for buttons that change something."""


class TwoFactorCodeForm(FlaskForm):
    """The code from the authenticator app (or a recovery code)."""

    code = required_text(
        _l("Code"),
        _l("Please fill in the code."),
        20,
        _l("This code is not right. Please try again."),
    )


class TwoFactorDisableForm(FlaskForm):
    """Turning two-factor log-in off needs the password, a code or a recovery code."""

    proof = PasswordField(
        _l("Your password, or a code from your app"),
        validators=[
            DataRequired(_l("Please fill in your password or a code.")),
            Length(max=200),
        ],
    )
