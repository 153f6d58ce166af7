"""The open-data API of the collaborations with the city: the list with the register's
filters and paging, one collaboration with its commitments, progress, events and costs,
bad parameters refused, drafts never shown, and the answers valid by the document."""

import pytest
import sqlalchemy as sa
from openapi_schema_validator import OAS31Validator
from openapi_schema_validator import validate as validate_schema

from cooperative.extensions import db
from cooperative.models import Collaboration, utcnow
from tests import collaboration_register_fixtures
from tests.conftest import forget_pages

city = collaboration_register_fixtures.city


def valid(client, name: str, body) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    validate_schema(body, schema, cls=OAS31Validator)


def slugs(body) -> list[str]:
    return [collaboration["slug"] for collaboration in body["collaborations"]]


def test_the_list_has_published_collaborations_last_changed_first(client, city):
    response = client.get("/api/v1/collaborations")
    body = response.get_json()
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert slugs(body) == ["energiebespaarservice", "afval-westergas"]
    assert body["count"] == 2 and body["limit"] == 50 and body["offset"] == 0
    valid(client, "CollaborationList", body)
    koppel = body["collaborations"][0]
    assert koppel["kind"] == "koppel" and koppel["status"] == "idea"
    assert koppel["domains"] == ["energie"]
    assert [party["organisation"] for party in koppel["parties"]] == [
        "afval-grondstoffen",
        "zonnedak",
    ]
    assert koppel["parties"][0]["name"] == "Afval en Grondstoffen, Gemeente Amsterdam"
    assert koppel["parties"][0]["kind"] == "department"
    assert koppel["url"] == "http://localhost/collaborations/energiebespaarservice"
    assert koppel["feed_url"] == "http://localhost/collaborations/energiebespaarservice.atom"


@pytest.mark.parametrize(
    "query, expected",
    [
        ("kind=green_deal", ["afval-westergas"]),
        ("status=idea", ["energiebespaarservice"]),
        ("domain=circulair", ["afval-westergas"]),
        ("organisation=westergasfabriek", ["afval-westergas"]),
        ("q=inkoop", ["energiebespaarservice"]),
        ("q=", ["energiebespaarservice", "afval-westergas"]),
        ("domain=ruimte", []),
        ("organisation=nobody", []),
        ("limit=1", ["energiebespaarservice"]),
        ("limit=1&offset=1", ["afval-westergas"]),
        ("offset=5", []),
        ("limit=0", []),
    ],
)
def test_the_list_filters_and_pages(client, city, query, expected):
    body = client.get(f"/api/v1/collaborations?{query}").get_json()
    assert slugs(body) == expected


@pytest.mark.parametrize(
    "query, message",
    [
        ("kind=hackathon", "kind must be one of koppel, green_deal, cluster, other"),
        ("status=paused", "status must be one of idea, running, finished, stopped"),
        ("q=%00", "q must not contain control characters"),
        ("q=" + "x" * 201, "q must be at most 200 characters"),
        ("limit=-1", "limit must be a whole number from 0 to 200"),
        ("offset=a", "offset must be a whole number from 0 to 1000000"),
    ],
)
def test_bad_parameters_are_refused_with_a_reason(client, city, query, message):
    response = client.get(f"/api/v1/collaborations?{query}")
    assert response.status_code == 400
    assert response.get_json() == {"error": message}


def test_one_collaboration_with_commitments_progress_events_and_costs(client, city):
    response = client.get("/api/v1/collaborations/afval-westergas")
    body = response.get_json()
    assert response.status_code == 200
    valid(client, "Collaboration", body)
    assert body["starts_on"] == "2026-01-01" and body["ends_on"] == "2027-12-31"
    westergas, amsterdam = body["parties"]
    assert westergas == {
        "organisation": "westergasfabriek",
        "name": "Westergasfabriek",
        "kind": "business",
        "website": "https://westergas.example",
        "role": "Terreinbeheerder",
        "cost_key": 3,
    }
    waste, support = body["commitments"]
    assert waste["baseline"] == 100 and waste["target"] == 70 and waste["unit"] == "%"
    assert waste["latest_value"] == 82 and waste["progress"] == pytest.approx(0.6)
    assert [update["on"] for update in waste["updates"]] == ["2026-03-01", "2026-06-01"]
    assert waste["updates"][1]["link"] == "https://w.example/r"
    assert waste["updates"][0]["link"] is None
    assert support["progress"] is None and support["latest_value"] is None
    assert support["organisation"] == "gemeente-amsterdam"
    assert [event["slug"] for event in body["events"]] == ["afval-sessie"]
    [cost] = body["costs"]
    assert cost["total_cents"] == 1_000_000 and cost["split"] == "by_key"
    assert cost["key_name"] == "containers"
    assert [
        (s["organisation"], s["amount_cents"], s["paid_cents"], s["due_cents"])
        for s in cost["shares"]
    ] == [
        ("westergasfabriek", 750_000, 750_000, 0),
        ("gemeente-amsterdam", 250_000, 0, 250_000),
    ]
    text = response.get_data(as_text=True)
    # No contact person, no bank reference.
    for private in ("contact@westergas.example", "Wendy", "ambtenaar", "GD-1", "reference"):
        assert private not in text


def test_a_draft_or_unknown_collaboration_is_not_found(client, city):
    for slug in ("cluster-concept", "nothing"):
        response = client.get(f"/api/v1/collaborations/{slug}")
        assert response.status_code == 404
        assert response.get_json() == {"error": "not found"}


def test_a_published_collaboration_is_public_as_soon_as_it_is_published(app, client, city):
    assert client.get("/api/v1/collaborations/cluster-concept").status_code == 404
    with app.app_context():
        draft = db.session.scalar(
            sa.select(Collaboration).where(Collaboration.slug == "cluster-concept")
        )
        draft.published_at = utcnow()
        db.session.commit()
    forget_pages(app)
    assert client.get("/api/v1/collaborations/cluster-concept").status_code == 200
    assert "cluster-concept" in slugs(client.get("/api/v1/collaborations").get_json())


def test_the_document_describes_both_routes(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/collaborations" in document["paths"]
    assert "/api/v1/collaborations/{slug}" in document["paths"]
    kind = document["components"]["parameters"]["kind"]["schema"]
    assert kind["enum"] == ["koppel", "green_deal", "cluster", "other"]


def test_a_collective_party_links_the_collectives_own_website(app, client, city):
    from cooperative.models import Collective

    with app.app_context():
        zonnedak = db.session.scalar(sa.select(Collective).where(Collective.slug == "zonnedak"))
        zonnedak.website = "https://zonnedak.example"
        db.session.commit()
    forget_pages(app)
    body = client.get("/api/v1/collaborations/energiebespaarservice").get_json()
    websites = {party["organisation"]: party["website"] for party in body["parties"]}
    assert websites["zonnedak"] == "https://zonnedak.example"
    assert websites["afval-grondstoffen"] is None
    page = client.get("/collaborations/energiebespaarservice").get_data(as_text=True)
    assert '"url": "https://zonnedak.example"' in page
