"""The admins' dues by direct debit: runs with their collections and totals, a new run,
the bank's collection file, debits sent to Stripe, and each collection's result."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..extensions import db
from ..forms.sepa import CollectionResultForm, ConfirmForm, DuesRunForm
from ..models import Collection, CollectionRun
from ..refusals import Refused
from ..services import audit, dues, sepa, sepa_file, sepa_stripe
from .decorators import admin_required
from .going_back import commit_or_go_back, commit_or_redraw

bp = Blueprint("admin_dues", __name__, url_prefix="/admin/dues")


def _render_index(form: DuesRunForm, status: int = 200):
    return (
        render_template(
            "sepa/admin_dues.html",
            runs=dues.runs(),
            totals=dues.run_totals(),
            form=form,
            confirm_form=ConfirmForm(formdata=None),
            earliest=sepa.earliest_debit_date(),
            creditor=sepa.creditor(),
        ),
        status,
    )


@bp.get("")
@admin_required
def index():
    """Every dues run with its totals per status, and the form for a new run."""
    form = DuesRunForm(formdata=None)
    form.debit_date.data = sepa.earliest_debit_date()
    return _render_index(form)


@bp.post("")
@admin_required
def run():
    """Start a dues run for a debit date: 422 with the date kept when refused."""
    form = DuesRunForm()
    return commit_or_redraw(
        form,
        lambda: dues.run_dues(form.debit_date.data, current_user),
        done=lambda made: ngettext(
            "%(num)d collection is made; the member is told by e-mail.",
            "%(num)d collections are made; the members are told by e-mail.",
            len(made.collections),
        ),
        to=lambda made: url_for("admin_dues.show", run_id=made.id),
        default="debit_date",
        redraw=lambda status: _render_index(form, status),
    )


@bp.post("/stripe")
@admin_required
def submit_stripe():
    """Send Stripe the debits whose date has come (the daily job does it too)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    count = sepa_stripe.submit_due()
    db.session.commit()
    flash(
        ngettext("%(num)d debit is sent to Stripe.", "%(num)d debits are sent to Stripe.", count),
        "success",
    )
    return redirect(url_for("admin_dues.index"), code=303)


def _run(run_id: int) -> CollectionRun:
    return db.get_or_404(CollectionRun, run_id)


def _confirmed_run(run_id: int) -> CollectionRun:
    """The run a button was pressed for: 404 when there is none, 400 without the form's
    CSRF token."""
    found = _run(run_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return found


def _render_run(found: CollectionRun, status: int = 200, forms: dict | None = None):
    collections = dues.collections_of(found)
    forms = forms or {}
    return (
        render_template(
            "sepa/admin_run.html",
            run=found,
            collections=collections,
            totals=dues.run_totals().get(found.id, {}),
            result_forms={
                c.id: forms.get(c.id) or CollectionResultForm(formdata=None, prefix=f"c{c.id}")
                for c in collections
            },
            confirm_form=ConfirmForm(formdata=None),
        ),
        status,
    )


@bp.get("/<int:run_id>")
@admin_required
def show(run_id: int):
    """One run: its collections, their status and results, its file."""
    return _render_run(_run(run_id))


@bp.post("/<int:run_id>/file")
@admin_required
def make_file(run_id: int):
    """Make the run's pain.008 file for the bank; its collections are then submitted."""
    found = _confirmed_run(run_id)
    try:
        count = sepa_file.make_file(found)
    except Refused as refusal:
        db.session.commit()  # collections no longer owed stay cancelled
        flash(str(refusal.message), "error")
        return redirect(url_for("admin_dues.show", run_id=found.id), code=303)
    db.session.commit()
    flash(
        ngettext(
            "The file holds %(num)d collection. Download it for your bank.",
            "The file holds %(num)d collections. Download it for your bank.",
            count,
        )
    )
    return redirect(url_for("admin_dues.show", run_id=found.id), code=303)


@bp.get("/<int:run_id>/pain008.xml")
@admin_required
def download(run_id: int):
    """The run's collection file as it was made (404 before it is made)."""
    found = _run(run_id)
    if found.file_xml is None:
        abort(404)
    filename = f"pain008-{found.debit_date.isoformat()}-{found.id}.xml"
    return Response(
        found.file_xml,
        mimetype="application/xml",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/<int:run_id>/paid")
@admin_required
def all_paid(run_id: int):
    """The bank debited the whole file: every submitted collection of it is paid."""
    found = _confirmed_run(run_id)

    def record_all_paid():
        paid = dues.record_all_paid(found)
        audit.record_many(
            current_user,
            "dues.result",
            [{"subject_user_id": collection.membership.user_id} for collection in paid],
            before={"status": "submitted"},
            after={"status": "paid", "run": found.id},
        )
        return paid

    return commit_or_go_back(
        record_all_paid,
        back=url_for("admin_dues.show", run_id=found.id),
        done=lambda paid: ngettext(
            "%(num)d collection is marked paid.", "%(num)d collections are marked paid.", len(paid)
        ),
    )


@bp.post("/collections/<int:collection_id>")
@admin_required
def result(collection_id: int):
    """Record one collection's result: 422 with the choice kept when refused."""
    collection = db.get_or_404(Collection, collection_id)
    form = CollectionResultForm(prefix=f"c{collection.id}")

    def record_result():
        before = audit.snapshot(collection, "status", "reason", "amount_cents", "end_to_end_id")
        dues.record_result(collection, form.result.data, form.reason.data)
        audit.record(
            current_user,
            "dues.result",
            subject_user_id=collection.membership.user_id,
            before=before,
            after=audit.snapshot(collection, "status", "reason", "settled_at"),
        )

    return commit_or_redraw(
        form,
        record_result,
        done=_("The result is recorded."),
        to=url_for("admin_dues.show", run_id=collection.run_id),
        default="result",
        redraw=lambda status: _render_run(_run(collection.run_id), status, {collection.id: form}),
    )
