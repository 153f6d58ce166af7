"""A logged-in person's own pages: membership, profile, e-mail and password, registrations,
events for them, their private calendar, their data (export and delete)."""

import json

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from ..extensions import db, htmx
from ..forms.accounts import ConfirmForm
from ..forms.fields import show_refusal
from ..forms.membership import (
    PROFILE_FIELDS,
    DeleteAccountForm,
    EmailChangeForm,
    PasswordChangeForm,
    ProfileForm,
)
from ..i18n import current_locale
from ..models import Payment
from ..refusals import Refused
from ..services import membership as memberships
from ..services import payments, privacy, profiles
from ..services.calendar import event_calendar
from ..services.collectives import all_domains
from .auth import stay_logged_in
from .checkout import back_from_checkout, checkout_or_back
from .going_back import commit_or_redraw

bp = Blueprint("account", __name__, url_prefix="/account")

FOR_YOU_COUNT = 6


def _profile_form(**kwargs) -> ProfileForm:
    form = ProfileForm(**kwargs)
    form.set_domains(all_domains(), current_locale())
    form.set_collectives(db.session.scalars(profiles.followable_collectives()))
    return form


def _filled_profile_form() -> ProfileForm:
    """The profile form holding what is saved now (for a GET)."""
    profile = current_user.profile
    form = _profile_form(formdata=None)
    if profile is not None:
        form.display_name.data = profile.display_name
        form.neighbourhood.data = profile.neighbourhood
        form.bio.data = profile.bio
        form.interests.data = [domain.id for domain in profile.interests]
        form.collectives.data = [collective.id for collective in profile.followed_collectives]
        form.offer.data = profile.offer
        form.visibility.data = profile.visibility.value
        form.newsletter.data = profile.newsletter
    else:
        form.display_name.data = current_user.name
    return form


def _save_fields(form: ProfileForm, names) -> None:
    profiles.save_profile(current_user, **{name: form[name].data for name in names})


@bp.get("/")
@login_required
def index():
    """My account: membership, profile, registrations, events for me, my data.

    Coming back from Stripe (`session_id`), it asks Stripe how the payment stands first.
    """
    back = back_from_checkout(
        url_for("account.index"),
        _membership_payment,
        _("You have not paid yet. You can pay whenever you like from this page."),
    )
    return back or _render_index()


def _membership_payment(session_id: str) -> Payment | None:
    """My membership's payment made in Stripe's Checkout session `session_id`."""
    membership = memberships.current_membership(current_user)
    return db.session.scalar(
        sa.select(Payment).where(
            Payment.membership_id == (membership.id if membership else -1),
            Payment.stripe_checkout_session_id == session_id,
        )
    )


def _render_index(status: int = 200, **forms):
    membership = memberships.current_membership(current_user)
    registrations = privacy.registrations_of(current_user)
    return (
        render_template(
            "account/index.html",
            membership=membership,
            amount_due=memberships.amount_due(membership) if membership else 0,
            transfer=memberships.bank_transfer(membership) if membership else None,
            online=payments.online_payments_enabled(),
            profile_form=forms.get("profile_form") or _filled_profile_form(),
            email_form=forms.get("email_form") or EmailChangeForm(formdata=None),
            password_form=forms.get("password_form") or PasswordChangeForm(formdata=None),
            fields=PROFILE_FIELDS,
            registrations=registrations[:5],
            registration_count=len(registrations),
            for_you=privacy.events_for(current_user, FOR_YOU_COUNT),
            roles=current_user.collective_roles,
        ),
        status,
    )


@bp.post("/membership/pay")
@login_required
def pay():
    """Go to Stripe to pay the membership fee owed now (joining or renewing)."""
    form = ConfirmForm()
    membership = memberships.current_membership(current_user)
    if not form.validate_on_submit() or membership is None:
        abort(400)
    if not payments.online_payments_enabled():
        flash(_("Paying online is not possible here. Please pay by bank transfer."), "error")
        return redirect(url_for("account.index"), code=303)
    return checkout_or_back(
        lambda: memberships.start_payment(membership),
        url_for("account.index"),
        _("Paying online does not work right now. Please try again in a moment."),
    )


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    """The whole profile as one plain form (for browsers without JavaScript)."""
    if request.method == "GET":
        return render_template("account/profile.html", form=_filled_profile_form())
    form = _profile_form()
    if form.validate_on_submit():
        _save_fields(form, PROFILE_FIELDS)
        db.session.commit()
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("account.index"), code=303)
    return render_template("account/profile.html", form=form), 422


def _check_field(name: str) -> None:
    if name not in PROFILE_FIELDS:
        abort(404)


def _wants_fragment() -> bool:
    return bool(htmx) and (htmx.target or "").startswith("profile-")


@bp.get("/profile/<name>")
@login_required
def profile_field(name: str):
    """One profile field as it shows on the account page (htmx: back from editing)."""
    return _field_in_place(name, False, url_for("account.index", _anchor=f"profile-{name}"))


@bp.get("/profile/<name>/edit")
@login_required
def edit_profile_field(name: str):
    """One profile field as a small form, in place (htmx); else the whole profile form."""
    return _field_in_place(name, True, url_for("account.profile", _anchor=f"{name}"))


def _field_in_place(name: str, editing: bool, elsewhere: str):
    """The profile field `name` drawn in place for htmx, shown or as a small form
    (`editing`); any other request is sent to `elsewhere`. 404 for an unknown field."""
    _check_field(name)
    if not _wants_fragment():
        return redirect(elsewhere)
    return render_template(
        "account/_profile_field.html", form=_filled_profile_form(), name=name, editing=editing
    )


@bp.post("/profile/<name>")
@login_required
def save_profile_field(name: str):
    """Save one profile field. htmx gets the field back; a plain form goes to the account."""
    _check_field(name)
    form = _profile_form()
    form.validate()
    if "csrf_token" in form.errors:
        abort(400)
    fragment = _wants_fragment()
    if form[name].errors:
        if fragment:
            return (
                render_template("account/_profile_field.html", form=form, name=name, editing=True),
                422,
            )
        full = _filled_profile_form()
        full[name].process_formdata(form[name].raw_data or [])
        full[name].errors = list(form[name].errors)
        return render_template("account/profile.html", form=full), 422
    _save_fields(form, [name])
    db.session.commit()
    if fragment:
        return render_template(
            "account/_profile_field.html",
            form=_filled_profile_form(),
            name=name,
            editing=False,
            saved=True,
        )
    flash(_("Your profile is saved."), "success")
    return redirect(url_for("account.index", _anchor=f"profile-{name}"), code=303)


@bp.post("/email")
@login_required
def change_email():
    """Ask for a new e-mail address; it counts once confirmed from the link sent to it."""
    form = EmailChangeForm()
    return commit_or_redraw(
        form,
        lambda: privacy.request_email_change(current_user, form.new_email.data, form.password.data),
        done=lambda _asked: _(
            "We have sent a link to %(email)s. Your address changes when you click it.",
            email=current_user.pending_email,
        ),
        to=url_for("account.index"),
        category="info",
        redraw=lambda status: _render_index(status, email_form=form),
    )


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str):
    """Confirm a new address from the e-mailed link (a button, so scanners change nothing)."""
    if privacy.user_for_email_change(token) is None:
        return render_template("auth/link_invalid.html"), 404
    form = ConfirmForm()
    if form.validate_on_submit():
        user = privacy.confirm_email_change(token)
        if user is None:
            db.session.rollback()
            return render_template("auth/link_invalid.html"), 404
        db.session.commit()
        flash(_("Your new e-mail address is saved."), "success")
        return redirect(url_for("account.index"), code=303)
    return render_template("account/confirm_email.html", form=form, token=token)


@bp.post("/password")
@login_required
def change_password():
    """Choose a new password, after typing the current one. Every other device is
    logged out; this one stays logged in."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            privacy.change_password(current_user, form.current_password.data, form.password.data)
        except Refused as refusal:
            show_refusal(form, refusal)
        else:
            db.session.commit()
            stay_logged_in(current_user._get_current_object())
            flash(
                _("Your new password is saved. On every other device you are logged out."),
                "success",
            )
            return redirect(url_for("account.index"), code=303)
    return _render_index(422, password_form=form)


@bp.get("/registrations")
@login_required
def registrations():
    """My registrations: those made while logged in, and those made as a guest with my
    confirmed address. Coming events first, then the past ones."""
    return render_template(
        "account/registrations.html", registrations=privacy.registrations_of(current_user)
    )


@bp.post("/calendar")
@login_required
def reset_calendar():
    """Make (or make anew) the secret address of my calendar; an old one stops working."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    privacy.reset_calendar_token(current_user)
    db.session.commit()
    flash(_("Your calendar has a new address. The old one no longer works."), "success")
    return redirect(url_for("account.index", _anchor="calendar"), code=303)


@bp.get("/calendar/<token>.ics")
def calendar_feed(token: str):
    """The private calendar feed: coming events in my domains (no log-in: the secret)."""
    user = privacy.user_by_calendar_token(token)
    if user is None:
        abort(404)
    body = event_calendar(privacy.events_for(user), "MeentCoop")
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private"})


@bp.get("/export")
@login_required
def export():
    """Download everything we hold about me, as JSON."""
    data = privacy.export(current_user)
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="meentcoop-my-data.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/delete", methods=["GET", "POST"])
@login_required
def delete():
    """Delete my account, after I confirm with my password."""
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            privacy.delete_account(current_user, form.password.data)
        except Refused as refusal:
            db.session.rollback()
            show_refusal(form, refusal)
        except payments.PaymentUnavailable:
            db.session.rollback()
            form.form_errors.append(
                _("A refund could not be made just now. Please try again in a moment.")
            )
        else:
            db.session.commit()
            logout_user()
            flash(_("Your account and your data are deleted. Goodbye!"), "success")
            return redirect(url_for("public.index"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("account/delete.html", form=form), status
