"""The open-data JSON API under /api/v1 and its OpenAPI document."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_schema_validator import validate as validate_schema
from openapi_spec_validator import validate as validate_spec

from cooperative.extensions import db
from cooperative.models import Collective, Event, EventStatus, utcnow
from cooperative.services.registration import PersonChoice
from tests.factories import make_collective, make_domain, make_event, make_registration

NEXT_YEAR = utcnow().year + 1


def at(event: Event, starts_at: datetime, hours: int = 4) -> None:
    """Move `event` to `starts_at` (UTC) and commit."""
    event.starts_at = starts_at
    event.ends_at = starts_at + timedelta(hours=hours)
    db.session.commit()


def get_json(client, url: str, status: int = 200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def slugs(body) -> list[str]:
    return [event["slug"] for event in body["events"]]


@pytest.fixture
def launch(app):
    """The launch evening: hosted by Zonnedak (energie, also wonen), two meals, registrations."""
    with app.app_context():
        energie = make_domain()
        wonen = make_domain("wonen", "Wonen", "Housing")
        host = make_collective(domain=energie, domains=[wonen])
        event = make_event(
            slug="lancering",
            title="Lancering MeentCoop",
            summary="Diner, opening en borrel",
            description="Vanaf 17:30 eten we samen.",
            audience="Iedereen",
            capacity=100,
            ticket_price_cents=250,
            collective=host,
            meals=[
                {
                    "name": "Diner vanaf 17:30",
                    "price_cents": 0,
                    "pwyc_min_cents": 300,
                    "pwyc_suggested_cents": 600,
                    "capacity": 40,
                    "signup_deadline": datetime(NEXT_YEAR, 12, 5, 11, 0, tzinfo=UTC),
                },
                {"name": "Soep", "price_cents": 250, "capacity": None, "diets": ["vegan"]},
            ],
        )
        at(event, datetime(NEXT_YEAR, 12, 6, 16, 30, tzinfo=UTC), hours=5)
        dinner, soup = event.meal_options
        make_registration(
            event,
            [
                PersonChoice("Ada Lovelace", meal_option_id=dinner.id, diets=["vegan"]),
                PersonChoice("Bram", meal_option_id=soup.id),
                PersonChoice("Cor"),
            ],
            email="ada@example.org",
        )
        make_registration(
            event,
            [PersonChoice("Dirk Dijkstra", meal_option_id=dinner.id)],
            email="dirk@example.org",
        )
        return event.slug


def test_list_shows_an_upcoming_event_with_its_host_meals_and_what_is_left(client, launch):
    body = get_json(client, "/api/v1/events")

    assert body["count"] == 1
    assert (body["limit"], body["offset"]) == (50, 0)
    (event,) = body["events"]
    assert event == {
        "slug": "lancering",
        "title": "Lancering MeentCoop",
        "summary": "Diner, opening en borrel",
        "description": "Vanaf 17:30 eten we samen.",
        "url": "http://localhost/events/lancering",
        "ics_url": "http://localhost/events/lancering.ics",
        "starts_at": f"{NEXT_YEAR}-12-06T17:30:00+01:00",
        "ends_at": f"{NEXT_YEAR}-12-06T22:30:00+01:00",
        "status": "published",
        "venue": "Buurthuis",
        "address": "Voorbeeldstraat 1, Amsterdam",
        "audience": "Iedereen",
        "capacity": 100,
        "seats_left": 96,
        "ticket_price_cents": 250,
        "host": {
            "slug": "zonnedak",
            "name": "Zonnedak",
            "url": "http://localhost/collectives/zonnedak",
        },
        "meal_options": [
            {
                "id": event["meal_options"][0]["id"],
                "name": "Diner vanaf 17:30",
                "price_cents": 0,
                "pay_what_you_can": {"min_cents": 300, "suggested_cents": 600},
                "capacity": 40,
                "meals_left": 38,
                "signup_deadline": f"{NEXT_YEAR}-12-05T12:00:00+01:00",
                "diets": ["vegetarian", "vegan", "halal"],
            },
            {
                "id": event["meal_options"][1]["id"],
                "name": "Soep",
                "price_cents": 250,
                "pay_what_you_can": None,
                "capacity": None,
                "meals_left": None,
                "signup_deadline": None,
                "diets": ["vegan"],
            },
        ],
    }


def test_one_event_is_the_same_as_in_the_list(client, launch):
    listed = get_json(client, "/api/v1/events")["events"][0]
    assert get_json(client, "/api/v1/events/lancering") == listed


def test_no_personal_data_of_anyone(client, launch):
    for url in ("/api/v1/events", "/api/v1/events/lancering"):
        text = client.get(url).get_data(as_text=True)
        for personal in ("Ada", "Dirk", "Bram", "ada@example.org", "dirk@", "info@zonnedak"):
            assert personal not in text


def test_summer_time_has_its_own_offset_and_seats_follow_cancellations(app, client):
    with app.app_context():
        event = make_event(slug="zomerfeest", capacity=None, meals=[{"capacity": 3}])
        at(event, datetime(NEXT_YEAR, 7, 4, 15, 0, tzinfo=UTC))
        registration = make_registration(
            event, [PersonChoice("Eva", meal_option_id=event.meal_options[0].id)]
        )
        body = get_json(client, "/api/v1/events/zomerfeest")
        assert body["starts_at"] == f"{NEXT_YEAR}-07-04T17:00:00+02:00"
        assert (body["capacity"], body["seats_left"]) == (None, None)
        assert body["meal_options"][0]["meals_left"] == 2
        assert body["host"] is None

        from cooperative.services.registration import cancel

        cancel(registration)
        db.session.commit()
    assert get_json(client, "/api/v1/events/zomerfeest")["meal_options"][0]["meals_left"] == 3


def test_drafts_are_never_listed_nor_served(app, client):
    with app.app_context():
        make_event(slug="concept", status=EventStatus.DRAFT)
    assert get_json(client, "/api/v1/events") == {
        "events": [],
        "count": 0,
        "limit": 50,
        "offset": 0,
    }
    assert get_json(client, "/api/v1/events/concept", 404) == {"error": "not found"}


def test_cancelled_and_past_events_are_served_by_slug_but_not_listed(app, client):
    with app.app_context():
        make_event(slug="afgelast", status=EventStatus.CANCELLED)
        make_event(slug="vorige-week", starts_in=timedelta(days=-7))
        make_event(slug="nu-bezig", starts_in=timedelta(hours=-1))
    assert slugs(get_json(client, "/api/v1/events")) == ["nu-bezig"]
    assert get_json(client, "/api/v1/events/afgelast")["status"] == "cancelled"
    assert get_json(client, "/api/v1/events/vorige-week")["status"] == "published"


def test_unknown_slug_is_a_json_404(client):
    response = client.get("/api/v1/events/bestaat-niet")
    assert response.status_code == 404
    assert response.get_json() == {"error": "not found"}
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_an_unpublished_collective_is_no_host(app, client):
    with app.app_context():
        hidden = make_collective("verborgen", is_published=False)
        make_event(slug="buurtdiner", collective=hidden)
    assert get_json(client, "/api/v1/events/buurtdiner")["host"] is None
    assert get_json(client, "/api/v1/events?collective=verborgen")["events"] == []


@pytest.fixture
def program(app):
    """Four events a day apart: two by Zonnedak (energie + wonen), one by Moestuin
    (voedsel), one without a host."""
    with app.app_context():
        energie = make_domain()
        wonen = make_domain("wonen", "Wonen", "Housing")
        voedsel = make_domain("voedsel", "Voedsel", "Food")
        zonnedak = make_collective("zonnedak", domain=energie, domains=[wonen])
        moestuin = make_collective("moestuin", "Moestuin", domain=voedsel)
        make_event(
            "zonnepanelen",
            "Zonnepanelen op je dak",
            starts_in=timedelta(days=4),
            collective=zonnedak,
        )
        make_event("oogstfeest", "Oogstfeest", starts_in=timedelta(days=3), collective=moestuin)
        make_event(
            "buurtdiner",
            "Buurtdiner",
            starts_in=timedelta(days=2),
            summary="Koken met ZONNE-energie, 100% lokaal",
            collective=zonnedak,
        )
        make_event("open-huis", "Open huis", starts_in=timedelta(days=1))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["open-huis", "buurtdiner", "oogstfeest", "zonnepanelen"]),
        ("?collective=zonnedak", ["buurtdiner", "zonnepanelen"]),
        ("?collective=moestuin", ["oogstfeest"]),
        ("?domain=energie", ["buurtdiner", "zonnepanelen"]),
        ("?domain=wonen", ["buurtdiner", "zonnepanelen"]),
        ("?domain=voedsel", ["oogstfeest"]),
        ("?domain=voedsel&collective=zonnedak", []),
        ("?q=zonne", ["buurtdiner", "zonnepanelen"]),
        ("?q=OOGST", ["oogstfeest"]),
        ("?q=100%25", ["buurtdiner"]),
        ("?q=%25", ["buurtdiner"]),
        ("?q=_", []),
        ("?collective=bestaat-niet", []),
        ("?domain=bestaat-niet", []),
        (
            "?collective=&domain=&q=&limit=&offset=",
            ["open-huis", "buurtdiner", "oogstfeest", "zonnepanelen"],
        ),
    ],
)
def test_filters(client, program, query, expected):
    body = get_json(client, f"/api/v1/events{query}")
    assert slugs(body) == expected
    assert body["count"] == len(expected)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?limit=2", ["open-huis", "buurtdiner"]),
        ("?limit=2&offset=2", ["oogstfeest", "zonnepanelen"]),
        ("?offset=3", ["zonnepanelen"]),
        ("?offset=4", []),
        ("?offset=1000000", []),
        ("?limit=0", []),
        ("?limit=200", ["open-huis", "buurtdiner", "oogstfeest", "zonnepanelen"]),
    ],
)
def test_paging_gives_a_slice_and_the_count_of_all(client, program, query, expected):
    body = get_json(client, f"/api/v1/events{query}")
    assert slugs(body) == expected
    assert body["count"] == 4


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=abc", "limit must be a whole number from 0 to 200"),
        ("limit=-1", "limit must be a whole number from 0 to 200"),
        ("limit=201", "limit must be a whole number from 0 to 200"),
        ("limit=2.5", "limit must be a whole number from 0 to 200"),
        ("limit=+5", "limit must be a whole number from 0 to 200"),
        ("limit=%205", "limit must be a whole number from 0 to 200"),
        ("limit=%D9%A3", "limit must be a whole number from 0 to 200"),  # an Arabic 3
        ("limit=99999999999999999999999", "limit must be a whole number from 0 to 200"),
        ("offset=-3", "offset must be a whole number from 0 to 1000000"),
        ("offset=1000001", "offset must be a whole number from 0 to 1000000"),
        ("offset=9223372036854775808", "offset must be a whole number from 0 to 1000000"),
        ("q=" + "a" * 201, "q must be at most 200 characters"),
        ("q=soep%00", "q must not contain control characters"),
        ("collective=zon%00nedak", "collective must not contain control characters"),
        ("domain=" + "x" * 300, "domain must be at most 200 characters"),
    ],
)
def test_bad_parameters_get_400_with_a_message(client, program, query, message):
    response = client.get(f"/api/v1/events?{query}")
    assert response.status_code == 400
    assert response.get_json() == {"error": message}
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/events",
        "/api/v1/events?q=diner",
        "/api/v1/events/lancering",
        "/api/v1/events/bestaat-niet",
        "/api/v1/events?limit=x",
        "/api/v1/openapi.json",
    ],
)
def test_responses_are_open_json_without_a_session_cookie(client, launch, url):
    response = client.get(url)
    assert response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in response.headers
    assert client.get_cookie("session") is None


def add_events(count: int, start: int, collectives: list[Collective]) -> None:
    """`count` events with two meals and a registration each, hosted in turn by
    `collectives` or by none."""
    hosts = [*collectives, None]
    for number in range(start, start + count):
        event = make_event(
            slug=f"avond-{number}",
            starts_in=timedelta(days=1 + number),
            collective=hosts[number % len(hosts)],
            meals=[{"name": "Diner"}, {"name": "Soep", "pwyc_min_cents": 100}],
        )
        make_registration(
            event,
            [PersonChoice("Ada", meal_option_id=event.meal_options[0].id), PersonChoice("Bo")],
            email=f"ada{number}@example.org",
        )


def test_the_list_costs_the_same_queries_for_2_and_30_events(app, client, count_queries):
    with app.app_context():
        domain = make_domain()
        collectives = [make_collective(f"collectief-{n}", domain=domain) for n in range(3)]
        add_events(2, 0, collectives)
    with count_queries as counted:
        assert get_json(client, "/api/v1/events?limit=200")["count"] == 2
    queries_for_2 = counted.count

    with app.app_context():
        collectives = db.session.query(Collective).all()
        add_events(28, 2, collectives)
    with count_queries as counted:
        body = get_json(client, "/api/v1/events?limit=200")
    assert body["count"] == len(body["events"]) == 30
    assert all(event["seats_left"] == 18 for event in body["events"])
    assert counted.count == queries_for_2


# --- The OpenAPI document ----------------------------------------------------------------


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return json.loads(response.get_data(as_text=True))


def follow(document: dict, node: dict) -> tuple[dict, str | None]:
    """The object `node` points at, and the name of the last schema on the way."""
    name = None
    while "$ref" in node:
        parts = node["$ref"].removeprefix("#/").split("/")
        name = parts[-1] if parts[:2] == ["components", "schemas"] else name
        node = document
        for part in parts:
            node = node[part]
    return node, name


def assert_keys_match(document: dict, schema: dict, value, where: str, seen: set) -> None:
    """`value` has exactly the keys each object schema requires, all the way down."""
    schema, name = follow(document, schema)
    if name:
        seen.add(name)
    if "anyOf" in schema:
        branches = [follow(document, branch)[0] for branch in schema["anyOf"]]
        if value is None:
            assert {"type": "null"} in branches, f"{where} may not be null"
            return
        branch = next(b for b in schema["anyOf"] if follow(document, b)[0] != {"type": "null"})
        assert_keys_match(document, branch, value, where, seen)
        return
    if schema.get("type") == "object" and "required" in schema:
        assert isinstance(value, dict), where
        assert set(value) == set(schema["required"]), where
        for key, sub_schema in schema["properties"].items():
            assert_keys_match(document, sub_schema, value[key], f"{where}.{key}", seen)
    elif schema.get("type") == "array":
        for index, item in enumerate(value):
            assert_keys_match(document, schema["items"], item, f"{where}[{index}]", seen)


def validate_against(document: dict, schema: dict, value) -> None:
    """Validate `value` against `schema` (JSON Schema 2020-12 as OpenAPI 3.1 uses it)."""
    root = {**schema, "components": document["components"]}
    validate_schema(value, root, cls=OAS31Validator)


def json_responses(document: dict):
    """(where, schema, example) of every JSON response in the document."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                response, _ = follow(document, response)
                media = response["content"]["application/json"]
                yield f"{method.upper()} {path} {status}", media["schema"], media.get("example")


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate_spec(document)
    assert document["servers"] == [{"url": "http://localhost"}]


def test_every_api_route_is_described_and_every_description_is_a_route(app, document):
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            routes.setdefault(path, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    assert set(routes) == set(document["paths"])
    for path, methods in routes.items():
        assert {method.lower() for method in methods} == set(document["paths"][path]), path
        path_parameters = set(re.findall(r"{([^}]+)}", path))
        for operation in document["paths"][path].values():
            described = {
                parameter["name"]
                for parameter in (follow(document, p)[0] for p in operation.get("parameters", []))
                if parameter["in"] == "path"
            }
            assert described == path_parameters, path


def test_every_example_has_the_keys_its_schema_requires(document):
    seen: set[str] = set()
    examples = 0
    for where, schema, example in json_responses(document):
        if example is None:
            continue
        examples += 1
        assert_keys_match(document, schema, example, where, seen)
        validate_against(document, schema, example)
    assert examples >= 4
    object_schemas = {
        name for name, schema in document["components"]["schemas"].items() if "required" in schema
    }
    assert object_schemas <= seen, "a schema without an example"


def test_real_responses_match_the_document(client, launch, document):
    paths = document["paths"]
    for url, operation, status in [
        ("/api/v1/events", paths["/api/v1/events"]["get"], "200"),
        ("/api/v1/events?limit=-1", paths["/api/v1/events"]["get"], "400"),
        ("/api/v1/events/lancering", paths["/api/v1/events/{slug}"]["get"], "200"),
        ("/api/v1/events/nee", paths["/api/v1/events/{slug}"]["get"], "404"),
    ]:
        body = get_json(client, url, int(status))
        response, _ = follow(document, operation["responses"][status])
        schema = response["content"]["application/json"]["schema"]
        assert_keys_match(document, schema, body, url, set())
        validate_against(document, schema, body)


# --- The filters of the event list page ---------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Every word, each in the title, summary, description or venue.
        ("?q=buurthuis", ["open-huis", "buurtdiner", "oogstfeest", "zonnepanelen"]),
        ("?q=dak+zonne", ["zonnepanelen"]),
        ("?q=zonne+lokaal", ["buurtdiner"]),
        ("?q=zonne+oogst", []),
        ("?period=today", []),
        ("?period=week", ["open-huis", "buurtdiner", "oogstfeest", "zonnepanelen"]),
        ("?period=month&domain=voedsel", ["oogstfeest"]),
        ("?period=", ["open-huis", "buurtdiner", "oogstfeest", "zonnepanelen"]),
    ],
)
def test_the_list_has_the_filters_of_the_event_page(client, program, query, expected):
    body = get_json(client, f"/api/v1/events{query}")
    assert slugs(body) == expected
    assert body["count"] == len(expected)
    # The site's event list shows the same events, in the same order.
    page = client.get(f"/events{query}").get_data(as_text=True)
    shown = re.findall(r'href="/events/([a-z0-9-]+)"', page)
    assert list(dict.fromkeys(shown)) == expected


@pytest.mark.parametrize("period", ["soon", "year", "x" * 201])
def test_an_unknown_period_is_refused(client, program, period):
    response = client.get(f"/api/v1/events?period={period}")
    assert response.status_code == 400
    message = response.get_json()["error"]
    assert message in (
        "period must be one of today, week, month",
        "period must be at most 200 characters",
    )


def test_the_document_offers_the_periods_of_the_event_page(document):
    parameters = document["components"]["parameters"]
    assert parameters["period"]["schema"]["enum"] == ["today", "week", "month"]
    listed = {
        follow(document, p)[0]["name"]
        for p in document["paths"]["/api/v1/events"]["get"]["parameters"]
    }
    assert listed == {"collective", "domain", "q", "period", "limit", "offset"}
