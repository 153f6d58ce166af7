"""A city's worth of collaborations for the tests of the public register, its feeds and
its API: a published Green Deal with a measurable target, progress, linked events and a
shared cost; a published koppel of a department and a collective; a draft cluster."""

from datetime import UTC, date, datetime, timedelta

import pytest

from cooperative.extensions import db
from cooperative.models import (
    CollaborationKind,
    CollaborationStatus,
    CostShare,
    CostSplit,
    EventStatus,
    OrganisationKind,
    SharedCost,
)
from tests.collaboration_factories import (
    make_collaboration,
    make_commitment,
    make_organisation,
    make_progress,
    organisation_of,
)
from tests.factories import make_collective, make_domain, make_event, make_user


@pytest.fixture
def city(app):
    """A published Green Deal with a measurable target, progress and a shared cost; a
    published koppel of a department and a collective; a draft cluster."""
    with app.app_context():
        circulair = make_domain("circulair", "Circulaire economie", "Circular economy")
        energie = make_domain("energie", "Energie", "Energy")
        contact = make_user("contact@westergas.example", name="Wendy Westergas")
        official = make_user("ambtenaar@amsterdam.example", name="Arie Ambtenaar")
        make_user("staff@meentcoop.example", name="Pim Programma", is_programme_staff=True)
        make_user("stranger@example.org", name="Sam Stranger")
        amsterdam = make_organisation(people=[official])
        department = make_organisation(
            "afval-grondstoffen",
            "Afval en Grondstoffen",
            OrganisationKind.DEPARTMENT,
            parent=amsterdam,
        )
        westergas = make_organisation(
            "westergasfabriek",
            "Westergasfabriek",
            OrganisationKind.BUSINESS,
            website="https://westergas.example",
        )
        zonnedak = organisation_of(make_collective(domain=energie))
        deal = make_collaboration(
            parties=[(westergas, contact), (amsterdam, official)],
            starts_on=date(2026, 1, 1),
            ends_on=date(2027, 12, 31),
            domains=[circulair],
        )
        deal.parties[0].role = "Terreinbeheerder"
        deal.parties[0].cost_key = 3
        deal.parties[1].cost_key = 1
        waste = make_commitment(deal.parties[0], due_on=date(2027, 12, 31))
        make_progress(waste, 90, date(2026, 3, 1), note="Eerste meting na de nieuwe bakken.")
        make_progress(
            waste, 82, date(2026, 6, 1), note="Zomer: minder restafval.", link="https://w.example/r"
        )
        support = make_commitment(
            deal.parties[1], "Ondersteuning bij inzameling", None, None, "", position=1
        )
        make_progress(support, None, date(2026, 4, 1), note="Extra inzamelronde geregeld.")
        cost = SharedCost(
            description="Afvalscan",
            total_cents=1_000_000,
            split=CostSplit.BY_KEY,
            key_name="containers",
        )
        cost.shares = [
            CostShare(
                party=deal.parties[0], amount_cents=750_000, paid_cents=750_000, reference="GD-1"
            ),
            CostShare(party=deal.parties[1], amount_cents=250_000, reference="GD-2"),
        ]
        deal.costs.append(cost)
        db.session.commit()
        make_event(slug="afval-sessie", title="Co-creatiesessie afval", collaboration_id=deal.id)
        make_event(
            slug="afval-concept",
            title="Nog geheim overleg",
            collaboration_id=deal.id,
            status=EventStatus.DRAFT,
        )
        koppel = make_collaboration(
            "energiebespaarservice",
            "Inkoop energiebespaarservice",
            CollaborationKind.KOPPEL,
            parties=[department, zonnedak],
            status=CollaborationStatus.IDEA,
            goal="Eén inkoop over meerdere domeinen.",
            domains=[energie],
        )
        make_collaboration(
            "cluster-concept",
            "Klimaatcluster Zuid",
            CollaborationKind.CLUSTER,
            parties=[(amsterdam, official)],
            published=False,
        )
        # The koppel changed last: it comes first.
        koppel.updated_at = datetime.now(UTC) + timedelta(minutes=1)
        db.session.commit()
    return app
