"""The collaborations' back office (/manage/collaborations): programme staff make and
change collaborations, their parties and linked events, and publish them; a party's
contact opens the collaborations they are a contact in and records progress there (the
commitments and progress have their own module, `manage_commitments`).

Who may: `views.decorators.programme_collaboration` and `contact_collaboration`, on the
rules of `services.partners`. The list shows programme staff every collaboration, a
contact their own, and anyone else is refused (403); one collaboration's pages answer
404 to whoever has no business with it, as if it did not exist.
"""

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from ..forms.collaborations import (
    CollaborationForm,
    CommitmentForm,
    LinkEventForm,
    PartyChangeForm,
    PartyForm,
    ProgressForm,
    format_measure,
)
from ..i18n import current_locale, long_date
from ..models import (
    Collaboration,
    CollaborationParty,
    Event,
    Organisation,
)
from ..services import collaborations as service
from ..services import partners
from ..services.collectives import all_domains
from ..services.register import today
from .decorators import contact_collaboration, programme_collaboration, programme_required
from .going_back import commit_or_go_back, commit_or_redraw, commit_or_show, form_page

bp = Blueprint("manage_collaborations", __name__, url_prefix="/manage/collaborations")


@bp.app_context_processor
def _collaboration_helpers() -> dict:
    return {
        "measure": format_measure,
        "works_on_collaborations": partners.works_on_collaborations,
    }


def show_url(collaboration: Collaboration, anchor: str | None = None) -> str:
    return url_for("manage_collaborations.show", collaboration_id=collaboration.id, _anchor=anchor)


def _organisations() -> list[Organisation]:
    organisations = db.session.scalars(
        sa.select(Organisation).options(
            sa.orm.joinedload(Organisation.collective), sa.orm.joinedload(Organisation.parent)
        )
    ).all()
    return sorted(organisations, key=lambda organisation: organisation.title.casefold())


def _event_label(event: Event) -> str:
    return f"{event.title} ({long_date(event.starts_at)})"


def render_collaboration(collaboration: Collaboration, status: int = 200, **forms):
    """The collaboration's back-office page, with empty forms where none are given (a
    refused one is given back with its errors and what was typed)."""
    staff = current_user.runs_programme
    party_form = forms.get("party_form")
    commitment_form = forms.get("commitment_form")
    event_form = forms.get("event_form")
    if staff:
        party_form = party_form or PartyForm(formdata=None)
        party_form.set_organisations(
            [
                organisation
                for organisation in _organisations()
                if all(party.organisation_id != organisation.id for party in collaboration.parties)
            ]
        )
        commitment_form = commitment_form or CommitmentForm(formdata=None)
        commitment_form.set_parties(collaboration.parties)
        event_form = event_form or LinkEventForm(formdata=None)
        event_form.set_events(service.linkable_events(collaboration), _event_label)
    progress_forms = forms.get("progress_forms", {})
    for commitment in collaboration.commitments:
        if commitment.id not in progress_forms and partners.may_record_progress(
            current_user, commitment
        ):
            progress_forms[commitment.id] = ProgressForm(
                formdata=None, prefix=f"progress-{commitment.id}", on=today()
            )
    return (
        render_template(
            "manage_collaborations/show.html",
            collaboration=collaboration,
            staff=staff,
            party_form=party_form,
            commitment_form=commitment_form,
            event_form=event_form,
            progress_forms=progress_forms,
            events=service.linked_events(collaboration),
        ),
        status,
    )


@bp.get("/")
@login_required
def index():
    """Programme staff: every collaboration, the latest change first; a party's contact:
    the ones they are a contact in. Anyone else: 403."""
    query = (
        sa.select(Collaboration)
        if current_user.runs_programme
        else partners.contact_collaborations(current_user)
    )
    collaborations = db.session.scalars(
        query.options(
            sa.orm.selectinload(Collaboration.parties)
            .joinedload(CollaborationParty.organisation)
            .options(
                sa.orm.joinedload(Organisation.collective), sa.orm.joinedload(Organisation.parent)
            )
        ).order_by(Collaboration.updated_at.desc(), Collaboration.id.desc())
    ).all()
    if not collaborations and not current_user.runs_programme:
        abort(403)
    return render_template("manage_collaborations/index.html", collaborations=collaborations)


@bp.route("/new", methods=["GET", "POST"])
@programme_required
def new():
    """A new collaboration: a draft, until it has parties and is published."""
    form = CollaborationForm() if request.method == "POST" else CollaborationForm(formdata=None)
    form.set_domains(all_domains(), current_locale())
    return form_page(
        form,
        lambda: service.save_collaboration(form.plan()),
        done=_("The collaboration is saved. Now add its parties."),
        to=show_url,
        default="title",
        template="manage_collaborations/form.html",
        collaboration=None,
    )


@bp.get("/<int:collaboration_id>")
@contact_collaboration
def show(collaboration: Collaboration):
    """The collaboration with its parties, commitments, progress and events; staff change
    them here, a contact records progress on their own organisation's commitments."""
    return render_collaboration(collaboration)


@bp.route("/<int:collaboration_id>/edit", methods=["GET", "POST"])
@programme_collaboration
def edit(collaboration: Collaboration):
    """Change what the collaboration is, its goal, domains, dates and status."""
    form = CollaborationForm() if request.method == "POST" else CollaborationForm(formdata=None)
    form.set_domains(all_domains(), current_locale())
    if request.method == "GET":
        form.fill(collaboration)
    return form_page(
        form,
        lambda: service.save_collaboration(form.plan(), collaboration),
        done=_("The collaboration is saved."),
        to=show_url(collaboration),
        default="title",
        template="manage_collaborations/form.html",
        collaboration=collaboration,
    )


@bp.post("/<int:collaboration_id>/publish")
@programme_collaboration
def publish(collaboration: Collaboration):
    """Put the collaboration in the public register."""
    return commit_or_go_back(
        lambda: service.publish(collaboration),
        back=show_url(collaboration),
        done=_("The collaboration is public now."),
    )


@bp.post("/<int:collaboration_id>/unpublish")
@programme_collaboration
def unpublish(collaboration: Collaboration):
    """Take the collaboration out of the public register."""
    return commit_or_go_back(
        lambda: service.unpublish(collaboration),
        back=show_url(collaboration),
        done=_("The collaboration is no longer public."),
    )


# --- Parties -------------------------------------------------------------------------


@bp.post("/<int:collaboration_id>/parties")
@programme_collaboration
def add_party(collaboration: Collaboration):
    """Add an organisation as a party, with its contact, role and cost key."""
    form = PartyForm()
    form.set_organisations(_organisations())
    return commit_or_redraw(
        form,
        lambda: service.add_party(
            collaboration,
            db.session.get(Organisation, form.organisation.data),
            form.contact_email.data or "",
            form.role.data or "",
            form.cost_key.data,
        ),
        done=lambda party: _("%(name)s is a party now.", name=party.organisation.title),
        to=show_url(collaboration, "parties"),
        default="organisation",
        redraw=lambda status: render_collaboration(collaboration, status, party_form=form),
    )


def _party(collaboration: Collaboration, party_id: int) -> CollaborationParty:
    party = next((party for party in collaboration.parties if party.id == party_id), None)
    if party is None:
        abort(404)
    return party


@bp.route("/<int:collaboration_id>/parties/<int:party_id>", methods=["GET", "POST"])
@programme_collaboration
def edit_party(collaboration: Collaboration, party_id: int):
    """Change a party's contact, role and cost key."""
    party = _party(collaboration, party_id)
    if request.method == "GET":
        form = PartyChangeForm(
            formdata=None,
            contact_email=party.contact.email if party.contact else "",
            role=party.role,
            cost_key=party.cost_key,
        )
    else:
        form = PartyChangeForm()
    return form_page(
        form,
        lambda: service.change_party(
            party, form.contact_email.data or "", form.role.data or "", form.cost_key.data
        ),
        done=lambda _party: _("%(name)s is saved.", name=party.organisation.title),
        to=show_url(collaboration, "parties"),
        default="contact_email",
        template="manage_collaborations/party.html",
        collaboration=collaboration,
        party=party,
    )


@bp.post("/<int:collaboration_id>/parties/<int:party_id>/remove")
@programme_collaboration
def remove_party(collaboration: Collaboration, party_id: int):
    """Take a party out: its shares of the costs are split again over the others
    (refused while it has commitments, or once anything is paid towards a cost; see
    `services.collaborations.remove_party`)."""
    party = _party(collaboration, party_id)
    name = party.organisation.title
    return commit_or_go_back(
        lambda: service.remove_party(party),
        back=show_url(collaboration, "parties"),
        done=_("%(name)s is no longer a party.", name=name),
    )


# --- Events --------------------------------------------------------------------------


@bp.post("/<int:collaboration_id>/events")
@programme_collaboration
def link_event(collaboration: Collaboration):
    """Link an existing event (a meeting or co-creation session) to the collaboration."""
    form = LinkEventForm()
    form.set_events(service.linkable_events(collaboration), _event_label)
    if form.validate_on_submit():
        event = db.session.get(Event, form.event.data)
        linked = commit_or_show(
            form,
            lambda: service.link_event(collaboration, event),
            done=_("“%(title)s” is linked.", title=event.title),
            to=show_url(collaboration, "events"),
            default="event",
        )
        if linked:
            return linked
    return render_collaboration(collaboration, 422, event_form=form)


@bp.post("/<int:collaboration_id>/events/<int:event_id>/unlink")
@programme_collaboration
def unlink_event(collaboration: Collaboration, event_id: int):
    """Take an event's link to the collaboration away (the event itself stays)."""
    event = db.session.scalar(
        sa.select(Event).where(Event.id == event_id, Event.collaboration_id == collaboration.id)
    )
    if event is None:
        abort(404)
    return commit_or_go_back(
        lambda: service.unlink_event(collaboration, event),
        back=show_url(collaboration, "events"),
        done=_("“%(title)s” is no longer linked.", title=event.title),
    )
