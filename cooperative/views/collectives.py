"""The public directory of collectives, a collective's page and feed, editing it in place,
and suggesting a collective.

A collective that is not published is shown to admins only (its page, with a note);
everyone else gets 404, also its own people. Lists, counts and feeds never show drafts.
"""

from dataclasses import replace
from functools import wraps

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import configured_limit, db, htmx, limiter
from ..forms.collectives import CollectiveForm, SuggestionForm
from ..forms.fields import page_number, show_refusal
from ..forms.filters import CollectiveFilterForm
from ..i18n import current_locale
from ..models import Collective
from ..page_cache import cached_page
from ..refusals import Refused
from ..services import collectives as directory
from ..services import suggestions as suggestion_queue
from ..services.calendar import event_calendar
from ..services.collectives import PAGE_MAX, PAGE_SIZE
from ..services.mail import external_url
from .events import event_in_brief

bp = Blueprint("collectives", __name__, url_prefix="/collectives")

LIST_TARGET = "collective-list"
MORE_TARGET = "collective-cards"
DETAILS_TARGET = "collective-details"


# --- The directory ---------------------------------------------------------------------------

bp.add_app_template_global(directory.card_domains, "card_domains")


@bp.get("")
@cached_page
def index():
    """Published collectives by name, narrowed by domain, neighbourhood and text.

    `page=N` shows the first N pages of cards. An htmx request aimed at the list gets only
    the list; one from the "more" button (`HX-Target: more-collectives`) gets only the next
    page of cards. Unknown filter values give an empty, explained list, never an error.
    A fixed number of queries, whatever the number of collectives and events.
    """
    filters = replace(
        CollectiveFilterForm(request.args).filters,
        page=page_number(request.args.get("page"), PAGE_MAX),
    )
    more_only = bool(htmx) and htmx.target == MORE_TARGET
    offset = (filters.page - 1) * PAGE_SIZE if more_only else 0
    found = directory.count_collectives(filters)
    collectives = directory.find_collectives(filters, offset, filters.page * PAGE_SIZE - offset)
    domains = directory.all_domains()
    known_neighbourhoods = directory.neighbourhoods()
    context = {
        "filters": filters,
        "collectives": collectives,
        "next_events": directory.next_events([c.id for c in collectives]),
        "found": found,
        "has_more": found > filters.page * PAGE_SIZE,
        "domains": domains,
        "counts": directory.domain_counts(filters),
        "neighbourhoods": known_neighbourhoods,
        "unknown": directory.unknown_filters(filters, domains, known_neighbourhoods),
    }
    if more_only:
        template = "collectives/_more.html"
    elif htmx and htmx.target == LIST_TARGET:
        template = "collectives/_list.html"
        context["fragment"] = True
    else:
        template = "collectives/index.html"
    response = make_response(render_template(template, **context))
    # The same URL gives a fragment or a page: caches must keep them apart.
    response.vary.update(("HX-Request", "HX-Target"))
    return response


# --- Suggesting a collective -----------------------------------------------------------------


@bp.route("/suggest", methods=["GET", "POST"])
@limiter.limit(configured_limit("SUGGESTION_RATE_LIMIT"), methods=["POST"])
def suggest():
    """Anyone suggests a collective; it waits for the admins, who get an e-mail."""
    form = SuggestionForm()
    form.set_domains(directory.all_domains())
    if form.validate_on_submit():
        suggestion_queue.suggest_collective(
            name=form.name.data,
            domain_id=form.domain.data,
            neighbourhood=form.neighbourhood.data or "",
            website=form.website.data or "",
            contact_email=form.contact_email.data,
            reason=form.reason.data,
            locale=current_locale(),
        )
        db.session.commit()
        flash(
            _("Thank you! We will look at your suggestion and get in touch if we need to."),
            "success",
        )
        return redirect(url_for("collectives.index"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("collectives/suggest.html", form=form), status


# --- One collective --------------------------------------------------------------------------


def _visible_collective(slug: str) -> Collective:
    """The collective with this slug: a draft for admins only; 404 otherwise."""
    is_admin = current_user.is_authenticated and current_user.is_admin
    collective = directory.collective_by_slug(slug, include_drafts=is_admin)
    if collective is None:
        abort(404)
    return collective


@bp.app_template_global("collective_structured_data")
def collective_structured_data(collective: Collective, upcoming=()) -> dict:
    """The collective as a schema.org `Organization`, for `<script type="application/ld+json">`,
    with its upcoming events. The template turns it into JSON with `tojson`."""
    locale = current_locale()
    url = external_url("collectives.show", slug=collective.slug)
    data = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "@id": url,
        "name": collective.name,
        "url": url,
        "description": collective.description or collective.summary,
        "knowsAbout": [d.name(locale) for d in directory.card_domains(collective)],
        "memberOf": {
            "@type": "Organization",
            "name": "MeentCoop",
            "url": external_url("public.index"),
        },
    }
    if collective.website:
        data["sameAs"] = [collective.website]
    if collective.contact_email:
        data["email"] = collective.contact_email
    if collective.founded_year:
        data["foundingDate"] = str(collective.founded_year)
    if collective.neighbourhood:
        data["areaServed"] = {"@type": "Place", "name": collective.neighbourhood}
        data["address"] = {
            "@type": "PostalAddress",
            "addressLocality": "Amsterdam",
            "addressRegion": collective.neighbourhood,
            "addressCountry": "NL",
        }
    if upcoming:
        data["event"] = [event_in_brief(event) for event in upcoming]
    return data


def _details_context(collective: Collective) -> dict:
    can_edit = current_user.is_authenticated and current_user.can_manage(collective.id)
    return {"collective": collective, "can_edit": can_edit}


@bp.get("/<slug>")
@cached_page
def show(slug: str):
    """What the collective does, its facts, and its upcoming and past events."""
    collective = _visible_collective(slug)
    upcoming = directory.upcoming_events(collective)
    return render_template(
        "collectives/show.html",
        upcoming=upcoming,
        past=directory.past_events(collective),
        feed_url=external_url("collectives.feed", slug=collective.slug),
        **_details_context(collective),
    )


@bp.get("/<slug>/events.ics")
def feed(slug: str):
    """The collective's events as a calendar people subscribe to."""
    collective = _visible_collective(slug)
    return Response(
        event_calendar(directory.feed_events(collective), name=f"MeentCoop · {collective.name}"),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'inline; filename="{collective.slug}.ics"'},
    )


# --- Editing by the collective's own people --------------------------------------------------


def editable_collective(view):
    """Load the collective `slug` for a view that edits it: only its own people and admins
    (403 for others), and a draft only for admins (404). The view gets `collective`."""

    @wraps(view)
    @login_required
    def checked(slug: str):
        collective = _visible_collective(slug)
        if not current_user.can_manage(collective.id):
            abort(403)
        return view(collective)

    return checked


def _render_edit(collective: Collective, form: CollectiveForm, status: int = 200):
    """The edit form: alone for htmx (in place of the details), else on its own page."""
    template = (
        "collectives/_edit_form.html"
        if htmx and htmx.target == DETAILS_TARGET
        else "collectives/edit.html"
    )
    response = make_response(render_template(template, collective=collective, form=form), status)
    response.vary.update(("HX-Request", "HX-Target"))
    return response


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@editable_collective
def edit(collective: Collective):
    """The collective's own people (and admins) change its page: in place with htmx, or on a
    page of its own. A refusal shows the form again with what was typed (422)."""
    form = CollectiveForm()
    form.set_domains(directory.all_domains())
    if request.method == "GET":
        form.fill(collective)
        return _render_edit(collective, form)
    if form.validate():
        try:
            directory.update_collective(collective, form.details())
        except Refused as refusal:
            db.session.rollback()
            show_refusal(form, refusal, default="primary_domain")
            return _render_edit(collective, form, 422)
        db.session.commit()
        if htmx and htmx.target == DETAILS_TARGET:
            return render_template(
                "collectives/_details.html", saved=True, **_details_context(collective)
            )
        flash(_("The collective’s page is saved."), "success")
        return redirect(url_for("collectives.show", slug=collective.slug), code=303)
    return _render_edit(collective, form, 422)


@bp.get("/<slug>/details")
def details(slug: str):
    """The collective's details alone: what "Cancel" on the in-place form swaps back."""
    collective = _visible_collective(slug)
    if not (htmx and htmx.target == DETAILS_TARGET):
        return redirect(url_for("collectives.show", slug=collective.slug))
    response = make_response(
        render_template("collectives/_details.html", **_details_context(collective))
    )
    response.vary.update(("HX-Request", "HX-Target"))
    return response
