"""The OpenAPI 3.1 document of the open-data API.

Its schemas are generated from the models the API answers with (`api_models.py`) and its
examples are instances of those models, so neither can differ from a real answer. The
text parameters take their limits from the forms that read them (`forms/filters.py`).
Add a new route as one entry in `paths()`: tests/test_api.py checks that every route
under /api/v1 is described and that every schema has an example.
"""

from functools import cache

from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from ..forms.filters import PLAIN_TEXT_PATTERN, TEXT_MAX
from ..services import collaboration_register as register
from ..services.event_list import PERIOD_DAYS
from . import api_collaborations as collaborations
from . import api_models as answers
from .api import LIMIT_DEFAULT, LIMIT_MAX, OFFSET_MAX

MODELS = (
    answers.Error,
    answers.Host,
    answers.PayWhatYouCan,
    answers.MealOption,
    answers.Event,
    answers.EventList,
    answers.NextEvent,
    answers.Collective,
    answers.CollectiveList,
    answers.Domain,
    answers.DomainList,
    *collaborations.MODELS,
)


class _OpenApiSchema(GenerateJsonSchema):
    """Pydantic's JSON Schema, without a title on every property (the names say it)."""

    def field_title_should_be_set(self, schema) -> bool:
        return False


def schemas() -> dict:
    """The JSON Schema of every answer model, by name, referring to each other as OpenAPI
    components."""
    _, top = models_json_schema(
        [(model, "serialization") for model in MODELS],
        ref_template="#/components/schemas/{model}",
        schema_generator=_OpenApiSchema,
    )
    return top["$defs"]


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema: dict, example, description: str) -> dict:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": schema, "example": example.model_dump(mode="json")}
        },
    }


# Text parameters are refused when longer or with control characters (forms/filters.py).
_TEXT = {"type": "string", "maxLength": TEXT_MAX, "pattern": PLAIN_TEXT_PATTERN}


def _query(name: str, description: str, schema: dict = _TEXT) -> dict:
    return {"name": name, "in": "query", "description": description, "schema": schema}


PARAMETERS = {
    "limit": _query(
        "limit",
        "How many to give at most.",
        {"type": "integer", "minimum": 0, "maximum": LIMIT_MAX, "default": LIMIT_DEFAULT},
    ),
    "offset": _query(
        "offset",
        "How many to pass over first.",
        {"type": "integer", "minimum": 0, "maximum": OFFSET_MAX, "default": 0},
    ),
    "collective": _query("collective", "Only events hosted by the collective with this slug."),
    "domain": _query(
        "domain",
        "Only events hosted by a collective working in the domain with this slug (its main "
        "domain or another).",
    ),
    "q": _query(
        "q",
        "Only events with every word of this text (the first 10) in their title, summary, "
        "description or venue (any case).",
    ),
    "period": _query(
        "period",
        "Only events starting today, in the next 7 days (`week`, today included) or the "
        "next 31 days (`month`), counted in whole days in Amsterdam.",
        {"type": "string", "enum": list(PERIOD_DAYS)},
    ),
    "slug": {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
    "kind": _query(
        "kind",
        "Only collaborations of this kind.",
        {"type": "string", "enum": list(register.KINDS)},
    ),
    "status": _query(
        "status",
        "Only collaborations in this status.",
        {"type": "string", "enum": list(register.STATUSES)},
    ),
    "collaboration_domain": _query(
        "domain", "Only collaborations working in the domain with this slug."
    ),
    "organisation": _query(
        "organisation",
        "Only collaborations in which the organisation with this slug is a party.",
    ),
    "collaboration_q": _query(
        "q",
        "Only collaborations with every word of this text (the first 10) in their title or "
        "goal (any case).",
    ),
    "collective_domain": _query(
        "domain",
        "Only collectives working in the domain with this slug (their main domain or another).",
    ),
    "neighbourhood": _query(
        "neighbourhood",
        "Only collectives in exactly this neighbourhood; spaces around and between its words "
        "are tidied (` Oost ` is `Oost`).",
    ),
    "collective_q": _query(
        "q",
        "Only collectives with every word of this text (the first 10) in their name, "
        "summary, description or neighbourhood (any case).",
    ),
}


def responses() -> dict:
    return {
        "BadRequest": _json(
            _ref("schemas", "Error"),
            answers.Error(error=f"limit must be a whole number from 0 to {LIMIT_MAX}"),
            "A parameter is not valid; the message says which.",
        ),
        "NotFound": _json(
            _ref("schemas", "Error"), answers.Error(error="not found"), "There is no such thing."
        ),
    }


def paths() -> dict:
    """Every route under /api/v1, with its parameters and answers."""
    event_list = answers.EventList(
        events=[answers.EVENT_EXAMPLE], count=1, limit=LIMIT_DEFAULT, offset=0
    )
    collective_list = answers.CollectiveList(
        collectives=[answers.COLLECTIVE_EXAMPLE], count=1, limit=LIMIT_DEFAULT, offset=0
    )
    return {
        "/api/v1/events": {
            "get": {
                "operationId": "listEvents",
                "summary": "Upcoming published events",
                "description": "Events that are published and have not ended, soonest first, "
                "with the filters of the site's event list. An unknown collective or domain "
                "gives an empty list.",
                "tags": ["events"],
                "parameters": [
                    _ref("parameters", name)
                    for name in ("collective", "domain", "q", "period", "limit", "offset")
                ],
                "responses": {
                    "200": _json(_ref("schemas", "EventList"), event_list, "One page of events."),
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
                    "200": _json(_ref("schemas", "Event"), answers.EVENT_EXAMPLE, "The event."),
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
                        collective_list,
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
                "description": "Every domain with its published collectives and their "
                "upcoming events counted.",
                "tags": ["collectives"],
                "responses": {
                    "200": _json(
                        _ref("schemas", "DomainList"),
                        answers.DomainList(domains=[answers.DOMAIN_EXAMPLE]),
                        "The domains.",
                    ),
                },
            }
        },
        "/api/v1/collaborations": {
            "get": {
                "operationId": "listCollaborations",
                "summary": "Published collaborations with the city",
                "description": "Koppels, Green Deals, clusters and other collaborations that "
                "are published, the last changed first, with the filters of the site's "
                "register. An unknown domain or organisation gives an empty list.",
                "tags": ["collaborations"],
                "parameters": [
                    _ref("parameters", name)
                    for name in (
                        "kind",
                        "status",
                        "collaboration_domain",
                        "organisation",
                        "collaboration_q",
                        "limit",
                        "offset",
                    )
                ],
                "responses": {
                    "200": _json(
                        _ref("schemas", "CollaborationList"),
                        collaborations.CollaborationList(
                            collaborations=[collaborations.COLLABORATION_SUMMARY_EXAMPLE],
                            count=1,
                            limit=LIMIT_DEFAULT,
                            offset=0,
                        ),
                        "One page of collaborations.",
                    ),
                    "400": _ref("responses", "BadRequest"),
                },
            }
        },
        "/api/v1/collaborations/{slug}": {
            "get": {
                "operationId": "getCollaboration",
                "summary": "One collaboration",
                "description": "A published collaboration with its parties, commitments "
                "and their progress, linked events and shared costs.",
                "tags": ["collaborations"],
                "parameters": [_ref("parameters", "slug")],
                "responses": {
                    "200": _json(
                        _ref("schemas", "Collaboration"),
                        collaborations.COLLABORATION_EXAMPLE,
                        "The collaboration.",
                    ),
                    "404": _ref("responses", "NotFound"),
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


@cache
def document() -> dict:
    """The whole document but its `servers`, built once per process (needs the app: the
    examples' times are written in its time zone)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "MeentCoop open data",
            "version": "1.0.0",
            "description": "Read-only public data of the cooperative: upcoming events with "
            "their meals and seats left, the collectives and the domains they work in, and the "
            "collaborations with the city. Open "
            "to everyone, from any site (CORS), without a key. Times are Amsterdam time with "
            "their offset; money is in euro cents.",
        },
        "tags": [
            {"name": "events", "description": "Events and their meals."},
            {"name": "collectives", "description": "The directory of collectives and domains."},
            {
                "name": "collaborations",
                "description": "Koppels, Green Deals and clusters with the city: parties, "
                "commitments, progress and shared costs.",
            },
            {"name": "meta", "description": "About this API."},
        ],
        "paths": paths(),
        "components": {
            "schemas": schemas(),
            "parameters": PARAMETERS,
            "responses": responses(),
        },
    }
