"""The embeddable event lists: a collective's (`/embed/collectives/<slug>/events`) or a
domain's (`/embed/domains/<slug>/events`) upcoming events, for an `<iframe>` on the
collective's own website.

These are the only pages any site may frame (`security.framable`); each is a small page
of its own without the site's header, menu and scripts, and works without JavaScript. Its
links open the event on this site in a new tab. The language comes from `?lang=` (Dutch
without it), as the snippet on the collective's page writes it; a framed page sets no
language cookie. The events are the public list's (`event_list.matching_events`) with the
same filter, so nothing shows here that the list does not show.
"""

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from markupsafe import escape

from ..extensions import db
from ..i18n import current_locale
from ..models import Collective, Domain, Event
from ..models.accounts import LOCALES
from ..page_cache import cached_page
from ..security import framable
from ..services.event_feeds import event_link
from ..services.event_list import EventFilters, matching_events
from ..services.mail import external_url

bp = Blueprint("embed", __name__, url_prefix="/embed")

# An embedded list shows at most this many events, then links to the rest.
EMBED_EVENTS = 10


@bp.app_template_global("embed_code")
def embed_code(kind: str, slug: str, name: str) -> str:
    """The `<iframe>` that shows the embeddable list of the collective or domain (`kind`)
    `slug`, named `name`, on another site, in the current language: the copy-paste
    snippet's code (the template escapes it once more to show it)."""
    src = external_url(f"embed.{kind}_events", slug=slug, lang=current_locale())
    if kind == "collective":
        title = _("Events of %(name)s", name=name)
    else:
        title = _("Events in %(domain)s", domain=name)
    return (
        f'<iframe src="{escape(src)}" title="{escape(title)}" width="100%" height="450"'
        ' loading="lazy"></iframe>'
    )


def _asked_language() -> str | None:
    """The language `?lang=` asks for, if it is one of the site's; links keep it."""
    lang = request.args.get("lang")
    return lang if lang in LOCALES else None


def _render(filters: EventFilters, heading: str, more_url: str):
    """The page with the first EMBED_EVENTS events for `filters` (two queries), and a
    link to all of them on this site."""
    events = db.session.scalars(
        matching_events(filters)
        .options(sa.orm.selectinload(Event.collective))
        .limit(EMBED_EVENTS + 1)
    ).all()
    return render_template(
        "embed/events.html",
        events=events[:EMBED_EVENTS],
        has_more=len(events) > EMBED_EVENTS,
        heading=heading,
        more_url=more_url,
        lang=_asked_language(),
        event_link=event_link,
        show_host=bool(filters.domain),
    )


def _with_language(values: dict) -> dict:
    lang = _asked_language()
    return values | {"lang": lang} if lang else values


@bp.get("/collectives/<slug>/events")
@framable
@cached_page
def collective_events(slug: str):
    """A published collective's upcoming events; 404 for a draft or an unknown slug."""
    collective = db.session.scalar(
        sa.select(Collective).where(Collective.slug == slug, Collective.is_published)
    )
    if collective is None:
        abort(404)
    return _render(
        EventFilters(collective=collective.slug),
        heading=collective.name,
        more_url=external_url("collectives.show", **_with_language({"slug": collective.slug})),
    )


@bp.get("/domains/<slug>/events")
@framable
@cached_page
def domain_events(slug: str):
    """The upcoming events of the published collectives in a domain; 404 for an unknown
    slug."""
    domain = db.session.scalar(sa.select(Domain).where(Domain.slug == slug))
    if domain is None:
        abort(404)
    return _render(
        EventFilters(domain=domain.slug),
        heading=domain.name(current_locale()),
        more_url=external_url("events.index", **_with_language({"domain": domain.slug})),
    )
