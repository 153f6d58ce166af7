"""The audit log for admins (`/admin/audit`): who changed what of whom, and when, with the
values before and after; filtered by who did it, about whom and between which days."""

from flask import Blueprint, render_template, request
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..forms.audit import AuditFilterForm
from ..forms.fields import page_number
from ..money import format_euros
from ..services import audit
from .decorators import admin_required

bp = Blueprint("admin_audit", __name__, url_prefix="/admin/audit")

PAGE_SIZE = 50

FIELDS = {
    "status": _l("Status"),
    "number": _l("Member number"),
    "started_at": _l("Started"),
    "ends_at": _l("Ends"),
    "decision_note": _l("Reason"),
    "paid_cents": _l("Paid"),
    "collective": _l("Collective"),
    "role": _l("Role"),
    "checked_in": _l("Checked in"),
    "payment_state": _l("Payment"),
    "amount_paid_cents": _l("Paid"),
    "amount_due_cents": _l("To pay"),
}


def changes(entry) -> list[tuple[str, str, str]]:
    """What an entry changed, in words: (field, before, after) for each value kept."""
    before, after = entry.before or {}, entry.after or {}
    return [
        (str(FIELDS.get(key, key)), _value(key, before.get(key)), _value(key, after.get(key)))
        for key in dict.fromkeys([*before, *after])
    ]


def _value(key: str, value) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key.endswith("_cents") and isinstance(value, int):
        return format_euros(value)
    return str(value)


@bp.get("/")
@admin_required
def index():
    """The log, newest first, a page at a time. A filter that is not right is said next to
    its field (422) and the log shows unfiltered by it."""
    form = AuditFilterForm(request.args)
    form.actor.choices = [("", _("Anyone"))] + [
        (str(person.id), person.name or person.email) for person in audit.actors()
    ]
    valid = form.validate()
    filters = audit.AuditFilters(
        actor_id=int(form.actor.data) if form.actor.data and not form.actor.errors else None,
        subject=form.subject.data if not form.subject.errors else "",
        since=form.since.data if not form.since.errors else None,
        until=form.until.data if not form.until.errors else None,
        page=page_number(request.args.get("page"), 100_000),
    )
    entries, more = audit.entries(filters, PAGE_SIZE)
    return render_template(
        "admin/audit.html",
        form=form,
        entries=entries,
        more=more,
        page=filters.page,
        actions=audit.ACTIONS,
        changes=changes,
        when=lambda at: format_datetime(at, "medium"),
    ), (200 if valid else 422)
