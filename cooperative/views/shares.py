"""A member's shares (`/account/shares`): what they hold, buying more, paying, and the
certificate. Only ever one's own: someone else's purchase or share is 404."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..forms.accounts import ConfirmForm
from ..forms.fields import show_refusal
from ..forms.membership import PAY_DEBIT, PAY_ONLINE
from ..forms.shares import BuySharesForm
from ..i18n import current_locale
from ..models import Membership, MembershipStatus, Payment, ShareClass, SharePurchase
from ..money import format_euros
from ..refusals import Refused
from ..services import debits, payments, sepa, share_documents, share_payments, shares
from ..services import membership as memberships
from ..services.membership import BankTransfer
from .checkout import back_from_checkout, checkout_or_back
from .mandate import debit_or_back

bp = Blueprint("shares", __name__, url_prefix="/account/shares")


def _buy_form(**kwargs) -> BuySharesForm:
    form = BuySharesForm(**kwargs)
    locale = current_locale()
    classes = shares.classes_for(memberships.current_membership(current_user))
    labels = {}
    for share_class in classes:
        label = f"{share_class.name(locale)}, {format_euros(share_class.amount_cents)}"
        if share_class.max_per_member is not None:
            label += " " + _("(at most %(max)d per member)", max=share_class.max_per_member)
        if share_class.needs_approval:
            label += " " + _("(the board approves)")
        labels[share_class.id] = label
    form.set_classes(classes, labels)
    if form.share_class.data is None and len(classes) == 1:
        form.share_class.data = classes[0].id
    return form


def _transfer(purchase: SharePurchase) -> BankTransfer:
    transfer = memberships.bank_transfer(purchase.membership)
    return BankTransfer(
        iban=transfer.iban,
        account_name=transfer.account_name,
        amount_cents=shares.amount_owed(purchase),
        reference=share_payments.payment_reference(purchase),
    )


def _render(membership: Membership | None, form: BuySharesForm | None = None, status=200):
    held = shares.shares_of(membership) if membership else []
    purchases = shares.purchases_of(membership) if membership else []
    online = payments.online_payments_enabled()
    mandate = sepa.active_mandate(membership)
    form = form or _buy_form(formdata=None)
    form.offer_payments(online, mandate is not None)
    return (
        render_template(
            "shares/index.html",
            membership=membership,
            shares=held,
            purchases=purchases,
            transfers={p.id: _transfer(p) for p in purchases if shares.amount_owed(p)},
            debiting=debits.pending_for_purchases([p.id for p in purchases]),
            mandate=mandate,
            form=form,
            online=online,
            can_buy=membership is not None and membership.status == MembershipStatus.ACTIVE,
        ),
        status,
    )


@bp.get("/")
@login_required
def index():
    """My shares and purchases, and the form to buy more. Coming back from Stripe
    (`session_id`), it asks Stripe how the payment stands first."""
    back = back_from_checkout(
        url_for("shares.index"),
        _purchase_payment,
        _("You have not paid yet. You can pay whenever you like from this page."),
    )
    if back:
        return back
    membership = memberships.current_membership(current_user)
    return _render(membership)


def _purchase_payment(session_id: str) -> Payment | None:
    """The payment for one of my share purchases made in Checkout session `session_id`."""
    membership = memberships.current_membership(current_user)
    return db.session.scalar(
        sa.select(Payment)
        .join(SharePurchase, Payment.share_purchase_id == SharePurchase.id)
        .where(
            SharePurchase.membership_id == (membership.id if membership else -1),
            Payment.stripe_checkout_session_id == session_id,
        )
    )


@bp.post("/")
@login_required
def buy():
    """Buy shares: issued at once, or waiting for the board; then paid online, by bank,
    or by direct debit (only with a mandate in force: refused clearly without one)."""
    membership = memberships.current_membership(current_user)
    form = _buy_form()
    if membership is None:
        abort(404)
    if not form.validate_on_submit():
        return _render(membership, form, 422)
    if form.pay_by.data == PAY_DEBIT and sepa.active_mandate(membership) is None:
        # Above the form: the choice itself is not shown without a mandate.
        form.form_errors.append(
            _("Give a direct debit mandate first to pay this way, or choose another way.")
        )
        return _render(membership, form, 422)
    share_class = db.session.get(ShareClass, form.share_class.data)
    try:
        purchase = shares.buy(membership, share_class, form.quantity.data, current_user)
    except Refused as refusal:
        db.session.rollback()
        show_refusal(form, refusal)
        return _render(membership, form, 422)
    db.session.commit()
    return _after_purchase(purchase, form.pay_by.data)


def _after_purchase(purchase: SharePurchase, pay_by: str):
    if purchase.status == "pending_approval":
        flash(_("Thank you! The board looks at your request; you will hear from us."), "info")
        return redirect(url_for("shares.index"), code=303)
    if pay_by == PAY_ONLINE and payments.online_payments_enabled():
        return _checkout(purchase)
    if pay_by == PAY_DEBIT:
        return _debit(purchase)
    flash(
        _(
            "Your shares are issued. Please transfer %(amount)s with reference %(reference)s.",
            amount=format_euros(shares.amount_owed(purchase)),
            reference=share_payments.payment_reference(purchase),
        ),
        "info",
    )
    return redirect(url_for("shares.index"), code=303)


def _checkout(purchase: SharePurchase):
    """Send the member to Stripe for what the purchase owes (the payment committed
    first, Stripe called with no write held: see `views/checkout.py`)."""
    return checkout_or_back(
        lambda: share_payments.start_payment(purchase),
        url_for("shares.index"),
        _("Paying online does not work right now. Please try again, or pay by bank."),
    )


def _debit(purchase: SharePurchase):
    """Debit what the purchase owes under the member's mandate in force, on
    the earliest date SEPA allows (announced by e-mail)."""
    return debit_or_back(
        lambda: debits.collect_purchase(purchase),
        url_for("shares.index"),
        _(
            "Your shares are issued. We will debit %(amount)s on %(date)s and have sent "
            "you the details."
        ),
    )


@bp.post("/purchases/<int:purchase_id>/debit")
@login_required
def debit(purchase_id: int):
    """Have what one of my purchases still owes debited under my mandate in force."""
    purchase = _own_purchase(purchase_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _debit(purchase)


def _own_purchase(purchase_id: int) -> SharePurchase:
    membership = memberships.current_membership(current_user)
    purchase = shares.purchase_of(membership, purchase_id) if membership else None
    if purchase is None:
        abort(404)
    return purchase


@bp.post("/purchases/<int:purchase_id>/pay")
@login_required
def pay(purchase_id: int):
    """Go to Stripe to pay what one of my purchases still owes."""
    purchase = _own_purchase(purchase_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not payments.online_payments_enabled():
        flash(_("Paying online is not possible here. Please pay by bank transfer."), "error")
        return redirect(url_for("shares.index"), code=303)
    return _checkout(purchase)


@bp.get("/certificate-<any(nl, en):lang>.pdf")
@login_required
def certificate(lang: str):
    """My share certificate as a PDF, in Dutch or English (404 when I hold no shares)."""
    membership = memberships.current_membership(current_user)
    held = shares.shares_of(membership) if membership else []
    if not any(share.repaid_at is None for share in held):
        abort(404)
    document = share_documents.certificate(membership, held, lang)
    filename = "aandeelbewijs" if lang == "nl" else "share-certificate"
    response = document.response(f"{filename}-{membership.number or membership.id}.pdf")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:number>/certificate-<any(nl, en):lang>.pdf")
@login_required
def share_certificate(number: int, lang: str):
    """The certificate of one of my shares (404 for a number that is not mine)."""
    membership = memberships.current_membership(current_user)
    held = [
        share
        for share in (shares.shares_of(membership) if membership else [])
        if share.number == number and share.repaid_at is None
    ]
    if not held:
        abort(404)
    response = share_documents.certificate(membership, held, lang).response(
        f"{'aandeel' if lang == 'nl' else 'share'}-{number}.pdf"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
