"""A member's own entry in the member register: their address, their consent to
official notices by e-mail, and cancelling their membership in writing."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..forms.register import AddressForm, CancelForm, EmailNoticesForm
from ..i18n import long_date
from ..models import Membership, MembershipStatus
from ..services import register, share_totals
from ..services.membership import current_membership
from .going_back import form_page

bp = Blueprint("account_register", __name__, url_prefix="/account")


def _membership() -> Membership:
    """The person's membership; 404 for whoever never joined."""
    membership = current_membership(current_user)
    if membership is None:
        abort(404)
    return membership


@bp.route("/address", methods=["GET", "POST"])
@login_required
def address():
    """My name and address in the member register."""
    membership = _membership()
    form = AddressForm() if request.method == "POST" else AddressForm(obj=membership)
    form.set_countries()
    return form_page(
        form,
        lambda: register.save_address(membership, form.address()),
        done=_("Your address is saved."),
        to=url_for("account.index", _anchor="register-title"),
        template="register/address.html",
    )


@bp.post("/notices")
@login_required
def notices():
    """Give or withdraw my consent to official notices by e-mail."""
    membership = _membership()
    form = EmailNoticesForm()
    if not form.validate_on_submit():
        abort(400)
    register.set_email_notices(membership, form.email_notices.data)
    db.session.commit()
    if form.email_notices.data:
        flash(_("You will get official notices by e-mail."), "success")
    else:
        flash(_("You will get official notices by post."), "success")
    return redirect(url_for("account.index", _anchor="register-title"), code=303)


@bp.route("/membership/cancel", methods=["GET", "POST"])
@login_required
def cancel():
    """Cancel my membership in writing: the day it ends first, then a confirmation.
    The acknowledgement is e-mailed at once."""
    membership = _membership()
    if membership.status != MembershipStatus.ACTIVE or membership.leaves_on is not None:
        return redirect(url_for("account.index"), code=303)
    form = CancelForm()
    return form_page(
        form,
        lambda: register.cancel(membership),
        done=lambda ends: _(
            "We have received your cancellation. Your membership ends on %(date)s. "
            "We have sent you a confirmation by e-mail.",
            date=long_date(ends),
        ),
        to=url_for("account.index", _anchor="register-title"),
        template="register/cancel.html",
        membership=membership,
        ends_on=register.notice_end_date(register.today()),
        shares_paid_cents=share_totals.holding(membership)[1],
    )
