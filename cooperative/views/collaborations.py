"""The public register of the work with the city: `/collaborations` (koppels, Green Deals,
clusters, filtered by kind, domain, status, organisation and text, paged), a page per
collaboration (`/collaborations/<slug>`: parties, goal, commitments with their progress,
a timeline, linked events, the shared costs), and Atom feeds of the progress updates
(`/collaborations.atom` with the list's filters, `/collaborations/<slug>.atom`).

Only published collaborations are public. An unpublished one's page is shown to
programme staff and its parties' contacts, with a note; everyone else gets 404, also for
its feed (`partners.may_see_collaboration`). Choices written down here:
- the list shows the last changed first (`updated_at`): people follow what moves;
- a party's contact person is never shown publicly, only its organisation and role;
- the shared costs are public (total, split, each party's share, paid, due), as public
  money spent together is; bank references are not (they are for the parties);
- the JSON-LD type is schema.org `Project` (`collaboration_structured_data`).
"""

from dataclasses import replace

from flask import Blueprint, Response, abort, make_response, render_template, request
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import htmx
from ..forms.fields import page_number
from ..forms.filters import CollaborationFilterForm
from ..i18n import COLLABORATION_KIND_LABELS, current_locale, measure
from ..models import Collaboration, Commitment
from ..models.accounts import LOCALES
from ..page_cache import cached_page
from ..services import collaboration_register as register
from ..services.collaboration_feed import progress_feed
from ..services.mail import external_url
from ..services.partners import may_see_collaboration
from .events import event_in_brief

bp = Blueprint("collaborations", __name__)

LIST_TARGET = "collaboration-list"

bp.add_app_template_global(register.cost_totals, "cost_totals")


@bp.get("/collaborations")
@cached_page
def index():
    """Published collaborations, the last changed first, narrowed by kind, domain,
    status, organisation and text, in pages of PAGE_SIZE.

    An htmx request aimed at the list gets only the list. Unknown filter values give an
    empty, explained list, never an error. A fixed number of queries.
    """
    filters = replace(
        CollaborationFilterForm(request.args).filters,
        page=page_number(request.args.get("page"), register.PAGE_MAX),
    )
    found = register.count_collaborations(filters)
    collaborations = register.find_collaborations(
        filters, (filters.page - 1) * register.PAGE_SIZE, register.PAGE_SIZE
    )
    domains = register.collaboration_domains_in_use()
    organisations = register.organisations_in_use()
    context = {
        "filters": filters,
        "collaborations": collaborations,
        "found": found,
        "has_more": found > filters.page * register.PAGE_SIZE,
        "domains": domains,
        "organisations": organisations,
        "kinds": register.KINDS,
        "statuses": register.STATUSES,
        "unknown": register.unknown_filters(filters, domains, organisations),
    }
    if htmx_list_request():
        template = "collaborations/_list.html"
        context["fragment"] = True
    else:
        template = "collaborations/index.html"
    response = make_response(render_template(template, **context))
    # The same URL gives a fragment or a page: caches must keep them apart.
    response.vary.update(("HX-Request", "HX-Target"))
    return response


def htmx_list_request() -> bool:
    """Whether htmx asked for the list alone (the filter form), not the whole page."""
    return bool(htmx) and htmx.target == LIST_TARGET


def _visible(slug: str) -> Collaboration:
    """The collaboration with this slug: a draft only for programme staff and its
    parties' contacts; 404 otherwise."""
    collaboration = register.collaboration_by_slug(slug)
    if collaboration is None or not may_see_collaboration(current_user, collaboration):
        abort(404)
    return collaboration


@bp.get("/collaborations/<slug>")
@cached_page
def show(slug: str):
    """The collaboration: who takes part and in which role, the goal, the commitments
    with their progress, a timeline of the updates, linked events and the shared costs.
    A fixed number of queries, whatever the number of parties, commitments and updates."""
    collaboration = _visible(slug)
    question = collaboration.question
    return render_template(
        "collaborations/show.html",
        collaboration=collaboration,
        question=question if question is not None and not question.is_hidden else None,
        timeline=register.timeline(collaboration),
        events=register.linked_events(collaboration),
        feed_url=external_url("collaborations.feed", slug=collaboration.slug),
    )


# --- Feeds ---------------------------------------------------------------------------------


def _lang() -> str | None:
    lang = request.args.get("lang")
    return lang if lang in LOCALES else None


@bp.get("/collaborations.atom")
@cached_page
def atom():
    """The newest progress updates of the published collaborations, with the list's
    filters (`?kind=&domain=&status=&organisation=&q=`), as Atom. Unknown values give an
    empty feed, as they give an empty list."""
    filters = CollaborationFilterForm(request.args).filters
    lang = _lang()
    args = filters.as_args() | ({"lang": lang} if lang else {})
    body = progress_feed(
        register.feed_updates(filters),
        page_url=external_url("collaborations.index", **args),
        self_url=external_url("collaborations.atom", **filters.as_args()),
        lang=lang,
    )
    return Response(body, mimetype="application/atom+xml")


@bp.get("/collaborations/<slug>.atom")
@cached_page
def feed(slug: str):
    """The newest progress updates of one collaboration, as Atom."""
    collaboration = _visible(slug)
    lang = _lang()
    args = {"lang": lang} if lang else {}
    body = progress_feed(
        register.feed_updates(collaboration=collaboration),
        page_url=external_url("collaborations.show", slug=collaboration.slug, **args),
        self_url=external_url("collaborations.feed", slug=collaboration.slug),
        lang=lang,
        collaboration=collaboration,
    )
    return Response(body, mimetype="application/atom+xml")


# --- Words and structured data ---------------------------------------------------------------


@bp.app_template_global("commitment_progress_text")
def commitment_progress_text(commitment: Commitment) -> str:
    """The progress of a measurable commitment in words, beside (or instead of) its bar:
    "From 100 % to 70 %: now 82 % (60 % of the way)"."""
    unit = f" {commitment.unit}" if commitment.unit else ""
    start = f"{measure(commitment.baseline)}{unit}"
    goal = f"{measure(commitment.target)}{unit}"
    value = commitment.latest_value
    if value is None:
        return _("From %(start)s to %(goal)s: not measured yet.", start=start, goal=goal)
    progress = commitment.progress
    if progress is None:
        return _(
            "From %(start)s to %(goal)s: now %(now)s.",
            start=start,
            goal=goal,
            now=f"{measure(value)}{unit}",
        )
    return _(
        "From %(start)s to %(goal)s: now %(now)s (%(percent)s %% of the way).",
        start=start,
        goal=goal,
        now=f"{measure(value)}{unit}",
        percent=format_decimal(round(progress * 100), format="0"),
    )


@bp.app_template_global("collaboration_structured_data")
def collaboration_structured_data(collaboration: Collaboration, events=()) -> dict:
    """The collaboration as a schema.org `Project` ("an enterprise, planned to achieve a
    particular aim", a kind of `Organization`): the nearest type for parties working on
    a shared goal. Its parties are `member`s in an `OrganizationRole` with their role,
    its dates `foundingDate`/`dissolutionDate`, its domains `knowsAbout`, its meetings
    `event`. The template turns it into JSON with `tojson`."""
    locale = current_locale()
    url = external_url("collaborations.show", slug=collaboration.slug)
    data = {
        "@context": "https://schema.org",
        "@type": "Project",
        "@id": url,
        "name": collaboration.title,
        "url": url,
        "description": collaboration.goal,
        "keywords": str(COLLABORATION_KIND_LABELS[collaboration.kind]),
        "knowsAbout": [domain.name(locale) for domain in collaboration.domains],
        "member": [
            {
                "@type": "OrganizationRole",
                **({"roleName": party.role} if party.role else {}),
                "member": {
                    "@type": "GovernmentOrganization"
                    if party.organisation.kind in ("municipality", "department")
                    else "Organization",
                    "name": party.organisation.title,
                    **(
                        {"url": party.organisation.shown_website}
                        if party.organisation.shown_website
                        else {}
                    ),
                },
            }
            for party in collaboration.parties
        ],
    }
    if collaboration.starts_on:
        data["foundingDate"] = collaboration.starts_on.isoformat()
    if collaboration.ends_on:
        data["dissolutionDate"] = collaboration.ends_on.isoformat()
    if events:
        data["event"] = [event_in_brief(event) for event in events]
    return data
