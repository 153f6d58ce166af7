"""The private page's edit form (`/r/<token>/edit`): the party as a WTForms list of the
register form's person, every bad input refused with a 422 that keeps the typing."""

import re
from datetime import timedelta

import pytest

from cooperative.extensions import db
from cooperative.models import Attendee, utcnow
from cooperative.services.registration import PersonChoice
from tests.conftest import post_form
from tests.factories import make_event, make_registration


@pytest.fixture
def party(app):
    """Ada (dinner, vegan) and Bob (no meal) in one registration: (token, ada id, bob id)."""
    with app.app_context():
        event = make_event(meals=[{"name": "Diner", "price_cents": 0}])
        registration = make_registration(
            event, [PersonChoice("Ada", event.meal_options[0].id, ["vegan"], "geen ui"), "Bob"]
        )
        ada, bob = (a.id for a in registration.attendees)
        return registration.token, ada, bob


def stored(app, attendee_id: int) -> tuple[str, list[str], str]:
    with app.app_context():
        attendee = db.session.get(Attendee, attendee_id)
        return attendee.name, attendee.diets, attendee.diet_note


def page_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def posted(ada="Ada", ada_diets=("vegan",), note="geen ui", bob="Bob") -> dict:
    return {
        "people-0-name": ada,
        "people-0-diets": list(ada_diets),
        "people-0-diet_note": note,
        "people-1-name": bob,
    }


def test_the_form_shows_each_person_with_their_diets(client, party):
    token, _, _ = party
    page = page_of(client.get(f"/r/{token}/edit?lang=en"))
    assert 'name="people-0-name"' in page and 'value="Ada"' in page
    assert 'name="people-1-name"' in page and 'value="Bob"' in page
    assert "<legend>Diet (Diner)</legend>" in page
    assert 'checked id="people-0-diets-1" name="people-0-diets" type="checkbox" value="vegan"' in (
        page
    )
    assert 'value="geen ui"' in page
    # Bob has no meal: no diets and no note for him.
    assert "people-1-diets" not in page and "people-1-diet_note" not in page


def test_a_change_is_saved(client, app, party):
    token, ada, bob = party
    response = post_form(
        client, f"/r/{token}/edit", posted("Ada L.", ("halal", "vegan"), " noten ", "Bob B.")
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/r/{token}"
    assert stored(app, ada) == ("Ada L.", ["halal", "vegan"], "noten")
    assert stored(app, bob)[0] == "Bob B."


@pytest.mark.parametrize(
    ("lang", "message"),
    [("en", "Please fill in this person’s name."), ("nl", "Vul de naam van deze persoon in.")],
)
def test_an_empty_name_is_refused_next_to_it_and_nothing_is_saved(
    client, app, party, lang, message
):
    token, ada, bob = party
    response = post_form(client, f"/r/{token}/edit?lang={lang}", posted("Ada L.", bob="  "))
    assert response.status_code == 422
    page = page_of(response)
    assert f'<p class="error" id="people-1-name-error">{message}</p>' in page
    assert 'aria-describedby="people-1-name-error" aria-invalid="true" id="people-1-name"' in page
    assert 'value="Ada L."' in page  # the rest of the typing is kept
    assert re.search(r'<div [^>]*role="alert"', page)  # the summary of what to correct
    # Ada's change was fine, but nothing is saved while Bob's is refused.
    assert stored(app, ada) == ("Ada", ["vegan"], "geen ui")
    assert stored(app, bob)[0] == "Bob"


def test_a_diet_the_meal_does_not_offer_is_refused_next_to_the_diets(client, app, party):
    token, ada, _ = party
    response = post_form(client, f"/r/{token}/edit?lang=en", posted(ada_diets=("kosher",)))
    assert response.status_code == 422
    page = page_of(response)
    assert (
        '<p class="error" id="people-0-diets-error">Please choose from the diets this meal '
        "offers.</p>"
    ) in page
    assert stored(app, ada) == ("Ada", ["vegan"], "geen ui")


def test_a_party_changed_since_the_page_was_opened_is_refused_and_drawn_again(client, app, party):
    token, ada, bob = party
    with app.app_context():
        db.session.get(Attendee, bob).cancelled_at = utcnow()
        db.session.commit()
    # The page was opened for Ada and Bob: its second row is no longer anyone.
    response = post_form(client, f"/r/{token}/edit?lang=en", posted("Ada L.", bob="Bob B."))
    assert response.status_code == 422
    page = page_of(response)
    assert "Your party has changed since you opened this page. Please check it again." in page
    assert 'value="Ada"' in page and "people-1-name" not in page  # as it is now
    assert stored(app, ada) == ("Ada", ["vegan"], "geen ui")
    assert stored(app, bob)[0] == "Bob"


def test_after_the_meal_deadline_diets_and_note_stay_as_they_were(client, app, party):
    token, ada, _ = party
    with app.app_context():
        attendee = db.session.get(Attendee, ada)
        attendee.meal_option.signup_deadline = utcnow() - timedelta(hours=1)
        db.session.commit()
    page = page_of(client.get(f"/r/{token}/edit?lang=en"))
    assert "The meal’s sign-up has closed: diets can no longer be changed." in page
    assert 'checked disabled id="people-0-diets-1"' in page
    assert 'readonly type="text" value="geen ui"' in page
    # A browser sends no disabled checkbox: the name changes, the diets are kept.
    response = post_form(
        client, f"/r/{token}/edit", {"people-0-name": "Ada L.", "people-1-name": "Bob"}
    )
    assert response.status_code == 303
    assert stored(app, ada) == ("Ada L.", ["vegan"], "geen ui")
    # Nor is a changed note or diet read, whatever is posted.
    response = post_form(client, f"/r/{token}/edit", posted("Ada", ("halal",), "noten"))
    assert response.status_code == 303
    assert stored(app, ada) == ("Ada", ["vegan"], "geen ui")


def test_after_the_start_nothing_changes_and_the_page_says_why_once(client, app, party):
    token, ada, _ = party
    with app.app_context():
        registration = db.session.get(Attendee, ada).registration
        registration.event.starts_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
    response = post_form(client, f"/r/{token}/edit?lang=en", posted("Ada L."))
    assert response.status_code == 422
    page = page_of(response)
    assert page.count("The event has started: this can no longer be changed.") == 1
    assert 'value="Ada L."' in page
    assert stored(app, ada) == ("Ada", ["vegan"], "geen ui")


def test_a_post_without_csrf_token_changes_nothing(client, app, party):
    token, ada, _ = party
    response = client.post(f"/r/{token}/edit", data=posted("Ada L."))
    assert response.status_code == 400
    assert stored(app, ada)[0] == "Ada"


def test_rows_beyond_the_party_do_not_reach_the_database(client, app, party):
    token, ada, _ = party
    data = posted("Ada L.") | {f"people-{i}-name": "X" for i in range(2, 40)}
    response = post_form(client, f"/r/{token}/edit?lang=en", data)
    assert response.status_code == 422
    page = page_of(response)
    assert "Your party has changed" in page and "people-2-name" not in page
    assert stored(app, ada)[0] == "Ada"


def test_the_register_form_says_its_persons_limits_in_the_pages_language(client, app, party):
    """The same person subform: WTForms' own messages in Dutch there too."""
    response = post_form(
        client,
        "/events/buurtdiner/register?lang=nl",
        {
            "contact_name": "Cas",
            "contact_email": "cas@example.org",
            "people-0-name": "C" * 121,
            "submit": "register",
        },
    )
    assert response.status_code == 422
    assert 'id="people-0-name-error">Veld mag niet langer zijn dan 120' in page_of(response)
