"""The demo's work with the city: a koppel from a question, the Westergas Green Deal with
measured progress, and a cluster whose cost is split by inhabitants to the cent; public
on the register, its pages and the API; seeding twice adds nothing."""

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Collaboration, Organisation, ProgressUpdate, Question
from cooperative.services import demo_collaborations
from cooperative.services.demo import seed_demo


def test_the_demo_publishes_a_koppel_a_green_deal_and_a_cluster(app, client):
    with app.app_context():
        seed_demo()
        db.session.commit()
        counts = [
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Collaboration, Organisation, ProgressUpdate, Question)
        ]
        assert seed_demo()["collaborations"] == 0
        db.session.commit()
        assert counts == [
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Collaboration, Organisation, ProgressUpdate, Question)
        ]
        koppel = db.session.scalar(
            sa.select(Collaboration).where(Collaboration.slug == demo_collaborations.KOPPEL)
        )
        assert koppel.question.status == "paired"
        assert [r.organisation.title for r in koppel.question.responses] == ["Zonnedak Oost"]
        assert koppel.parties[1].organisation.collective.slug == "zonnedak-oost"
        assert koppel.parties[1].contact.email == "organiser@meentcoop.example"
        cluster = db.session.scalar(
            sa.select(Collaboration).where(Collaboration.slug == demo_collaborations.CLUSTER)
        )
        [cost] = cluster.costs
        assert sum(share.amount_cents for share in cost.shares) == cost.total_cents == 1_000_000

    page = client.get("/collaborations?lang=en").get_data(as_text=True)
    assert "3 collaborations found" in page
    deal = client.get(f"/collaborations/{demo_collaborations.GREEN_DEAL}?lang=en")
    assert "From 100 % to 70 %: now 86 % (47 % of the way)." in deal.get_data(as_text=True)
    cluster_page = client.get(f"/collaborations/{demo_collaborations.CLUSTER}?lang=en")
    cluster_text = cluster_page.get_data(as_text=True)
    assert "split by inwoners" in cluster_text
    assert "€7,025.15" in cluster_text and "€745.88" in cluster_text
    body = client.get("/api/v1/collaborations?kind=cluster").get_json()
    assert [c["slug"] for c in body["collaborations"]] == [demo_collaborations.CLUSTER]
