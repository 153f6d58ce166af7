"""Organisers create, change, publish and cancel events with meals at /manage/events."""

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Attendee,
    Event,
    EventStatus,
    MealOption,
    OutboxMessage,
    PaymentMode,
    Registration,
    RegistrationStatus,
)
from cooperative.services import registration as registrations
from tests.conftest import body_of, post_form
from tests.factories import (
    make_collective,
    make_event,
    make_organiser,
    make_registration,
    make_user,
)

ROLES = ("anonymous", "member", "host_organiser", "other_organiser", "admin")
EMAILS = {
    "member": "member@example.org",
    "host_organiser": "host@example.org",
    "other_organiser": "other@example.org",
    "admin": "admin@example.org",
}


@pytest.fixture
def world(app):
    """Two collectives, a person of each role, and an event of collective A (a draft)."""
    with app.app_context():
        host = make_collective("zonnedak", "Zonnedak")
        other = make_collective("voedselbank", "Voedselbank")
        make_user(email=EMAILS["member"], name="Mila Member")
        make_organiser(host, email=EMAILS["host_organiser"], name="Hans Host")
        make_organiser(other, email=EMAILS["other_organiser"], name="Olga Other")
        make_user(email=EMAILS["admin"], name="Ada Admin", is_admin=True)
        event = make_event(
            "buurtdiner",
            "Buurtdiner",
            collective_id=host.id,
            status=EventStatus.DRAFT,
            meals=[{"name": "Diner"}],
        )
        return SimpleNamespace(host_id=host.id, other_id=other.id, event_id=event.id)


def log_in(client, auth, role: str) -> None:
    """Log in as `role`, and show the pages in English."""
    client.get("/?lang=en")
    if role != "anonymous":
        response = auth.login(email=EMAILS[role])
        assert response.status_code in (302, 303)


def event_data(collective_id, **overrides) -> dict:
    """A complete, valid form for an event without meals; `overrides` replace fields."""
    data = {
        "title": "Repair café",
        "slug": "",
        "summary": "Bring what is broken.",
        "description": "We fix bikes, lamps and clothes together.",
        "starts_at": "2030-06-12T17:30",
        "ends_at": "2030-06-12T21:00",
        "venue": "Buurthuis De Meent",
        "address": "Voorbeeldstraat 4, Amsterdam",
        "collective_id": str(collective_id),
        "audience": "Everyone",
        "capacity": "40",
        "ticket_price": "0",
        "max_party_size": "6",
        "registration_opens_at": "",
        "registration_closes_at": "",
        "save": "1",
    }
    data.update(overrides)
    return data


def page_of(response) -> str:
    return response.get_data(as_text=True)


def value_of(page: str, field_id: str) -> str | None:
    """The value of the input `field_id` as drawn on the page."""
    tag = re.search(rf'<input[^>]*\bid="{re.escape(field_id)}"[^>]*>', page)
    if tag is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


def event_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Event.id)))


# ---------------------------------------------------------------------------------------
# Who may do what


OK = "ok"
# For each route: the status every role gets. The host organiser and the admin manage the
# event; the organiser of another collective may use the back office, but not this event.
MATRIX = {
    "anonymous": "login",
    "member": 403,
    "host_organiser": OK,
    "other_organiser": 403,
    "admin": OK,
}


def _route_calls(world):
    event = world.event_id
    return {
        "start": ("get", "/manage/", None, 302),
        "list": ("get", "/manage/events", None, 200),
        "new form": ("get", "/manage/events/new", None, 200),
        "new redraw": ("post", "/manage/events/new", {}, 200),
        "edit form": ("get", f"/manage/events/{event}/edit", None, 200),
        "edit save": (
            "post",
            f"/manage/events/{event}/edit",
            {
                **event_data(world.host_id, title="Buurtdiner anders", slug="buurtdiner"),
                "meals-0-name": "Diner",
                "meals-0-price": "5",
            },
            303,
        ),
        "publish": ("post", f"/manage/events/{event}/publish", {}, 303),
        "cancel form": ("get", f"/manage/events/{event}/cancel", None, 200),
        "cancel": ("post", f"/manage/events/{event}/cancel", {}, 303),
    }


ROUTES = (
    "start",
    "list",
    "new form",
    "new redraw",
    "edit form",
    "edit save",
    "publish",
    "cancel form",
    "cancel",
)
BACK_OFFICE_ROUTES = {"start", "list", "new form", "new redraw"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES)
def test_who_may_use_each_route(app, client, auth, world, role, route):
    log_in(client, auth, role)
    method, url, data, ok_status = _route_calls(world)[route]
    response = client.get(url) if method == "get" else post_form(client, url, data)

    expected = MATRIX[role]
    if role == "other_organiser" and route in BACK_OFFICE_ROUTES:
        expected = OK
    if expected == "login":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login")
    elif expected == OK:
        assert response.status_code == ok_status
        if route == "start":
            assert response.headers["Location"] == "/manage/events"
    else:
        assert response.status_code == expected

    with app.app_context():
        event = db.session.get(Event, world.event_id)
        changed = expected == OK
        assert (event.title == "Buurtdiner anders") == (changed and route == "edit save")
        assert (event.status == EventStatus.PUBLISHED) == (changed and route == "publish")
        assert (event.status == EventStatus.CANCELLED) == (changed and route == "cancel")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ["edit", "publish", "cancel"])
def test_an_event_without_a_host_collective_is_for_admins_only(
    app, client, auth, world, role, action
):
    with app.app_context():
        event = make_event("open-dag", "Open dag", status=EventStatus.DRAFT)
        url = f"/manage/events/{event.id}/{action}"
    log_in(client, auth, role)

    response = client.get(url) if action != "publish" else post_form(client, url)

    expected = {"anonymous": 302, "member": 403, "admin": 200 if action != "publish" else 303}
    assert response.status_code == expected.get(role, 403)


def test_an_unknown_event_is_not_found(client, auth, world):
    log_in(client, auth, "admin")
    assert client.get("/manage/events/999999/edit").status_code == 404


def test_the_manage_link_is_shown_only_to_organisers_and_admins(client, auth, world):
    for role in ROLES:
        log_in(client, auth, role)
        page = page_of(client.get("/"))
        assert ('href="/manage/events"' in page) == (
            role in {"host_organiser", "other_organiser", "admin"}
        )
        if role != "anonymous":
            auth.logout()


# ---------------------------------------------------------------------------------------
# The list


def test_the_list_shows_my_events_upcoming_first_with_seats_and_meals(app, client, auth, world):
    with app.app_context():
        soon = make_event(
            "soon",
            "Soep en film",
            capacity=10,
            collective_id=world.host_id,
            starts_in=timedelta(days=2),
            meals=[{"name": "Soep", "capacity": 8}, {"name": "Brood", "capacity": 4}],
        )
        make_event(
            "later",
            "Zomerfeest",
            capacity=None,
            collective_id=world.host_id,
            starts_in=timedelta(days=30),
        )
        make_event("gone", "Oud feest", collective_id=world.host_id, starts_in=timedelta(days=-10))
        make_event(
            "older", "Heel oud feest", collective_id=world.host_id, starts_in=timedelta(days=-40)
        )
        make_event("theirs", "Voedselmarkt", collective_id=world.other_id)
        soon_id = soon.id
        soup = soon.meal_options[0]
        make_registration(
            soon,
            people=[
                registrations.PersonChoice("Ada", soup.id),
                registrations.PersonChoice("Bas", soup.id),
                registrations.PersonChoice("Cor"),
            ],
        )
    log_in(client, auth, "host_organiser")

    page = page_of(client.get("/manage/events"))

    assert "Voedselmarkt" not in page
    order = [page.index(title) for title in ("Soep en film", "Buurtdiner", "Zomerfeest")]
    assert order == sorted(order)
    assert page.index("Zomerfeest") < page.index("Past events") < page.index("Oud feest")
    assert page.index("Oud feest") < page.index("Heel oud feest")
    card = page[page.index("Soep en film") : page.index("Buurtdiner")]
    assert "3 of 10 taken" in card  # seats
    assert "2 of 12 taken" in card  # meals
    assert ">Draft<" in page and ">Published<" in page
    assert f'href="/manage/events/{soon_id}/edit"' in card
    zomer = page[page.index("Zomerfeest") : page.index("Past events")]
    assert "0 taken, no limit" in zomer and "No meals" in zomer
    assert 'href="/manage/events/new"' in page


def test_the_list_costs_the_same_queries_for_1_and_6_events(
    app, client, auth, world, count_queries
):
    log_in(client, auth, "admin")
    client.get("/manage/events")
    with count_queries as counted:
        assert client.get("/manage/events").status_code == 200
    one = counted.count
    with app.app_context():
        for number in range(5):
            event = make_event(
                f"extra-{number}", f"Extra {number}", collective_id=world.host_id, meals=[{}]
            )
            make_registration(event, email=f"guest{number}@example.org")

    with count_queries as counted:
        page = page_of(client.get("/manage/events"))

    assert "Extra 4" in page
    assert counted.count == one


# ---------------------------------------------------------------------------------------
# Creating and changing


def two_meals() -> dict:
    return {
        "meals-0-id": "",
        "meals-0-name": "Diner vanaf 17:30",
        "meals-0-price": "4,50",
        "meals-0-capacity": "30",
        "meals-0-signup_deadline": "2030-06-11T20:00",
        "meals-0-diets": ["vegetarian", "vegan"],
        "meals-1-id": "",
        "meals-1-name": "Soep",
        "meals-1-price": "3",
        "meals-1-pay_what_you_can": "y",
        "meals-1-pwyc_min": "1.50",
        "meals-1-pwyc_suggested": "5",
        "meals-1-capacity": "",
        "meals-1-signup_deadline": "",
        "meals-1-diets": ["halal"],
    }


def test_an_organiser_creates_a_draft_with_two_meals(app, client, auth, world):
    log_in(client, auth, "host_organiser")
    data = event_data(
        world.host_id,
        title="Buurtdiner in de Pijp: één avond!",
        ticket_price="2,50",
        registration_opens_at="2030-01-10T09:00",
        registration_closes_at="2030-06-12 12:00",
        **two_meals(),
    )

    response = post_form(client, "/manage/events/new", data)

    assert response.status_code == 303
    with app.app_context():
        event = db.session.scalar(sa.select(Event).where(Event.title.startswith("Buurtdiner in")))
        assert response.headers["Location"] == f"/manage/events/{event.id}/edit"
        assert event.slug == "buurtdiner-in-de-pijp-een-avond"
        assert event.status == EventStatus.DRAFT
        assert event.collective_id == world.host_id
        # Amsterdam summer time is UTC+2, winter time UTC+1.
        assert event.starts_at == datetime(2030, 6, 12, 15, 30, tzinfo=UTC)
        assert event.ends_at == datetime(2030, 6, 12, 19, 0, tzinfo=UTC)
        assert event.registration_opens_at == datetime(2030, 1, 10, 8, 0, tzinfo=UTC)
        assert event.registration_closes_at == datetime(2030, 6, 12, 10, 0, tzinfo=UTC)
        assert event.ticket_price_cents == 250
        assert (event.capacity, event.max_party_size) == (40, 6)
        dinner, soup = event.meal_options
        assert (dinner.name, dinner.price_cents, dinner.capacity) == ("Diner vanaf 17:30", 450, 30)
        assert dinner.signup_deadline == datetime(2030, 6, 11, 18, 0, tzinfo=UTC)
        assert dinner.diets == ["vegan", "vegetarian"]
        assert not dinner.pay_what_you_can
        assert (soup.price_cents, soup.pwyc_min_cents, soup.pwyc_suggested_cents) == (300, 150, 500)
        assert soup.pay_what_you_can and soup.capacity is None and soup.diets == ["halal"]
        assert (dinner.position, soup.position) == (0, 1)

    page = page_of(client.get(response.headers["Location"]))
    assert "saved as a draft" in page
    assert 'value="2030-06-12T17:30"' in page  # shown again in Amsterdam time
    assert 'value="4,50"' not in page and 'value="4.50"' in page  # English writes a point


def test_whole_euros_are_shown_with_their_cents(app, client, auth, world):
    """`3` and `5` typed come back as `3.00` and `5.00` (`3,00` in Dutch), not as `3`."""
    log_in(client, auth, "host_organiser")
    response = post_form(client, "/manage/events/new", event_data(world.host_id, **two_meals()))
    edit_page = response.headers["Location"]

    english = page_of(client.get(edit_page))
    assert value_of(english, "meals-1-price") == "3.00"
    assert value_of(english, "meals-1-pwyc_suggested") == "5.00"
    dutch = page_of(client.get(edit_page + "?lang=nl"))
    assert value_of(dutch, "meals-0-price") == "4,50"
    assert value_of(dutch, "meals-1-pwyc_suggested") == "5,00"


def test_a_slug_left_empty_is_made_unique(app, client, auth, world):
    log_in(client, auth, "host_organiser")
    for _ in range(2):
        data = event_data(world.host_id, title="Buurtdiner")
        assert post_form(client, "/manage/events/new", data).status_code == 303
    with app.app_context():
        slugs = set(db.session.scalars(sa.select(Event.slug)))
    assert slugs == {"buurtdiner", "buurtdiner-2", "buurtdiner-3"}


def test_an_admin_may_create_an_event_without_a_host(app, client, auth, world):
    log_in(client, auth, "admin")
    page = page_of(client.get("/manage/events/new"))
    assert "No collective: the cooperative itself" in page

    response = post_form(client, "/manage/events/new", event_data(""))

    assert response.status_code == 303
    with app.app_context():
        event = db.session.scalar(sa.select(Event).where(Event.title == "Repair café"))
        assert event.collective_id is None


def test_add_a_meal_keeps_what_was_typed(app, client, auth, world):
    log_in(client, auth, "host_organiser")
    data = event_data(
        world.host_id,
        title="Repair café Oost",
        capacity="abc",
        **{"meals-0-name": "Soep", "meals-0-price": "4,5"},
    )
    del data["save"]

    response = post_form(client, "/manage/events/new", {**data, "add_meal": "1"})

    assert response.status_code == 200
    page = page_of(response)
    assert 'value="Repair café Oost"' in page
    assert 'value="abc"' in page  # kept, and not judged yet
    assert 'value="2030-06-12T17:30"' in page
    assert value_of(page, "meals-0-name") == "Soep"
    assert value_of(page, "meals-0-price") == "4,5"
    assert value_of(page, "meals-1-name") == ""
    assert value_of(page, "meals-1-price") == "0.00"  # with its cents, the English way
    assert re.search(r'<input[^>]*autofocus[^>]*id="meals-1-name"', page)
    assert "Please write" not in page
    with app.app_context():
        assert event_count() == 1  # only the world's event


def test_remove_a_meal_keeps_the_others_as_typed(app, client, auth, world):
    log_in(client, auth, "host_organiser")
    data = event_data(world.host_id, title="Zomerfeest", **two_meals())
    data["meals-2-name"] = "Taart"
    data["meals-2-price"] = "2"
    del data["save"]

    response = post_form(client, "/manage/events/new", {**data, "remove_meal": "0"})

    assert response.status_code == 200
    page = page_of(response)
    assert "Diner vanaf 17:30" not in page
    assert value_of(page, "meals-0-name") == "Soep"
    assert value_of(page, "meals-1-name") == "Taart"
    assert value_of(page, "meals-2-name") is None
    assert value_of(page, "meals-0-pwyc_min") == "1.50"  # exactly as typed
    assert value_of(page, "meals-1-price") == "2"
    assert re.search(r'id="meals-0-pay_what_you_can"[^>]*checked|checked[^>]*id="meals-0-pay', page)
    assert 'value="Zomerfeest"' in page
    with app.app_context():
        assert event_count() == 1


def test_htmx_gets_only_the_form(client, auth, world):
    log_in(client, auth, "host_organiser")
    data = event_data(world.host_id, title="Klein feest")
    del data["save"]

    response = post_form(
        client,
        "/manage/events/new",
        {**data, "add_meal": "1"},
        headers={"HX-Request": "true", "HX-Target": "event-form"},
    )

    page = page_of(response)
    assert response.status_code == 200
    assert page.lstrip().startswith('<form id="event-form"')
    assert "<html" not in page and "site-header" not in page
    assert 'name="meals-0-name"' in page and 'value="Klein feest"' in page

    boosted = client.get("/manage/events/new", headers={"HX-Request": "true"})
    assert "<html" in page_of(boosted)


def test_htmx_save_redirects_the_whole_page(app, client, auth, world):
    log_in(client, auth, "host_organiser")
    response = post_form(
        client,
        "/manage/events/new",
        event_data(world.host_id, title="Snel feest"),
        headers={"HX-Request": "true", "HX-Target": "event-form"},
    )
    assert response.status_code == 204
    with app.app_context():
        event = db.session.scalar(sa.select(Event).where(Event.title == "Snel feest"))
    assert response.headers["HX-Redirect"] == f"/manage/events/{event.id}/edit"


BAD_INPUT = {
    "empty title": ({"title": ""}, "title", "Please give the event a title."),
    "slug taken": ({"slug": "buurtdiner"}, "slug", "Another event already has this web address."),
    "slug shape": ({"slug": "één feest"}, "slug", "Please use only lower-case letters"),
    "ends before starts": (
        {"ends_at": "2030-06-12T16:00"},
        "ends_at",
        "The end must be after the start.",
    ),
    "no start": ({"starts_at": ""}, "starts_at", "Please fill in a day and time."),
    "start not a time": (
        {"starts_at": "morgen"},
        "starts_at",
        "Please write a day and time, for example",
    ),
    "capacity 0": ({"capacity": "0"}, "capacity", "Please write 1 or more."),
    "capacity too large": (
        {"capacity": "99999999999"},
        "capacity",
        "Please write at most 100000.",
    ),
    "capacity words": ({"capacity": "veel"}, "capacity", "Please write a whole number"),
    "party of 21": ({"max_party_size": "21"}, "max_party_size", "from 1 to 20"),
    "amount abc": ({"ticket_price": "abc"}, "ticket_price", "Please write an amount in euros"),
    "meal amount abc": (
        {"meals-0-name": "Soep", "meals-0-price": "abc"},
        "meals-0-price",
        "Please write an amount in euros",
    ),
    "meal without a name": (
        {"meals-0-name": " ", "meals-0-price": "3"},
        "meals-0-name",
        "Please give the meal a name.",
    ),
    "pwyc minimum above suggested": (
        {
            "meals-0-name": "Soep",
            "meals-0-price": "3",
            "meals-0-pay_what_you_can": "y",
            "meals-0-pwyc_min": "6",
            "meals-0-pwyc_suggested": "4",
        },
        "meals-0-pwyc_suggested",
        "The suggested amount cannot be below the lowest amount.",
    ),
    "meal capacity 0": (
        {"meals-0-name": "Soep", "meals-0-price": "3", "meals-0-capacity": "0"},
        "meals-0-capacity",
        "Please write 1 or more.",
    ),
    "registration closes after the end": (
        {"registration_closes_at": "2030-06-13T10:00"},
        "registration_closes_at",
        "Registration must close before the event ends.",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT, ids=list(BAD_INPUT))
def test_bad_input_is_refused_next_to_its_field_with_everything_kept(
    app, client, auth, world, case
):
    overrides, field, message = BAD_INPUT[case]
    log_in(client, auth, "host_organiser")
    data = event_data(world.host_id, title="Repair café", summary="Bring what is broken.")
    data.update(overrides)

    response = post_form(client, "/manage/events/new", data)

    assert response.status_code == 422
    page = page_of(response)
    error = re.search(rf'<p[^>]* id="{re.escape(field)}-error">([^<]*)</p>', page)
    assert error, f"no error next to {field}"
    assert message in error.group(1).replace("&#39;", "'")
    # The focus goes to the field, so a keyboard user lands on what to fix.
    assert re.search(rf'<input[^>]*autofocus[^>]*id="{re.escape(field)}"', page)
    assert 'value="Bring what is broken."' in page
    for name, value in overrides.items():
        if value.strip() and name != "meals-0-pay_what_you_can":
            assert f'value="{value}"' in page or f">{value}<" in page
    with app.app_context():
        assert event_count() == 1


def test_a_collective_the_organiser_does_not_manage_is_refused(app, client, auth, world):
    log_in(client, auth, "host_organiser")
    page = page_of(client.get("/manage/events/new"))
    assert "Zonnedak" in page and "Voedselbank" not in page

    response = post_form(
        client, "/manage/events/new", event_data(world.other_id, title="Stiekem feest")
    )

    assert response.status_code == 422
    page = page_of(response)
    assert "You can only choose a collective you organise for." in page
    assert 'value="Stiekem feest"' in page
    with app.app_context():
        assert event_count() == 1


def test_an_organiser_may_not_host_without_a_collective(app, client, auth, world):
    log_in(client, auth, "host_organiser")
    response = post_form(client, "/manage/events/new", event_data(""))
    assert response.status_code == 422
    assert "Please choose the collective that hosts the event." in page_of(response)


def registered_event(app, world, capacity=10, **kwargs):
    """The world's event, published, with two people registered for its dinner."""
    with app.app_context():
        event = db.session.get(Event, world.event_id)
        event.status = EventStatus.PUBLISHED
        event.capacity = capacity
        db.session.commit()
        dinner = event.meal_options[0]
        registration = make_registration(
            event,
            people=[
                registrations.PersonChoice("Ada", dinner.id),
                registrations.PersonChoice("Bas"),
            ],
            **kwargs,
        )
        return SimpleNamespace(
            event_id=event.id, dinner_id=dinner.id, registration_id=registration.id
        )


def edit_data(world, setup, **overrides) -> dict:
    data = event_data(
        world.host_id,
        title="Buurtdiner",
        slug="buurtdiner",
        **{
            "meals-0-id": str(setup.dinner_id),
            "meals-0-name": "Diner met toetje",
            "meals-0-price": "6",
            "meals-0-capacity": "10",
            "meals-0-diets": ["vegan"],
        },
    )
    data.update(overrides)
    return data


def test_editing_keeps_the_meals_people_chose(app, client, auth, world):
    setup = registered_event(app, world)
    log_in(client, auth, "host_organiser")
    edit_url = f"/manage/events/{world.event_id}/edit"
    form_page = page_of(client.get(edit_url))
    assert f'value="{setup.dinner_id}"' in form_page
    assert "1 person has chosen this meal." in form_page

    data = edit_data(
        world, setup, **{"meals-1-id": "", "meals-1-name": "Lunch", "meals-1-price": "3"}
    )
    response = post_form(client, edit_url, data)

    assert response.status_code == 303
    with app.app_context():
        dinner = db.session.get(MealOption, setup.dinner_id)
        assert (dinner.name, dinner.price_cents, dinner.diets) == (
            "Diner met toetje",
            600,
            ["vegan"],
        )
        ada = db.session.scalar(sa.select(Attendee).where(Attendee.name == "Ada"))
        assert ada.meal_option_id == setup.dinner_id
        names = [o.name for o in db.session.get(Event, world.event_id).meal_options]
        assert names == ["Diner met toetje", "Lunch"]


def test_a_meal_someone_chose_cannot_be_removed(app, client, auth, world):
    setup = registered_event(app, world)
    log_in(client, auth, "host_organiser")
    edit_url = f"/manage/events/{world.event_id}/edit"
    data = edit_data(world, setup, title="Buurtdiner nieuw")
    del data["save"]

    redraw = post_form(client, edit_url, {**data, "remove_meal": "0"})

    assert redraw.status_code == 422
    page = page_of(redraw)
    assert "People have chosen this meal, so it cannot be removed." in page
    assert re.search(r'<button[^>]*id="meal-0-remove"[^>]*autofocus', page)
    assert 'value="Diner met toetje"' in page and 'value="Buurtdiner nieuw"' in page

    # Posted by hand without the meal: the save refuses too.
    by_hand = {k: v for k, v in edit_data(world, setup).items() if not k.startswith("meals-")}
    response = post_form(client, edit_url, by_hand)
    assert response.status_code == 422
    assert "People have chosen the meal “Diner”, so it cannot be removed." in page_of(response)
    with app.app_context():
        assert db.session.get(MealOption, setup.dinner_id) is not None


def test_a_meal_nobody_chose_is_removed_on_save(app, client, auth, world):
    log_in(client, auth, "host_organiser")
    edit_url = f"/manage/events/{world.event_id}/edit"
    with app.app_context():
        meal_id = db.session.get(Event, world.event_id).meal_options[0].id
    data = event_data(world.host_id, title="Buurtdiner", slug="buurtdiner")
    del data["save"]

    redraw = post_form(
        client,
        edit_url,
        {**data, "meals-0-id": str(meal_id), "meals-0-name": "Diner", "remove_meal": "0"},
    )
    assert redraw.status_code == 200
    assert 'name="meals-0-name"' not in page_of(redraw)
    assert re.search(r'<button[^>]*id="add-meal"[^>]*autofocus', page_of(redraw))

    response = post_form(client, edit_url, {**data, "save": "1"})

    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(MealOption, meal_id) is None


def test_capacity_cannot_go_below_the_seats_taken(app, client, auth, world):
    setup = registered_event(app, world)
    log_in(client, auth, "host_organiser")

    response = post_form(
        client, f"/manage/events/{world.event_id}/edit", edit_data(world, setup, capacity="1")
    )

    assert response.status_code == 422
    page = page_of(response)
    assert "2 seats are taken already: the number of seats cannot be lower." in page
    assert 'value="1"' in page
    with app.app_context():
        assert db.session.get(Event, world.event_id).capacity == 10

    meal_too_small = edit_data(world, setup, **{"meals-0-capacity": "1", "capacity": "2"})
    meal_too_small["meals-0-capacity"] = "0"
    assert (
        post_form(client, f"/manage/events/{world.event_id}/edit", meal_too_small).status_code
        == 422
    )


def test_meal_capacity_cannot_go_below_the_meals_taken(app, client, auth, world):
    with app.app_context():
        event = db.session.get(Event, world.event_id)
        event.status = EventStatus.PUBLISHED
        db.session.commit()
        dinner = event.meal_options[0]
        make_registration(
            event,
            people=[
                registrations.PersonChoice("Ada", dinner.id),
                registrations.PersonChoice("Bas", dinner.id),
            ],
        )
        setup = SimpleNamespace(dinner_id=dinner.id)
    log_in(client, auth, "host_organiser")

    response = post_form(
        client,
        f"/manage/events/{world.event_id}/edit",
        edit_data(world, setup, **{"meals-0-capacity": "1"}),
    )

    assert response.status_code == 422
    error = re.search(r'id="meals-0-capacity-error">([^<]*)<', page_of(response))
    assert error and "2 of these meals are taken already" in error.group(1)


# ---------------------------------------------------------------------------------------
# Publishing and cancelling


def test_publish_opens_the_event_to_everyone(app, client, auth, world):
    assert client.get("/events/buurtdiner").status_code == 404
    log_in(client, auth, "host_organiser")
    edit_page = page_of(client.get(f"/manage/events/{world.event_id}/edit"))
    assert f'action="/manage/events/{world.event_id}/publish"' in edit_page

    response = post_form(client, f"/manage/events/{world.event_id}/publish")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/manage/events/{world.event_id}/edit"
    assert "The event is published" in page_of(client.get(response.headers["Location"]))
    with app.app_context():
        assert db.session.get(Event, world.event_id).status == EventStatus.PUBLISHED
    assert client.get("/events/buurtdiner").status_code == 200

    again = post_form(client, f"/manage/events/{world.event_id}/publish", follow_redirects=True)
    assert "The event was published already." in page_of(again)


def test_a_cancelled_event_cannot_be_published(app, client, auth, world):
    with app.app_context():
        db.session.get(Event, world.event_id).status = EventStatus.CANCELLED
        db.session.commit()
    log_in(client, auth, "host_organiser")

    response = post_form(client, f"/manage/events/{world.event_id}/publish", follow_redirects=True)

    assert "A cancelled event cannot be published again." in page_of(response)
    with app.app_context():
        assert db.session.get(Event, world.event_id).status == EventStatus.CANCELLED


def _outbox_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))


def test_cancel_emails_each_party_once_and_frees_nothing_twice(
    app, client, auth, runner, smtp_server, world
):
    earlier = datetime(2020, 1, 1, tzinfo=UTC)
    with app.app_context():
        event = db.session.get(Event, world.event_id)
        event.status = EventStatus.PUBLISHED
        event.capacity = 3
        db.session.commit()
        dinner = event.meal_options[0]
        dutch = make_registration(
            event,
            people=[
                registrations.PersonChoice("Ada", dinner.id),
                registrations.PersonChoice("Bas"),
                registrations.PersonChoice("Cor"),
            ],
            email="ada@example.org",
            locale="nl",
        )
        # One person of the Dutch party left earlier: their seat was freed then.
        cor = dutch.attendees[2]
        registrations.cancel_attendee(cor)
        cor.cancelled_at = earlier
        db.session.commit()
        make_registration(event, people=["Eve"], email="eve@example.org", locale="en")
        waiting = make_registration(
            event, people=["Fay", "Gus"], email="fay@example.org", join_waitlist=True
        )
        gone = make_registration(event, people=["Hal"], email="hal@example.org", join_waitlist=True)
        assert waiting.status == RegistrationStatus.WAITLISTED
        assert gone.status == RegistrationStatus.WAITLISTED
        registrations.cancel(gone)
        gone.cancelled_at = earlier
        db.session.commit()
        queued_before = _outbox_count()
    runner.invoke(args=["coop", "send-mail"])
    delivered_before = len(smtp_server.messages)
    log_in(client, auth, "host_organiser")

    confirm = page_of(client.get(f"/manage/events/{world.event_id}/cancel"))
    assert "3 parties will get an e-mail" in confirm
    response = post_form(client, f"/manage/events/{world.event_id}/cancel")

    assert response.status_code == 303
    assert response.headers["Location"] == "/manage/events"
    assert "The event is cancelled. We have e-mailed 3 parties." in page_of(
        client.get("/manage/events")
    )
    result = runner.invoke(args=["coop", "send-mail"])
    assert result.exit_code == 0
    new = smtp_server.messages[delivered_before:]
    assert sorted(m["To"] for m in new) == [
        "ada@example.org",
        "eve@example.org",
        "fay@example.org",
    ]
    eve = next(m for m in new if m["To"] == "eve@example.org")
    assert "Buurtdiner" in eve["Subject"]
    assert "We are sorry" in body_of(eve)
    with app.app_context():
        starts = db.session.get(Event, world.event_id).starts_at
    with app.test_request_context("/?lang=en"):
        from cooperative.i18n import weekday_date

        english_date = weekday_date(starts)
    with app.test_request_context("/?lang=nl"):
        dutch_date = weekday_date(starts)
    assert english_date in body_of(eve)
    ada = next(m for m in new if m["To"] == "ada@example.org")
    assert dutch_date in body_of(ada)

    with app.app_context():
        event = db.session.get(Event, world.event_id)
        assert event.status == EventStatus.CANCELLED
        assert event.seats_taken == 0
        parties = db.session.scalars(sa.select(Registration).order_by(Registration.id)).all()
        assert all(r.status == RegistrationStatus.CANCELLED for r in parties)
        assert all(a.cancelled_at is not None for r in parties for a in r.attendees)
        by_email = {r.contact_email: r for r in parties}
        assert by_email["hal@example.org"].cancelled_at == earlier
        cor = db.session.scalar(sa.select(Attendee).where(Attendee.name == "Cor"))
        assert cor.cancelled_at == earlier
        # Three e-mails about the cancelled event, and nothing else (nobody promoted).
        mails = _outbox_count()
        assert mails == queued_before + 3

    twice = post_form(client, f"/manage/events/{world.event_id}/cancel", follow_redirects=True)
    assert "This event is cancelled already." in page_of(twice)
    assert "already" in page_of(client.get(f"/manage/events/{world.event_id}/cancel"))
    with app.app_context():
        assert _outbox_count() == mails


def test_an_organiser_of_another_collective_changes_nothing(app, client, auth, world):
    setup = registered_event(app, world)
    log_in(client, auth, "other_organiser")
    base = f"/manage/events/{world.event_id}"

    assert "Buurtdiner" not in page_of(client.get("/manage/events"))
    assert client.get(f"{base}/edit").status_code == 403
    assert (
        post_form(client, f"{base}/edit", edit_data(world, setup, title="Gekaapt")).status_code
        == 403
    )
    assert post_form(client, f"{base}/publish").status_code == 403
    assert client.get(f"{base}/cancel").status_code == 403
    assert post_form(client, f"{base}/cancel").status_code == 403

    with app.app_context():
        event = db.session.get(Event, world.event_id)
        assert (event.title, event.status) == ("Buurtdiner", EventStatus.PUBLISHED)
        assert event.meal_options[0].name == "Diner"
        registration = db.session.get(Registration, setup.registration_id)
        assert registration.status == RegistrationStatus.CONFIRMED
        mails = db.session.scalars(sa.select(OutboxMessage.to_address)).all()
        assert mails == ["ada@example.org"]  # only the registration's own confirmation


def test_the_organiser_chooses_how_people_pay_and_until_when_refunds_go(app, client, auth, world):
    log_in(client, auth, "host_organiser")
    data = event_data(world.host_id, payment_mode="both", refund_until="2030-06-10T12:00")

    response = post_form(client, "/manage/events/new", data)

    assert response.status_code == 303
    with app.app_context():
        event = db.session.scalar(sa.select(Event).where(Event.title == "Repair café"))
        assert event.payment_mode == PaymentMode.BOTH
        assert event.refund_until == datetime(2030, 6, 10, 10, 0, tzinfo=UTC)
    page = page_of(client.get(response.headers["Location"]))
    assert re.search(r'checked id="payment_mode-2"[^>]*value="both"', page)

    refused = post_form(client, "/manage/events/new", {**data, "payment_mode": "cheque"})
    assert refused.status_code == 422
    assert "Please choose how people pay." in page_of(refused)


def test_the_entry_price_cannot_change_once_people_registered(app, client, auth, world):
    setup = registered_event(app, world)
    log_in(client, auth, "host_organiser")
    edit_url = f"/manage/events/{world.event_id}/edit"

    response = post_form(client, edit_url, edit_data(world, setup, ticket_price="3"))

    assert response.status_code == 422
    assert "People have registered at this entry price" in page_of(response)
    with app.app_context():
        assert db.session.get(Event, world.event_id).ticket_price_cents == 0


def test_more_seats_let_the_waiting_list_in(app, client, auth, world):
    setup = registered_event(app, world, capacity=2)
    with app.app_context():
        waiting = make_registration(
            db.session.get(Event, world.event_id),
            people=("Wim",),
            email="wim@example.org",
            join_waitlist=True,
        )
        assert waiting.status == RegistrationStatus.WAITLISTED
        waiting_id = waiting.id
    log_in(client, auth, "host_organiser")

    response = post_form(
        client, f"/manage/events/{world.event_id}/edit", edit_data(world, setup, capacity="3")
    )

    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Registration, waiting_id).status == RegistrationStatus.CONFIRMED


def test_a_meals_limits_are_said_in_the_pages_language(app, client, auth, world):
    """The meal subform speaks Dutch on a Dutch page, also WTForms' own length message."""
    log_in(client, auth, "host_organiser")
    data = event_data(world.host_id, **{"meals-0-name": "M" * 161, "meals-0-price": "0"})

    response = post_form(client, "/manage/events/new?lang=nl", data)

    assert response.status_code == 422
    assert 'id="meals-0-name-error">Veld mag niet langer zijn dan 160' in page_of(response)
    with app.app_context():
        assert event_count() == 1  # only the world's event
