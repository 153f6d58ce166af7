"""The member register for admins: the list (searchable, paged, printable, as CSV), the
letter list of members who get official notices by post (labels, CSV), one entry with
the cancellation letters and ends to record, and importing members from a CSV file.

Admins only: others get 403, whoever is not logged in is sent to the log-in page.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..forms.fields import page_number, show_refusal
from ..forms.register import (
    CancellationLetterForm,
    EndMembershipForm,
    ImportForm,
    LegalPersonForm,
    RegisterSearchForm,
)
from ..i18n import local_zone, long_date
from ..models import LeavingWay, Membership
from ..paging import one_page
from ..refusals import Refused
from ..services import audit, register, register_import
from ..spreadsheets import csv_response
from .decorators import admin_required
from .going_back import commit_or_redraw

bp = Blueprint("admin_register", __name__, url_prefix="/admin")

PAGE_SIZE = 50


def _day(value) -> str:
    return value.isoformat() if value else ""


def _left_on(membership: Membership) -> str:
    if not (membership.left_at and membership.leaving_way):
        return ""
    return _day(membership.left_at.astimezone(local_zone()).date())


def _address_headers() -> list[str]:
    """The first columns of both CSV files: the member number, name and address."""
    return [
        _("Member number"),
        _("Name"),
        _("Street"),
        _("House number"),
        _("Postcode"),
        _("Town or city"),
        _("Country"),
    ]


def _address_columns(entry: Membership) -> list:
    """An entry's member number, name and address, under `_address_headers`."""
    return [
        entry.number,
        entry.registered_name,
        entry.street,
        entry.house_number,
        entry.postcode,
        entry.city,
        entry.country,
    ]


def _search_form() -> RegisterSearchForm:
    form = RegisterSearchForm(request.args)
    form.validate()
    return form


def _search(form: RegisterSearchForm) -> str:
    return form.q.data if form.q.data and not form.q.errors else ""


@bp.get("/register")
@admin_required
def index():
    """The member register: every member ever admitted, by number; searchable, paged."""
    form = _search_form()
    page = page_number(request.args.get("page"))
    entries, more = one_page(register.register_query(_search(form)), page, PAGE_SIZE)
    return render_template(
        "register/index.html",
        form=form,
        entries=entries,
        shares=register.shares_held(entries),
        more=more,
        page=page,
    )


@bp.get("/register/print")
@admin_required
def printable():
    """The whole register on A4, to print, file or show (the fields the law asks for)."""
    entries = db.session.scalars(register.register_query()).all()
    return render_template(
        "register/print.html", entries=entries, shares=register.shares_held(entries)
    )


@bp.get("/register.csv")
@admin_required
def register_csv():
    """The register as a CSV file: only the fields the law asks for (art. 2:61 BW)."""
    entries = db.session.scalars(register.register_query()).all()
    shares = register.shares_held(entries)
    headers = [
        *_address_headers(),
        _("Date of admission"),
        _("Admission decided by the board"),
        _("Shares held"),
        _("Date of leaving"),
        _("Way of leaving"),
        _("Legal person"),
        _("KvK number"),
    ]
    rows = (
        [
            *_address_columns(entry),
            _day(entry.admitted_on),
            _("yes") if entry.decided_by_id or entry.decision_note else _("no"),
            shares[entry.id],
            _left_on(entry),
            register.leaving_way_label(entry.leaving_way),
            entry.organisation_name,
            entry.kvk_number,
        ]
        for entry in entries
    )
    return csv_response("member-register.csv", headers, rows)


@bp.get("/register/letters")
@admin_required
def letters():
    """Address labels for the members who get official notices by post, to print."""
    entries = db.session.scalars(register.letter_list_query()).all()
    return render_template("register/letters.html", entries=entries)


@bp.get("/register/letters.csv")
@admin_required
def letters_csv():
    """The letter list as a CSV file (for a mail merge)."""
    entries = db.session.scalars(register.letter_list_query()).all()
    rows = (_address_columns(entry) for entry in entries)
    return csv_response("letter-list.csv", _address_headers(), rows)


def _entry(membership_id: int) -> Membership:
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.number is None:
        abort(404)
    return membership


LEGAL = ("organisation_name", "kvk_number")
LEAVING = ("status", "cancellation_received_on", "leaves_on", "leaving_way", "left_at")


def _audited(membership: Membership, action: str, fields, change):
    """`change` (a service call), logged as `action` with the entry's `fields` before and
    after, for a member who still has an account (an entry without one is about nobody
    the log can name)."""

    def run():
        before = audit.snapshot(membership, *fields)
        result = change()
        if membership.user_id is not None:
            audit.record(
                current_user,
                action,
                subject_user_id=membership.user_id,
                before=before,
                after=audit.snapshot(membership, *fields),
            )
        return result

    return run


def _render_entry(membership: Membership, status: int = 200, **forms):
    return (
        render_template(
            "register/entry.html",
            entry=membership,
            shares=register.shares_held([membership])[membership.id],
            letter_form=forms.get("letter_form") or CancellationLetterForm(formdata=None),
            end_form=forms.get("end_form") or EndMembershipForm(formdata=None),
            legal_form=forms.get("legal_form") or LegalPersonForm(formdata=None, obj=membership),
        ),
        status,
    )


@bp.get("/register/<int:membership_id>")
@admin_required
def entry(membership_id: int):
    """One entry of the register, with what to record about leaving."""
    return _render_entry(_entry(membership_id))


def _record_on_entry(membership_id: int, form, form_name: str, action: str, fields, change, **done):
    """An admin records something on a register entry with `form`: `change(membership)`
    (a service call, logged as `action` with the entry's `fields`), then back to the
    entry; or the entry again with `form` (as `form_name`) refused, 422. `done` holds
    commit_or_show's `default` and `done`."""
    membership = _entry(membership_id)
    return commit_or_redraw(
        form,
        _audited(membership, action, fields, lambda: change(membership)),
        to=url_for("admin_register.entry", membership_id=membership.id),
        **done,
        redraw=lambda status: _render_entry(_entry(membership_id), status, **{form_name: form}),
    )


@bp.post("/register/<int:membership_id>/cancellation")
@admin_required
def cancellation(membership_id: int):
    """Record a cancellation letter received by post; the acknowledgement goes at once."""
    form = CancellationLetterForm()
    return _record_on_entry(
        membership_id,
        form,
        "letter_form",
        "membership.cancellation",
        LEAVING,
        lambda membership: register.cancel(membership, form.received_on.data),
        default="received_on",
        done=lambda ends: _(
            "The cancellation is recorded: the membership ends on %(date)s.",
            date=long_date(ends),
        ),
    )


@bp.post("/register/<int:membership_id>/legal-person")
@admin_required
def legal_person(membership_id: int):
    """Mark the entry as a legal person's membership, with its name and KvK number (or
    as a person's again)."""
    form = LegalPersonForm()
    return _record_on_entry(
        membership_id,
        form,
        "legal_form",
        "membership.legal_person",
        LEGAL,
        lambda membership: register.set_legal_person(
            membership, form.organisation_name.data, form.kvk_number.data
        ),
        default="organisation_name",
        done=_("The register entry is saved."),
    )


@bp.post("/register/<int:membership_id>/end")
@admin_required
def end(membership_id: int):
    """Record an end without notice: by the cooperative, or the member died."""
    form = EndMembershipForm()
    return _record_on_entry(
        membership_id,
        form,
        "end_form",
        "membership.end",
        LEAVING,
        lambda membership: register.end_membership(
            membership, LeavingWay(form.way.data), form.on.data
        ),
        default="on",
        done=_("The end of the membership is recorded."),
    )


@bp.route("/register/import", methods=["GET", "POST"])
@admin_required
def import_members():
    """Import members from a CSV file: a dry run lists every row it would refuse and why;
    an import adds every row or, when one is refused, none."""
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        try:
            report = register_import.import_members(form.file.data.read(), form.dry_run.data)
        except Refused as refusal:
            db.session.rollback()
            show_refusal(form, refusal, default="file")
        else:
            if report.ok and not form.dry_run.data:
                db.session.commit()
                flash(
                    _("%(count)s members are imported into the register.", count=report.imported),
                    "success",
                )
                return redirect(url_for("admin_register.index"), code=303)
            db.session.rollback()
    status = 422 if form.is_submitted() and (report is None or not report.ok) else 200
    return render_template("register/import.html", form=form, report=report), status


@bp.app_template_global()
def leaving_way_label(way) -> str:
    return register.leaving_way_label(way)
