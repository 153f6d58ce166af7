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
- The event list has the filters of the site's event list (`EventFilterForm`, one query in
  `services/event_list.py`), refused with a 400 where the page would have forgiven them;
  the list of collectives likewise has the directory's (`CollectiveFilterForm`).
- Text search lowers case with the database's `lower()`: on SQLite that folds only A-Z.
- What is answered and what the document says come from one source, the models in
  `api_models.py`; the document is put together in `api_document.py`. Both are imported
  by the routes when first asked: Pydantic and the models cost a web worker some 9 MB,
  which a worker that never answers the API goes without.
"""

import re
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, default_exceptions

from ..extensions import db
from ..forms.filters import CollaborationFilterForm, CollectiveFilterForm, EventFilterForm
from ..models import Event, EventStatus
from ..page_cache import cached_page
from ..services import collaboration_register as register
from ..services import collectives as directory
from ..services.event_list import count_events, filtered_events

if TYPE_CHECKING:
    from .api_models import OpenData

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Paging: `limit` and `offset` (also the bounds the answers' models and the document state).
LIMIT_DEFAULT = 50
LIMIT_MAX = 200
OFFSET_MAX = 1_000_000

_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


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


def paging() -> tuple[int, int]:
    """`limit` and `offset`, refused (BadParameter) when not whole numbers in range."""
    return (
        whole_number("limit", LIMIT_DEFAULT, LIMIT_MAX),
        whole_number("offset", 0, OFFSET_MAX),
    )


def filters_and_paging(form_class) -> tuple:
    """The filters of a list (`form_class` over the query string), then `limit` and
    `offset`; refused (BadParameter) when paging is out of range, then when a filter is."""
    limit, offset = paging()
    form = form_class(request.args)
    if not form.validate():
        raise BadParameter(form.first_error())
    return form.filters, limit, offset


def list_page(form_class, count, find) -> tuple[list, dict]:
    """One page of a list, said once for every list: the filters (`filters_and_paging`),
    `count(filters)` of all that match, and `find(filters, offset, limit)` for the page,
    asked only when there is one to show (not for `limit` 0, nor past the end). Returns the
    page and the `count`, `limit` and `offset` its answer states."""
    filters, limit, offset = filters_and_paging(form_class)
    total = count(filters)
    page = find(filters, offset, limit) if limit and offset < total else []
    return page, {"count": total, "limit": limit, "offset": offset}


def answer(model: "OpenData") -> Response:
    """`model` as JSON, written as the document describes it."""
    return jsonify(model.model_dump(mode="json"))


# --- Routes ------------------------------------------------------------------------------


@bp.get("/events")
@cached_page
def events():
    """Upcoming published events, soonest first, filtered as the event list is and paged;
    400 for bad parameters. A fixed number of queries."""
    from . import api_models as answers

    page, counted = list_page(
        EventFilterForm,
        count_events,
        lambda filters, offset, limit: db.session.scalars(
            filtered_events(filters).limit(limit).offset(offset)
        ).all(),
    )
    return answer(answers.EventList(events=[answers.Event.of(event) for event in page], **counted))


@bp.get("/events/<slug>")
@cached_page
def event(slug: str):
    """One published or cancelled event, past or upcoming; 404 for a draft or none."""
    from . import api_models as answers

    found = db.session.scalar(
        sa.select(Event)
        .where(Event.slug == slug, Event.status != EventStatus.DRAFT)
        .options(sa.orm.selectinload(Event.collective), sa.orm.selectinload(Event.meal_options))
    )
    if found is None:
        abort(404)
    return answer(answers.Event.of(found))


@bp.get("/collectives")
@cached_page
def collectives():
    """Published collectives by name, filtered by domain, neighbourhood and text, and paged;
    400 for bad parameters. A fixed number of queries."""
    from . import api_models as answers

    page, counted = list_page(
        CollectiveFilterForm, directory.count_collectives, directory.find_collectives
    )
    upcoming = directory.next_events([collective.id for collective in page])
    return answer(
        answers.CollectiveList(
            collectives=[answers.Collective.of(c, upcoming.get(c.id)) for c in page], **counted
        )
    )


@bp.get("/domains")
@cached_page
def domains():
    """Every domain with its published collectives and their upcoming events counted."""
    from . import api_models as answers

    return answer(
        answers.DomainList(
            domains=[answers.Domain.of(summary) for summary in directory.domain_overview()]
        )
    )


@bp.get("/collaborations")
@cached_page
def collaborations():
    """Published collaborations, the last changed first, filtered as the register is
    (kind, domain, status, organisation, text) and paged; 400 for bad parameters, also a
    kind or status that does not exist. A fixed number of queries."""
    from . import api_collaborations as answers

    page, counted = list_page(
        CollaborationFilterForm, register.count_collaborations, register.find_collaborations
    )
    return answer(
        answers.CollaborationList(
            collaborations=[answers.CollaborationSummary.of(c) for c in page], **counted
        )
    )


@bp.get("/collaborations/<slug>")
@cached_page
def collaboration(slug: str):
    """One published collaboration with its commitments, progress, linked events and
    shared costs; 404 for an unpublished one or none."""
    from . import api_collaborations as answers

    found = register.collaboration_by_slug(slug)
    if found is None or not found.is_published:
        abort(404)
    return answer(answers.Collaboration.of(found, register.linked_events(found)))


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this API, with this site as its server."""
    from .api_document import document

    return jsonify({**document(), "servers": [{"url": current_app.config["BASE_URL"]}]})


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
