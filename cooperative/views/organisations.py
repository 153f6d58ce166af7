"""Programme staff's list of organisations: municipalities, departments, businesses,
foundations and the collectives of the directory (made organisations with one button,
linked, not copied), and the people who act for each.

Programme staff and admins only: others get 403, whoever is not logged in is sent to the
log-in page.
"""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..extensions import db
from ..forms.questions import FromCollectiveForm, OrganisationForm, PersonForm
from ..models import Collective, Organisation, OrganisationPerson
from ..services import organisations as registry
from .decorators import programme_required
from .going_back import commit_or_go_back, commit_or_redraw, form_page

bp = Blueprint("organisations", __name__, url_prefix="/manage/organisations")


@bp.get("")
@programme_required
def index():
    """Every organisation by name, how many people act for it, and the button that makes a
    collective of the directory one."""
    from_collective = FromCollectiveForm(formdata=None)
    from_collective.offer(registry.collectives_without_organisation())
    return render_template(
        "organisations/index.html",
        organisations=registry.all_organisations(),
        from_collective=from_collective,
    )


@bp.post("/from-collective")
@programme_required
def from_collective():
    """Make the chosen collective an organisation (its name stays the collective's)."""
    form = FromCollectiveForm()
    form.offer(registry.collectives_without_organisation())
    if not form.validate_on_submit():
        flash(_("Please choose a collective from the list."), "error")
        return redirect(url_for("organisations.index"), code=303)
    collective = db.session.get(Collective, form.collective.data)
    return commit_or_go_back(
        lambda: registry.organisation_for_collective(collective),
        back=url_for("organisations.index"),
        done=lambda organisation: _("%(name)s is now an organisation.", name=organisation.title),
        to=lambda organisation: url_for("organisations.edit", organisation_id=organisation.id),
    )


def _organisation(organisation_id: int) -> Organisation:
    return db.first_or_404(
        sa.select(Organisation)
        .where(Organisation.id == organisation_id)
        .options(sa.orm.selectinload(Organisation.people).joinedload(OrganisationPerson.user))
    )


_EDIT = "organisations/edit.html"


def _save(organisation: Organisation | None, form: OrganisationForm):
    return form_page(
        form,
        lambda: registry.save_organisation(organisation, form.details(), form.slug.data or ""),
        done=lambda saved: _("%(name)s is saved.", name=saved.title),
        to=lambda saved: url_for("organisations.edit", organisation_id=saved.id),
        default="name",
        template=_EDIT,
        organisation=organisation,
        person_form=PersonForm(formdata=None),
    )


@bp.route("/new", methods=["GET", "POST"])
@programme_required
def create():
    """A new organisation that is not a collective."""
    form = OrganisationForm()
    form.offer(registry.possible_parents(None))
    return _save(None, form)


@bp.route("/<int:organisation_id>", methods=["GET", "POST"])
@programme_required
def edit(organisation_id: int):
    """An organisation and its people. A collective's name and website are the
    directory's: its page here has no form for them (the service refuses a change)."""
    organisation = _organisation(organisation_id)
    form = OrganisationForm()
    form.offer(registry.possible_parents(organisation))
    if not form.is_submitted():
        form.fill(organisation)
    return _save(organisation, form)


@bp.post("/<int:organisation_id>/people")
@programme_required
def add_person(organisation_id: int):
    """Let the person with this e-mail address act for the organisation."""
    organisation = _organisation(organisation_id)
    person_form = PersonForm()

    def redraw(status: int):
        form = OrganisationForm(formdata=None)
        form.offer(registry.possible_parents(organisation))
        form.fill(organisation)
        return render_template(
            _EDIT, organisation=organisation, form=form, person_form=person_form
        ), status

    return commit_or_redraw(
        person_form,
        lambda: registry.add_person(organisation, person_form.email.data),
        done=lambda person: _(
            "%(person)s now acts for %(name)s.",
            person=person.user.name or person.user.email,
            name=organisation.title,
        ),
        to=url_for("organisations.edit", organisation_id=organisation.id),
        default="email",
        redraw=redraw,
    )


@bp.post("/<int:organisation_id>/people/<int:person_id>/remove")
@programme_required
def remove_person(organisation_id: int, person_id: int):
    """The person no longer acts for the organisation."""
    person = db.session.scalar(
        sa.select(OrganisationPerson).where(
            OrganisationPerson.id == person_id,
            OrganisationPerson.organisation_id == organisation_id,
        )
    )
    if person is None:
        abort(404)
    name = person.user.name or person.user.email
    registry.remove_person(person)
    db.session.commit()
    flash(_("%(person)s no longer acts for this organisation.", person=name), "success")
    return redirect(url_for("organisations.edit", organisation_id=organisation_id), code=303)
