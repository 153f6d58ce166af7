"""Schemathesis against the open-data API: every operation in `/api/v1/openapi.json`.

Schemathesis reads the OpenAPI document from the app itself (WSGI, no server), generates
requests for every operation (valid ones and, for the query parameters, hostile ones) and
runs its default checks on each answer: no server error, a status code the document
lists, the content type it lists, and a body that matches the response schema. The
database holds a hosted event with meals and registrations, so the bodies have content.

Its Python API is used rather than its pytest plugin: the schema needs the app, which is
a pytest fixture here.
"""

from datetime import UTC, date, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from cooperative.extensions import db
from cooperative.models import CostShare, CostSplit, SharedCost
from cooperative.services.registration import PersonChoice
from tests.collaboration_factories import (
    make_collaboration,
    make_commitment,
    make_organisation,
    make_progress,
    organisation_of,
)
from tests.factories import make_collective, make_domain, make_event, make_registration

EXAMPLES_PER_OPERATION = 50


@pytest.fixture
def open_data(app):
    """A published collective in two domains, hosting an event with two meals and a party."""
    with app.app_context():
        energie = make_domain()
        wonen = make_domain("wonen", "Wonen", "Housing")
        host = make_collective(domain=energie, domains=[wonen], neighbourhood="Oost")
        event = make_event(
            slug="lancering",
            capacity=100,
            ticket_price_cents=250,
            collective=host,
            meals=[
                {
                    "name": "Diner",
                    "price_cents": 0,
                    "pwyc_min_cents": 300,
                    "pwyc_suggested_cents": 600,
                    "signup_deadline": datetime(2999, 1, 1, tzinfo=UTC),
                },
                {"name": "Soep", "price_cents": 250, "capacity": None, "diets": ["vegan"]},
            ],
        )
        make_event(slug="zonder-host", capacity=None)
        dinner = event.meal_options[0]
        make_registration(event, [PersonChoice("Ada", meal_option_id=dinner.id), "Bo"])
        # A published Green Deal with a measured commitment and a shared cost, and a draft.
        city = make_organisation()
        deal = make_collaboration(parties=[city, organisation_of(host)], domains=[energie])
        commitment = make_commitment(deal.parties[0])
        make_progress(commitment, 82.5, date(2026, 6, 1), link="https://example.org/r")
        make_commitment(deal.parties[1], "Zonder doel", None, None, "")
        deal.costs.append(
            SharedCost(
                description="Afvalscan",
                total_cents=1001,
                split=CostSplit.EQUAL,
                shares=[
                    CostShare(party=deal.parties[0], amount_cents=501, reference="S-1"),
                    CostShare(party=deal.parties[1], amount_cents=500, reference="S-2"),
                ],
            )
        )
        db.session.commit()
        make_collaboration("concept", parties=[city], published=False)


def test_every_api_operation_keeps_its_openapi_promises(app, open_data):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.label for operation in operations} == {
        "GET /api/v1/events",
        "GET /api/v1/events/{slug}",
        "GET /api/v1/collectives",
        "GET /api/v1/domains",
        "GET /api/v1/collaborations",
        "GET /api/v1/collaborations/{slug}",
    }
    examples: dict[str, int] = {}
    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case):
            examples[case.operation.label] = examples.get(case.operation.label, 0) + 1
            # The app compresses JSON for clients that accept it; schemathesis's WSGI
            # transport does not decompress, so it asks for the plain body.
            case.call_and_validate(headers={"Accept-Encoding": "identity"})

        check()
    # Every operation with parameters got its full share of generated requests; one
    # without any (the domains) has only one request to make.
    assert examples.pop("GET /api/v1/domains") >= 1
    assert len(examples) == 5, examples
    assert all(count >= EXAMPLES_PER_OPERATION for count in examples.values()), examples


def test_the_document_says_text_parameters_refuse_control_characters(client):
    """Schemathesis sent a tab in `neighbourhood`: the API refused it (400) while the
    document promised any string. The document now gives the pattern."""
    document = client.get("/api/v1/openapi.json").get_json()
    neighbourhood = document["components"]["parameters"]["neighbourhood"]
    assert neighbourhood["schema"]["pattern"] == "^[^\\u0000-\\u001f\\u007f]*$"
    assert client.get("/api/v1/collectives?neighbourhood=Oost%09West").status_code == 400
    assert client.get("/api/v1/collectives?neighbourhood=Oost").status_code == 200
