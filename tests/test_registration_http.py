"""Registering through the site: the form, its redraws, every bad input, the private pages."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from cooperative.extensions import db
from cooperative.models import (
    Attendee,
    Event,
    OutboxMessage,
    Registration,
    RegistrationStatus,
    utcnow,
)
from cooperative.services.registration import PersonChoice
from tests.conftest import body_of, csrf_token, link_in, post_form
from tests.factories import make_event, make_registration, make_user

REGISTER = "/events/buurtdiner/register"


@pytest.fixture
def event(app):
    """Buurtdiner: 5 seats; a €5 dinner (3 meals, vegetarian/vegan/halal) and a
    pay-what-you-can soup (from €2, suggested €4)."""
    with app.app_context():
        event = make_event(
            capacity=5,
            meals=[
                {"name": "Diner", "price_cents": 500, "capacity": 3},
                {
                    "name": "Soep",
                    "price_cents": 0,
                    "pwyc_min_cents": 200,
                    "pwyc_suggested_cents": 400,
                    "capacity": None,
                    "diets": ["vegan"],
                },
            ],
        )
        return {
            "id": event.id,
            "dinner": event.meal_options[0].id,
            "soup": event.meal_options[1].id,
        }


def form(event, *persons, **fields):
    """Form data for a party: persons are (name, meal id or None, [diets])."""
    data = {"contact_name": "Ada de Vries", "contact_email": "ada@example.org"}
    for index, (name, meal, diets) in enumerate(persons):
        data[f"people-{index}-name"] = name
        data[f"people-{index}-meal"] = str(meal) if meal else ""
        data[f"people-{index}-diets"] = diets
    data.update(fields)
    return data


def _event(event) -> Event:
    return db.session.get(Event, event["id"])


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def registrations(app):
    with app.app_context():
        return db.session.scalars(sa.select(Registration).order_by(Registration.id)).all()


def test_the_event_page_shows_seats_meals_and_the_form(client, event):
    page = text(client.get("/events/buurtdiner?lang=en"))
    assert "5 seats left" in page
    assert "Pay what you can, from €2.00 (suggested €4.00)" in page
    assert "3 meals left" in page
    assert 'action="/events/buurtdiner/register"' in page
    assert 'name="people-0-name"' in page


def test_the_event_page_in_dutch(client, event):
    page = text(client.get("/events/buurtdiner"))
    assert "Nog 5 plaatsen" in page
    assert "Aanmelden" in page


def test_a_guest_registers_a_party_and_lands_on_the_private_page(client, app, event):
    data = form(
        event,
        ("Ada", event["dinner"], ["vegetarian"]),
        ("Bob", event["soup"], ["vegan"]),
        ("Cas", None, []),
        meal_amount="3,50",
        submit="register",
    )
    response = post_form(client, REGISTER, data)

    assert response.status_code == 303
    [registration] = registrations(app)
    assert response.headers["Location"] == f"/r/{registration.token}"
    assert registration.status == RegistrationStatus.CONFIRMED
    assert registration.amount_due_cents == 500 + 350
    with app.app_context():
        people = db.session.scalars(sa.select(Attendee).order_by(Attendee.id)).all()
        assert [(p.name, p.meal_option_id, p.diets) for p in people] == [
            ("Ada", event["dinner"], ["vegetarian"]),
            ("Bob", event["soup"], ["vegan"]),
            ("Cas", None, []),
        ]

    page = text(client.get(response.headers["Location"] + "?lang=en"))
    assert "Confirmed: you are coming." in page
    assert "€8.50" in page and "To pay at the door." in page
    assert page.count("<svg") == 3
    assert "2 seats left" in page


def test_the_browser_never_sets_the_price(client, app, event):
    data = form(
        event,
        ("Ada", event["dinner"], []),
        submit="register",
        amount_due_cents="0",
        total="0",
        meal_amount="",
    )
    post_form(client, REGISTER, data)
    assert registrations(app)[0].amount_due_cents == 500


def test_htmx_submit_redirects_the_whole_page(client, app, event):
    response = client.post(
        REGISTER,
        data={
            "csrf_token": csrf_token(client),
            **form(event, ("Ada", None, []), submit="register"),
        },
        headers={"HX-Request": "true", "HX-Target": "registration"},
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/r/{registrations(app)[0].token}"


def test_adding_and_removing_people_keeps_what_was_typed(client, app, event):
    data = form(event, ("Ada", event["dinner"], ["vegan"]), ("Bob", None, []), add_person="1")
    page = text(post_form(client, REGISTER, data))
    assert 'name="people-2-name"' in page
    assert 'value="Ada de Vries"' in page and 'value="Bob"' in page
    assert re.search(r'checked id="people-0-diets-1"[^>]*value="vegan"', page)

    data = form(event, ("Ada", None, []), ("Bob", None, []), ("Cas", None, []), remove_person="1")
    page = text(post_form(client, REGISTER, data))
    assert 'value="Ada"' in page and 'value="Cas"' in page and 'value="Bob"' not in page
    assert 'name="people-2-name"' not in page
    assert registrations(app) == []


def test_a_redraw_for_htmx_is_only_the_form(client, event):
    response = client.post(
        REGISTER,
        data={"csrf_token": csrf_token(client), **form(event, ("Ada", None, []), add_person="1")},
        headers={"HX-Request": "true", "HX-Target": "registration"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith("<form") and "<html" not in html


def test_the_running_total_follows_the_choices(client, event):
    data = form(event, ("Ada", event["dinner"], []), ("Bob", event["soup"], []), meal_amount="6")
    page = text(post_form(client, REGISTER + "?lang=en", data))
    assert "Total: €11.00" in page


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1,99", "Please choose an amount from €2.00 to"),
        ("abc", "Please write an amount in euros, like 4,50."),
    ],
    ids=["below-minimum", "not-a-number"],
)
def test_the_running_total_says_what_is_wrong_with_the_amount(client, app, event, amount, message):
    """The live redraw says next to the field what submitting would say, not a bare "–"
    (below the minimum) or the suggested total (not a number)."""
    data = form(event, ("Ada", event["soup"], []), ("Bob", event["soup"], []), meal_amount=amount)
    response = client.post(
        REGISTER + "?lang=en",
        data={"csrf_token": csrf_token(client), **data},
        headers={"HX-Request": "true", "HX-Target": "registration-total"},
    )
    assert response.status_code == 200
    page = text(response)
    assert re.search(r'<div id="meal_amount-errors"> <p[^>]*>' + re.escape(message), page)
    assert 'aria-describedby="meal_amount-hint meal_amount-errors"' in page
    assert "Total: –" in page and "Total: €8.00" not in page
    assert registrations(app) == []

    submitted = post_form(client, REGISTER + "?lang=en", {**data, "submit": "register"})
    assert submitted.status_code == 422
    assert message in text(submitted)


def test_a_good_amount_leaves_its_error_box_empty(client, event):
    data = form(event, ("Ada", event["soup"], []), meal_amount="3")
    response = client.post(
        REGISTER + "?lang=en",
        data={"csrf_token": csrf_token(client), **data},
        headers={"HX-Request": "true", "HX-Target": "registration-total"},
    )
    page = text(response)
    assert '<div id="meal_amount-errors"> </div>' in page
    assert "Total: €3.00" in page


def test_the_party_cannot_grow_beyond_the_event_limit(client, app, event):
    persons = [(f"P{i}", None, []) for i in range(6)]
    page = text(post_form(client, REGISTER + "?lang=en", form(event, *persons, add_person="1")))
    assert 'name="people-6-name"' not in page
    assert "You can register up to 6 people at once." in page

    persons.append(("P6", None, []))
    response = post_form(client, REGISTER + "?lang=en", form(event, *persons, submit="register"))
    assert response.status_code == 422
    assert "You can register 1 to 6 people at once." in text(response)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"contact_name": ""}, "Please fill in your name."),
        ({"contact_email": "ada-at-example"}, "This does not look like an e-mail address"),
        ({"people-0-name": "  "}, "Please fill in this person’s name."),
        ({"people-0-diets": ["halal"], "people-0-meal": "SOUP"}, "Please choose from the diets"),
        ({"people-0-meal": "999999"}, "Please choose one of the meals offered."),
        ({"people-0-meal": "SOUP", "meal_amount": "1,99"}, "Please choose an amount from €2.00"),
        ({"people-0-meal": "SOUP", "meal_amount": "veel"}, "Please write an amount in euros"),
    ],
    ids=["no-contact", "bad-email", "no-person-name", "diet", "meal", "pwyc-low", "pwyc-text"],
)
def test_bad_input_is_refused_with_a_message_and_the_typing_kept(
    client, app, event, change, message
):
    data = form(event, ("Ada", None, []), submit="register")
    change = {k: str(event["soup"]) if v == "SOUP" else v for k, v in change.items()}
    data.update(change)
    response = post_form(client, REGISTER + "?lang=en", data)

    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert 'value="ada@example.org"' in page or data["contact_email"] in page
    assert registrations(app) == []


def test_bad_input_messages_are_in_dutch_by_default(client, event):
    data = form(event, ("", None, []), submit="register")
    response = post_form(client, REGISTER, data)
    assert response.status_code == 422
    assert "Vul de naam van deze persoon in." in text(response)


def test_a_full_meal_is_refused_next_to_the_person(client, app, event):
    with app.app_context():
        make_registration(
            _event(event),
            people=[PersonChoice(n, event["dinner"]) for n in ("X", "Y", "Z")],
            email="xyz@example.org",
        )
    data = form(event, ("Ada", event["dinner"], []), submit="register")
    response = post_form(client, REGISTER + "?lang=en", data)
    assert response.status_code == 422
    assert "“Diner” is full." in text(response)
    assert len(registrations(app)) == 1


def test_a_meal_after_its_deadline_is_refused(client, app, event):
    with app.app_context():
        _event(event).meal_options[0].signup_deadline = utcnow() - timedelta(hours=1)
        db.session.commit()
    page = text(client.get("/events/buurtdiner?lang=en"))
    assert re.search(r'disabled id="people-0-meal-1"', page)
    response = post_form(
        client, REGISTER + "?lang=en", form(event, ("Ada", event["dinner"], []), submit="register")
    )
    assert response.status_code == 422
    assert "Signing up for this meal has closed." in text(response)


@pytest.mark.parametrize("state", ["cancelled", "closed"])
def test_a_closed_or_cancelled_event_refuses(client, app, event, state):
    with app.app_context():
        if state == "cancelled":
            _event(event).status = "cancelled"
        else:
            _event(event).registration_closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    page = text(client.get("/events/buurtdiner?lang=en"))
    assert 'name="people-0-name"' not in page
    response = post_form(
        client, REGISTER + "?lang=en", form(event, ("Ada", None, []), submit="register")
    )
    assert response.status_code == 422
    expected = "This event is cancelled." if state == "cancelled" else "has closed"
    assert expected in text(response)
    assert registrations(app) == []


def test_a_draft_event_is_not_found(client, app):
    with app.app_context():
        make_event(slug="concept", status="draft")
    assert client.get("/events/concept").status_code == 404
    assert post_form(client, "/events/concept/register", {"submit": "register"}).status_code == 404


def test_a_party_that_does_not_fit_is_offered_the_waiting_list(client, app, event):
    with app.app_context():
        make_registration(_event(event), people=("A", "B", "C", "D"), email="abcd@example.org")
    data = form(event, ("Ada", None, []), ("Bob", None, []), submit="register")
    response = post_form(client, REGISTER + "?lang=en", data)

    assert response.status_code == 422
    page = text(response)
    assert "There are not enough seats left for your party." in page
    assert "Join the waiting list" in page
    assert 'name="submit" value="waitlist"' in page

    response = post_form(client, REGISTER, {**data, "submit": "waitlist"})
    assert response.status_code == 303
    waiting = registrations(app)[-1]
    assert waiting.status == RegistrationStatus.WAITLISTED
    page = text(client.get(response.headers["Location"] + "?lang=en"))
    assert "On the waiting list: place 1." in page
    assert "<svg" not in page, "no tickets while waiting"


def test_a_full_event_says_so_before_submitting(client, app, event):
    with app.app_context():
        make_registration(_event(event), people=[f"P{i}" for i in range(5)], email="p@example.org")
    page = text(client.get("/events/buurtdiner?lang=en"))
    assert "Full: waiting list" in page
    assert "The event is full." in page and "Join the waiting list" in page


def test_registering_twice_mails_the_link_and_shows_nothing_private(client, app, event):
    first = post_form(client, REGISTER, form(event, ("Ada", None, []), submit="register"))
    token = first.headers["Location"].removeprefix("/r/")

    again = form(event, ("Ada", None, []), submit="register", contact_email="ADA@example.org")
    response = post_form(client, REGISTER + "?lang=en", again)
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"]))
    assert "already registered" in page
    assert token not in page
    assert len(registrations(app)) == 1
    with app.app_context():
        last = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()[-1]
        assert last.to_address == "ada@example.org" and token in last.body_text


def test_a_member_finds_their_details_filled_in(client, app, auth, event):
    with app.app_context():
        make_user(email="maria@example.org", name="Maria Jansen")
    auth.login("maria@example.org")
    page = text(client.get("/events/buurtdiner"))
    assert 'value="Maria Jansen"' in page and 'value="maria@example.org"' in page

    data = form(event, ("Maria Jansen", None, []), submit="register")
    data.update(contact_name="Maria Jansen", contact_email="maria@example.org")
    post_form(client, REGISTER, data)
    registration = registrations(app)[0]
    assert registration.user_id is not None

    page = text(client.get("/account/registrations?lang=en"))
    assert "Buurtdiner" in page and f"/r/{registration.token}" in page


def test_my_registrations_needs_a_login_and_shows_only_mine(client, app, auth, event):
    assert client.get("/account/registrations").status_code == 302
    with app.app_context():
        make_user(email="maria@example.org")
        make_registration(_event(event), email="someone@example.org")
    auth.login("maria@example.org")
    page = text(client.get("/account/registrations?lang=en"))
    assert "You have not registered for any event yet." in page


def test_the_post_needs_a_csrf_token(client, app, event):
    response = client.post(REGISTER, data=form(event, ("Ada", None, []), submit="register"))
    assert response.status_code == 400
    assert registrations(app) == []


def test_a_private_page_shows_only_its_own_registration(client, app, event):
    with app.app_context():
        mine = make_registration(_event(event), people=("Ada",), email="ada@example.org")
        theirs = make_registration(_event(event), people=("Zoë",), email="zoe@example.org")
        mine_token, theirs_token = mine.token, theirs.token
        forged = f"{theirs.id}-{mine.manage_token}"
    page = text(client.get(f"/r/{mine_token}"))
    assert "Ada" in page and "Zoë" not in page and theirs_token not in page
    assert client.get(f"/r/{forged}").status_code == 404
    assert client.get("/r/1-short").status_code == 404
    assert client.get(f"/r/{mine_token}x").status_code == 404


def test_cancel_one_person_after_confirming(client, app, event):
    with app.app_context():
        registration = make_registration(_event(event), people=("Ada", "Bob"))
        token, bob = registration.token, registration.attendees[1].id

    confirm = text(client.get(f"/r/{token}/cancel?attendee={bob}&lang=en"))
    assert "Cancel the place of Bob?" in confirm
    response = post_form(client, f"/r/{token}/cancel", {"attendee": str(bob)})
    assert response.status_code == 303
    page = text(client.get(f"/r/{token}?lang=en"))
    assert "Bob’s place is cancelled." in page
    assert "4 seats left" in page
    with app.app_context():
        assert db.session.get(Attendee, bob).cancelled_at is not None


def test_someone_elses_attendee_cannot_be_cancelled(client, app, event):
    with app.app_context():
        mine = make_registration(_event(event), people=("Ada", "Bob"), email="a@example.org")
        theirs = make_registration(_event(event), people=("Zoë", "Yan"), email="z@example.org")
        token, zoe = mine.token, theirs.attendees[0].id
    response = post_form(client, f"/r/{token}/cancel", {"attendee": str(zoe)})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Attendee, zoe).cancelled_at is None
        assert db.session.get(Registration, 1).status == RegistrationStatus.CONFIRMED


def test_cancel_the_whole_registration_promotes_the_waiting_list(client, app, event):
    with app.app_context():
        holder = make_registration(_event(event), people=[f"P{i}" for i in range(5)])
        waiting = make_registration(
            _event(event), people=("Wim",), email="wim@example.org", join_waitlist=True
        )
        token, waiting_id = holder.token, waiting.id
    response = post_form(client, f"/r/{token}/cancel?lang=en")
    assert response.status_code == 303
    page = text(client.get(f"/r/{token}"))
    assert "Your registration is cancelled." in page and "Cancelled." in page
    with app.app_context():
        assert db.session.get(Registration, waiting_id).status == RegistrationStatus.CONFIRMED


def test_nothing_can_be_cancelled_after_the_start(client, app):
    with app.app_context():
        event = make_event(starts_in=timedelta(days=1))
        registration = make_registration(event, people=("Ada", "Bob"))
        token = registration.token
        event.starts_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
    page = text(client.get(f"/r/{token}?lang=en"))
    assert "Cancel the whole registration" not in page
    response = post_form(client, f"/r/{token}/cancel")
    assert response.status_code == 303
    assert "The event has started" in text(client.get(f"/r/{token}?lang=en"))
    assert registrations(app)[0].status == RegistrationStatus.CONFIRMED


def test_edit_names_and_diets(client, app, event):
    with app.app_context():
        registration = make_registration(
            _event(event), people=[PersonChoice("Ada", event["dinner"], ["vegan"])]
        )
        token, ada = registration.token, registration.attendees[0].id
    prefix = "people-0-"
    response = post_form(
        client,
        f"/r/{token}/edit",
        {prefix + "name": "Ada L.", prefix + "diets": ["halal"], prefix + "diet_note": "noten"},
    )
    assert response.status_code == 303
    with app.app_context():
        attendee = db.session.get(Attendee, ada)
        assert (attendee.name, attendee.diets, attendee.diet_note) == ("Ada L.", ["halal"], "noten")

    response = post_form(
        client, f"/r/{token}/edit?lang=en", {prefix + "name": "Ada X", prefix + "diets": ["kosher"]}
    )
    assert response.status_code == 422
    page = text(response)
    assert "Please choose from the diets this meal offers." in page and 'value="Ada X"' in page
    with app.app_context():
        assert db.session.get(Attendee, ada).name == "Ada L."


def test_a_ticket_page(client, app, event):
    with app.app_context():
        registration = make_registration(
            _event(event), people=[PersonChoice("Ada", event["dinner"], ["vegan"]), "Bob"]
        )
        ada, bob = (a.ticket for a in registration.attendees)
        bob_id = registration.attendees[1].id
    page = text(client.get(f"/t/{ada}?lang=en"))
    assert "Ticket of Ada" in page and "Diner: Vegan" in page and "<svg" in page
    assert "Bob" not in page
    assert client.get(f"/t/{ada[:-2]}").status_code == 404

    with app.app_context():
        db.session.get(Attendee, bob_id).cancelled_at = utcnow()
        db.session.commit()
    assert "This ticket is no longer valid." in text(client.get(f"/t/{bob}?lang=en"))


def test_the_emails_arrive_with_a_calendar_file(client, app, runner, smtp_server, event):
    post_form(
        client,
        REGISTER + "?lang=en",
        form(event, ("Ada", event["dinner"], ["vegan"]), ("Bob", None, []), submit="register"),
    )
    result = runner.invoke(args=["coop", "send-mail"])
    assert "Sent 1" in result.output

    [message] = smtp_server.to("ada@example.org")
    assert message["Subject"] == "Your registration: Buurtdiner"
    body = body_of(message)
    assert "Ada: Diner (Vegan)" in body and "- Bob" in body
    assert "€5.00 (to pay at the door)" in body
    token = registrations(app)[0].token
    assert link_in(message, "/r/") == f"/r/{token}"

    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    calendar = Calendar.from_ical(attachment.get_content())
    [entry] = calendar.walk("VEVENT")
    assert str(entry["SUMMARY"]) == "Buurtdiner"
    assert entry.decoded("DTSTART").tzinfo is not None
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/Amsterdam"


def test_a_guest_removes_their_data_after_the_event(client, app):
    with app.app_context():
        event = make_event(starts_in=timedelta(days=1))
        registration = make_registration(event, people=("Ada", "Bob"), email="ada@example.org")
        token, event_id = registration.token, event.id
    page = text(client.get(f"/r/{token}?lang=en"))
    assert "Remove my data" not in page
    response = post_form(client, f"/r/{token}/forget?lang=en")
    assert response.status_code == 303
    assert "after the event" in text(client.get(f"/r/{token}"))
    assert registrations(app)[0].contact_email == "ada@example.org"

    with app.app_context():
        event = db.session.get(Event, event_id)
        event.starts_at = utcnow() - timedelta(hours=5)
        event.ends_at = utcnow() - timedelta(hours=2)
        db.session.commit()
    assert "Remove my data" in text(client.get(f"/r/{token}?lang=en"))
    assert "Remove my data?" in text(client.get(f"/r/{token}/forget?lang=en"))
    post_form(client, f"/r/{token}/forget?lang=en")

    page = text(client.get(f"/r/{token}"))
    assert "Your data is removed." in page and "ada@example.org" not in page
    forgotten = registrations(app)[0]
    assert (forgotten.contact_name, forgotten.contact_email) == ("", "")
    with app.app_context():
        names = db.session.scalars(sa.select(Attendee.name)).all()
        assert names == ["", ""]


def test_registering_takes_as_many_statements_after_many_parties_as_after_few(
    client, app, event, count_queries
):
    """However many have registered (and eaten) before, one more party that eats takes as
    many statements: nothing is loaded per earlier registration."""
    with app.app_context():
        buurtdiner = _event(event)
        buurtdiner.capacity = 60
        buurtdiner.meal_options[0].capacity = 60
        db.session.commit()

    def register_after(earlier: range) -> int:
        with app.app_context():
            for number in earlier:
                people = [PersonChoice("Eerder", event["dinner"]), PersonChoice("Ook")]
                make_registration(_event(event), people, email=f"eerder{number}@example.org")
        party = [("Bob", event["dinner"], ["vegan"]), ("Cas", None, [])]
        data = form(event, *party, contact_email=f"nieuw{len(earlier)}@example.org")
        data.update(submit="register", csrf_token=csrf_token(client))
        with count_queries as counted:
            assert client.post(REGISTER, data=data).status_code == 303
        return counted.count

    after_few = register_after(range(2))
    after_many = register_after(range(2, 22))
    assert after_many == after_few


@pytest.mark.parametrize(
    ("lang", "when", "deadline"),
    [
        ("en", "Monday 13 December 2027, 19:00", "Sign up before Monday 13 December 2027, 12:00"),
        (
            "nl",
            "maandag 13 december 2027, 19:00",
            "Meld je aan vóór maandag 13 december 2027, 12:00",
        ),
    ],
)
def test_dates_read_the_long_way_on_the_page_and_in_the_mail(
    client, app, event, lang, when, deadline
):
    """Not "12/13/27, 12:00 PM": the page and the confirmation mail say the same long date."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    amsterdam = ZoneInfo("Europe/Amsterdam")
    with app.app_context():
        row = _event(event)
        row.starts_at = datetime(2027, 12, 13, 19, 0, tzinfo=amsterdam)
        row.ends_at = datetime(2027, 12, 13, 22, 0, tzinfo=amsterdam)
        row.meal_options[0].signup_deadline = datetime(2027, 12, 13, 12, 0, tzinfo=amsterdam)
        db.session.commit()

    page = text(client.get(f"/events/buurtdiner?lang={lang}"))
    assert when in page and deadline in page
    # " PM" with its space: a random CSRF token in the page may hold the letters "PM".
    assert " PM" not in page and "12/13/27" not in page

    post_form(
        client,
        f"{REGISTER}?lang={lang}",
        form(event, ("Ada", event["dinner"], []), submit="register"),
    )
    with app.app_context():
        [mail] = db.session.scalars(sa.select(OutboxMessage)).all()
        assert f"{when} - 22:00" in mail.body_text


def test_diets_are_listed_in_one_order_on_the_meal_card_and_in_the_form(client, app):
    with app.app_context():
        make_event(meals=[{"name": "Diner", "diets": ["vegan", "halal", "vegetarian"]}])
    page = text(client.get("/events/buurtdiner?lang=en"))
    assert "Diets: Vegetarian, Vegan, Halal" in page
    offered = re.findall(r'name="people-0-diets"[^>]*value="(\w+)"', page)
    offered = offered or re.findall(r'value="(\w+)"[^>]*name="people-0-diets"', page)
    assert offered == ["vegetarian", "vegan", "halal"]
