"""The cooperative's staff pages: members (search, filters, approve or reject, bank
transfers, CSV), membership plans and domains. Collectives live in `admin_collectives`.

Admins only: others get 403, whoever is not logged in is sent to the log-in page.
"""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..forms.fields import page_number, show_refusal
from ..forms.membership import (
    BankTransferForm,
    DecisionForm,
    DomainForm,
    MemberFilterForm,
    PlanForm,
)
from ..i18n import MEMBERSHIP_STATUS_LABELS, current_locale, in_words
from ..models import (
    Domain,
    Membership,
    MembershipPlan,
    MembershipStatus,
    Payment,
    PlanPeriod,
    Profile,
    User,
)
from ..paging import one_page
from ..refusals import Refused
from ..services import admission, audit, payments, sepa, share_totals
from ..services import membership as memberships
from ..services.domains import save_domain
from ..services.plans import PlanDetails, save_plan
from ..spreadsheets import csv_response
from .decorators import admin_required
from .going_back import form_page

bp = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 50
STATUSES = [status.value for status in MembershipStatus]


# The status of a membership in words, in the admin's language.
status_label = in_words(MEMBERSHIP_STATUS_LABELS)


@bp.app_context_processor
def _admin_helpers() -> dict:
    return {"membership_status_label": status_label}


@bp.get("/")
@admin_required
def index():
    """The admin's start: straight to the members."""
    return redirect(url_for("admin.members"))


def _plans() -> list[MembershipPlan]:
    return list(
        db.session.scalars(
            sa.select(MembershipPlan).order_by(MembershipPlan.position, MembershipPlan.id)
        )
    )


def _member_query(form: MemberFilterForm) -> sa.Select:
    """Memberships with their person, plan and profile, filtered as the form says."""
    query = (
        sa.select(Membership)
        .join(Membership.user)
        .join(Membership.plan)
        .outerjoin(Profile, Profile.user_id == User.id)
        .options(
            sa.orm.contains_eager(Membership.user),
            sa.orm.contains_eager(Membership.plan),
        )
    )
    if form.q.data and not form.q.errors:
        # The text as typed: a % or _ in it matches itself, not any characters.
        text = form.q.data.lower()
        query = query.where(
            sa.or_(
                sa.func.lower(User.name).contains(text, autoescape=True),
                User.email.contains(text, autoescape=True),
                sa.func.lower(Profile.display_name).contains(text, autoescape=True),
            )
        )
    if form.status.data and not form.status.errors:
        query = query.where(Membership.status == form.status.data)
    if form.plan.data and not form.plan.errors:
        query = query.where(MembershipPlan.slug == form.plan.data)
    if form.neighbourhood.data and not form.neighbourhood.errors:
        query = query.where(Profile.neighbourhood == form.neighbourhood.data)
    return query.order_by(Membership.number.is_(None), Membership.number, Membership.id)


def _filter_form() -> MemberFilterForm:
    form = MemberFilterForm(request.args)
    locale = current_locale()
    form.status.choices = [("", _("All statuses"))] + [
        (value, status_label(value)) for value in STATUSES
    ]
    form.plan.choices = [("", _("All plans"))] + [
        (plan.slug, plan.name(locale)) for plan in _plans()
    ]
    neighbourhoods = db.session.scalars(
        sa.select(Profile.neighbourhood)
        .where(Profile.neighbourhood != "")
        .distinct()
        .order_by(Profile.neighbourhood)
    )
    form.neighbourhood.choices = [("", _("All neighbourhoods"))] + [
        (name, name) for name in neighbourhoods
    ]
    form.validate()  # marks what is refused; the query leaves it out
    return form


@bp.get("/members")
@admin_required
def members():
    """Every membership, searchable and filtered by status, plan and neighbourhood."""
    form = _filter_form()
    page = page_number(request.args.get("page"))
    shown, more = one_page(_member_query(form), page, PAGE_SIZE)
    waiting = db.session.scalar(
        sa.select(sa.func.count(Membership.id)).where(
            Membership.status == MembershipStatus.PENDING_APPROVAL
        )
    )
    return render_template(
        "admin/members.html",
        form=form,
        memberships=shown,
        more=more,
        page=page,
        waiting=waiting,
    )


@bp.get("/members.csv")
@admin_required
def members_csv():
    """The filtered member list as a CSV file (opens in a spreadsheet), made the way every
    export is (`spreadsheets.csv_response`)."""
    form = _filter_form()
    headers = [
        _("Number"),
        _("Name"),
        _("E-mail address"),
        _("Plan"),
        _("Status"),
        _("Neighbourhood"),
        _("Started"),
        _("Ends"),
    ]
    rows = (
        [
            membership.number,
            membership.user.name,
            membership.user.email,
            membership.plan.slug,
            membership.status.value,
            membership.user.profile.neighbourhood if membership.user.profile else "",
            membership.started_at.date().isoformat() if membership.started_at else "",
            membership.ends_at.date().isoformat() if membership.ends_at else "",
        ]
        for membership in db.session.scalars(_member_query(form))
    )
    return csv_response("members.csv", headers, rows)


def _membership(membership_id: int) -> Membership:
    membership = db.session.get(Membership, membership_id)
    # An entry whose account was deleted lives on only in the member register.
    if membership is None or membership.user_id is None:
        abort(404)
    return membership


def _render_member(membership: Membership, status: int = 200, **forms):
    payments_ = db.session.scalars(
        sa.select(Payment).where(Payment.membership_id == membership.id).order_by(Payment.id)
    ).all()
    transfer_form = forms.get("transfer_form") or BankTransferForm(formdata=None)
    due = memberships.amount_due(membership)
    if transfer_form.amount.data is None and not transfer_form.amount.raw_data:
        transfer_form.amount.data = due or None
    return (
        render_template(
            "admin/member.html",
            membership=membership,
            reference=memberships.payment_reference(membership),
            decision_form=forms.get("decision_form") or DecisionForm(formdata=None),
            transfer_form=transfer_form,
            amount_due=due,
            payments=payments_,
            holding=share_totals.holding(membership),
            mandate=sepa.latest_mandate(membership),
            own=membership.user_id == current_user.id,
        ),
        status,
    )


@bp.get("/members/<int:membership_id>")
@admin_required
def member(membership_id: int):
    """One membership: the person, plan, status, payments, and what to decide."""
    return _render_member(_membership(membership_id))


@bp.post("/members/<int:membership_id>/decide")
@admin_required
def decide(membership_id: int):
    """Approve or reject a membership; a rejection's reason is e-mailed to the person."""
    membership = _membership(membership_id)
    form = DecisionForm()
    action = request.form.get("action")
    if form.validate_on_submit() and action in ("approve", "reject"):
        before = audit.snapshot(membership, "status", "number", "started_at", "ends_at")
        try:
            if action == "approve":
                admission.approve(membership, current_user, form.reason.data or "")
            else:
                admission.reject(membership, current_user, form.reason.data or "")
        except Refused as refusal:
            db.session.rollback()
            show_refusal(form, refusal)
        except payments.PaymentUnavailable:
            db.session.rollback()
            form.form_errors.append(_("Stripe did not answer; nothing changed. Try again."))
        else:
            audit.record(
                current_user,
                f"membership.{action}",
                subject_user_id=membership.user_id,
                before=before,
                after=audit.snapshot(
                    membership, "status", "number", "started_at", "ends_at", "decision_note"
                ),
            )
            db.session.commit()
            if action == "approve":
                flash(_("Approved: member number %(number)s.", number=membership.number), "success")
            else:
                flash(_("Rejected; the person has been e-mailed the reason."), "success")
            return redirect(url_for("admin.member", membership_id=membership.id), code=303)
    elif form.is_submitted() and action not in ("approve", "reject"):
        abort(400)
    return _render_member(_membership(membership_id), 422, decision_form=form)


@bp.post("/members/<int:membership_id>/bank-transfer")
@admin_required
def bank_transfer(membership_id: int):
    """Record a fee that arrived by bank transfer; it counts like an online payment."""
    membership = _membership(membership_id)
    form = BankTransferForm()
    if form.validate_on_submit():
        before = audit.snapshot(membership, "status", "number", "started_at", "ends_at")
        try:
            payment = memberships.record_bank_transfer(membership, form.amount.data, current_user)
        except Refused as refusal:
            db.session.rollback()
            show_refusal(form, refusal, default="amount")
        else:
            audit.record(
                current_user,
                "membership.bank_transfer",
                subject_user_id=membership.user_id,
                before=before,
                after={
                    **audit.snapshot(membership, "status", "number", "started_at", "ends_at"),
                    "paid_cents": payment.amount_cents,
                },
            )
            db.session.commit()
            flash(_("The bank transfer is recorded."), "success")
            return redirect(url_for("admin.member", membership_id=membership.id), code=303)
    return _render_member(_membership(membership_id), 422, transfer_form=form)


# --- plans ---------------------------------------------------------------------------


@bp.get("/plans")
@admin_required
def plans():
    """The membership plans, open and closed."""
    return render_template("admin/plans.html", plans=_plans())


@bp.route("/plans/new", methods=["GET", "POST"])
@bp.route("/plans/<int:plan_id>", methods=["GET", "POST"])
@admin_required
def plan(plan_id: int | None = None):
    """Create or change a plan. A plan in use is closed, never deleted."""
    form = PlanForm()
    plan = _to_change(MembershipPlan, plan_id)
    if not form.is_submitted() and plan is not None:
        form.process(
            obj=plan,
            data={"fee": plan.fee_cents, "period": plan.period.value},
        )
    return form_page(
        form,
        lambda: save_plan(plan, _plan_details(form)),
        done=_("The plan is saved."),
        to=url_for("admin.plans"),
        template="admin/plan.html",
        plan=plan,
    )


def _plan_details(form: PlanForm) -> PlanDetails:
    """The plan as typed, for the plans service."""
    return PlanDetails(
        slug=form.slug.data,
        name_nl=form.name_nl.data,
        name_en=form.name_en.data,
        description_nl=form.description_nl.data,
        description_en=form.description_en.data,
        fee_cents=form.fee.data,
        period=PlanPeriod(form.period.data),
        needs_approval=form.needs_approval.data,
        is_active=form.is_active.data,
        position=form.position.data,
    )


# --- domains -------------------------------------------------------------------------


@bp.get("/domains")
@admin_required
def domains():
    """The domains (areas of the economy) collectives and members choose from."""
    rows = db.session.scalars(sa.select(Domain).order_by(Domain.position, Domain.id)).all()
    return render_template("admin/domains.html", domains=rows)


@bp.route("/domains/new", methods=["GET", "POST"])
@bp.route("/domains/<int:domain_id>", methods=["GET", "POST"])
@admin_required
def domain(domain_id: int | None = None):
    """Create or rename a domain."""
    domain = _to_change(Domain, domain_id)
    form = DomainForm(obj=domain) if request.method != "POST" else DomainForm()
    return form_page(
        form,
        lambda: save_domain(
            domain, form.slug.data, form.name_nl.data, form.name_en.data, form.position.data
        ),
        done=_("The domain is saved."),
        to=url_for("admin.domains"),
        template="admin/domain.html",
        domain=domain,
    )


def _to_change(model, row_id: int | None):
    """The `model` row `row_id` a form changes, or None to make a new one; 404 for an
    id that has none."""
    return db.get_or_404(model, row_id) if row_id else None
