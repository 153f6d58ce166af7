"""The admins' side of the directory: every collective (drafts too), creating and editing
them, publishing, the people with a role in them, and the queue of suggestions.

Admins only: others get 403, whoever is not logged in is sent to the log-in page.
"""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import db
from ..forms.collectives import AdminCollectiveForm, RoleForm
from ..models import Collective, CollectiveRole, CollectiveSuggestion, SuggestionStatus
from ..services import audit
from ..services import collectives as directory
from ..services import suggestions as suggestion_queue
from .decorators import admin_required
from .going_back import commit_or_go_back, commit_or_redraw, form_page

bp = Blueprint("admin_collectives", __name__, url_prefix="/admin/collectives")


def _collective(collective_id: int) -> Collective:
    return db.first_or_404(
        sa.select(Collective)
        .where(Collective.id == collective_id)
        .options(
            sa.orm.selectinload(Collective.domains),
            sa.orm.selectinload(Collective.roles).joinedload(CollectiveRole.user),
        )
    )


def _waiting_suggestions() -> int:
    return db.session.scalar(
        sa.select(sa.func.count(CollectiveSuggestion.id)).where(
            CollectiveSuggestion.status == SuggestionStatus.NEW
        )
    )


@bp.get("")
@admin_required
def index():
    """Every collective by name, drafts too, with how many suggestions wait."""
    collectives = db.session.scalars(
        sa.select(Collective)
        .options(
            sa.orm.joinedload(Collective.primary_domain),
            sa.orm.selectinload(Collective.roles),
        )
        .order_by(Collective.name, Collective.id)
    ).all()
    return render_template(
        "admin_collectives/index.html",
        collectives=collectives,
        waiting=_waiting_suggestions(),
    )


_EDIT = "admin_collectives/edit.html"


def _save(collective: Collective | None, form: AdminCollectiveForm):
    """Validate and save the form; the page again with the reasons (422) when refused."""
    return form_page(
        form,
        lambda: directory.save_collective(
            collective, form.name.data, form.slug.data or "", form.details()
        ),
        done=lambda saved: _("%(name)s is saved.", name=saved.name),
        to=lambda saved: url_for("admin_collectives.edit", collective_id=saved.id),
        default="name",
        template=_EDIT,
        collective=collective,
        role_form=RoleForm(formdata=None),
    )


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def create():
    """A new collective; it starts as a draft."""
    form = AdminCollectiveForm()
    form.set_domains(directory.all_domains())
    return _save(None, form)


@bp.route("/<int:collective_id>", methods=["GET", "POST"])
@admin_required
def edit(collective_id: int):
    """Everything about a collective, publishing it, and the people with a role in it."""
    collective = _collective(collective_id)
    form = AdminCollectiveForm()
    form.set_domains(directory.all_domains())
    if not form.is_submitted():
        form.fill(collective)
    return _save(collective, form)


@bp.post("/<int:collective_id>/publish")
@admin_required
def publish(collective_id: int):
    """Show the collective in the directory, the API and the feeds."""
    return _set_published(collective_id, True, _l("%(name)s is published."))


@bp.post("/<int:collective_id>/unpublish")
@admin_required
def unpublish(collective_id: int):
    """Take the collective out of the directory, the API and the feeds."""
    return _set_published(collective_id, False, _l("%(name)s is no longer published."))


def _set_published(collective_id: int, published: bool, message):
    """Publish the collective or take it back, and say so with `message` (its `name`)."""
    collective = _collective(collective_id)
    directory.set_published(collective, published)
    db.session.commit()
    flash(message % {"name": collective.name}, "success")
    return redirect(url_for("admin_collectives.edit", collective_id=collective.id), code=303)


def _log(user_id: int, slug: str, role: bool) -> None:
    """The audit log's line for the person `user_id` getting a role in the collective
    `slug` (`role`), or losing it."""
    audit.record(
        current_user,
        "role.add" if role else "role.remove",
        subject_user_id=user_id,
        before={"collective": slug, "role": not role},
        after={"collective": slug, "role": role},
    )


@bp.post("/<int:collective_id>/roles")
@admin_required
def add_role(collective_id: int):
    """Give the person with this e-mail address a role: they edit the collective's page and
    manage its events."""
    collective = _collective(collective_id)
    role_form = RoleForm()

    def give_role():
        role = directory.add_role(collective, role_form.email.data)
        _log(role.user_id, collective.slug, True)
        return role

    def redraw(status: int):
        form = AdminCollectiveForm(formdata=None)
        form.set_domains(directory.all_domains())
        form.fill(collective)
        return render_template(_EDIT, collective=collective, form=form, role_form=role_form), status

    return commit_or_redraw(
        role_form,
        give_role,
        done=lambda role: _(
            "%(person)s now has a role in %(name)s.",
            person=role.user.name or role.user.email,
            name=collective.name,
        ),
        to=url_for("admin_collectives.edit", collective_id=collective.id),
        default="email",
        redraw=redraw,
    )


@bp.post("/<int:collective_id>/roles/<int:role_id>/remove")
@admin_required
def remove_role(collective_id: int, role_id: int):
    """Take a person's role in the collective away."""
    role = db.session.scalar(
        sa.select(CollectiveRole).where(
            CollectiveRole.id == role_id, CollectiveRole.collective_id == collective_id
        )
    )
    if role is None:
        abort(404)
    person = role.user.name or role.user.email
    _log(role.user_id, role.collective.slug, False)
    directory.remove_role(role)
    db.session.commit()
    flash(_("%(person)s no longer has a role here.", person=person), "success")
    return redirect(url_for("admin_collectives.edit", collective_id=collective_id), code=303)


# --- Suggestions -----------------------------------------------------------------------------


@bp.get("/suggestions")
@admin_required
def suggestions():
    """The suggestions waiting for a decision, oldest first."""
    waiting = db.session.scalars(
        sa.select(CollectiveSuggestion)
        .where(CollectiveSuggestion.status == SuggestionStatus.NEW)
        .options(sa.orm.joinedload(CollectiveSuggestion.domain))
        .order_by(CollectiveSuggestion.created_at, CollectiveSuggestion.id)
    ).all()
    return render_template("admin_collectives/suggestions.html", suggestions=waiting)


def _suggestion(suggestion_id: int) -> CollectiveSuggestion:
    return db.get_or_404(CollectiveSuggestion, suggestion_id)


@bp.post("/suggestions/<int:suggestion_id>/accept")
@admin_required
def accept(suggestion_id: int):
    """Make a draft collective of the suggestion and open it to fill in the rest."""
    suggestion = _suggestion(suggestion_id)
    return commit_or_go_back(
        lambda: suggestion_queue.accept_suggestion(suggestion, current_user),
        back=url_for("admin_collectives.suggestions"),
        done=lambda collective: _(
            "%(name)s is now a draft collective. Fill in the rest, then publish it.",
            name=collective.name,
        ),
        to=lambda collective: url_for("admin_collectives.edit", collective_id=collective.id),
    )


@bp.post("/suggestions/<int:suggestion_id>/reject")
@admin_required
def reject(suggestion_id: int):
    """Take the suggestion out of the queue without making a collective of it."""
    suggestion = _suggestion(suggestion_id)
    return commit_or_go_back(
        lambda: suggestion_queue.reject_suggestion(suggestion, current_user),
        back=url_for("admin_collectives.suggestions"),
        done=lambda _rejected: _("The suggestion “%(name)s” is rejected.", name=suggestion.name),
    )
