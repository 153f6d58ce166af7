"""A collaboration's back-office pages (its page, parties, commitments, progress and
shared costs under `/manage/collaborations/<id>`) do not tell a stranger which
collaborations exist: someone logged in who is neither programme staff nor a party's
contact gets 404 for a collaboration that exists, as for one that does not. And the
pages link each other by endpoint, so they work under any path."""

import pytest

from tests.collaboration_factories import make_collaboration, make_organisation
from tests.conftest import csrf_token
from tests.factories import make_user

BLUEPRINTS = ("manage_collaborations.", "manage_commitments.", "collaboration_costs.")


def collaboration_urls(app, collaboration_id: int) -> list[tuple[str, str]]:
    """(method, path) of every back-office route of one collaboration, other ids 1."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(BLUEPRINTS) or "collaboration_id" not in rule.arguments:
            continue
        values = {name: 1 for name in rule.arguments}
        values["collaboration_id"] = collaboration_id
        path = rule.build(values)[1]
        urls += [(method, path) for method in sorted(rule.methods & {"GET", "POST"})]
    return urls


@pytest.fixture
def koppel(app):
    with app.app_context():
        contact = make_user("contact@zaanstad.example")
        organisation = make_organisation("zaanstad", "Gemeente Zaanstad")
        return make_collaboration("klimaatcluster", parties=[(organisation, contact)]).id


def test_a_stranger_cannot_tell_which_collaborations_exist(app, client, auth, koppel):
    with app.app_context():
        make_user("stranger@example.org")
    auth.login("stranger@example.org")
    token = csrf_token(client)
    existing, missing = collaboration_urls(app, koppel), collaboration_urls(app, koppel + 99)
    assert len(existing) > 20
    for (method, path), (_, other) in zip(existing, missing, strict=True):
        data = {"csrf_token": token} if method == "POST" else None
        answer = client.open(path, method=method, data=data).status_code
        assert answer == client.open(other, method=method, data=data).status_code == 404, (
            f"{method} {path}: {answer}"
        )


def test_the_pages_link_each_other_by_endpoint_under_any_root(app, client, auth, koppel):
    """Served under a path (`/coop`), the costs' page links back to the collaboration's
    page, and that to its public page, under the same path: no address typed out."""
    with app.app_context():
        make_user("staff@example.org", is_programme_staff=True)
    auth.login("staff@example.org")
    under = {"base_url": "http://localhost/coop"}
    costs = client.get(f"/manage/collaborations/{koppel}/costs", **under)
    assert costs.status_code == 200
    assert f'href="/coop/manage/collaborations/{koppel}"' in costs.get_data(as_text=True)
    page = client.get(f"/manage/collaborations/{koppel}", **under)
    assert page.status_code == 200
    assert 'href="/coop/collaborations/klimaatcluster"' in page.get_data(as_text=True)
