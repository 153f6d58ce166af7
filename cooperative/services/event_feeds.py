"""News feeds (RSS 2.0 and Atom) of the upcoming events, made with feedgen, and the name a
feed of the event list carries (in calendar apps and feed readers alike).

A feed holds what the public event list holds, with the list's filters (the one query:
`event_list.matching_events`), and only fields the public event page shows: title, times,
place, host, summary and description. A feed reader shows an entry's date as when it was
published, so the event's own date and time open its text.

feedgen (and the lxml under it, 5 MB) is imported where a feed is made, as Stripe is in
`payments`: a web worker that serves no feed never loads it.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

import sqlalchemy as sa
from flask_babel import gettext as _

from ..extensions import db
from ..i18n import current_locale, long_datetime
from ..models import Collective, Domain, Event, utcnow
from .event_list import EventFilters
from .mail import external_url

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator

FeedKind = Literal["rss", "atom"]


def feed_title(filters: EventFilters) -> str:
    """`MeentCoop`, then what the feed is narrowed to: `MeentCoop · Zonnedak · Energie`.
    A slug this site does not know is named as it was asked for (the feed is empty)."""
    parts = ["MeentCoop"]
    if filters.collective:
        collective = db.session.scalar(
            sa.select(Collective).where(
                Collective.slug == filters.collective, Collective.is_published
            )
        )
        parts.append(collective.name if collective else filters.collective)
    if filters.domain:
        domain = db.session.scalar(sa.select(Domain).where(Domain.slug == filters.domain))
        parts.append(domain.name(current_locale()) if domain else filters.domain)
    if filters.q:
        parts.append(f"“{filters.q}”")
    return " · ".join(parts)


def event_link(event: Event, lang: str | None = None) -> str:
    """The event's page on this site, in the language `lang` when one is given: where a
    feed entry and an embedded list's link lead."""
    if lang:
        return external_url("events.show", slug=event.slug, lang=lang)
    return external_url("events.show", slug=event.slug)


def _entry_text(event: Event) -> str:
    """When and where first, then who hosts it and what it is about."""
    place = ", ".join(part for part in (event.venue, event.address) if part)
    lines = [long_datetime(event.starts_at) + (f" · {place}" if place else "")]
    if event.host is not None:
        lines.append(_("Hosted by %(name)s", name=event.host.name))
    lines.extend(part for part in (event.summary, event.description) if part)
    return "\n\n".join(lines)


def new_feed(title: str, subtitle: str, *, page_url: str, self_url: str) -> "FeedGenerator":
    """A feed of this site without entries yet, in the current language: `page_url` is
    the page it follows, `self_url` its own address (also its id)."""
    from feedgen.feed import FeedGenerator

    feed = FeedGenerator()
    feed.id(self_url)
    feed.title(title)
    feed.subtitle(subtitle)
    # RSS has room for one link: feedgen writes the last one given there.
    feed.link(href=self_url, rel="self")
    feed.link(href=page_url, rel="alternate")
    feed.language(current_locale())
    feed.author({"name": "MeentCoop"})
    feed.generator("MeentCoop")
    return feed


def event_feed(
    events: Iterable[Event],
    kind: FeedKind,
    *,
    title: str,
    page_url: str,
    self_url: str,
    lang: str | None = None,
) -> bytes:
    """An RSS 2.0 or Atom feed of `events` in their order, in the current language.

    `page_url` is the page the feed follows, `self_url` the feed's own address; an entry
    links to its event's page, in the language `lang` when one was asked for. An entry's
    id is its event's address without a language, so it stays the same in both languages;
    its date is when the event was put on the site. Needs each event's host loaded.
    """
    feed = new_feed(title, _("Upcoming events at MeentCoop"), page_url=page_url, self_url=self_url)
    newest = None
    for event in events:
        entry = feed.add_entry(order="append")
        entry.guid(external_url("events.show", slug=event.slug), permalink=True)
        entry.title(event.title)
        entry.link(href=event_link(event, lang))
        entry.summary(_entry_text(event))
        entry.published(event.created_at)
        entry.updated(event.created_at)
        if event.host is not None:
            entry.author({"name": event.host.name})
        newest = max(newest or event.created_at, event.created_at)
    # The feed changes when an event is added; an empty one is as new as now.
    feed.updated(newest or utcnow())
    if kind == "rss":
        feed.lastBuildDate(newest or utcnow())
        return feed.rss_str(pretty=False)
    return feed.atom_str(pretty=False)
