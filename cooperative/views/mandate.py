"""A member's SEPA mandate for their yearly dues: give it (the cooperative's own, or
through Stripe), see it and its collections, end it. Each person sees only their own."""

from collections.abc import Callable

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..forms.fields import checkout_session_id, show_refusal
from ..forms.sepa import ConfirmForm, MandateForm
from ..i18n import long_date
from ..models import Collection, MandateKind
from ..money import format_euros
from ..refusals import Refused
from ..services import debits, dues, payments, sepa, sepa_stripe
from ..services import membership as memberships
from .going_back import roll_back_to

bp = Blueprint("mandate", __name__, url_prefix="/account/mandate")


@bp.app_context_processor
def _pending_debit() -> dict:
    """`pending_debit(membership)` for the account page: dues on their way by debit;
    `active_mandate(membership)`: whether what joining costs can be debited."""
    return {"pending_debit": dues.pending_debit, "active_mandate": sepa.active_mandate}


@bp.get("")
@login_required
def show():
    """The member's mandate, or the form to give one with the mandate text.

    Coming back from Stripe (`session_id`), it asks Stripe how the setup stands first."""
    session_id = checkout_session_id(request.args.get("session_id", ""))
    if session_id:
        membership = memberships.current_membership(current_user)
        try:
            session = sepa_stripe.fetch_setup(session_id)
        except payments.PaymentUnavailable:
            session = None
        # Only a session made for this person's own membership is kept here.
        if (
            session is not None
            and membership is not None
            and sepa_stripe.metadata_of(session).get("membership_id") == str(membership.id)
        ):
            sepa_stripe.settle_setup(session)
            db.session.commit()
        return redirect(url_for("mandate.show"), code=303)
    if request.args.get("checkout") == "cancelled":
        flash(_("You have not given a mandate. You can do so whenever you like."), "info")
        return redirect(url_for("mandate.show"), code=303)
    return _render(MandateForm(formdata=None))


def _render(form: MandateForm, status: int = 200):
    membership = memberships.current_membership(current_user)
    mandate = sepa.active_mandate(membership)
    collections = []
    if membership is not None:
        collections = list(
            db.session.scalars(
                sa.select(Collection)
                .where(Collection.membership_id == membership.id)
                .order_by(Collection.debit_date.desc())
                .limit(10)
            )
        )
    return (
        render_template(
            "sepa/mandate.html",
            membership=membership,
            mandate=mandate,
            may_give=membership is not None and membership.status in sepa.MANDATE_STATES,
            collections=collections,
            route=sepa.route(),
            creditor=sepa.creditor(),
            form=form,
            confirm_form=ConfirmForm(formdata=None),
        ),
        status,
    )


@bp.post("")
@login_required
def give():
    """Give the cooperative's own mandate: 422 with the typing kept when refused."""
    form = MandateForm()
    if form.validate_on_submit():
        try:
            sepa.give_mandate(
                memberships.current_membership(current_user),
                form.iban.data,
                form.account_holder.data,
                form.consent.data,
            )
        except Refused as refusal:
            db.session.rollback()
            show_refusal(form, refusal)
        else:
            db.session.commit()
            flash(_("Thank you: your mandate is given. We sent you a copy."), "success")
            return redirect(url_for("mandate.show"), code=303)
    return _render(form, 422)


@bp.post("/stripe")
@login_required
def start_stripe():
    """Go to Stripe to give the mandate there (when Stripe is configured)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if sepa.route() != MandateKind.STRIPE:
        abort(404)
    try:
        url = sepa_stripe.start_setup(memberships.current_membership(current_user))
    except Refused as refusal:
        form = MandateForm(formdata=None)
        form.form_errors.append(refusal.message)
        return _render(form, 422)
    except payments.PaymentUnavailable:
        flash(_("Direct debit through Stripe does not work right now. Please try later."), "error")
        return redirect(url_for("mandate.show"), code=303)
    return redirect(url, code=303)


@bp.post("/join-debit")
@login_required
def debit_join():
    """Have what joining costs debited under my mandate in force (after a
    failed debit, or a mandate given after joining); refused with a message otherwise."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    membership = memberships.current_membership(current_user)
    back = url_for("account.index")
    if membership is None:
        return roll_back_to(back, _("There is nothing to pay for your membership now."), "info")
    return debit_or_back(
        lambda: debits.collect_join(membership),
        back,
        _("We will debit %(amount)s on %(date)s and have sent you the details."),
    )


def debit_or_back(collect: Callable[[], Collection], back: str, done: str):
    """Ask for a debit (`collect()`, which flushes a collection) and redirect (303) to
    `back`: on a refusal, rolled back, with its message flashed as information;
    otherwise committed, with `done` flashed, its `%(amount)s` and `%(date)s` the
    collection's amount and the day it is debited."""
    try:
        collection = collect()
    except Refused as refusal:
        return roll_back_to(back, refusal.message, "info")
    db.session.commit()
    amount, date = format_euros(collection.amount_cents), long_date(collection.debit_date)
    flash(done % {"amount": amount, "date": date}, "success")
    return redirect(back, code=303)


@bp.post("/end")
@login_required
def end():
    """End the member's own mandate in force: nothing more is debited under it."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    mandate = sepa.active_mandate(memberships.current_membership(current_user))
    if mandate is None:
        flash(_("You have no mandate in force."), "info")
        return redirect(url_for("mandate.show"), code=303)
    sepa.end_mandate(mandate)
    db.session.commit()
    sepa_stripe.detach(mandate)  # after the commit: no write waits on Stripe
    flash(_("Your mandate has ended. We will not debit your account any more."), "success")
    return redirect(url_for("mandate.show"), code=303)
