"""The admins' side of the directory: list with drafts, create, edit, publish and unpublish,
roles by e-mail address; nobody else gets in."""

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Collective, CollectiveRole
from tests.conftest import post_form
from tests.factories import make_admin, make_collective, make_domain, make_organiser, make_user


@pytest.fixture
def site(app):
    with app.app_context():
        energie = make_domain("energie", "Energie", "Energy", position=1)
        make_admin()
        make_user("resident@example.org", name="Rita Resident")
        draft = make_collective("geheim", "Geheim Collectief", domain=energie, is_published=False)
        published = make_collective("zonnedak", "Zonnedak", domain=energie)
        make_organiser(published, "olga@example.org")
        return {"energie": energie.id, "draft": draft.id, "published": published.id}


def collective(app, slug: str) -> Collective | None:
    with app.app_context():
        found = db.session.scalar(sa.select(Collective).where(Collective.slug == slug))
        if found is not None:
            db.session.expunge(found)
        return found


ADMIN_URLS = [
    ("get", "/admin/collectives"),
    ("get", "/admin/collectives/new"),
    ("get", "/admin/collectives/{draft}"),
    ("post", "/admin/collectives/{draft}/publish"),
    ("post", "/admin/collectives/{published}/unpublish"),
    ("post", "/admin/collectives/{published}/roles"),
    ("get", "/admin/collectives/suggestions"),
]


def test_only_admins_get_in(app, client, auth, site):
    for method, url in ADMIN_URLS:
        url = url.format(**site)
        response = client.get(url) if method == "get" else post_form(client, url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    # an organiser of the collective is no admin
    for email in ("resident@example.org", "olga@example.org"):
        auth.login(email)
        for method, url in ADMIN_URLS:
            url = url.format(**site)
            response = client.get(url) if method == "get" else post_form(client, url)
            assert response.status_code == 403, (email, url)
        auth.logout()
    assert not collective(app, "geheim").is_published
    assert collective(app, "zonnedak").is_published


def test_the_list_shows_drafts_too(client, auth, site):
    auth.login("admin@example.org")
    page = client.get("/admin/collectives?lang=en").get_data(as_text=True)
    assert "Geheim Collectief" in page and "Zonnedak" in page
    assert "Draft" in page and "Published" in page


def test_create_edit_and_publish(app, client, auth, site):
    auth.login("admin@example.org")
    data = {
        "name": "Windkracht West",
        "slug": "",
        "summary": "Een windmolen van de buurt",
        "primary_domain": str(site["energie"]),
        "neighbourhood": "West",
        "founded_year": "2021",
    }
    response = post_form(client, "/admin/collectives/new", data)
    assert response.status_code == 303
    created = collective(app, "windkracht-west")
    assert created is not None and not created.is_published
    assert response.headers["Location"] == f"/admin/collectives/{created.id}"
    assert client.get("/collectives/windkracht-west").status_code == 200  # admin sees the draft
    auth.logout()
    assert client.get("/collectives/windkracht-west").status_code == 404

    auth.login("admin@example.org")
    response = post_form(
        client,
        f"/admin/collectives/{created.id}",
        {**data, "slug": "windkracht", "name": "Windkracht"},
    )
    assert response.status_code == 303
    assert collective(app, "windkracht").name == "Windkracht"

    post_form(client, f"/admin/collectives/{created.id}/publish")
    assert collective(app, "windkracht").is_published
    auth.logout()
    assert "Windkracht" in client.get("/collectives").get_data(as_text=True)
    assert client.get("/api/v1/collectives?q=windkracht").get_json()["count"] == 1

    auth.login("admin@example.org")
    post_form(client, f"/admin/collectives/{created.id}/unpublish")
    auth.logout()
    assert "Windkracht" not in client.get("/collectives").get_data(as_text=True)
    assert client.get("/collectives/windkracht").status_code == 404
    assert client.get("/api/v1/collectives?q=windkracht").get_json()["count"] == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Please fill in the collective’s name."),
        ({"slug": "zonnedak"}, "slug", "Another collective already has this web address."),
        ({"slug": "Niet Goed!"}, "slug", "Use only lower-case letters"),
        ({"primary_domain": "42"}, "primary_domain", "Please choose a domain from the list."),
    ],
)
def test_the_admin_form_refuses_bad_input(app, client, auth, site, changes, field, message):
    auth.login("admin@example.org")
    data = {"name": "Nieuw", "slug": "nieuw", "primary_domain": str(site["energie"]), **changes}
    response = post_form(client, "/admin/collectives/new?lang=en", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and f'id="{field}-error"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Collective.id))) == 2


def test_roles_by_email_address(app, client, auth, site):
    auth.login("admin@example.org")
    url = f"/admin/collectives/{site['published']}/roles"

    response = post_form(client, url + "?lang=en", {"email": "nobody@example.org"})
    assert response.status_code == 422
    assert "Nobody has an account with this e-mail address." in response.get_data(as_text=True)

    response = post_form(client, url + "?lang=en", {"email": "OLGA@example.org"})
    assert response.status_code == 422
    assert "already has a role" in response.get_data(as_text=True)

    response = post_form(client, url, {"email": " Resident@Example.org "})
    assert response.status_code == 303
    with app.app_context():
        role = db.session.scalar(
            sa.select(CollectiveRole)
            .join(CollectiveRole.user)
            .where(
                CollectiveRole.collective_id == site["published"],
                CollectiveRole.user.has(email="resident@example.org"),
            )
        )
        assert role is not None
        role_id = role.id
    page = client.get(f"/admin/collectives/{site['published']}").get_data(as_text=True)
    assert "Rita Resident" in page
    auth.logout()

    # the new role holder edits the page
    auth.login("resident@example.org")
    assert client.get("/collectives/zonnedak/edit").status_code == 200
    auth.logout()

    auth.login("admin@example.org")
    response = post_form(client, f"/admin/collectives/{site['published']}/roles/{role_id}/remove")
    assert response.status_code == 303
    # a role of another collective is not removed through this one
    assert (
        post_form(client, f"/admin/collectives/{site['draft']}/roles/{role_id}/remove").status_code
        == 404
    )
    auth.logout()
    auth.login("resident@example.org")
    assert client.get("/collectives/zonnedak/edit").status_code == 403
