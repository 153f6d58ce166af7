"""A collaboration's shared costs in the back office (`/manage/collaborations/<id>/costs`).

Programme staff set a cost, split it over the parties, see every share, what was paid
and what is due, and record transfers that arrived. A party's contact sees its own
party's shares here, and pays one online (Stripe Checkout) or by bank transfer with its
reference. Anyone else: 404 (a collaboration one is not in is not shown to exist, as on
all its back-office pages: `views.decorators`); logged out: the log-in page. Who sees
what: `services/partners.py`.
"""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from ..forms.accounts import ConfirmForm
from ..forms.collaboration_costs import CostTransferForm, SharedCostForm
from ..models import Collaboration, CostShare, CostSplit, SharedCost
from ..money import format_euros
from ..services import collaboration_costs as costs
from ..services import partners, payments
from ..services.collaboration_costs import CostDetails
from .checkout import back_from_checkout, checkout_or_back
from .decorators import contact_collaboration, programme_collaboration
from .going_back import commit_or_go_back, commit_or_redraw, form_page

bp = Blueprint("collaboration_costs", __name__, url_prefix="/manage/collaborations")


# The costs' pages load the costs and their shares with the collaboration.
_COSTS = sa.orm.selectinload(Collaboration.costs).selectinload(SharedCost.shares)


def _party_page(view):
    """For programme staff and the collaboration's parties' contacts; 404 for anyone else
    (`decorators.contact_collaboration`). The view gets the collaboration."""
    return contact_collaboration(view, _COSTS)


def _staff_page(view):
    """For programme staff; 403 for a party's contact, 404 for anyone else
    (`decorators.programme_collaboration`). The view gets the collaboration."""
    return programme_collaboration(view, _COSTS)


def _cost(collaboration: Collaboration, cost_id: int) -> SharedCost:
    cost = next((c for c in collaboration.costs if c.id == cost_id), None)
    return cost or abort(404)


def _share(collaboration: Collaboration, share_id: int) -> CostShare:
    for cost in collaboration.costs:
        for share in cost.shares:
            if share.id == share_id and share in partners.shown_shares(current_user, [share]):
                return share
    abort(404)


def _here(collaboration: Collaboration) -> str:
    return url_for("collaboration_costs.index", collaboration_id=collaboration.id)


@bp.get("/<int:collaboration_id>/costs")
@_party_page
def index(collaboration: Collaboration):
    """The costs: every share for staff, one's own party's for a contact. Coming back
    from Stripe (`session_id`), it asks Stripe how the payment stands first."""
    back = back_from_checkout(
        _here(collaboration),
        lambda session_id: costs.share_for_session(current_user, session_id),
        _("You have not paid yet. You can pay whenever you like from this page."),
    )
    if back:
        return back
    shown = {
        cost.id: partners.shown_shares(current_user, cost.shares) for cost in collaboration.costs
    }
    return render_template(
        "collaboration_costs/index.html",
        collaboration=collaboration,
        shown=shown,
        staff=current_user.runs_programme,
        current={cost.id: costs.split_is_current(cost) for cost in collaboration.costs},
        transfers={
            share.id: costs.bank_transfer(share)
            for cost_shares in shown.values()
            for share in cost_shares
            if share.due_cents
        },
        online=payments.online_payments_enabled(),
        number=format_decimal,
    )


@bp.route("/<int:collaboration_id>/costs/new", methods=["GET", "POST"], endpoint="new_cost")
@bp.route("/<int:collaboration_id>/costs/<int:cost_id>", methods=["GET", "POST"])
@_staff_page
def edit_cost(collaboration: Collaboration, cost_id: int | None = None):
    """Set a shared cost, or change one (which splits it again over the parties now)."""
    cost = _cost(collaboration, cost_id) if cost_id else None
    form = SharedCostForm()
    if not form.is_submitted() and cost is not None:
        form.process(
            obj=cost, data={"total": cost.total_cents, "split": cost.split.value}, formdata=None
        )
    form.set_parties(collaboration.parties)

    def save():
        details = CostDetails(
            description=form.description.data,
            total_cents=form.total.data,
            vat_included=form.vat_included.data,
            split=CostSplit(form.split.data),
            key_name=form.key_name.data or "",
            keys=form.typed_keys(),
        )
        return costs.save_cost(collaboration, details, cost)

    return form_page(
        form,
        save,
        done=_("The cost is saved and split over the parties."),
        to=_here(collaboration),
        template="collaboration_costs/cost.html",
        collaboration=collaboration,
        cost=cost,
        paid_into=cost is not None and costs.is_paid_into(cost),
    )


@bp.post("/<int:collaboration_id>/costs/<int:cost_id>/remove")
@_staff_page
def remove_cost(collaboration: Collaboration, cost_id: int):
    """Take away a cost set by mistake (refused once something is paid towards it)."""
    cost = _cost(collaboration, cost_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return commit_or_go_back(
        lambda: costs.remove_cost(cost),
        back=_here(collaboration),
        done=_("The cost is taken away."),
    )


@bp.post("/<int:collaboration_id>/costs/shares/<int:share_id>/pay")
@_party_page
def pay(collaboration: Collaboration, share_id: int):
    """Go to Stripe to pay what one's own party's share still owes."""
    share = _share(collaboration, share_id)
    if not partners.may_pay(current_user, share):
        abort(403)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not payments.online_payments_enabled():
        flash(_("Paying online is not possible here. Please pay by bank transfer."), "error")
        return redirect(_here(collaboration), code=303)
    return checkout_or_back(
        lambda: costs.start_payment(share, current_user),
        _here(collaboration),
        _("Paying online does not work right now. Please try again, or pay by bank."),
    )


@bp.route("/<int:collaboration_id>/costs/shares/<int:share_id>/transfer", methods=["GET", "POST"])
@_staff_page
def record_transfer(collaboration: Collaboration, share_id: int):
    """Record that a party's share arrived by bank transfer (programme staff)."""
    share = _share(collaboration, share_id)
    form = CostTransferForm()
    return commit_or_redraw(
        form,
        lambda: costs.record_payment(share, form.amount.data, current_user),
        done=lambda _payment: _(
            "The transfer of %(amount)s is recorded.", amount=format_euros(form.amount.data)
        ),
        to=_here(collaboration),
        redraw=lambda status: (
            render_template(
                "collaboration_costs/transfer.html",
                form=form,
                collaboration=collaboration,
                share=share,
                paid=costs.payments_of(share),
            ),
            status,
        ),
    )
