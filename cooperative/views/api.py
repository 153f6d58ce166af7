"""Read-only public JSON (open data), described by an OpenAPI document.

Everything here is public: events that are published (or cancelled, when asked for by
slug), their meals, seats and meals left, and the host collective when it is published.
Never anything about the people who registered.

Choices the brief left open, written down here:
- `count` in the list is the number of events matching the filters, not only those on this
  page (as in most paged APIs), so a client knows when to stop paging.
- An empty parameter (`?q=`) counts as absent, as an HTML form would send it.
- A collective that is not published is not shown as a host, and filtering on its slug
  finds nothing: its page is not public either.
- Error messages are in English, not translated: they are read by programmers.
- Text search lowers case with the database's `lower()`: on SQLite that folds only A-Z.
"""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, default_exceptions

from ..extensions import db
from ..models import DIETS, Collective, Domain, Event, EventStatus, MealOption
from ..page_cache import cached_page
from ..services import collectives as directory
from ..services.collectives import CollectiveFilters
from ..services.mail import external_url

bp = Blueprint("api", __name__, url_prefix="/api/v1")

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
LIMIT_DEFAULT = 50
LIMIT_MAX = 200
OFFSET_MAX = 1_000_000
TEXT_MAX = 200
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


class BadParameter(ValueError):
    """A query parameter the API refuses; the message says which and why."""


# --- Reading the query string ------------------------------------------------------------


def whole_number(name: str, default: int, maximum: int) -> int:
    """The parameter `name` as a whole number from 0 to `maximum`, or `default` when absent.

    Refuses (BadParameter) anything else: signs, decimals, words, numbers too large.
    """
    raw = request.args.get(name, "")
    if raw == "":
        return default
    if not _WHOLE_NUMBER.fullmatch(raw) or int(raw) > maximum:
        raise BadParameter(f"{name} must be a whole number from 0 to {maximum}")
    return int(raw)


def text(name: str) -> str | None:
    """The parameter `name` as text, or None when absent or empty.

    Refuses (BadParameter) text longer than TEXT_MAX characters or with control characters
    (PostgreSQL cannot even compare a NUL character).
    """
    raw = request.args.get(name, "")
    if raw == "":
        return None
    if len(raw) > TEXT_MAX:
        raise BadParameter(f"{name} must be at most {TEXT_MAX} characters")
    if _CONTROL_CHARACTER.search(raw):
        raise BadParameter(f"{name} must not contain control characters")
    return raw


# --- Events as JSON ----------------------------------------------------------------------


def local_time(moment: datetime | None) -> str | None:
    """An ISO 8601 time in Amsterdam with its offset, to the second: `2026-12-06T17:30:00+01:00`."""
    if moment is None:
        return None
    return moment.astimezone(AMSTERDAM).isoformat(timespec="seconds")


def host_json(collective: Collective | None) -> dict | None:
    """The host collective's public face, or None when there is none or it is not published."""
    if collective is None or not collective.is_published:
        return None
    return {
        "slug": collective.slug,
        "name": collective.name,
        "url": external_url("collectives.show", slug=collective.slug),
    }


def meal_option_json(option: MealOption) -> dict:
    """One meal: price, pay-what-you-can range, meals left, deadline and diets."""
    return {
        "id": option.id,
        "name": option.name,
        "price_cents": option.price_cents,
        "pay_what_you_can": (
            {"min_cents": option.pwyc_min_cents, "suggested_cents": option.suggested_cents}
            if option.pay_what_you_can
            else None
        ),
        "capacity": option.capacity,
        "meals_left": option.meals_left,
        "signup_deadline": local_time(option.signup_deadline),
        "diets": list(option.diets or []),
    }


def event_json(event: Event) -> dict:
    """An event as open data. Needs its host and meals loaded; adds no personal data."""
    return {
        "slug": event.slug,
        "title": event.title,
        "summary": event.summary,
        "description": event.description,
        "url": external_url("events.show", slug=event.slug),
        "ics_url": external_url("events.calendar", slug=event.slug),
        "starts_at": local_time(event.starts_at),
        "ends_at": local_time(event.ends_at),
        "status": str(event.status),
        "venue": event.venue,
        "address": event.address,
        "audience": event.audience,
        "capacity": event.capacity,
        "seats_left": event.seats_left,
        "ticket_price_cents": event.ticket_price_cents,
        "host": host_json(event.collective),
        "meal_options": [meal_option_json(option) for option in event.meal_options],
    }


def _with_host_and_meals(query: sa.Select) -> sa.Select:
    # One query for all hosts and one for all meals, whatever the number of events; seats
    # and meals taken come with the rows (column properties).
    return query.options(
        sa.orm.selectinload(Event.collective), sa.orm.selectinload(Event.meal_options)
    )


def filtered_upcoming(collective: str | None, domain: str | None, q: str | None) -> sa.Select:
    """Upcoming published events, soonest first, of a published collective or domain, with
    `q` in the title or summary (case-insensitive)."""
    query = Event.upcoming()
    if collective is not None:
        query = query.where(
            Event.collective.has(sa.and_(Collective.slug == collective, Collective.is_published))
        )
    if domain is not None:
        in_domain = sa.or_(
            Collective.primary_domain.has(Domain.slug == domain),
            Collective.domains.any(Domain.slug == domain),
        )
        query = query.where(Event.collective.has(sa.and_(Collective.is_published, in_domain)))
    if q is not None:
        query = query.where(
            sa.or_(
                Event.title.icontains(q, autoescape=True),
                Event.summary.icontains(q, autoescape=True),
            )
        )
    return query


# --- Routes ------------------------------------------------------------------------------


@bp.get("/events")
@cached_page
def events():
    """Upcoming published events, soonest first, filtered and paged; 400 for bad parameters."""
    limit = whole_number("limit", LIMIT_DEFAULT, LIMIT_MAX)
    offset = whole_number("offset", 0, OFFSET_MAX)
    query = filtered_upcoming(text("collective"), text("domain"), text("q"))
    count = db.session.scalar(query.with_only_columns(sa.func.count(Event.id)).order_by(None))
    page = []
    if limit and offset < count:
        page = db.session.scalars(_with_host_and_meals(query).limit(limit).offset(offset)).all()
    return jsonify(
        events=[event_json(event) for event in page], count=count, limit=limit, offset=offset
    )


@bp.get("/events/<slug>")
@cached_page
def event(slug: str):
    """One published or cancelled event, past or upcoming; 404 for a draft or none."""
    found = db.session.scalar(
        _with_host_and_meals(
            sa.select(Event).where(Event.slug == slug, Event.status != EventStatus.DRAFT)
        )
    )
    if found is None:
        abort(404)
    return jsonify(event_json(found))


def next_event_json(event: Event | None) -> dict | None:
    """The short form of a collective's next event, or None."""
    if event is None:
        return None
    return {
        "slug": event.slug,
        "title": event.title,
        "starts_at": local_time(event.starts_at),
        "url": external_url("events.show", slug=event.slug),
    }


def collective_json(collective: Collective, next_event: Event | None) -> dict:
    """A published collective as open data. Needs its domains loaded."""
    return {
        "slug": collective.slug,
        "name": collective.name,
        "summary": collective.summary,
        "description": collective.description,
        "legal_form": collective.legal_form,
        "domains": [domain.slug for domain in directory.card_domains(collective)],
        "neighbourhood": collective.neighbourhood,
        "founded_year": collective.founded_year,
        "website": collective.website or None,
        "contact_email": collective.contact_email or None,
        "url": external_url("collectives.show", slug=collective.slug),
        "events_ics_url": external_url("collectives.feed", slug=collective.slug),
        "next_event": next_event_json(next_event),
    }


@bp.get("/collectives")
@cached_page
def collectives():
    """Published collectives by name, filtered by domain, neighbourhood and text, and paged;
    400 for bad parameters. A fixed number of queries."""
    limit = whole_number("limit", LIMIT_DEFAULT, LIMIT_MAX)
    offset = whole_number("offset", 0, OFFSET_MAX)
    filters = CollectiveFilters(
        domain=text("domain") or "", neighbourhood=text("neighbourhood") or "", q=text("q") or ""
    )
    count = directory.count_collectives(filters)
    page = []
    if limit and offset < count:
        page = directory.find_collectives(filters, offset, limit)
    upcoming = directory.next_events([collective.id for collective in page])
    return jsonify(
        collectives=[collective_json(c, upcoming.get(c.id)) for c in page],
        count=count,
        limit=limit,
        offset=offset,
    )


@bp.get("/domains")
@cached_page
def domains():
    """Every domain with its published collectives and their upcoming events counted."""
    return jsonify(
        domains=[
            {
                "slug": summary.domain.slug,
                "name_nl": summary.domain.name_nl,
                "name_en": summary.domain.name_en,
                "collectives": summary.collectives,
                "upcoming_events": summary.upcoming_events,
                "url": external_url("collectives.index", domain=summary.domain.slug),
            }
            for summary in directory.domain_overview()
        ]
    )


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API, with this site as its server."""
    return jsonify({**OPENAPI, "servers": [{"url": current_app.config["BASE_URL"]}]})


# --- Errors and headers ------------------------------------------------------------------


@bp.errorhandler(BadParameter)
def bad_parameter(error: BadParameter):
    """A refused parameter: 400 with the message that says which and why."""
    return jsonify(error=str(error)), 400


def http_error(error: HTTPException):
    """Errors as JSON (`{"error": "not found"}`), not as the site's HTML page."""
    return jsonify(error=(error.name or "error").lower()), error.code


# By code, not by class: Flask prefers the app's handler for a code (errors.py) over a
# blueprint's handler for a class.
for _code in default_exceptions:
    if _code < 500:
        bp.register_error_handler(_code, http_error)


@bp.errorhandler(500)
def server_error(error):
    """A 500 as JSON; the half-done transaction is undone first."""
    db.session.rollback()
    return jsonify(error="internal server error"), 500


@bp.after_request
def open_data_headers(response: Response) -> Response:
    """Any site may read the API from a browser: it is open data and needs no cookie."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --- The OpenAPI document ----------------------------------------------------------------
# Add a new route as one entry in PATHS, its objects in SCHEMAS, and an example built from
# the same fields: tests/test_api.py checks that every route under /api/v1 is described and
# that the examples have exactly the keys their schemas require.


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(description: str, properties: dict) -> dict:
    """A schema for an object whose properties are all required (null where allowed)."""
    return {
        "type": "object",
        "description": description,
        "required": list(properties),
        "properties": properties,
    }


def _json(schema: dict, example, description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema, "example": example}},
    }


_TIME = {"type": "string", "format": "date-time"}
_CENTS = {"type": "integer", "minimum": 0, "description": "Euro cents."}
_URL = {"type": "string", "format": "uri"}

SCHEMAS = {
    "Error": _object(
        "What went wrong.",
        {"error": {"type": "string", "description": "A short message in English."}},
    ),
    "Host": _object(
        "The collective that hosts an event.",
        {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "url": {**_URL, "description": "The collective's page."},
        },
    ),
    "PayWhatYouCan": _object(
        "A meal people pay for as they can: at least the minimum, the suggested amount "
        "unless they choose another.",
        {"min_cents": _CENTS, "suggested_cents": _CENTS},
    ),
    "MealOption": _object(
        "A meal people can sign up for at an event.",
        {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "price_cents": {**_CENTS, "description": "Price of one meal in euro cents."},
            "pay_what_you_can": _nullable(_ref("schemas", "PayWhatYouCan")),
            "capacity": {
                "type": ["integer", "null"],
                "description": "Meals that can be served; null when there is no limit.",
            },
            "meals_left": {
                "type": ["integer", "null"],
                "minimum": 0,
                "description": "Meals not yet taken; null when there is no limit.",
            },
            "signup_deadline": {
                **_TIME,
                "type": ["string", "null"],
                "description": "Sign-up for this meal closes then (Amsterdam time).",
            },
            "diets": {
                "type": "array",
                "items": {"type": "string", "enum": list(DIETS)},
                "description": "Diets the kitchen can cook for.",
            },
        },
    ),
    "Event": _object(
        "Something people come to: an evening, a workshop, a meeting, often with a meal.",
        {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "summary": {"type": "string"},
            "description": {"type": "string"},
            "url": {**_URL, "description": "The event's page, with its registration form."},
            "ics_url": {**_URL, "description": "The event as a calendar file."},
            "starts_at": {**_TIME, "description": "Amsterdam time with its offset."},
            "ends_at": {**_TIME, "description": "Amsterdam time with its offset."},
            "status": {"type": "string", "enum": ["published", "cancelled"]},
            "venue": {"type": "string"},
            "address": {"type": "string"},
            "audience": {"type": "string", "description": "Who the event is for."},
            "capacity": {
                "type": ["integer", "null"],
                "description": "Seats; null when there is no limit.",
            },
            "seats_left": {
                "type": ["integer", "null"],
                "minimum": 0,
                "description": "Seats not yet taken; null when there is no limit.",
            },
            "ticket_price_cents": {**_CENTS, "description": "Price per person in euro cents."},
            "host": _nullable(_ref("schemas", "Host")),
            "meal_options": {"type": "array", "items": _ref("schemas", "MealOption")},
        },
    ),
    "EventList": _object(
        "One page of upcoming events, soonest first.",
        {
            "events": {"type": "array", "items": _ref("schemas", "Event")},
            "count": {
                "type": "integer",
                "minimum": 0,
                "description": "Events matching the filters, on all pages together.",
            },
            "limit": {"type": "integer", "minimum": 0, "maximum": LIMIT_MAX},
            "offset": {"type": "integer", "minimum": 0, "maximum": OFFSET_MAX},
        },
    ),
    "NextEvent": _object(
        "The next event a collective hosts.",
        {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "starts_at": {**_TIME, "description": "Amsterdam time with its offset."},
            "url": {**_URL, "description": "The event's page."},
        },
    ),
    "Collective": _object(
        "A published collective: an energy co-op, a food collective, a city village...",
        {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "summary": {"type": "string", "description": "One line about the collective."},
            "description": {"type": "string"},
            "legal_form": {"type": "string"},
            "domains": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Slugs of the domains it works in, its main domain first.",
            },
            "neighbourhood": {"type": "string"},
            "founded_year": {"type": ["integer", "null"]},
            "website": {**_URL, "type": ["string", "null"]},
            "contact_email": {"type": ["string", "null"], "format": "email"},
            "url": {**_URL, "description": "The collective's page."},
            "events_ics_url": {**_URL, "description": "Its events as a calendar feed."},
            "next_event": _nullable(_ref("schemas", "NextEvent")),
        },
    ),
    "CollectiveList": _object(
        "One page of published collectives, by name.",
        {
            "collectives": {"type": "array", "items": _ref("schemas", "Collective")},
            "count": {
                "type": "integer",
                "minimum": 0,
                "description": "Collectives matching the filters, on all pages together.",
            },
            "limit": {"type": "integer", "minimum": 0, "maximum": LIMIT_MAX},
            "offset": {"type": "integer", "minimum": 0, "maximum": OFFSET_MAX},
        },
    ),
    "Domain": _object(
        "An area of the economy the collectives work in.",
        {
            "slug": {"type": "string"},
            "name_nl": {"type": "string"},
            "name_en": {"type": "string"},
            "collectives": {
                "type": "integer",
                "minimum": 0,
                "description": "Published collectives working in it (main or other domain).",
            },
            "upcoming_events": {
                "type": "integer",
                "minimum": 0,
                "description": "Upcoming published events of those collectives.",
            },
            "url": {**_URL, "description": "The directory filtered on this domain."},
        },
    ),
    "DomainList": _object(
        "Every domain, in the cooperative's order.",
        {"domains": {"type": "array", "items": _ref("schemas", "Domain")}},
    ),
}

# Text parameters refuse control characters (see `text`): the pattern says so.
_TEXT_PARAMETER = {
    "type": "string",
    "maxLength": TEXT_MAX,
    "pattern": "^[^\\u0000-\\u001f\\u007f]*$",
}

PARAMETERS = {
    "limit": {
        "name": "limit",
        "in": "query",
        "description": "How many to give at most.",
        "schema": {"type": "integer", "minimum": 0, "maximum": LIMIT_MAX, "default": 50},
    },
    "offset": {
        "name": "offset",
        "in": "query",
        "description": "How many to pass over first.",
        "schema": {"type": "integer", "minimum": 0, "maximum": OFFSET_MAX, "default": 0},
    },
    "collective": {
        "name": "collective",
        "in": "query",
        "description": "Only events hosted by the collective with this slug.",
        "schema": _TEXT_PARAMETER,
    },
    "domain": {
        "name": "domain",
        "in": "query",
        "description": "Only events hosted by a collective working in the domain with this "
        "slug (its main domain or another).",
        "schema": _TEXT_PARAMETER,
    },
    "q": {
        "name": "q",
        "in": "query",
        "description": "Only events with this text in their title or summary (any case).",
        "schema": _TEXT_PARAMETER,
    },
    "slug": {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
    "collective_domain": {
        "name": "domain",
        "in": "query",
        "description": "Only collectives working in the domain with this slug (their main "
        "domain or another).",
        "schema": _TEXT_PARAMETER,
    },
    "neighbourhood": {
        "name": "neighbourhood",
        "in": "query",
        "description": "Only collectives in exactly this neighbourhood.",
        "schema": _TEXT_PARAMETER,
    },
    "collective_q": {
        "name": "q",
        "in": "query",
        "description": "Only collectives with every word of this text in their name, summary, "
        "description or neighbourhood (any case).",
        "schema": _TEXT_PARAMETER,
    },
}

HOST_EXAMPLE = {
    "slug": "zonnedak",
    "name": "Zonnedak",
    "url": "https://meentcoop.example/collectives/zonnedak",
}
MEAL_OPTION_EXAMPLE = {
    "id": 7,
    "name": "Diner vanaf 17:30",
    "price_cents": 0,
    "pay_what_you_can": {"min_cents": 300, "suggested_cents": 500},
    "capacity": 80,
    "meals_left": 23,
    "signup_deadline": "2026-12-05T12:00:00+01:00",
    "diets": ["vegetarian", "vegan", "halal"],
}
EVENT_EXAMPLE = {
    "slug": "lancering-meentcoop",
    "title": "Lancering MeentCoop",
    "summary": "Diner, opening en borrel voor iedereen.",
    "description": "Vanaf 17:30 eten we samen. Om 20:00 de borrel.",
    "url": "https://meentcoop.example/events/lancering-meentcoop",
    "ics_url": "https://meentcoop.example/events/lancering-meentcoop.ics",
    "starts_at": "2026-12-06T17:30:00+01:00",
    "ends_at": "2026-12-06T22:00:00+01:00",
    "status": "published",
    "venue": "Buurthuis De Meent",
    "address": "Voorbeeldstraat 1, Amsterdam",
    "audience": "Iedereen, alle leeftijden",
    "capacity": 120,
    "seats_left": 41,
    "ticket_price_cents": 0,
    "host": HOST_EXAMPLE,
    "meal_options": [MEAL_OPTION_EXAMPLE],
}

NEXT_EVENT_EXAMPLE = {
    "slug": "zonnepanelen-avond",
    "title": "Zonnepanelen avond",
    "starts_at": "2026-11-12T19:30:00+01:00",
    "url": "https://meentcoop.example/events/zonnepanelen-avond",
}
COLLECTIVE_EXAMPLE = {
    "slug": "zonnedak",
    "name": "Zonnedak",
    "summary": "Zonnepanelen op de daken van Oost.",
    "description": "Een energiecoöperatie van buren.",
    "legal_form": "Coöperatie U.A.",
    "domains": ["energie", "wonen"],
    "neighbourhood": "Oost",
    "founded_year": 2019,
    "website": "https://zonnedak.example",
    "contact_email": "info@zonnedak.example",
    "url": "https://meentcoop.example/collectives/zonnedak",
    "events_ics_url": "https://meentcoop.example/collectives/zonnedak/events.ics",
    "next_event": NEXT_EVENT_EXAMPLE,
}
DOMAIN_EXAMPLE = {
    "slug": "energie",
    "name_nl": "Energie",
    "name_en": "Energy",
    "collectives": 3,
    "upcoming_events": 2,
    "url": "https://meentcoop.example/collectives?domain=energie",
}

RESPONSES = {
    "BadRequest": _json(
        _ref("schemas", "Error"),
        {"error": f"limit must be a whole number from 0 to {LIMIT_MAX}"},
        "A parameter is not valid; the message says which.",
    ),
    "NotFound": _json(_ref("schemas", "Error"), {"error": "not found"}, "There is no such thing."),
}

PATHS = {
    "/api/v1/events": {
        "get": {
            "operationId": "listEvents",
            "summary": "Upcoming published events",
            "description": "Events that are published and have not ended, soonest first. An "
            "unknown collective or domain gives an empty list.",
            "tags": ["events"],
            "parameters": [
                _ref("parameters", name)
                for name in ("collective", "domain", "q", "limit", "offset")
            ],
            "responses": {
                "200": _json(
                    _ref("schemas", "EventList"),
                    {"events": [EVENT_EXAMPLE], "count": 1, "limit": 50, "offset": 0},
                    "One page of events.",
                ),
                "400": _ref("responses", "BadRequest"),
            },
        }
    },
    "/api/v1/events/{slug}": {
        "get": {
            "operationId": "getEvent",
            "summary": "One event",
            "description": "A published or cancelled event, also after it took place.",
            "tags": ["events"],
            "parameters": [_ref("parameters", "slug")],
            "responses": {
                "200": _json(_ref("schemas", "Event"), EVENT_EXAMPLE, "The event."),
                "404": _ref("responses", "NotFound"),
            },
        }
    },
    "/api/v1/collectives": {
        "get": {
            "operationId": "listCollectives",
            "summary": "Published collectives",
            "description": "The directory of collectives, by name. An unknown domain or "
            "neighbourhood gives an empty list.",
            "tags": ["collectives"],
            "parameters": [
                _ref("parameters", name)
                for name in (
                    "collective_domain",
                    "neighbourhood",
                    "collective_q",
                    "limit",
                    "offset",
                )
            ],
            "responses": {
                "200": _json(
                    _ref("schemas", "CollectiveList"),
                    {"collectives": [COLLECTIVE_EXAMPLE], "count": 1, "limit": 50, "offset": 0},
                    "One page of collectives.",
                ),
                "400": _ref("responses", "BadRequest"),
            },
        }
    },
    "/api/v1/domains": {
        "get": {
            "operationId": "listDomains",
            "summary": "Domains with counts",
            "description": "Every domain with its published collectives and their upcoming "
            "events counted.",
            "tags": ["collectives"],
            "responses": {
                "200": _json(
                    _ref("schemas", "DomainList"),
                    {"domains": [DOMAIN_EXAMPLE]},
                    "The domains.",
                ),
            },
        }
    },
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "getOpenApiDocument",
            "summary": "This document",
            "tags": ["meta"],
            "responses": {
                "200": {
                    "description": "The OpenAPI 3.1 document of this API.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
}

OPENAPI = {
    "openapi": "3.1.0",
    "info": {
        "title": "MeentCoop open data",
        "version": "1.0.0",
        "description": "Read-only public data of the cooperative: upcoming events with their "
        "meals and seats left, the collectives and the domains they work in. Open to "
        "everyone, from any site (CORS), without a key. "
        "Times are Amsterdam time with their offset; money is in euro cents.",
    },
    "tags": [
        {"name": "events", "description": "Events and their meals."},
        {"name": "collectives", "description": "The directory of collectives and domains."},
        {"name": "meta", "description": "About this API."},
    ],
    "paths": PATHS,
    "components": {"schemas": SCHEMAS, "parameters": PARAMETERS, "responses": RESPONSES},
}
