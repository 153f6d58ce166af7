"""Programme staff's list of organisations through HTTP: new and edit with bad input, a
collective made an organisation with one button, the people who act for one."""

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Organisation, OrganisationKind, OrganisationPerson
from tests.collaboration_factories import make_organisation
from tests.conftest import post_form
from tests.factories import make_collective, make_organiser, make_user


@pytest.fixture
def world(app):
    with app.app_context():
        city = make_organisation()
        zonnedak = make_collective()
        make_organiser(zonnedak)
        make_user("staff@example.org", is_programme_staff=True)
        make_user("ambtenaar@amsterdam.example", name="Aafke Ambtenaar")
        return dict(city=city.id, zonnedak=zonnedak.id)


@pytest.fixture
def staff(auth, world):
    auth.login("staff@example.org")


def _page(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("email", [None, "organiser@example.org", "ambtenaar@amsterdam.example"])
def test_only_programme_staff_and_admins_keep_organisations(client, auth, world, email):
    if email:
        auth.login(email)
    expected = 403 if email else 302
    assert client.get("/manage/organisations").status_code == expected
    assert post_form(client, "/manage/organisations/new", {"name": "X"}).status_code == expected


def test_staff_add_a_department_of_a_municipality(app, client, staff, world):
    page = _page(client.get("/manage/organisations/new?lang=en"))
    assert "Department of a municipality" in page and "Gemeente Amsterdam" in page
    response = post_form(
        client,
        "/manage/organisations/new",
        {
            "name": "Afval en Grondstoffen",
            "kind": "department",
            "parent": world["city"],
            "website": "amsterdam.nl/afval",
            "slug": "",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        department = db.session.scalar(
            sa.select(Organisation).where(Organisation.slug == "afval-en-grondstoffen")
        )
        assert response.headers["Location"] == f"/manage/organisations/{department.id}"
        assert department.parent_id == world["city"]
        assert department.website == "https://amsterdam.nl/afval"
    listing = _page(client.get("/manage/organisations"))
    assert "Afval en Grondstoffen, Gemeente Amsterdam" in listing


@pytest.mark.parametrize(
    "change, message",
    [
        ({"name": ""}, "Please fill in the organisation’s name."),
        ({"kind": "collective"}, "Please choose a kind from the list."),
        ({"kind": "castle"}, "Please choose a kind from the list."),
        ({"kind": "department", "parent": ""}, "Please choose the municipality this department"),
        ({"parent": "123456"}, "Please choose a municipality from the list."),
        ({"kind": "business", "parent": "{city}"}, "Only a department belongs to a municipality."),
        ({"slug": "Niet Goed"}, "Use lower-case letters, digits and hyphens only."),
        ({"slug": "gemeente-amsterdam"}, "Another organisation already has this web address."),
        ({"website": "niet een adres"}, "This does not look like a web address"),
    ],
)
def test_a_bad_organisation_is_refused_with_the_typing_kept(
    app, client, staff, world, change, message
):
    data = {"name": "Gemeente Haarlem", "kind": "municipality", "parent": "", "slug": ""}
    data.update({k: v.format(city=world["city"]) for k, v in change.items()})
    response = post_form(client, "/manage/organisations/new?lang=en", data)
    assert response.status_code == 422
    page = _page(response)
    assert message in page
    if "name" not in change:
        assert 'value="Gemeente Haarlem"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Organisation.id))) == 1


def test_staff_edit_an_organisation(app, client, staff, world):
    url = f"/manage/organisations/{world['city']}"
    assert 'value="Gemeente Amsterdam"' in _page(client.get(url))
    response = post_form(
        client,
        url,
        {"name": "Gemeente Amsterdam", "kind": "municipality", "website": "amsterdam.nl"},
    )
    assert response.status_code == 303
    with app.app_context():
        city = db.session.get(Organisation, world["city"])
        assert (city.slug, city.website) == ("gemeente-amsterdam", "https://amsterdam.nl")
    assert client.get("/manage/organisations/99999").status_code == 404


def test_a_collective_becomes_an_organisation_with_one_button(app, client, staff, world):
    page = _page(client.get("/manage/organisations?lang=en"))
    assert "Make it an organisation" in page and "Zonnedak" in page
    response = post_form(
        client, "/manage/organisations/from-collective", {"collective": world["zonnedak"]}
    )
    assert response.status_code == 303
    with app.app_context():
        organisation = db.session.scalar(
            sa.select(Organisation).where(Organisation.collective_id == world["zonnedak"])
        )
        assert organisation.kind == OrganisationKind.COLLECTIVE and organisation.name == ""
    page = _page(client.get(response.headers["Location"] + "?lang=en"))
    assert "its name, website and page are the collective’s own" in page
    assert 'name="name"' not in page
    assert "Make it an organisation" not in _page(client.get("/manage/organisations?lang=en"))
    again = post_form(
        client,
        "/manage/organisations/from-collective?lang=en",
        {"collective": world["zonnedak"]},
        follow_redirects=True,
    )
    assert "Please choose a collective from the list." in _page(again)
    # Its name cannot be typed over.
    refused = post_form(
        client,
        f"/manage/organisations/{organisation.id}?lang=en",
        {"name": "Kopie", "kind": "business"},
    )
    assert refused.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Organisation.id))) == 2
        assert db.session.get(Organisation, organisation.id).name == ""


def test_staff_add_and_remove_the_people_who_act_for_it(app, client, staff, world):
    url = f"/manage/organisations/{world['city']}"
    missing = post_form(client, url + "/people?lang=en", {"email": "nobody@example.org"})
    assert missing.status_code == 422
    assert "Nobody has an account with this e-mail address." in _page(missing)
    assert 'value="nobody@example.org"' in _page(missing)
    # The page drawn again offers the same parents as the edit page: never the city itself.
    city_option = f'<option value="{world["city"]}"'
    assert city_option not in _page(missing)
    bad = post_form(client, url + "/people?lang=en", {"email": "geen adres"})
    assert bad.status_code == 422
    added = post_form(client, url + "/people", {"email": "Ambtenaar@Amsterdam.example"})
    assert added.status_code == 303
    assert "Aafke Ambtenaar" in _page(client.get(url))
    twice = post_form(client, url + "/people?lang=en", {"email": "ambtenaar@amsterdam.example"})
    assert "This person already acts for this organisation." in _page(twice)
    with app.app_context():
        person_id = db.session.scalar(sa.select(OrganisationPerson.id))
        other = make_organisation("haarlem", "Gemeente Haarlem")
        other_id = other.id
    # A person is removed only through their own organisation.
    assert (
        post_form(client, f"/manage/organisations/{other_id}/people/{person_id}/remove").status_code
        == 404
    )
    removed = post_form(client, f"{url}/people/{person_id}/remove")
    assert removed.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(OrganisationPerson.id))) == 0


def test_the_list_takes_a_fixed_number_of_queries(app, client, staff, world, count_queries):
    client.get("/manage/organisations")
    with count_queries as counted:
        client.get("/manage/organisations")
    few = counted.count
    with app.app_context():
        city = db.session.get(Organisation, world["city"])
        for number in range(8):
            make_organisation(
                f"afdeling-{number}",
                f"Afdeling {number}",
                kind="department",
                parent=city,
                people=[make_user(f"p{number}@example.org")],
            )
    with count_queries as counted:
        assert "Afdeling 7, Gemeente Amsterdam" in _page(client.get("/manage/organisations"))
    assert counted.count == few
