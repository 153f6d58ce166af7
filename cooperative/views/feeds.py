"""News feeds of the upcoming events: `/events.rss` and `/events.atom`, with the event
list's filters (`?domain=`, `?collective=`, `?q=`, `?period=`), so one feed serves all
events, one domain or one collective. Kept in memory like the list (`cached_page`)."""

import sqlalchemy as sa
from flask import Blueprint, Response, request

from ..extensions import db
from ..forms.filters import EventFilterForm
from ..models import Event
from ..models.accounts import LOCALES
from ..page_cache import cached_page
from ..services.event_feeds import FeedKind, event_feed, feed_title
from ..services.event_list import matching_events
from ..services.mail import external_url

bp = Blueprint("feeds", __name__)

MIMETYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml"}


def _feed(kind: FeedKind) -> Response:
    """The events the list shows for these filters, as a feed of `kind`. The language of
    its text is the page's (`?lang=`); its links keep an asked-for `lang`. Unknown filter
    values give an empty feed, as they give an empty list. Four queries at most, whatever
    the number of events."""
    filters = EventFilterForm(request.args).filters
    lang = request.args.get("lang")
    lang = lang if lang in LOCALES else None
    events = db.session.scalars(
        matching_events(filters).options(sa.orm.selectinload(Event.collective))
    ).all()
    args = filters.as_args() | ({"lang": lang} if lang else {})
    body = event_feed(
        events,
        kind,
        title=feed_title(filters),
        page_url=external_url("events.index", **args),
        self_url=external_url(f"feeds.{kind}", **filters.as_args()),
        lang=lang,
    )
    return Response(body, mimetype=MIMETYPES[kind])


@bp.get("/events.rss")
@cached_page
def rss():
    """The upcoming events as RSS 2.0."""
    return _feed("rss")


@bp.get("/events.atom")
@cached_page
def atom():
    """The upcoming events as Atom."""
    return _feed("atom")
