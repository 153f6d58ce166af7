"""Public event pages."""

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db, htmx
from ..forms.fields import page_number
from ..forms.filters import EventFilterForm
from ..forms.registration import RegistrationForm
from ..i18n import local_zone
from ..models import Collective, Domain, Event, EventStatus, utcnow
from ..money import format_amount
from ..page_cache import cached_page, keep_until
from ..services.calendar import event_calendar
from ..services.event_feeds import feed_title
from ..services.event_list import PERIOD_DAYS, EventFilters, count_events, filtered_events
from ..services.mail import external_url

bp = Blueprint("events", __name__, url_prefix="/events")


# --- The event list and its feed: one set of filters for both ------------------------------

# The list shows this many events a page; "Show more events" adds a page.
PAGE_SIZE = 24
# `?page=` above this shows this many pages: no request loads more than PAGE_MAX * PAGE_SIZE.
PAGE_MAX = 50
LIST_TARGET = "event-list"
MORE_TARGET = "event-cards"


def _unknown_filters(filters: EventFilters, domains, collectives) -> list[str]:
    """Why the filters may find nothing: the values this site does not know."""
    reasons = []
    if filters.domain and filters.domain not in {d.slug for d in domains}:
        reasons.append(_("There is no domain called “%(slug)s”.", slug=filters.domain))
    if filters.collective and filters.collective not in {c.slug for c in collectives}:
        reasons.append(_("There is no collective called “%(slug)s”.", slug=filters.collective))
    if filters.period and filters.period not in PERIOD_DAYS:
        reasons.append(_("Choose a period from the list: today, next 7 days or next 31 days."))
    return reasons


@bp.get("")
@cached_page
def index():
    """Upcoming published events, soonest first, narrowed by the filters in the query string.

    `page=N` shows the first N pages of events (PAGE_SIZE each). An htmx request aimed at the
    list (`HX-Target: event-list`) gets only the list; one from "Show more events"
    (`HX-Target: event-cards`) gets only the next page of cards; any other request, boosted
    ones too, gets the whole page. Unknown filter values give an empty, explained list, never
    an error. A fixed number of queries, whatever the number of events.
    """
    filters = EventFilterForm(request.args).filters
    page = page_number(request.args.get("page"), PAGE_MAX)
    more_only = bool(htmx) and htmx.target == MORE_TARGET
    now = utcnow()
    offset = (page - 1) * PAGE_SIZE if more_only else 0
    # A series shows once, at its soonest date, with its rhythm ("every Tuesday").
    found = count_events(filters, now, one_per_series=True)
    events = db.session.scalars(
        filtered_events(filters, now, one_per_series=True)
        .offset(offset)
        .limit(page * PAGE_SIZE - offset)
    ).all()
    context = {
        "events": events,
        "found": found,
        "filters": filters,
        "page": page,
        "has_more": found > page * PAGE_SIZE,
        "one_per_series": True,  # the cards say a series' rhythm
    }
    if more_only:
        response = make_response(render_template("events/_more.html", **context))
        response.vary.update(("HX-Request", "HX-Target"))
        return response
    domains = db.session.scalars(sa.select(Domain).order_by(Domain.position, Domain.id)).all()
    collectives = db.session.scalars(
        sa.select(Collective).where(Collective.is_published).order_by(Collective.name)
    ).all()
    feed_url = external_url("events.feed", **filters.as_args())
    context.update(
        domains=domains,
        collectives=collectives,
        unknown=_unknown_filters(filters, domains, collectives),
        # A list of one domain offers that domain's embeddable list.
        embed_domain=next((d for d in domains if d.slug == filters.domain), None),
        feed_url=feed_url,
        # webcal:// asks the calendar app to subscribe rather than import the file once.
        subscribe_url="webcal://" + feed_url.split("://", 1)[1],
    )
    if htmx and htmx.target == LIST_TARGET:
        response = make_response(render_template("events/_list.html", fragment=True, **context))
    else:
        response = make_response(render_template("events/index.html", **context))
    # The same URL gives a fragment or a page: caches must keep them apart.
    response.vary.update(("HX-Request", "HX-Target"))
    return response


def feed():
    """The upcoming events as a calendar people subscribe to, with the list's filters."""
    filters = EventFilterForm(request.args).filters
    events = db.session.scalars(filtered_events(filters)).all()
    return Response(
        event_calendar(events, name=feed_title(filters)),
        mimetype="text/calendar",
        headers={"Content-Disposition": 'inline; filename="meentcoop-events.ics"'},
    )


@bp.record_once
def _add_feed_route(state) -> None:
    # A blueprint rule always gets a slash after the prefix (`/events/.ics`); the feed sits
    # beside the list at `/events.ics` (the URL contract), so it is added to the app itself.
    # It cannot clash with `/events/<slug>.ics`, which has a slash before the slug.
    state.app.add_url_rule(
        "/events.ics", endpoint=f"{state.name}.feed", view_func=feed, methods=["GET"]
    )


# --- Structured data for search engines on the event page --------------------------------

SCHEMA = "https://schema.org/"


def event_in_brief(event: Event) -> dict:
    """An event as a schema.org `Event` in brief (its name, page and start, in Amsterdam
    with the offset), for the structured data of what it belongs to: a collective's or a
    collaboration's events, a series' dates."""
    return {
        "@type": "Event",
        "name": event.title,
        "url": external_url("events.show", slug=event.slug),
        "startDate": event.starts_at.astimezone(local_zone()).isoformat(timespec="seconds"),
    }


def _euros(cents: int) -> str:
    """An amount as schema.org reads it, with a decimal point: `7.50`."""
    return format_amount(cents, locale="en")


def _offer(name: str, cents: int, sold_out: bool, url: str) -> dict:
    return {
        "@type": "Offer",
        "name": name,
        "price": _euros(cents),
        "priceCurrency": "EUR",
        "availability": SCHEMA + ("SoldOut" if sold_out else "InStock"),
        "url": url,
    }


@bp.app_template_global("event_structured_data")
def event_structured_data(event: Event) -> dict:
    """The event as a schema.org `Event`, for `<script type="application/ld+json">`.

    Times are ISO 8601 in Amsterdam with their offset. Offers: the entry ticket when there
    is one, and one per meal (its suggested price; pay-what-you-can adds the minimum), sold
    out when no meals are left. The organizer is the host collective, or the cooperative.
    Needs the event's host and meals loaded; the template turns it into JSON with `tojson`.
    """
    url = external_url("events.show", slug=event.slug)
    zone = local_zone()
    data = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": event.title,
        "description": event.description or event.summary,
        "url": url,
        "startDate": event.starts_at.astimezone(zone).isoformat(timespec="seconds"),
        "endDate": event.ends_at.astimezone(zone).isoformat(timespec="seconds"),
        "eventStatus": SCHEMA
        + ("EventCancelled" if event.status == EventStatus.CANCELLED else "EventScheduled"),
        "eventAttendanceMode": SCHEMA + "OfflineEventAttendanceMode",
        "location": {
            "@type": "Place",
            "name": event.venue or event.address,
            "address": event.address or event.venue,
        },
        "isAccessibleForFree": not event.ticket_price_cents,
    }
    collective = event.host
    if collective is not None:
        data["organizer"] = {
            "@type": "Organization",
            "name": collective.name,
            "url": collective.website or external_url("collectives.show", slug=collective.slug),
        }
    else:
        data["organizer"] = {
            "@type": "Organization",
            "name": "MeentCoop",
            "url": external_url("public.index"),
        }
    offers = []
    if event.ticket_price_cents:
        offers.append(_offer(_("Entry"), event.ticket_price_cents, event.is_full, url))
    for meal in event.meal_options:
        offer = _offer(meal.name, meal.suggested_cents, meal.meals_left == 0, url)
        if meal.pay_what_you_can:
            offer["priceSpecification"] = {
                "@type": "PriceSpecification",
                "price": _euros(meal.suggested_cents),
                "minPrice": _euros(meal.pwyc_min_cents),
                "priceCurrency": "EUR",
            }
        if meal.signup_deadline is not None:
            offer["validThrough"] = meal.signup_deadline.astimezone(zone).isoformat(
                timespec="seconds"
            )
        offers.append(offer)
    if offers:
        data["offers"] = offers
    if event.capacity is not None:
        data["maximumAttendeeCapacity"] = event.capacity
        data["remainingAttendeeCapacity"] = event.seats_left
    return data


def published_event(slug: str) -> Event:
    """The event with this slug, with its meals and host; 404 for a draft or none."""
    event = (
        db.session.scalars(
            sa.select(Event)
            .where(Event.slug == slug, Event.status != EventStatus.DRAFT)
            .options(sa.orm.joinedload(Event.meal_options), sa.orm.joinedload(Event.collective))
        )
        .unique()
        .one_or_none()
    )
    if event is None:
        abort(404)
    return event


def meeting_page(event: Event):
    """For a general meeting's event: a redirect to the meeting's page, where members
    register (the event is for active members only); None for any other event."""
    if event.meeting is None:
        return None
    return redirect(url_for("meetings.show", slug=event.meeting.slug), code=303)


def registration_form(event, formdata=None) -> RegistrationForm:
    """The event's registration form; a logged-in person finds their own details in it."""
    form = RegistrationForm(event, formdata=formdata)
    if formdata is None and current_user.is_authenticated:
        form.contact_name.data = current_user.name
        form.contact_email.data = current_user.email
        form.people[0].form.name.data = current_user.name
    return form


def render_event(event, form: RegistrationForm, status: int = 200):
    """The event page with its form, or only the form when htmx asked for it."""
    # The running total (`registration-total`) is picked out of the form by htmx.
    if htmx and htmx.target in ("registration", "registration-total"):
        return render_template("registrations/_form.html", event=event, form=form), status
    return render_template("events/show.html", event=event, form=form), status


@bp.get("/<slug>.ics")
def calendar(slug: str):
    """One event as a calendar file."""
    event = published_event(slug)
    return Response(
        event_calendar([event], name=event.title),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{event.slug}.ics"'},
    )


@bp.get("/<slug>")
@cached_page
def show(slug: str):
    """One event with everything at a glance, and its registration form; a general
    meeting's event sends everyone to the meeting's page, which shows each what they
    may see (the public: that it exists, its title and its time)."""
    event = published_event(slug)
    to_meeting = meeting_page(event)
    if to_meeting is not None:
        return to_meeting
    keep_until(event.clock_changes_at(utcnow()))
    return render_event(event, registration_form(event))
