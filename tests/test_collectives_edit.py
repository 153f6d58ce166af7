"""A collective's own people edit its page: in place with htmx, or on a page of its own.
Nobody else may, and a draft is for admins only."""

import pytest

from cooperative.extensions import db
from cooperative.models import Collective
from tests.conftest import csrf_token, post_form
from tests.factories import make_admin, make_collective, make_domain, make_organiser, make_user

HTMX_DETAILS = {"HX-Request": "true", "HX-Target": "collective-details"}


@pytest.fixture
def zonnedak(app):
    with app.app_context():
        energie = make_domain("energie", "Energie", "Energy", position=1)
        wonen = make_domain("wonen", "Wonen", "Housing", position=2)
        collective = make_collective("zonnedak", "Zonnedak Oost", domain=energie)
        make_organiser(collective, "olga@example.org")
        other = make_collective("pluktuin", "Pluktuin", domain=energie)
        make_organiser(other, "piet@example.org")
        make_user("resident@example.org")
        return {"energie": energie.id, "wonen": wonen.id, "id": collective.id}


def form_data(zonnedak, **changes) -> dict:
    return {
        "summary": "Zonnepanelen voor iedereen",
        "description": "Wij leggen panelen.\n\nEn we leren het je.",
        "primary_domain": str(zonnedak["energie"]),
        "other_domains": [str(zonnedak["wonen"])],
        "neighbourhood": "Oost",
        "legal_form": "Coöperatie",
        "founded_year": "2019",
        "website": "zonnedak.example",
        "contact_email": "hallo@zonnedak.example",
        **changes,
    }


def stored(app) -> Collective:
    with app.app_context():
        collective = db.session.query(Collective).filter_by(slug="zonnedak").one()
        db.session.expunge(collective)
        return collective


def test_an_organiser_edits_the_page_without_javascript(app, client, auth, zonnedak):
    auth.login("olga@example.org")
    page = client.get("/collectives/zonnedak?lang=en").get_data(as_text=True)
    assert 'href="/collectives/zonnedak/edit"' in page and "Edit this page" in page

    form = client.get("/collectives/zonnedak/edit").get_data(as_text=True)
    assert '<form method="post" action="/collectives/zonnedak/edit"' in form

    response = post_form(client, "/collectives/zonnedak/edit", form_data(zonnedak))
    assert response.status_code == 303
    assert response.headers["Location"] == "/collectives/zonnedak"
    collective = stored(app)
    assert collective.summary == "Zonnepanelen voor iedereen"
    assert collective.website == "https://zonnedak.example"
    assert collective.founded_year == 2019
    assert collective.contact_email == "hallo@zonnedak.example"
    with app.app_context():
        saved = db.session.get(Collective, zonnedak["id"])
        assert [d.slug for d in saved.domains] == ["wonen"]
    page = client.get("/collectives/zonnedak?lang=en").get_data(as_text=True)
    assert "En we leren het je." in page and ">Housing</a>" in page


def test_an_organiser_edits_in_place_with_htmx(app, client, auth, zonnedak):
    auth.login("olga@example.org")
    form = client.get("/collectives/zonnedak/edit", headers=HTMX_DETAILS).get_data(as_text=True)
    assert "<html" not in form
    assert 'hx-post="/collectives/zonnedak/edit"' in form
    assert 'hx-target="#collective-details"' in form

    response = client.post(
        "/collectives/zonnedak/edit?lang=en",
        data={"csrf_token": csrf_token(client, "/collectives/zonnedak"), **form_data(zonnedak)},
        headers=HTMX_DETAILS,
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<html" not in page
    assert 'id="collective-details"' in page and "The collective’s page is saved." in page
    assert stored(app).summary == "Zonnepanelen voor iedereen"

    cancel = client.get("/collectives/zonnedak/details", headers=HTMX_DETAILS)
    assert 'id="collective-details"' in cancel.get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("founded_year", "1066", "Please write a year from 1800 to"),
        ("founded_year", "twintig", "Not a valid integer value"),
        ("website", "niet een adres", "does not look like a web address"),
        ("contact_email", "geen-adres", "does not look like an e-mail address"),
        ("primary_domain", "999", "Please choose a domain from the list."),
        ("primary_domain", "", "Please choose a domain from the list."),
        ("other_domains", ["abc"], "Please choose domains from the list."),
        ("summary", "x" * 301, "Field cannot be longer than 300 characters."),
    ],
)
def test_bad_input_is_refused_next_to_the_field(app, client, auth, zonnedak, field, value, message):
    auth.login("olga@example.org")
    for headers in ({}, HTMX_DETAILS):
        response = client.post(
            "/collectives/zonnedak/edit?lang=en",
            data={
                "csrf_token": csrf_token(client, "/collectives/zonnedak"),
                **form_data(zonnedak, **{field: value}),
            },
            headers=headers,
        )
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert message in page
        assert f'id="{field}-error"' in page or 'id="other_domains-error"' in page
        # what was typed stays
        assert 'value="Coöperatie"' in page
    assert stored(app).summary == ""


def test_others_may_not_edit(app, client, auth, zonnedak):
    response = client.get("/collectives/zonnedak/edit")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    for email in ("resident@example.org", "piet@example.org"):
        auth.login(email)
        assert client.get("/collectives/zonnedak/edit").status_code == 403
        assert (
            post_form(client, "/collectives/zonnedak/edit", form_data(zonnedak)).status_code == 403
        )
        assert "Edit this page" not in client.get("/collectives/zonnedak?lang=en").get_data(
            as_text=True
        )
        auth.logout()
    assert stored(app).summary == ""


def test_a_draft_is_edited_by_admins_only(app, client, auth, zonnedak):
    with app.app_context():
        db.session.get(Collective, zonnedak["id"]).is_published = False
        db.session.commit()
        make_admin()
    auth.login("olga@example.org")
    assert client.get("/collectives/zonnedak/edit").status_code == 404
    auth.logout()
    auth.login("admin@example.org")
    response = post_form(client, "/collectives/zonnedak/edit", form_data(zonnedak))
    assert response.status_code == 303
    assert stored(app).summary == "Zonnepanelen voor iedereen"


def test_posting_without_the_csrf_token_is_refused(app, client, auth, zonnedak):
    auth.login("olga@example.org")
    response = client.post("/collectives/zonnedak/edit", data=form_data(zonnedak))
    assert response.status_code == 400
    assert stored(app).summary == ""
