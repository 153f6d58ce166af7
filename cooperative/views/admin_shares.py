"""The share register for admins (`/admin/shares`): classes, every share with its
history, decisions on purchases and transfers, payments and repayments recorded by hand,
the totals, and the register as CSV and the capital overview as PDF.

Admins only: others get 403, whoever is not logged in is sent to the log-in page.
"""

from contextlib import suppress
from datetime import date
from functools import partial

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..forms.accounts import ConfirmForm
from ..forms.fields import page_number
from ..forms.shares import (
    IssueSharesForm,
    PurchaseDecisionForm,
    RepaymentForm,
    ShareClassForm,
    SharePaymentForm,
    TransferForm,
)
from ..i18n import (
    PAYMENT_WAY_LABELS,
    SHARE_EVENT_LABELS,
    SHARE_STATE_LABELS,
    current_locale,
    in_words,
    long_date,
)
from ..models import (
    Membership,
    PurchaseStatus,
    Share,
    ShareClass,
    ShareEvent,
    ShareEventKind,
    ShareHolders,
    SharePurchase,
    ShareTransfer,
    TransferStatus,
)
from ..money import format_amount
from ..paging import one_page
from ..refusals import Refused
from ..services import share_changes, share_documents, share_payments, share_totals, shares
from ..services.share_classes import ShareClassDetails, save_share_class
from ..spreadsheets import csv_response
from .decorators import admin_required
from .going_back import commit_or_go_back, commit_or_redraw, form_page

bp = Blueprint("admin_shares", __name__, url_prefix="/admin")

PAGE_SIZE = 100


# A share's state, and a line of its history, in words in the admin's language.
share_state_label = in_words(SHARE_STATE_LABELS)
share_event_label = in_words(SHARE_EVENT_LABELS)


# The notes the site writes in a share's history itself (the rest an admin wrote).
_OWN_NOTES = {
    "application refused": lambda: _("the application was refused"),
    "membership renewed": lambda: _("the membership was renewed"),
}


def share_event_note(event: ShareEvent) -> str:
    """The note of a line of a share's history, as the admin reads it: the site's own
    notes (how it was paid or repaid, the day it is repaid after) in words, and what an
    admin wrote as they wrote it."""
    note = event.note or ""
    if event.kind == ShareEventKind.MARKED_FOR_REPAYMENT:
        with suppress(ValueError):
            return _("repaid after %(day)s", day=long_date(date.fromisoformat(note)))
    if event.kind in (ShareEventKind.REPAID, ShareEventKind.KEPT) and note in _OWN_NOTES:
        return _OWN_NOTES[note]()
    way, _space, written = note.partition(" ")
    paid_or_repaid = (ShareEventKind.PAID, ShareEventKind.UNPAID, ShareEventKind.REPAID)
    if event.kind not in paid_or_repaid or way not in PAYMENT_WAY_LABELS:
        return note
    label = str(PAYMENT_WAY_LABELS[way])
    return f"{label}: {written}" if written else label


@bp.app_context_processor
def _share_helpers() -> dict:
    return {
        "share_state_label": share_state_label,
        "share_event_label": share_event_label,
        "share_event_note": share_event_note,
        "holder_name": shares.holder_name,
    }


def _waiting_purchases() -> list[SharePurchase]:
    return list(
        db.session.scalars(
            sa.select(SharePurchase)
            .where(SharePurchase.status == PurchaseStatus.PENDING_APPROVAL)
            .options(
                sa.orm.joinedload(SharePurchase.share_class),
                sa.orm.joinedload(SharePurchase.membership).joinedload(Membership.user),
            )
            .order_by(SharePurchase.id)
        )
    )


def _unpaid_purchases() -> list[SharePurchase]:
    unpaid = (
        sa.select(Share.purchase_id)
        .where(Share.paid_at.is_(None), Share.repaid_at.is_(None))
        .scalar_subquery()
    )
    return list(
        db.session.scalars(
            sa.select(SharePurchase)
            .where(SharePurchase.id.in_(unpaid))
            .options(
                sa.orm.joinedload(SharePurchase.share_class),
                sa.orm.joinedload(SharePurchase.membership).joinedload(Membership.user),
                sa.orm.selectinload(SharePurchase.shares),
            )
            .order_by(SharePurchase.id)
        )
    )


def _waiting_transfers() -> list[ShareTransfer]:
    return list(
        db.session.scalars(
            sa.select(ShareTransfer)
            .where(ShareTransfer.status == TransferStatus.PENDING)
            .options(
                sa.orm.joinedload(ShareTransfer.share),
                sa.orm.joinedload(ShareTransfer.from_membership).joinedload(Membership.user),
                sa.orm.joinedload(ShareTransfer.to_membership).joinedload(Membership.user),
            )
            .order_by(ShareTransfer.id)
        )
    )


@bp.get("/shares")
@admin_required
def index():
    """The register: totals, what waits for the board or for money, classes, every share."""
    page = page_number(request.args.get("page"))
    register, more = one_page(share_totals.register_query(), page, PAGE_SIZE)
    return render_template(
        "admin_shares/index.html",
        totals=share_totals.totals(),
        purchases=_waiting_purchases(),
        unpaid=_unpaid_purchases(),
        transfers=_waiting_transfers(),
        register=register,
        page=page,
        more=more,
        decision_form=PurchaseDecisionForm(formdata=None),
        payment_form=SharePaymentForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
        owed=shares.amount_owed,
        reference=share_payments.payment_reference,
    )


@bp.route("/shares/classes/new", methods=["GET", "POST"], endpoint="new_class")
@bp.route("/shares/classes/<int:share_class_id>", methods=["GET", "POST"])
@admin_required
def share_class(share_class_id: int | None = None):
    """Create or change a class of shares. A class in use is closed, never deleted."""
    found = db.session.get(ShareClass, share_class_id) if share_class_id else None
    if share_class_id and found is None:
        abort(404)
    form = ShareClassForm()
    if not form.is_submitted() and found is not None:
        form.process(obj=found, data={"amount": found.amount_cents, "holders": found.holders.value})

    def save():
        details = ShareClassDetails(
            slug=form.slug.data,
            name_nl=form.name_nl.data,
            name_en=form.name_en.data,
            amount_cents=form.amount.data,
            required=form.required.data,
            max_per_member=form.max_per_member.data,
            is_open=form.is_open.data,
            holders=ShareHolders(form.holders.data),
            needs_approval=form.needs_approval.data,
            position=form.position.data,
        )
        return save_share_class(found, details)

    return form_page(
        form,
        save,
        done=_("The class of shares is saved."),
        to=url_for("admin_shares.index", _anchor="classes"),
        template="admin_shares/class.html",
        share_class=found,
    )


def _share(number: int) -> Share:
    share = db.session.scalar(
        sa.select(Share)
        .where(Share.number == number)
        .options(
            sa.orm.joinedload(Share.share_class),
            sa.orm.joinedload(Share.membership).joinedload(Membership.user),
            sa.orm.selectinload(Share.history).options(
                sa.orm.joinedload(ShareEvent.recorded_by),
                sa.orm.joinedload(ShareEvent.from_membership).joinedload(Membership.user),
                sa.orm.joinedload(ShareEvent.to_membership).joinedload(Membership.user),
            ),
        )
    )
    if share is None:
        abort(404)
    return share


def _render_share(share: Share, status: int = 200, **forms):
    return (
        render_template(
            "admin_shares/share.html",
            share=share,
            refund_possible=share_changes.stripe_refund_possible(share),
            repayment_form=forms.get("repayment_form") or RepaymentForm(formdata=None),
            transfer_form=forms.get("transfer_form") or TransferForm(formdata=None),
            confirm_form=ConfirmForm(formdata=None),
        ),
        status,
    )


@bp.get("/shares/<int:number>")
@admin_required
def share(number: int):
    """One share: its class, holder, amount, dates and whole history; what can be done."""
    return _render_share(_share(number))


@bp.post("/shares/<int:number>/repayment")
@admin_required
def repayment(number: int):
    """Record that a share marked for repayment was repaid (bank or Stripe refund)."""
    found = _share(number)
    form = RepaymentForm()
    return commit_or_redraw(
        form,
        lambda: share_changes.record_repayment(
            found, current_user, form.method.data, form.note.data
        ),
        default="method",
        done=_("The repayment of share %(number)d is recorded.", number=number),
        to=url_for("admin_shares.share", number=number),
        redraw=lambda status: _render_share(_share(number), status, repayment_form=form),
    )


def _member(number: int) -> Membership:
    """The membership with this member number; refused (on `member_number`) if none."""
    found = db.session.scalar(sa.select(Membership).where(Membership.number == number))
    if found is None:
        raise Refused(_("There is no member with this number."), "member_number")
    return found


@bp.post("/shares/<int:number>/transfer")
@admin_required
def transfer(number: int):
    """Ask the board to move a share to another member (by member number)."""
    found = _share(number)
    form = TransferForm()
    return commit_or_redraw(
        form,
        lambda: share_changes.request_transfer(
            found, _member(form.member_number.data), current_user, form.note.data
        ),
        default="member_number",
        done=_("The transfer waits for the board's decision."),
        to=url_for("admin_shares.index", _anchor="transfers"),
        redraw=lambda status: _render_share(_share(number), status, transfer_form=form),
    )


@bp.route("/shares/issue", methods=["GET", "POST"])
@admin_required
def issue():
    """The board issues shares of an open class to a member (by member number): a legal
    person's shares, or shares agreed on outside the site."""
    form = IssueSharesForm()
    form.set_classes(shares.open_classes(None), current_locale())

    def issue_shares():
        share_class = db.session.get(ShareClass, form.share_class.data)
        return shares.issue_by_board(
            _member(form.member_number.data), share_class, form.quantity.data, current_user
        )

    return form_page(
        form,
        issue_shares,
        default="member_number",
        done=lambda purchase: _(
            "Issued: share number(s) %(numbers)s.",
            numbers=", ".join(str(share.number) for share in purchase.shares),
        ),
        to=url_for("admin_shares.index", _anchor="unpaid"),
        template="admin_shares/issue.html",
    )


@bp.post("/shares/<int:number>/leave")
@admin_required
def mark_for_repayment(number: int):
    """The holder leaves: mark all their shares for repayment after the financial year."""
    found = _share(number)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    marked = shares.mark_for_repayment(found.membership, by=current_user)
    db.session.commit()
    flash(_("%(count)d shares are marked for repayment.", count=len(marked)), "success")
    return redirect(url_for("admin_shares.share", number=number), code=303)


def _decision() -> str:
    action = request.form.get("action", "")
    if action not in ("approve", "refuse"):
        abort(400)
    return action


@bp.post("/shares/purchases/<int:purchase_id>/decide")
@admin_required
def decide_purchase(purchase_id: int):
    """Approve a purchase (its shares are issued) or refuse it with a reason."""
    purchase = db.session.get(SharePurchase, purchase_id) or abort(404)
    form = PurchaseDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    if _decision() == "approve":
        decide = partial(shares.approve_purchase, purchase, current_user)
    else:
        decide = partial(shares.refuse_purchase, purchase, current_user, form.reason.data or "")
    return commit_or_go_back(
        decide,
        back=url_for("admin_shares.index", _anchor="purchases"),
        done=_("The decision is saved."),
    )


@bp.post("/shares/purchases/<int:purchase_id>/payment")
@admin_required
def record_payment(purchase_id: int):
    """Record that the money for a purchase arrived by bank transfer."""
    purchase = db.session.get(SharePurchase, purchase_id) or abort(404)
    form = SharePaymentForm()
    return commit_or_redraw(
        form,
        lambda: share_payments.record_payment(purchase, form.amount.data, current_user),
        done=_("The payment is recorded."),
        to=url_for("admin_shares.index", _anchor="unpaid"),
        redraw=lambda status: (
            render_template("admin_shares/payment.html", form=form, purchase=purchase),
            status,
        ),
    )


@bp.post("/shares/transfers/<int:transfer_id>/decide")
@admin_required
def decide_transfer(transfer_id: int):
    """Approve a transfer (the share changes hands) or refuse it."""
    found = db.session.get(ShareTransfer, transfer_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    decide = (
        share_changes.approve_transfer
        if _decision() == "approve"
        else share_changes.refuse_transfer
    )
    return commit_or_go_back(
        partial(decide, found, current_user),
        back=url_for("admin_shares.index", _anchor="transfers"),
        done=_("The decision is saved."),
    )


@bp.get("/shares.csv")
@admin_required
def register_csv():
    """The share register as a spreadsheet: one row per share, ever."""
    locale = current_locale()

    def day(value):
        return value.date().isoformat() if hasattr(value, "date") else value.isoformat()

    rows = (
        [
            share.number,
            share.share_class.name(locale),
            format_amount(share.amount_cents),
            share.membership.number,
            shares.holder_name(share.membership),
            day(share.issued_at),
            day(share.paid_at) if share.paid_at else None,
            share.repayment_due_on.isoformat() if share.repayment_due_on else None,
            day(share.repaid_at) if share.repaid_at else None,
            share_state_label(share.state),
        ]
        for share in db.session.scalars(share_totals.register_query())
    )
    headers = [
        _("Share number"),
        _("Class"),
        _("Amount"),
        _("Member number"),
        _("Name"),
        _("Issued on"),
        _("Paid on"),
        _("Repaid after"),
        _("Repaid on"),
        _("Status"),
    ]
    return csv_response("aandelenregister.csv", headers, rows)


@bp.get("/shares/overview.pdf")
@admin_required
def overview_pdf():
    """The capital overview for the annual report, as a PDF in the admin's language."""
    document = share_documents.overview(share_totals.totals(), current_locale())
    return document.response("kapitaal.pdf")


@bp.get("/shares/totals.csv")
@admin_required
def totals_csv():
    """The totals as a spreadsheet: one row per class, then one per year and class."""
    locale = current_locale()
    totals = share_totals.totals()
    headers = [
        _("Year"),
        _("Class"),
        _("Shares issued"),
        _("Amount issued"),
        _("Shares repaid"),
        _("Amount repaid"),
        _("Capital (paid shares not repaid)"),
        _("Still to be paid"),
        _("Members holding shares"),
    ]
    rows = [
        [
            None,
            row.share_class.name(locale),
            row.issued,
            format_amount(row.issued_cents),
            row.repaid,
            format_amount(row.repaid_cents),
            format_amount(row.capital_cents),
            format_amount(row.unpaid_cents),
            row.member_count,
        ]
        for row in totals.classes
    ]
    rows += [
        [
            row.year,
            row.share_class.name(locale),
            row.issued,
            format_amount(row.issued_cents),
            row.repaid,
            format_amount(row.repaid_cents),
            None,
            None,
            None,
        ]
        for row in totals.years
    ]
    return csv_response("aandelenkapitaal.csv", headers, rows)
