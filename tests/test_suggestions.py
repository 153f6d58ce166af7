"""Suggesting a collective: the form, the admins' e-mail, the queue, a draft in one click,
rejecting, who may see the queue, and the rate limit."""

import re

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Collective,
    CollectiveSuggestion,
    OutboxMessage,
    SuggestionStatus,
    User,
)
from tests.conftest import post_form
from tests.factories import make_admin, make_collective, make_domain, make_organiser, make_user


@pytest.fixture
def site(app):
    with app.app_context():
        make_domain("energie", "Energie", "Energy", position=1)
        voedsel = make_domain("voedsel", "Voedsel", "Food", position=2)
        make_admin("admin@example.org", locale="en")
        make_admin("beheer@example.org", name="Bea Beheer")
        make_user("resident@example.org")
        make_organiser(make_collective("pluktuin", "Pluktuin", domain=voedsel), "olga@example.org")
        return {"voedsel": voedsel.id}


def suggestion_data(site, **changes) -> dict:
    return {
        "name": "Voedselbos Noord",
        "domain": str(site["voedsel"]),
        "neighbourhood": "Noord",
        "website": "voedselbos.example",
        "contact_email": "lies@example.org",
        "reason": "Ze planten een voedselbos voor de hele buurt.",
        **changes,
    }


def suggestions(app) -> list[CollectiveSuggestion]:
    with app.app_context():
        rows = db.session.scalars(sa.select(CollectiveSuggestion)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_anyone_suggests_a_collective_and_the_admins_are_emailed(app, client, site):
    page = client.get("/collectives/suggest?lang=en").get_data(as_text=True)
    assert "Suggest a collective" in page and '<form method="post"' in page
    assert 'href="/collectives/suggest"' in client.get("/collectives").get_data(as_text=True)

    response = post_form(client, "/collectives/suggest", suggestion_data(site))
    assert response.status_code == 303
    assert response.headers["Location"] == "/collectives"
    [suggestion] = suggestions(app)
    assert suggestion.name == "Voedselbos Noord"
    assert suggestion.website == "https://voedselbos.example"
    assert suggestion.status == SuggestionStatus.NEW
    assert suggestion.locale == "en"  # the language the form was read in

    with app.app_context():
        mails = {m.to_address: m for m in db.session.scalars(sa.select(OutboxMessage))}
    assert set(mails) == {"admin@example.org", "beheer@example.org"}
    english, dutch = mails["admin@example.org"], mails["beheer@example.org"]
    assert english.subject == "Suggested for the directory: Voedselbos Noord"
    assert "Ze planten een voedselbos" in english.body_text
    assert "Food" in english.body_text
    assert "http://localhost/admin/collectives/suggestions" in english.body_text
    assert "Bea Beheer" in dutch.body_text

    # nothing public yet
    assert "Voedselbos" not in client.get("/collectives?q=voedselbos").get_data(as_text=True)
    assert client.get("/api/v1/collectives?q=voedselbos").get_json()["count"] == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Please fill in the collective’s name."),
        ("domain", "", "Please choose a domain from the list."),
        ("domain", "999", "Please choose a domain from the list."),
        ("domain", "energie", "Please choose a domain from the list."),
        ("website", "geen adres", "does not look like a web address"),
        ("contact_email", "", "Please fill in your e-mail address."),
        ("contact_email", "lies", "does not look like an e-mail address"),
        ("reason", "   ", "Please tell us a little about the collective."),
    ],
)
def test_bad_input_is_refused_and_kept(app, client, site, field, value, message):
    response = post_form(
        client, "/collectives/suggest?lang=en", suggestion_data(site, **{field: value})
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert f'id="{field}-error"' in page
    assert "Ze planten een voedselbos" in page or field == "reason"
    assert suggestions(app) == []


def test_the_form_is_rate_limited_per_address(app, client, site, monkeypatch):
    for _ in range(5):
        assert post_form(client, "/collectives/suggest", suggestion_data(site)).status_code == 303
    response = post_form(client, "/collectives/suggest", suggestion_data(site))
    assert response.status_code == 429
    assert len(suggestions(app)) == 5
    # reading the form is not limited
    assert client.get("/collectives/suggest").status_code == 200


def make_suggestion(app, site, name="Voedselbos Noord", **kw) -> int:
    with app.app_context():
        suggestion = CollectiveSuggestion(
            name=name,
            domain_id=kw.pop("domain_id", site["voedsel"]),
            neighbourhood="Noord",
            website="https://voedselbos.example",
            contact_email="lies@example.org",
            reason="Een voedselbos.",
            **kw,
        )
        db.session.add(suggestion)
        db.session.commit()
        return suggestion.id


def test_the_queue_is_for_admins_only(app, client, auth, site):
    make_suggestion(app, site)
    assert "/auth/login" in client.get("/admin/collectives/suggestions").headers["Location"]
    for email in ("resident@example.org", "olga@example.org"):
        auth.login(email)
        assert client.get("/admin/collectives/suggestions").status_code == 403
        suggestion_id = suggestions(app)[0].id
        url = f"/admin/collectives/suggestions/{suggestion_id}/accept"
        assert post_form(client, url).status_code == 403
        auth.logout()
    assert suggestions(app)[0].status == SuggestionStatus.NEW

    auth.login("admin@example.org")
    page = client.get("/admin/collectives/suggestions?lang=en").get_data(as_text=True)
    assert "Voedselbos Noord" in page and "Een voedselbos." in page
    assert "Make a draft collective" in page


def test_one_click_makes_a_draft_collective(app, client, auth, site):
    suggestion_id = make_suggestion(app, site)
    with app.app_context():
        make_collective("voedselbos-noord", "Bestaat al", is_published=False)
    auth.login("admin@example.org")
    response = post_form(client, f"/admin/collectives/suggestions/{suggestion_id}/accept")
    assert response.status_code == 303
    with app.app_context():
        collective = db.session.scalar(
            sa.select(Collective).where(Collective.name == "Voedselbos Noord")
        )
        # the slug was taken: the draft gets the next free one
        assert collective.slug == "voedselbos-noord-2"
        assert not collective.is_published
        assert collective.primary_domain.slug == "voedsel"
        assert collective.neighbourhood == "Noord"
        assert collective.website == "https://voedselbos.example"
        assert collective.contact_email == "lies@example.org"
        suggestion = db.session.get(CollectiveSuggestion, suggestion_id)
        assert suggestion.status == SuggestionStatus.ACCEPTED
        assert suggestion.collective_id == collective.id
        admin_id = db.session.scalar(sa.select(User.id).where(User.email == "admin@example.org"))
        assert suggestion.decided_by_id == admin_id
        collective_id = collective.id
    assert response.headers["Location"] == f"/admin/collectives/{collective_id}"
    # gone from the queue; a second click changes nothing
    page = client.get("/admin/collectives/suggestions?lang=en").get_data(as_text=True)
    assert not re.search(r"<h2[^>]*>Voedselbos Noord", page)
    assert "No suggestions are waiting." in page
    post_form(client, f"/admin/collectives/suggestions/{suggestion_id}/accept")
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count(Collective.id)).where(Collective.name == "Voedselbos Noord")
            )
            == 1
        )
    # still a draft: not public
    assert client.get("/collectives?q=voedselbos").get_data(as_text=True).count("Voedselbos") == 0


def test_rejecting_takes_it_out_of_the_queue(app, client, auth, site):
    suggestion_id = make_suggestion(app, site)
    auth.login("admin@example.org")
    response = post_form(client, f"/admin/collectives/suggestions/{suggestion_id}/reject")
    assert response.status_code == 303
    assert suggestions(app)[0].status == SuggestionStatus.REJECTED
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Collective.id))) == 1  # only Pluktuin
    response = post_form(client, f"/admin/collectives/suggestions/{suggestion_id}/accept")
    assert response.status_code == 303
    assert suggestions(app)[0].status == SuggestionStatus.REJECTED
    assert post_form(client, "/admin/collectives/suggestions/999/reject").status_code == 404


def test_a_suggestion_whose_domain_was_removed_gets_the_first_domain(app, client, auth, site):
    suggestion_id = make_suggestion(app, site, domain_id=None)
    auth.login("admin@example.org")
    post_form(client, f"/admin/collectives/suggestions/{suggestion_id}/accept")
    with app.app_context():
        collective = db.session.scalar(
            sa.select(Collective).where(Collective.name == "Voedselbos Noord")
        )
        assert collective.primary_domain.slug == "energie"
