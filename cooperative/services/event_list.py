"""The public list of upcoming events: its filters and the one query behind the list page,
its calendar feed (`/events.ics`) and the API (`/api/v1/events`).

Only published events that have not ended are listed, soonest first. A filter on a host
collective or domain finds events of published collectives only: an unpublished collective's
page is not public either.
"""

from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from ..i18n import local_zone
from ..models import Collective, Event, EventStatus, utcnow

# How many days from the start of today (local time) each period covers.
PERIOD_DAYS = {"today": 1, "week": 7, "month": 31}
# Words of the search after these are not searched for.
QUERY_MAX_WORDS = 10
SEARCHED_COLUMNS = (Event.title, Event.summary, Event.description, Event.venue)


class ListFilters:
    """What a list page was asked for, as a frozen dataclass of filters (strings; empty
    means "any") and, for a list in pages, its `page`: the one way the lists say whether
    a filter is set and carry the filters in a link."""

    @property
    def active(self) -> bool:
        """Whether any filter is set (the page is none)."""
        return any(value for name, value in asdict(self).items() if name != "page")

    def as_args(self, **changes) -> dict[str, str | int]:
        """The filters that are set (with `changes`), for a link that keeps them; the
        first page is left out."""
        values = {**asdict(self), **changes}
        return {
            name: value
            for name, value in values.items()
            if value and not (name == "page" and value == 1)
        }


@dataclass(frozen=True)
class EventFilters(ListFilters):
    """What was asked of the event list: `?domain=&collective=&q=&period=`.

    Empty means "any". `forms.filters.EventFilterForm` reads them from a query string, as
    typed (tidied), so an unknown slug or period simply finds nothing and the page can say
    why.
    """

    domain: str = ""
    collective: str = ""
    q: str = ""
    period: str = ""


def every_word_in(q: str, columns) -> list[sa.ColumnElement[bool]]:
    """SQL for "every word of `q` (the first QUERY_MAX_WORDS) is in one of `columns`", in
    any case: ILIKE on PostgreSQL; on SQLite LIKE, which ignores the case of A-Z only. `%`
    and `_` are searched for as themselves."""
    return [
        sa.or_(*(column.icontains(word, autoescape=True) for column in columns))
        for word in q.split()[:QUERY_MAX_WORDS]
    ]


def first_of_its_series(now: datetime) -> sa.ColumnElement[bool]:
    """True for an event outside a series, and for the soonest upcoming published date of
    its series: the list shows a series once, with its rhythm ("every Tuesday")."""
    sooner = so.aliased(Event)
    return sa.or_(
        Event.series_id.is_(None),
        ~sa.exists().where(
            sooner.series_id == Event.series_id,
            sooner.status == EventStatus.PUBLISHED,
            sooner.ends_at >= now,
            sa.or_(
                sooner.starts_at < Event.starts_at,
                sa.and_(sooner.starts_at == Event.starts_at, sooner.id < Event.id),
            ),
        ),
    )


def matching_events(
    filters: EventFilters, now: datetime | None = None, one_per_series: bool = False
) -> sa.Select:
    """Upcoming published events that match `filters`, soonest first, nothing else loaded.

    - domain: the host collective is published and works in that domain (`in_domain`);
    - collective: the host collective is published and has that slug;
    - q: every word appears in the title, summary, description or venue (`every_word_in`);
    - period: `today`, `week` (7 days) or `month` (31 days), counted in whole local days
      from the start of today; an event counts when it starts before the end.
    An unknown period matches nothing. With `one_per_series`, a series shows only its
    soonest upcoming date (`first_of_its_series`).
    """
    now = now or utcnow()
    query = Event.upcoming(now)
    if one_per_series:
        query = query.where(first_of_its_series(now))
    if filters.domain:
        query = query.where(
            Event.collective.has(
                sa.and_(Collective.is_published, Collective.in_domain(filters.domain))
            )
        )
    if filters.collective:
        query = query.where(
            Event.collective.has(
                sa.and_(Collective.is_published, Collective.slug == filters.collective)
            )
        )
    query = query.where(*every_word_in(filters.q, SEARCHED_COLUMNS))
    if filters.period:
        days = PERIOD_DAYS.get(filters.period)
        if days is None:
            return query.where(sa.false())
        zone = local_zone()
        today = now.astimezone(zone).date()
        until = datetime.combine(today + timedelta(days=days), time(0), tzinfo=zone)
        query = query.where(Event.starts_at < until)
    return query


def filtered_events(
    filters: EventFilters, now: datetime | None = None, one_per_series: bool = False
) -> sa.Select:
    """`matching_events` with each event's host and meals loaded (one query for all hosts,
    one for all meals, whatever the number of events). The list page takes one page of it
    at a time, the API a slice, the feed all of it."""
    query = matching_events(filters, now, one_per_series).options(
        sa.orm.selectinload(Event.collective), sa.orm.selectinload(Event.meal_options)
    )
    if one_per_series:
        query = query.options(sa.orm.selectinload(Event.series))
    return query


def count_events(
    filters: EventFilters, now: datetime | None = None, one_per_series: bool = False
) -> int:
    """How many upcoming published events match `filters`, all pages together (one query)."""
    query = matching_events(filters, now, one_per_series).order_by(None)
    return db.session.scalar(query.with_only_columns(sa.func.count(Event.id)))
