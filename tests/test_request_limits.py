"""What a request may carry: no control characters in its path, no body over
MAX_CONTENT_LENGTH, and no text longer than its field, each refused with a clear 4xx."""

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Attendee, MembershipPlan, Registration
from cooperative.services.registration import PersonChoice
from tests.conftest import post_form
from tests.factories import (
    make_admin,
    make_collective,
    make_event,
    make_member,
    make_organiser,
    make_registration,
    make_user,
)


@pytest.fixture
def dinner(app):
    """A published event with a dinner, and one registered person: (token, attendee id)."""
    with app.app_context():
        event = make_event(
            slug="a", collective=make_collective(), meals=[{"name": "Diner", "price_cents": 0}]
        )
        registration = make_registration(
            event, [PersonChoice("Ada", event.meal_options[0].id, ["vegan"])]
        )
        return registration.token, registration.attendees[0].id


def stored(app, attendee_id: int) -> tuple[str, list[str], str]:
    with app.app_context():
        attendee = db.session.get(Attendee, attendee_id)
        return attendee.name, attendee.diets, attendee.diet_note


# --- Control characters in the address ----------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/events/%00",
        "/events/a%00",
        "/collectives/%00",
        "/collectives/zonnedak%00",
        "/collectives/%00/events.ics",
        "/events/a%00.ics",
        "/events/a%0A.ics",
        "/events/a%7F",
        "/r/%00",
        "/join/%00",
    ],
)
def test_a_page_address_with_a_control_character_is_not_found(client, dinner, url):
    response = client.get(url + "?lang=en")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ["/api/v1/events/%00", "/api/v1/events/a%00b", "/api/v1/events/a%00"]
)
def test_an_api_address_with_a_control_character_is_not_found_as_json(client, dinner, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response.get_json() == {"error": "not found"}


def test_the_same_addresses_without_the_character_are_found(client, dinner):
    assert client.get("/events/a").status_code == 200
    assert client.get("/events/a.ics").status_code == 200
    assert client.get("/api/v1/events/a").status_code == 200


# --- The private page's edit form ---------------------------------------------------------


def test_a_nul_character_in_a_name_is_dropped(client, app, dinner):
    token, ada = dinner
    prefix = "people-0-"
    response = post_form(
        client,
        f"/r/{token}/edit",
        {
            prefix + "name": "Ada\x00 Lovelace",
            prefix + "diets": "vegan",
            prefix + "diet_note": "no\x00ten",
        },
    )
    assert response.status_code == 303
    assert stored(app, ada) == ("Ada Lovelace", ["vegan"], "noten")


def test_a_name_too_long_is_refused_next_to_the_field_and_kept(client, app, dinner):
    token, ada = dinner
    prefix = "people-0-"
    long_name = "A" * 10_000
    response = post_form(
        client,
        f"/r/{token}/edit?lang=nl",
        {prefix + "name": long_name, prefix + "diets": "halal", prefix + "diet_note": "noten"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Your changes are saved" not in page and "Je wijzigingen zijn opgeslagen" not in page
    assert (
        f'<input aria-describedby="{prefix}name-error" aria-invalid="true" id="{prefix}name" '
        f'maxlength="120" name="{prefix}name" required type="text" value="{long_name}">'
    ) in page
    assert f'id="{prefix}name-error">Veld mag niet langer zijn dan 120' in page
    assert 'value="noten"' in page  # the rest of the typing is kept too
    assert stored(app, ada) == ("Ada", ["vegan"], "")


def test_a_note_too_long_is_refused_next_to_its_field(client, app, dinner):
    token, ada = dinner
    prefix = "people-0-"
    response = post_form(
        client,
        f"/r/{token}/edit?lang=en",
        {prefix + "name": "Ada L.", prefix + "diets": "vegan", prefix + "diet_note": "n" * 301},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{prefix}diet_note-error">Field cannot be longer than 300' in page
    assert 'value="Ada L."' in page
    assert stored(app, ada) == ("Ada", ["vegan"], "")


# --- The size of a request ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "words"),
    [("nl", "Wat je stuurde is te groot"), ("en", "What you sent is too large")],
)
def test_a_body_over_the_limit_gets_a_friendly_413(client, app, dinner, lang, words):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    token, ada = dinner
    prefix = "people-0-"
    response = post_form(
        client, f"/r/{token}/edit?lang={lang}", {prefix + "name": "A" * (1024 * 1024 + 1)}
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert words in page and '<html lang="' + lang in page
    assert "1 MB" in page
    assert stored(app, ada) == ("Ada", ["vegan"], "")


def test_a_body_over_the_limit_is_refused_to_htmx_as_a_whole_page(client, app, dinner):
    with app.app_context():
        slug = db.session.scalar(sa.select(Registration)).event.slug
    response = post_form(
        client,
        f"/events/{slug}/register",
        {"contact_name": "x" * 2_000_000},
        headers={"HX-Request": "true", "HX-Target": "registration-form"},
    )
    assert response.status_code == 413
    assert response.headers["HX-Retarget"] == "body"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 1


# --- Every form's text fields -------------------------------------------------------------


def test_the_admins_member_filters_refuse_hostile_values_next_to_the_field(client, app, auth):
    with app.app_context():
        make_admin()
    auth.login("admin@example.org")
    response = client.get(
        "/admin/members?lang=en&q=" + "x" * 201 + "&neighbourhood=%00&plan=%00&status=nope"
    )
    assert response.status_code == 200  # a list, with what was refused marked
    page = response.get_data(as_text=True)
    assert "Field cannot be longer than 200 characters." in page
    assert page.count("Not a valid choice.") == 3
    assert client.get("/admin/members?q=a%00b").status_code == 200


def test_a_plan_description_too_long_is_refused(client, app, auth):
    with app.app_context():
        make_admin()
    auth.login("admin@example.org")
    data = {
        "slug": "lid",
        "name_nl": "Lid",
        "name_en": "Member",
        "description_nl": "x" * 2001,
        "description_en": "ok",
        "fee": "10",
        "period": "yearly",
    }
    response = post_form(client, "/admin/plans/new?lang=en", data)
    assert response.status_code == 422
    assert "Field cannot be longer than 2000 characters." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(MembershipPlan.id))) == 0
    assert post_form(client, "/admin/plans/new", {**data, "description_nl": "x"}).status_code == 303


def test_a_password_longer_than_any_password_is_refused_without_hashing(client, app):
    with app.app_context():
        make_user()
    response = post_form(
        client, "/auth/login?lang=en", {"email": "resident@example.org", "password": "p" * 201}
    )
    assert response.status_code == 422
    assert "A password has at most 200 characters." in response.get_data(as_text=True)


def test_a_walk_in_amount_too_long_is_refused(client, app, auth, dinner):
    with app.app_context():
        event = db.session.scalar(sa.select(Registration)).event
        make_organiser(event.collective)
        event_id = event.id
    auth.login("organiser@example.org")
    response = post_form(
        client,
        f"/manage/events/{event_id}/walk-in?lang=en",
        {"name": "Bob", "meal": "", "paid": "5" * 21},
    )
    assert response.status_code == 422
    assert "Field cannot be longer than 20 characters." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 1


@pytest.mark.parametrize("session_id", ["%00", "cs_test_a%00b", "cs_" + "a" * 300, "x y"])
def test_a_return_from_stripe_with_a_mangled_session_id_is_harmless(
    client, app, auth, dinner, session_id
):
    token, _ = dinner
    back = client.get(f"/r/{token}?session_id={session_id}")
    assert back.status_code == 303 and back.headers["Location"] == f"/r/{token}"
    with app.app_context():
        make_user()
    auth.login()
    back = client.get(f"/account/?session_id={session_id}")
    assert back.status_code == 303 and back.headers["Location"] == "/account/"


def test_the_members_directory_filters_drop_a_nul_character(client, app, auth):
    with app.app_context():
        make_member(neighbourhood="Oost", display_name="Ada")
        make_member("bob@example.org", neighbourhood="West", display_name="Bob")
    auth.login("member@example.org")
    response = client.get("/members/?neighbourhood=Oo%00st&interest=%00")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Ada" in page and "Bob" not in page
