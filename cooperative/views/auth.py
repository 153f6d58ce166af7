"""Accounts: sign up, confirm the address, log in and out, reset a forgotten password."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, decode_cookie, login_user, logout_user

from ..extensions import configured_limit, db, limiter
from ..forms.accounts import ConfirmForm, LoginForm, ResetPasswordForm, ResetRequestForm, SignupForm
from ..i18n import current_locale
from ..models import User
from ..services import accounts
from ..services import two_factor as two_factors
from .two_factor import second_step

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target: str | None) -> str:
    """Only follow `next` to a page of this site, never to another host."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            return target
    return url_for("account.index")


def stay_logged_in(user: User) -> None:
    """Log this device in again after `user`'s session key changed (their own new
    password): the other devices are logged out, this one is not. It gets a new
    remember-me cookie only if it had a valid one for this person."""
    cookie = request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))
    previous = session.get("_user_id") or ""
    remembered = (
        bool(cookie)
        and previous.partition(":")[0] == str(user.id)
        and decode_cookie(cookie) == previous
    )
    login_user(user, remember=remembered)


_login_limit = configured_limit("LOGIN_RATE_LIMIT")
_reset_limit = configured_limit("RESET_RATE_LIMIT")
_signup_limit = configured_limit("SIGNUP_RATE_LIMIT")


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_signup_limit, methods=["POST"])
def signup():
    """Create an account. The answer is the same whether or not the address is known."""
    if current_user.is_authenticated:
        return redirect(url_for("account.index"))
    form = SignupForm()
    if form.validate_on_submit():
        accounts.sign_up(form.name.data, form.email.data, form.password.data, current_locale())
        db.session.commit()
        return redirect(url_for("auth.check_email"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/signup.html", form=form), status


@bp.get("/check-email")
def check_email():
    """Tell the visitor to look in their inbox."""
    return render_template("auth/check_email.html")


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    """Confirm an address from the e-mailed link (a button, so link scanners change nothing)."""
    user = accounts.user_from_confirm_token(token)
    if user is None:
        return render_template("auth/link_invalid.html"), 404
    form = ConfirmForm()
    if form.validate_on_submit():
        accounts.confirm_email(user)
        db.session.commit()
        login_user(user)
        flash(_("Thank you, your e-mail address is confirmed. Welcome!"), "success")
        return redirect(url_for("account.index"), code=303)
    return render_template("auth/confirm.html", form=form, user=user)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    """Log in with e-mail and password. One message for every wrong combination."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(
                _("This e-mail address and password do not match. Please try again.")
            )
        elif not user.email_confirmed:
            accounts.send_confirmation(user)
            db.session.commit()
            flash(
                _("Please confirm your e-mail address first: we have sent you a new link."),
                "info",
            )
            return redirect(url_for("auth.check_email"), code=303)
        elif two_factors.is_enabled(user):
            return second_step(user, remember=form.remember.data, next_url=request.args.get("next"))
        else:
            login_user(user, remember=form.remember.data)
            flash(_("You are logged in."), "success")
            return redirect(_safe_next(request.args.get("next")), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Log out here and on every other device (a POST with a CSRF token, so no other
    site can log you out)."""
    form = ConfirmForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            accounts.log_out_everywhere(current_user)
            db.session.commit()
        logout_user()
        flash(_("You are logged out, on this device and on every other one."), "success")
    return redirect(url_for("public.index"), code=303)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def reset_request():
    """Ask for a reset link. Known or not, the address gets the same answer."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data, current_locale())
        db.session.commit()
        return redirect(url_for("auth.check_email", reset=1), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/reset_request.html", form=form), status


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def reset_password(token: str):
    """Choose a new password from the e-mailed link; the link then stops working."""
    user = accounts.user_from_reset_token(token)
    if user is None:
        return render_template("auth/link_invalid.html", reset=True), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        accounts.reset_password(user, form.password.data)
        db.session.commit()
        if two_factors.is_enabled(user):
            # A link from the mailbox is one factor: the app's code is still asked.
            flash(_("Your new password is saved."), "success")
            return second_step(user, remember=False, next_url=None)
        stay_logged_in(user)
        flash(
            _(
                "Your new password is saved and you are logged in. On every other device "
                "you are logged out."
            ),
            "success",
        )
        return redirect(url_for("account.index"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/reset_password.html", form=form), status
