"""The shared costs' pages for the browser walks: a cluster of two municipalities and the
demo organiser's collective sharing a cost, one share paid by bank transfer, the
organiser the contact of the collective's party."""

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import CollaborationKind, Collective, CostSplit, Organisation, User
from cooperative.services import collaboration_costs
from cooperative.services.collaboration_costs import CostDetails
from tests.collaboration_factories import make_collaboration, make_organisation, organisation_of


def shared_costs() -> dict:
    """Make the cluster and its costs (inside an app context); the ids the walks need."""
    admin = db.session.scalar(sa.select(User).where(User.is_admin))
    organiser = db.session.scalar(
        sa.select(User).where(User.email == "organiser@meentcoop.example")
    )
    collective = db.session.scalar(sa.select(Collective).where(Collective.slug == "zonnedak-oost"))
    # The demo's work with the city already made the collective's organisation.
    zonnedak = db.session.scalar(
        sa.select(Organisation).where(Organisation.collective_id == collective.id)
    ) or organisation_of(collective)
    zaanstad = make_organisation("gemeente-zaanstad", "Gemeente Zaanstad")
    oostzaan = make_organisation("gemeente-oostzaan", "Gemeente Oostzaan")
    cluster = make_collaboration(
        "klimaatcluster-zaanstreek",
        "Klimaatcluster Zaanstreek: samen de warmtetransitie betalen",
        CollaborationKind.CLUSTER,
        [(zaanstad, admin), (oostzaan, None), (zonnedak, organiser)],
    )
    for party, inhabitants in zip(cluster.parties, (160_000, 9_800, 1_250), strict=True):
        party.cost_key = inhabitants
    equal = collaboration_costs.save_cost(
        cluster, CostDetails("Gezamenlijke projectleider 2026", 1_000_000, False, CostSplit.EQUAL)
    )
    collaboration_costs.save_cost(
        cluster,
        CostDetails("Klimaatacties van het cluster", 2_500_000, True, CostSplit.BY_KEY, "inwoners"),
    )
    first = equal.shares[0]
    collaboration_costs.record_payment(first, first.amount_cents, admin)
    db.session.commit()
    return {
        "cluster": cluster.id,
        "cost": equal.id,
        "cost_share": equal.shares[1].id,
    }


def contact_pages(site) -> list[str]:
    """What the organiser sees as the contact of the collective's party."""
    return [f"/manage/collaborations/{site['cluster']}/costs"]


def staff_pages(site) -> list[str]:
    """What programme staff (here: the admin) see."""
    base = f"/manage/collaborations/{site['cluster']}/costs"
    return [
        base,
        f"{base}/new",
        f"{base}/{site['cost']}",
        f"{base}/shares/{site['cost_share']}/transfer",
    ]
