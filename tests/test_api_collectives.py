"""The open-data API for collectives and domains, and their place in the OpenAPI document."""

from datetime import timedelta

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_schema_validator import validate as validate_schema

from cooperative.models import EventStatus
from tests.factories import make_collective, make_domain, make_event


@pytest.fixture
def world(app):
    with app.app_context():
        energie = make_domain("energie", "Energie", "Energy", position=1)
        wonen = make_domain("wonen", "Wonen", "Housing", position=2)
        make_domain("zorg", "Zorg", "Care", position=3)
        zonnedak = make_collective(
            "zonnedak",
            "Zonnedak Oost",
            domain=energie,
            domains=[wonen],
            neighbourhood="Oost",
            summary="Panelen op daken",
            founded_year=2019,
            website="https://zonnedak.example",
        )
        make_collective("woongroep", "Woongroep West", domain=wonen, neighbourhood="West")
        geheim = make_collective(
            "geheim", "Geheim", domain=energie, neighbourhood="Oost", is_published=False
        )
        make_event("later", "Later", starts_in=timedelta(days=9), collective=zonnedak)
        make_event("eerst", "Eerst", starts_in=timedelta(days=2), collective=zonnedak)
        make_event("voorbij", "Voorbij", starts_in=timedelta(days=-2), collective=zonnedak)
        make_event(
            "concept",
            "Concept",
            starts_in=timedelta(days=1),
            collective=zonnedak,
            status=EventStatus.DRAFT,
        )
        make_event("geheim-feest", "Geheim feest", collective=geheim)


def schema_of(client, name: str) -> dict:
    document = client.get("/api/v1/openapi.json").get_json()
    return {**document["components"]["schemas"][name], "components": document["components"]}


def valid(client, name: str, body) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    validate_schema(body, schema, cls=OAS31Validator)


def slugs(body) -> list[str]:
    return [collective["slug"] for collective in body["collectives"]]


def test_the_list_of_published_collectives(client, world):
    body = client.get("/api/v1/collectives").get_json()
    valid(client, "CollectiveList", body)
    assert slugs(body) == ["woongroep", "zonnedak"]
    assert body["count"] == 2
    zonnedak = body["collectives"][1]
    assert zonnedak["domains"] == ["energie", "wonen"]
    assert zonnedak["neighbourhood"] == "Oost"
    assert zonnedak["founded_year"] == 2019
    assert zonnedak["url"] == "http://localhost/collectives/zonnedak"
    assert zonnedak["events_ics_url"] == "http://localhost/collectives/zonnedak/events.ics"
    assert zonnedak["next_event"]["slug"] == "eerst"
    assert body["collectives"][0]["next_event"] is None
    assert body["collectives"][0]["website"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("domain=energie", ["zonnedak"]),
        ("domain=wonen", ["woongroep", "zonnedak"]),
        ("domain=zorg", []),
        ("domain=onbekend", []),
        ("neighbourhood=Oost", ["zonnedak"]),
        ("neighbourhood=Noord", []),
        ("q=daken", ["zonnedak"]),
        ("q=GEHEIM", []),
        ("domain=wonen&neighbourhood=West", ["woongroep"]),
        ("domain=wonen&q=zonnedak&neighbourhood=Oost", ["zonnedak"]),
        ("q=", ["woongroep", "zonnedak"]),
        ("limit=1", ["woongroep"]),
        ("limit=1&offset=1", ["zonnedak"]),
        ("offset=5", []),
    ],
)
def test_filters(client, world, query, expected):
    response = client.get(f"/api/v1/collectives?{query}")
    assert response.status_code == 200
    assert slugs(response.get_json()) == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=-1", "limit must be a whole number"),
        ("limit=1000", "limit must be a whole number from 0 to 200"),
        ("offset=abc", "offset must be a whole number"),
        ("q=" + "x" * 201, "q must be at most 200 characters"),
        ("domain=%00", "domain must not contain control characters"),
        ("neighbourhood=a%0Ab", "neighbourhood must not contain control characters"),
    ],
)
def test_bad_parameters_are_400_json(client, world, query, message):
    response = client.get(f"/api/v1/collectives?{query}")
    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_domains_with_counts(client, world):
    body = client.get("/api/v1/domains").get_json()
    valid(client, "DomainList", body)
    assert [
        (d["slug"], d["name_en"], d["collectives"], d["upcoming_events"]) for d in body["domains"]
    ] == [
        ("energie", "Energy", 1, 2),
        ("wonen", "Housing", 2, 2),
        ("zorg", "Care", 0, 0),
    ]
    assert body["domains"][0]["url"] == "http://localhost/collectives?domain=energie"


def test_the_openapi_document_describes_both(client):
    document = client.get("/api/v1/openapi.json").get_json()
    parameters = document["paths"]["/api/v1/collectives"]["get"]["parameters"]
    names = {
        document["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]["name"]
        for p in parameters
    }
    assert names == {"domain", "neighbourhood", "q", "limit", "offset"}
    assert "/api/v1/domains" in document["paths"]
    assert schema_of(client, "Collective")["required"]


def test_cors_and_json_errors(client, world):
    response = client.get("/api/v1/collectives")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        # At the edge: 200 characters are read, 201 are refused, for each text filter.
        ("domain=" + "d" * 201, "domain must be at most 200 characters"),
        ("neighbourhood=" + "n" * 201, "neighbourhood must be at most 200 characters"),
        ("q=zon%00dak", "q must not contain control characters"),
        ("q=zon%7Fdak", "q must not contain control characters"),
        ("neighbourhood=Oost%09", "neighbourhood must not contain control characters"),
        # The first refused filter is named, in the form's order.
        ("q=%00&domain=" + "d" * 201, "domain must be at most 200 characters"),
    ],
)
def test_bad_text_filters_are_refused_with_the_apis_error(client, world, query, message):
    response = client.get(f"/api/v1/collectives?{query}")
    assert response.status_code == 400
    assert response.get_json() == {"error": message}
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("name", ["domain", "neighbourhood", "q"])
def test_a_text_filter_of_200_characters_is_read(client, world, name):
    response = client.get(f"/api/v1/collectives?{name}={'x' * 200}")
    assert response.status_code == 200
    assert response.get_json()["collectives"] == []


def test_spaces_around_a_filter_do_not_count_as_on_the_directory_page(client, world):
    body = client.get("/api/v1/collectives?neighbourhood=+Oost+&q=+daken++").get_json()
    assert slugs(body) == ["zonnedak"]
    page = client.get("/collectives?neighbourhood=+Oost+&q=+daken++").get_data(as_text=True)
    assert 'href="/collectives/zonnedak"' in page and 'href="/collectives/woongroep"' not in page


def test_the_directory_page_forgives_what_the_api_refuses(client, world):
    response = client.get("/collectives?q=zon%00nedak&neighbourhood=" + "n" * 300)
    assert response.status_code == 200
