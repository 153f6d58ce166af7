"""Two-factor log-in: setting it up and off on one's account (`/account/two-factor`), the
log-in's second step (`/auth/two-factor`), and admins sent to set it up when
`REQUIRE_ADMIN_2FA` is on."""

import time

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user

from ..extensions import configured_limit, db, limiter
from ..forms.accounts import ConfirmForm, TwoFactorCodeForm, TwoFactorDisableForm
from ..models import User
from ..qr import qr_svg
from ..services import two_factor

bp = Blueprint("two_factor", __name__)

PENDING = "two_factor_login"
PENDING_SECONDS = 600


_login_limit = configured_limit("LOGIN_RATE_LIMIT")


def _pending_user_key() -> str:
    """Rate limits of the second step also count per account, whatever the address."""
    pending = session.get(PENDING) or {}
    return f"two-factor-user-{pending.get('user', 'none')}"


def second_step(user: User, *, remember: bool, next_url: str | None):
    """After a right password for `user` with two-factor log-in: remember who is half
    logged in (not logged in yet) and ask for the code."""
    session[PENDING] = {
        "user": user.id,
        "remember": bool(remember),
        "next": next_url or "",
        "at": int(time.time()),
    }
    return redirect(url_for("two_factor.login_code"), code=303)


def _pending_user() -> tuple[User | None, dict]:
    """The person half logged in by this browser, if their password was right recently."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, {}
    return db.session.get(User, pending.get("user")), pending


@bp.route("/auth/two-factor", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_pending_user_key)
def login_code():
    """The log-in's second step: the code from the app, or a recovery code. Refuses (422)
    a wrong or already used code; without a right password first, back to the log-in."""
    from .auth import _safe_next

    user, pending = _pending_user()
    found = two_factor.of(user) if user is not None else None
    if found is None or not found.enabled:
        session.pop(PENDING, None)
        flash(_("Please log in again."), "info")
        return redirect(url_for("auth.login"), code=303)
    form = TwoFactorCodeForm()
    if form.validate_on_submit():
        by_app = two_factor.check_app_code(found, form.code.data)
        if by_app or two_factor.use_recovery_code(found, form.code.data):
            db.session.commit()
            session.pop(PENDING, None)
            login_user(user, remember=pending.get("remember", False))
            flash(_("You are logged in."), "success")
            if not by_app:
                flash(
                    ngettext(
                        "You used a recovery code: %(num)d is left. You can make new ones "
                        "on your account.",
                        "You used a recovery code: %(num)d are left. You can make new ones "
                        "on your account.",
                        two_factor.unused_recovery_codes(found),
                    ),
                    "info",
                )
            return redirect(_safe_next(pending.get("next")), code=303)
        db.session.rollback()
        form.code.errors.append(
            _("This code is not right, or it was used already. Please try again.")
        )
    status = 422 if form.is_submitted() else 200
    return render_template("two_factor/login_code.html", form=form), status


def _render_settings(status: int = 200, **forms):
    found = two_factor.of(current_user)
    uri = two_factor.provisioning_uri(found, current_user) if found else ""
    return (
        render_template(
            "two_factor/settings.html",
            found=found,
            qr=qr_svg(uri) if found is not None and not found.enabled else None,
            secret=found.secret if found is not None else "",
            left=two_factor.unused_recovery_codes(found) if found and found.enabled else 0,
            start_form=ConfirmForm(formdata=None),
            code_form=forms.get("code_form") or TwoFactorCodeForm(formdata=None),
            disable_form=forms.get("disable_form") or TwoFactorDisableForm(formdata=None),
            codes_form=forms.get("codes_form")
            or TwoFactorDisableForm(formdata=None, prefix="codes"),
            required=two_factor.required_for(current_user),
        ),
        status,
    )


@bp.get("/account/two-factor")
@login_required
def settings():
    """Two-factor log-in on my account: on or off, and the steps to set it up."""
    return _render_settings()


@bp.post("/account/two-factor/start")
@login_required
def start():
    """Make a new secret to scan (a pending one is replaced); on already: nothing."""
    form = ConfirmForm()
    if form.validate_on_submit() and not two_factor.is_enabled(current_user):
        two_factor.start(current_user)
        db.session.commit()
    return redirect(url_for("two_factor.settings", _anchor="setup"), code=303)


@bp.post("/account/two-factor/confirm")
@login_required
@limiter.limit(_login_limit)
def confirm():
    """Turn it on with a first code from the app; the recovery codes are shown once.
    Refuses (422) a wrong code, and without a started set-up sends back to the page."""
    found = two_factor.of(current_user)
    form = TwoFactorCodeForm()
    if found is None or found.enabled:
        return redirect(url_for("two_factor.settings"), code=303)
    if form.validate_on_submit():
        codes = two_factor.confirm(found, form.code.data)
        if codes is not None:
            db.session.commit()
            return render_template("two_factor/recovery_codes.html", codes=codes)
        db.session.rollback()
        form.code.errors.append(
            _("This code is not right. Check the time on your phone and try the next code.")
        )
    return _render_settings(422, code_form=form)


@bp.post("/account/two-factor/disable")
@login_required
@limiter.limit(_login_limit)
def disable():
    """Turn it off, after the password, a code or a recovery code. Refuses (422) anything
    else."""
    form = TwoFactorDisableForm()
    if form.validate_on_submit():
        if two_factor.disable(current_user, form.proof.data):
            db.session.commit()
            flash(_("Two-factor log-in is off."), "success")
            return redirect(url_for("two_factor.settings"), code=303)
        db.session.rollback()
        form.proof.errors.append(_("This is neither your password nor a right code."))
    return _render_settings(422, disable_form=form)


@bp.post("/account/two-factor/recovery-codes")
@login_required
@limiter.limit(_login_limit)
def new_recovery_codes():
    """Replace the recovery codes with ten new ones (the old stop working), after the
    password or a code; shown once. Refuses (422) anything else; without two-factor
    log-in, back to its page."""
    found = two_factor.of(current_user)
    if found is None or not found.enabled:
        return redirect(url_for("two_factor.settings"), code=303)
    form = TwoFactorDisableForm(prefix="codes")
    if form.validate_on_submit():
        if two_factor.proven(current_user, found, form.proof.data):
            codes = two_factor.new_recovery_codes(found)
            db.session.commit()
            return render_template("two_factor/recovery_codes.html", codes=codes)
        db.session.rollback()
        form.proof.errors.append(_("This is neither your password nor a right code."))
    return _render_settings(422, codes_form=form)


@bp.before_app_request
def admins_set_up_two_factor():
    """With `REQUIRE_ADMIN_2FA`, an admin without two-factor log-in is sent to set it up
    before any /admin page works."""
    if not (request.path == "/admin" or request.path.startswith("/admin/")):
        return None
    if not current_user.is_authenticated or not two_factor.required_for(current_user):
        return None
    if two_factor.is_enabled(current_user):
        return None
    flash(_("Please set up two-factor log-in first: admins need it."), "info")
    return redirect(url_for("two_factor.settings"), code=303)
