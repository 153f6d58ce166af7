"""The home page, membership plans, and the health check."""

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..forms.fields import show_refusal
from ..forms.membership import PAY_BANK, PAY_DEBIT, PAY_ONLINE, JoinForm
from ..i18n import current_locale, long_date
from ..models import Event, MandateKind, MembershipPlan
from ..money import format_euros
from ..page_cache import cached_page
from ..refusals import Refused
from ..services import (
    collectives,
    debits,
    job_runs,
    payments,
    profiles,
    register,
    retention,
    sepa,
    sepa_stripe,
    shares,
)
from ..services import membership as memberships
from ..services.collectives import all_domains
from .checkout import checkout_or_back
from .going_back import roll_back_to

bp = Blueprint("public", __name__)

HOME_EVENT_COUNT = 6
# What the join form asks of the profile; saved as the membership starts.
JOIN_PROFILE_FIELDS = ("display_name", "neighbourhood", "interests", "visibility", "newsletter")


@bp.get("/")
@cached_page
def index():
    """Home: the next events, and every domain with its published collectives and their
    upcoming events counted. A fixed number of queries."""
    events = db.session.scalars(
        Event.upcoming()
        .options(sa.orm.selectinload(Event.collective), sa.orm.selectinload(Event.meal_options))
        .limit(HOME_EVENT_COUNT)
    ).all()
    return render_template(
        "public/index.html", events=events, domains=collectives.domain_overview()
    )


@bp.get("/join")
def join():
    """The membership plans side by side."""
    plans = db.session.scalars(
        sa.select(MembershipPlan)
        .where(MembershipPlan.is_active)
        .order_by(MembershipPlan.position, MembershipPlan.id)
    ).all()
    return render_template("public/join.html", plans=plans, join_shares=shares.required_classes())


@bp.get("/join/privacy")
def privacy():
    """The privacy statement people agree to when they join, with how long a former
    member's profile is kept (FORMER_MEMBER_DATA_DAYS, in years when it is whole years)."""
    days = retention.former_member_data_days()
    if days and days % 365 == 0:
        period = ngettext("%(num)d year", "%(num)d years", days // 365)
    else:
        period = ngettext("%(num)d day", "%(num)d days", days)
    return render_template("public/join_privacy.html", former_member_period=period)


@bp.route("/join/<slug>", methods=["GET", "POST"])
def join_plan(slug: str):
    """Join one plan: the profile basics, the privacy statement, then paying or waiting.

    Anonymous visitors are asked to log in or create an account first. With a fee, the
    person pays online (when Stripe is set up), chooses a bank transfer and waits, or
    (when direct debits are taken, `sepa.route`) gives a mandate and is debited.
    """
    plan = db.session.scalar(
        sa.select(MembershipPlan).where(MembershipPlan.slug == slug, MembershipPlan.is_active)
    )
    if plan is None:
        abort(404)
    if not current_user.is_authenticated:
        return render_template("public/join_account.html", plan=plan)
    existing = memberships.current_membership(current_user)
    if existing is not None and existing.status in memberships.CURRENT:
        flash(_("You are already a member, or your application is open."), "info")
        return redirect(url_for("account.index"), code=303)
    online = payments.online_payments_enabled()
    debit_route = sepa.route()  # direct debit: the Stripe or the bank route
    # The required share(s) beside the plan, paid with the fee.
    join_shares = shares.required_classes()
    total = plan.fee_cents + sum(share_class.amount_cents for share_class in join_shares)
    form = JoinForm()
    form.set_domains(all_domains(), current_locale())
    form.set_countries()  # the address for the member register
    if not form.is_submitted():
        if existing is not None:  # a former member: the address they had
            form.process(formdata=None, obj=existing)
        form.registered_name.data = form.registered_name.data or current_user.name
        profile = current_user.profile
        form.display_name.data = profile.display_name if profile else current_user.name
        if profile is not None:
            form.neighbourhood.data = profile.neighbourhood
            form.interests.data = [domain.id for domain in profile.interests]
            form.visibility.data = profile.visibility.value
            form.newsletter.data = profile.newsletter
        form.pay_by.data = PAY_ONLINE if online else PAY_BANK
    if form.validate_on_submit():
        pay_by = form.pay_by.data
        if not online and pay_by != PAY_DEBIT:
            pay_by = PAY_BANK
        address = _register_address(form)
        if total and pay_by not in (PAY_ONLINE, PAY_BANK, PAY_DEBIT):
            form.pay_by.errors.append(_("Please choose how you would like to pay."))
        elif total and pay_by == PAY_DEBIT and debit_route is None:
            # Above the form: the choice itself is not shown here.
            form.form_errors.append(
                _("Paying by direct debit is not possible here. Please choose another way.")
            )
        elif total and pay_by == PAY_DEBIT and debit_route == MandateKind.OWN:
            if _mandate_given(form) and address is not None:
                response = _join(plan, form, pay_by, address)
                if response is not None:
                    return response
        elif address is not None:
            return _join(plan, form, pay_by if total else PAY_BANK, address)
    form.offer_payments(online, debit_route is not None)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "public/join_plan.html",
        plan=plan,
        form=form,
        online=online,
        join_shares=join_shares,
        total=total,
        debit_route=debit_route,
        creditor=sepa.creditor(),
        debit_date=sepa.earliest_debit_date(),
    ), status


def _mandate_given(form: JoinForm) -> bool:
    """Whether the own mandate's fields are filled in; each one missing is marked (the
    service checks them all again)."""
    missing = {
        form.account_holder: _("Please give the name of the account holder."),
        form.iban: _("Please give your IBAN."),
        form.consent: _("Please tick the box to give the mandate."),
    }
    for field, message in missing.items():
        if not field.data:
            field.errors = [*field.errors, message]
    return all(field.data for field in missing)


def _register_address(form: JoinForm) -> register.Address | None:
    """The address as the member register keeps it, or None with the refusal on the form."""
    try:
        return register.checked_address(form.address())
    except Refused as refusal:
        show_refusal(form, refusal)
        return None


def _join(plan: MembershipPlan, form: JoinForm, pay_by: str, address: register.Address):
    """Save the profile basics, start the membership, and send the person on."""
    profiles.save_profile(current_user, **{name: form[name].data for name in JOIN_PROFILE_FIELDS})
    try:
        membership = memberships.join(
            current_user, plan, address=address, email_notices=form.email_notices.data
        )
    except Refused as refusal:
        return roll_back_to(url_for("account.index"), refusal.message)
    if pay_by == PAY_DEBIT and memberships.join_cents(membership) > 0:
        return _join_by_debit(membership, form)
    owed = memberships.amount_due(membership)
    if owed and pay_by == PAY_BANK:
        memberships.ask_for_transfer(membership)
    db.session.commit()
    if owed and pay_by == PAY_ONLINE:
        return checkout_or_back(
            lambda: memberships.start_payment(membership),
            url_for("account.index"),
            _(
                "Paying online does not work right now. Please try again from your "
                "account page in a moment, or pay by bank transfer."
            ),
        )
    if membership.status == "active":
        flash(
            _("Welcome! You are member number %(number)s.", number=membership.number),
            "success",
        )
    elif membership.status == "pending_payment":
        flash(_("Thank you! Your membership starts when your bank transfer arrives."), "info")
    else:
        flash(_("Thank you! The board will look at your application soon."), "info")
    current_app.logger.info("Membership %s: %s", membership.id, membership.status)
    return redirect(url_for("account.index"), code=303)


def _join_by_debit(membership, form: JoinForm):
    """What joining costs is debited under a mandate given now (or one in force
    already): the cooperative's own, or given at Stripe first and then back. Returns
    None, rolled back with the refusal on the form, when the own mandate is refused."""
    mandate = sepa.active_mandate(membership)
    if mandate is None and sepa.route() == MandateKind.STRIPE:
        db.session.commit()
        try:
            url = sepa_stripe.start_setup(membership, joining=True)
        except payments.PaymentUnavailable:
            flash(
                _(
                    "Direct debit through Stripe does not work right now. Please give the "
                    "mandate later, or pay another way from your account page."
                ),
                "error",
            )
            return redirect(url_for("account.index"), code=303)
        return redirect(url, code=303)
    try:
        if mandate is None:
            sepa.give_mandate(
                membership, form.iban.data, form.account_holder.data, form.consent.data
            )
        collection = None
        if membership.status == "pending_payment":
            collection = debits.collect_join(membership)
    except Refused as refusal:
        db.session.rollback()
        show_refusal(form, refusal)
        return None
    db.session.commit()
    if collection is not None:
        flash(
            _(
                "Thank you! We will debit %(amount)s on %(date)s and have sent you the details. "
                "Your membership starts when the money arrives.",
                amount=format_euros(collection.amount_cents),
                date=long_date(collection.debit_date),
            ),
            "info",
        )
    else:
        flash(
            _(
                "Thank you! The board will look at your application soon. Once it is "
                "approved, we debit what joining costs under your mandate."
            ),
            "info",
        )
    return redirect(url_for("account.index"), code=303)


@bp.get("/healthz")
def healthz():
    """For a monitor: 200 when the database answers and a worker ticked within 5 minutes;
    503 with the reason otherwise. Where no worker ever ran (a fresh install, the tests)
    that is 503 only when WORKER_REQUIRED (on in production); a worker that stopped
    ticking is 503 always."""
    try:
        ticking, worker = job_runs.worker_health()
    except SQLAlchemyError:
        db.session.rollback()
        return {
            "status": "unavailable",
            "database": "unreachable",
            "reason": "database: unreachable",
        }, 503
    healthy = ticking or (ticking is None and not current_app.config["WORKER_REQUIRED"])
    if healthy:
        return {"status": "ok", "database": "ok", "worker": worker}
    return {
        "status": "unavailable",
        "database": "ok",
        "worker": worker,
        "reason": f"worker: {worker}",
    }, 503
