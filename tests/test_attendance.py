"""At the door: the attendance list, check-in, door payments, walk-ins, exports, messages.

Everything through HTTP as an organiser's phone would, and its effect in the database.
Who may use which route is in test_attendance_permissions.py.
"""

import csv
import html
import io
import re
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Attendee,
    CheckInRecord,
    Event,
    OutboxMessage,
    Payment,
    PaymentMode,
    PaymentProvider,
    PaymentState,
    PaymentStatus,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)
from cooperative.services import attendance
from cooperative.services import registration as registrations
from cooperative.services.registration import PersonChoice
from tests.conftest import csrf_token, deliver_webhook, make_user, post_form
from tests.factories import make_collective, make_event, make_organiser, make_registration

ORGANISER = "organiser@example.org"
HELPER = "helper@example.org"


@pytest.fixture
def door(app):
    """Buurtdiner of Zonnedak: 5 seats, a €5 dinner for 4, all seats taken, one party waiting.

    - Eve Jansen (eve@) with Finn: both dinner, Eve halal + vegetarian; €10 to pay at the door
    - Ada Lovelace (ada@) with Bob: both dinner, Ada vegan with a note; €10 at the door
    - chris (chris@): no meal, nothing to pay
    - Gus (gus@): waiting list, no meal
    """
    with app.app_context():
        host = make_collective("zonnedak", "Zonnedak")
        organiser = make_organiser(host, email=ORGANISER, name="Olga Organiser")
        make_organiser(host, email=HELPER, name="Henk Helper")
        event = make_event(
            capacity=5,
            collective_id=host.id,
            meals=[{"name": "Diner", "price_cents": 500, "capacity": 4}],
        )
        dinner = event.meal_options[0].id
        eve = make_registration(
            event,
            [PersonChoice("Eve", dinner, ["vegetarian", "halal"]), PersonChoice("Finn", dinner)],
            email="eve@example.org",
            contact_name="Eve Jansen",
        )
        ada = make_registration(
            event,
            [
                PersonChoice("Ada", dinner, ["vegan"], "No nuts, please"),
                PersonChoice("Bob", dinner),
            ],
            email="ada@example.org",
            contact_name="Ada Lovelace",
        )
        chris = make_registration(event, ["chris"], email="chris@example.org")
        gus = make_registration(event, ["Gus"], email="gus@example.org", join_waitlist=True)
        assert gus.status == RegistrationStatus.WAITLISTED
        return SimpleNamespace(
            event=event.id,
            host=host.id,
            dinner=dinner,
            organiser=organiser.id,
            ada=ada.id,
            eve=eve.id,
            chris=chris.id,
            gus=gus.id,
            ada_person=ada.attendees[0].id,
            bob_person=ada.attendees[1].id,
            chris_person=chris.attendees[0].id,
            gus_person=gus.attendees[0].id,
            ada_ticket=ada.attendees[0].ticket,
            gus_ticket=gus.attendees[0].ticket,
            list=f"/manage/events/{event.id}/attendees",
        )


def log_in(client, auth, email=ORGANISER):
    client.get("/auth/login?lang=en")
    assert auth.login(email=email).status_code in (302, 303)


@pytest.fixture
def organiser(client, auth, door):
    log_in(client, auth)
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def party_names(page: str) -> list[str]:
    return re.findall(r'<h3 class="party-name">([^<]+)</h3>', page)


def htmx(target="attendee-list", trigger="attendance-q") -> dict:
    """The headers of an htmx request; `trigger` None for an element without an id."""
    headers = {"HX-Request": "true", "HX-Target": target}
    return headers if trigger is None else {**headers, "HX-Trigger": trigger}


def attendee(app, attendee_id) -> Attendee:
    with app.app_context():
        return db.session.get(Attendee, attendee_id)


def registration(app, registration_id) -> Registration:
    with app.app_context():
        return db.session.get(Registration, registration_id)


def counters(page: str) -> dict[str, int]:
    """The numbers in the counters region, by their label."""
    found = re.findall(
        r"<dt>([^<]+)</dt>\s*<dd><span class=\"counter-number\"[^>]*>(\d+)</span>", page
    )
    return {label: int(number) for label, number in found}


# ---------------------------------------------------------------------------------------
# The list


def test_the_list_groups_people_by_party_sorted_by_name(organiser, door):
    page = text(organiser.get(door.list))

    assert party_names(page) == ["Ada Lovelace", "chris", "Eve Jansen"]
    ada = page[page.index("Ada Lovelace") : page.index(">chris<")]
    assert "ada@example.org" in ada
    assert "Bob" in ada and "Diner: Vegan" in ada and "No nuts, please" in ada
    assert "To pay at the door €10.00" in ada
    assert 'Check in<span class="visually-hidden"> Ada</span>' in ada
    assert "Check in all 2" in ada and "Paid €10.00 at the door" in ada
    chris = page[page.index(">chris<") : page.index("Eve Jansen")]
    assert "Nothing to pay" in chris and "No meal" in chris
    assert "Diner: Vegetarian, Halal" in page
    assert "Gus" not in page  # the waiting list is a filter of its own
    assert "3 parties, 5 people" in page


def test_the_counters_and_the_kitchen_summary_at_the_top(organiser, door):
    page = text(organiser.get(door.list))

    assert counters(page) == {"Registered": 5, "Checked in": 0, "Waiting list": 1}
    assert "of 5" in page
    assert '<progress class="checkin-progress" max="5" value="0"' in page
    kitchen = page[page.index("Kitchen and money") : page.index("door-links")]
    assert "<strong>Diner: 4</strong> of 4" in kitchen
    assert "Vegetarian + Halal: <strong>1</strong>" in kitchen
    assert "Vegan: <strong>1</strong>" in kitchen
    assert "No special diet: <strong>2</strong>" in kitchen
    assert "Ada: No nuts, please" in kitchen
    assert "Received online</dt><dd>€0.00" in kitchen
    assert "Still open</dt><dd>€20.00" in kitchen


def test_the_kitchen_summary_adds_up_the_registrations(app, door):
    """The summary against the registrations themselves, counted here in plain Python."""
    with app.app_context():
        event = db.session.get(Event, door.event)
        more = make_event(
            "feest",
            "Feest",
            capacity=None,
            meals=[
                {"name": "Soep", "capacity": None, "diets": ["vegan", "gluten_free"]},
                {"name": "Stamppot", "price_cents": 700, "capacity": None, "diets": ["halal"]},
            ],
        )
        soup, stew = (option.id for option in more.meal_options)
        people = [
            [PersonChoice("Kim", soup, ["vegan", "gluten_free"]), PersonChoice("Lot", stew)],
            [PersonChoice("Mo", stew, ["halal"], "Geen varkensvlees"), PersonChoice("Nel")],
            [PersonChoice("Oscar", soup, ["vegan"]), PersonChoice("Pim", soup, [], "Allergisch")],
        ]
        made = [
            make_registration(more, party, email=f"p{index}@example.org")
            for index, party in enumerate(people)
        ]
        registrations.cancel_attendee(made[2].attendees[1])  # Pim cancels: not cooked for
        registrations.cancel(made[1])  # Mo and Nel cancel
        db.session.commit()

        summary = attendance.summary(db.session.get(Event, more.id))
        expected: dict[int, dict[tuple, int]] = {}
        notes: dict[int, list] = {}
        for person in db.session.scalars(
            sa.select(Attendee)
            .join(Registration)
            .where(
                Registration.event_id == more.id,
                Registration.status.in_(("confirmed", "pending_payment")),
                Attendee.cancelled_at.is_(None),
                Attendee.meal_option_id.is_not(None),
            )
        ):
            diets = expected.setdefault(person.meal_option_id, {})
            diets[tuple(sorted(person.diets))] = diets.get(tuple(sorted(person.diets)), 0) + 1
            if person.diet_note:
                notes.setdefault(person.meal_option_id, []).append((person.name, person.diet_note))

        assert {meal.option.id: meal.diets for meal in summary.meals} == {
            soup: expected[soup],
            stew: expected[stew],
        }
        assert expected == {soup: {("gluten_free", "vegan"): 1, ("vegan",): 1}, stew: {(): 1}}
        assert {meal.option.id: meal.count for meal in summary.meals} == {soup: 2, stew: 1}
        assert [meal.notes for meal in summary.meals] == [notes.get(soup, []), []]
        assert (summary.people, summary.parties, summary.checked_in) == (3, 2, 0)
        assert summary.open_cents == 700 + 500 + 500 + 0  # Lot's stew, Kim's and Oscar's soup

        first = attendance.summary(event)
        assert [(m.option.name, m.count) for m in first.meals] == [("Diner", 4)]
        assert (first.waiting_parties, first.waiting_people) == (1, 1)


def test_the_printable_kitchen_summary(organiser, door):
    page = text(organiser.get(f"/manage/events/{door.event}/kitchen"))

    assert "Kitchen summary: Buurtdiner" in page
    assert "Diner: 4 meals" in page
    rows = re.findall(r"<tr><td>([^<]+)</td><td class=\"print-number\">(\d+)</td></tr>", page)
    assert rows == [("Vegetarian + Halal", "1"), ("Vegan", "1"), ("No special diet", "2")]
    assert "Ada: No nuts, please" in page


# ---------------------------------------------------------------------------------------
# Search and filters


@pytest.mark.parametrize(
    ("query", "parties"),
    [
        ("bob", ["Ada Lovelace"]),  # a person's name finds their party
        ("LOVELACE", ["Ada Lovelace"]),
        ("eve@example", ["Eve Jansen"]),
        ("example.org", ["Ada Lovelace", "chris", "Eve Jansen"]),
        ("ada bob", ["Ada Lovelace"]),
        ("ada finn", []),
        ("100%_", []),
    ],
)
def test_search_by_name_and_email(organiser, door, query, parties):
    page = text(organiser.get(door.list, query_string={"q": query}))
    assert party_names(page) == parties
    assert f'value="{query}"' in page


def test_search_by_ticket_code_or_its_address(app, organiser, door):
    person = attendee(app, door.bob_person)
    short = attendance.short_code(person)

    for query in (short, person.ticket, f"http://localhost/t/{person.ticket}"):
        page = text(organiser.get(door.list, query_string={"q": query}))
        assert party_names(page) == ["Ada Lovelace"], query
    other = "x" if person.ticket_code[0].lower() != "x" else "y"
    wrong = f"{person.id}-{other}{person.ticket_code[1:6]}"
    assert party_names(text(organiser.get(door.list, query_string={"q": wrong}))) == []


def test_the_filters(app, organiser, door):
    post_form(organiser, f"/manage/events/{door.event}/parties/{door.eve}/check-in")

    def shown(show):
        return party_names(text(organiser.get(door.list, query_string={"show": show})))

    assert shown("todo") == ["Ada Lovelace", "chris"]
    assert shown("meal") == ["Ada Lovelace", "Eve Jansen"]
    assert shown("unpaid") == ["Ada Lovelace", "Eve Jansen"]
    assert shown("waiting") == ["Gus"]
    assert shown("cancelled") == []
    assert shown("nonsense") == ["Ada Lovelace", "chris", "Eve Jansen"]
    with app.app_context():
        registrations.cancel(db.session.get(Registration, door.chris))
        db.session.commit()
    assert shown("cancelled") == ["chris"]
    # Chris's seat went to Gus, who was waiting.
    assert shown("waiting") == []
    assert "Gus" in shown("")


def test_search_and_filter_together_and_the_page_keeps_them(organiser, door):
    page = text(organiser.get(door.list, query_string={"q": "a", "show": "meal"}))
    assert party_names(page) == ["Ada Lovelace", "Eve Jansen"]
    assert 'id="show-meal" name="show" value="meal" checked' in page
    assert f"/manage/events/{door.event}/attendees.csv?q=a&amp;show=meal" in page


def test_htmx_gets_only_the_list_and_the_count_is_read_out(organiser, door):
    response = organiser.get(door.list, query_string={"q": "ada"}, headers=htmx())

    page = text(response)
    assert "<html" not in page and 'id="attendance-filters"' not in page
    assert party_names(page) == ["Ada Lovelace"]
    assert '<p id="attendance-status" hx-swap-oob="innerHTML">1 party, 2 people</p>' in page
    assert {"HX-Request", "HX-Target"} <= set(response.vary)

    polled = text(organiser.get(door.list, headers=htmx(trigger="attendee-list")))
    assert party_names(polled) == ["Ada Lovelace", "chris", "Eve Jansen"]
    assert "attendance-status" not in polled  # polling does not chatter

    boosted = text(organiser.get(door.list, headers={"HX-Request": "true", "HX-Boosted": "true"}))
    assert "<html" in boosted


def test_the_page_wires_search_polling_and_counters_for_htmx(organiser, door):
    page = text(organiser.get(door.list))
    form = re.search(r'<form id="attendance-filters"[^>]*>', page).group(0)
    assert 'method="get"' in form and f'action="{door.list}"' in form
    assert 'hx-push-url="true"' in form and 'hx-target="#attendee-list"' in form
    assert 'hx-trigger="input changed delay:300ms, search"' in page
    listing = re.search(r'<div id="attendee-list"[^>]*>', page).group(0)
    assert 'hx-trigger="every 5s"' in listing
    assert 'hx-include="#attendance-filters, #attendance-page"' in listing
    assert '<input type="hidden" id="attendance-page" name="page" value="1">' in page
    numbers = re.search(r'<div id="attendance-counters"[^>]*>', page).group(0)
    assert 'hx-trigger="checkin-changed from:body, every 5s"' in numbers
    assert 'role="status" aria-live="polite"' in page


# ---------------------------------------------------------------------------------------
# Pages of the list


@pytest.fixture
def crowd(app, door):
    """The door's event with room for all, and 52 more parties of one who eat (€5 to pay at
    the door), Guest 01 to Guest 52: 55 parties with 57 people, on two pages. Page 1: Ada
    Lovelace, chris, Eve Jansen and Guest 01 to 47; page 2: Guest 48 to 52."""
    with app.app_context():
        event = db.session.get(Event, door.event)
        event.capacity = None
        event.meal_options[0].capacity = None
        db.session.commit()
        guests = {
            number: make_registration(
                event,
                [PersonChoice(f"Guest {number:02d}", door.dinner)],
                email=f"guest{number}@example.org",
            )
            for number in range(1, 53)
        }
        door.guests = {
            number: (party.id, party.attendees[0].id) for number, party in guests.items()
        }
    return door


def guests(first: int, last: int) -> list[str]:
    return [f"Guest {number:02d}" for number in range(first, last + 1)]


def page_links(page: str) -> dict[str, str]:
    """The list's links to the previous and next page, by their `rel`."""
    found = re.findall(r'<a [^>]*rel="(prev|next)" href="([^"]+)"', page)
    return {rel: html.unescape(href) for rel, href in found}


def test_the_list_shows_fifty_parties_a_page_in_name_order(organiser, crowd):
    first = text(organiser.get(crowd.list))
    second = text(organiser.get(crowd.list, query_string={"page": "2"}))

    assert attendance.PAGE_SIZE == 50
    assert party_names(first) == ["Ada Lovelace", "chris", "Eve Jansen", *guests(1, 47)]
    assert party_names(second) == guests(48, 52)
    for page in (first, second):
        assert "55 parties, 57 people" in page  # every page counts them all
        assert counters(page) == {"Registered": 57, "Checked in": 0, "Waiting list": 1}
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert page_links(first) == {"next": f"{crowd.list}?page=2"}
    assert page_links(second) == {"prev": crowd.list}
    link = re.search(r'<a [^>]*rel="next"[^>]*>', first).group(0)
    assert f'hx-get="{crowd.list}?page=2"' in link and 'hx-target="#attendee-list"' in link
    assert 'hx-push-url="true"' in link


def test_one_page_has_no_page_links(organiser, door):
    page = text(organiser.get(door.list))
    assert page_links(page) == {} and "Page 1 of" not in page


def test_the_pages_keep_the_search_and_the_filter(organiser, crowd):
    page = text(organiser.get(crowd.list, query_string={"q": "guest", "show": "todo", "page": "2"}))

    assert party_names(page) == guests(51, 52)
    assert "52 parties, 52 people" in page and "Page 2 of 2" in page
    assert page_links(page) == {"prev": f"{crowd.list}?q=guest&show=todo"}
    # The actions come back to this page; the CSV file and the printed list have them all.
    assert page.count('<input type="hidden" name="page" value="2">') == 4  # 2 check-ins, 2 pays
    base = f"/manage/events/{crowd.event}/attendees"
    assert f'href="{base}.csv?q=guest&amp;show=todo"' in page
    assert f'href="{base}/print?q=guest&amp;show=todo"' in page
    assert f'parties/{crowd.guests[51][0]}/door-payment?q=guest&amp;show=todo&amp;page=2"' in page


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("0", 1),
        ("-1", 1),
        ("abc", 1),
        ("", 1),
        ("1.5", 1),
        ("٢", 1),  # an Arabic-Indic two: a digit, but not one we read
        ("3", 2),
        ("99999999999999999999999999", 2),
        ("9" * 5000, 2),  # more digits than Python turns into a number
        ("0002", 2),
    ],
)
def test_a_page_that_does_not_exist_shows_the_first_or_the_last(organiser, crowd, value, shown):
    response = organiser.get(crowd.list, query_string={"page": value})

    assert response.status_code == 200
    page = text(response)
    assert f"Page {shown} of 2" in page
    assert f'<input type="hidden" id="attendance-page" name="page" value="{shown}">' in page
    assert party_names(page)[0] == ("Ada Lovelace" if shown == 1 else "Guest 48")


def test_the_list_polls_its_own_page_and_reads_out_another(organiser, crowd):
    polled = text(
        organiser.get(crowd.list, query_string={"page": "2"}, headers=htmx(trigger="attendee-list"))
    )
    assert party_names(polled) == guests(48, 52)
    assert '<input type="hidden" id="attendance-page" name="page" value="2">' in polled
    assert "attendance-status" not in polled  # polling does not chatter

    paged = text(organiser.get(crowd.list, query_string={"page": "2"}, headers=htmx(trigger=None)))
    assert party_names(paged) == guests(48, 52) and "<html" not in paged
    assert (
        '<p id="attendance-status" hx-swap-oob="innerHTML">55 parties, 57 people. Page 2 of 2</p>'
        in paged
    )


def test_an_action_on_page_two_comes_back_to_page_two(app, organiser, crowd):
    party, person = crowd.guests[50]

    response = post_form(
        organiser, f"/manage/events/{crowd.event}/attendees/{person}/check-in", {"page": "2"}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == f"{crowd.list}?page=2#party-{party}"
    page = text(organiser.get(response.headers["Location"]))
    assert "Guest 50 is checked in." in page and party_names(page) == guests(48, 52)
    assert attendee(app, person).checked_in_at is not None

    url = f"/manage/events/{crowd.event}/parties/{party}/door-payment"
    form = text(organiser.get(url, query_string={"page": "2"}))
    assert f'href="{crowd.list}?page=2#party-{party}">Back to the attendance list' in form
    assert '<input type="hidden" name="page" value="2">' in form
    paid = post_form(organiser, url, {"amount": "2", "on_page": "1", "page": "2"})
    assert paid.headers["Location"] == f"{crowd.list}?page=2#party-{party}"


def test_a_walk_in_goes_back_to_the_page_they_are_on(app, organiser, crowd):
    response = walk_in(organiser, crowd, name="Zoë", page="1")

    [zoe] = walk_ins(app, crowd)
    assert response.headers["Location"] == f"{crowd.list}?page=2#party-{zoe.id}"
    assert "Zoë" in party_names(text(organiser.get(response.headers["Location"])))
    # Not on the list that was open (it shows the waiting list): back to where it was.
    response = walk_in(organiser, crowd, name="Yara", show="waiting", page="1")
    assert response.headers["Location"].startswith(f"{crowd.list}?show=waiting#party-")


def test_the_csv_and_the_printed_list_have_every_page(organiser, crowd):
    _delimiter, rows = read_csv(organiser.get(crowd.list + ".csv", query_string={"page": "2"}))
    assert [row[2] for row in rows[1:]] == ["Ada", "Bob", "chris", "Eve", "Finn", *guests(1, 52)]

    printed = text(
        organiser.get(f"/manage/events/{crowd.event}/attendees/print", query_string={"page": "2"})
    )
    assert printed.count('class="print-box"') == 57 and "57 people" in printed


# ---------------------------------------------------------------------------------------
# Check-in and undo


def test_check_in_without_javascript_goes_back_to_the_list_with_its_filters(app, organiser, door):
    before = utcnow()
    response = post_form(
        organiser,
        f"/manage/events/{door.event}/attendees/{door.ada_person}/check-in",
        {"q": "ada", "show": "todo"},
    )

    assert response.status_code == 303
    assert response.headers["Location"] == (f"{door.list}?q=ada&show=todo#party-{door.ada}")
    ada = attendee(app, door.ada_person)
    assert ada.checked_in_at >= before and ada.checked_in_by_id == door.organiser
    page = text(organiser.get(response.headers["Location"]))
    assert "Ada is checked in." in page
    assert "In at" in page and "by Olga Organiser" in page
    assert counters(page)["Checked in"] == 1


def test_check_in_with_htmx_replaces_the_row_and_moves_the_counters(app, organiser, door):
    response = post_form(
        organiser,
        f"/manage/events/{door.event}/attendees/{door.ada_person}/check-in",
        headers=htmx(target=f"party-{door.ada}", trigger=f"attendee-{door.ada_person}-action"),
    )

    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "checkin-changed"
    row = text(response)
    assert row.startswith(f'\n<li class="party party-confirmed" id="party-{door.ada}">') or (
        f'<li class="party party-confirmed" id="party-{door.ada}">' in row
    )
    assert "<html" not in row
    assert (
        f'id="attendee-{door.ada_person}-action" class="button button-secondary button-undo">Undo'
        in row
    )
    assert '<p id="attendance-status" hx-swap-oob="innerHTML">Ada is checked in.</p>' in row

    numbers = text(
        organiser.get(
            f"/manage/events/{door.event}/attendees/counters",
            headers=htmx(target="attendance-counters", trigger="attendance-counters"),
        )
    )
    assert counters(numbers)["Checked in"] == 1
    assert '<div id="kitchen-summary" hx-swap-oob="true">' in numbers


def test_checking_in_twice_is_harmless(app, organiser, door):
    url = f"/manage/events/{door.event}/attendees/{door.ada_person}/check-in"
    post_form(organiser, url)
    first = attendee(app, door.ada_person).checked_in_at

    response = post_form(organiser, url, headers=htmx(target=f"party-{door.ada}"))

    assert response.status_code == 200
    assert "Ada was checked in already." in text(response)
    assert attendee(app, door.ada_person).checked_in_at == first


def test_undo_and_undo_again(app, organiser, door):
    post_form(organiser, f"/manage/events/{door.event}/attendees/{door.ada_person}/check-in")
    url = f"/manage/events/{door.event}/attendees/{door.ada_person}/undo"

    response = post_form(organiser, url, headers=htmx(target=f"party-{door.ada}"))

    assert response.status_code == 200 and response.headers["HX-Trigger"] == "checkin-changed"
    assert "The check-in of Ada is undone." in text(response)
    ada = attendee(app, door.ada_person)
    assert ada.checked_in_at is None and ada.checked_in_by_id is None
    again = post_form(organiser, url)
    assert again.status_code == 303
    assert "Ada was not checked in." in text(organiser.get(again.headers["Location"]))


def test_check_in_a_whole_party_and_undo_it(app, organiser, door):
    post_form(organiser, f"/manage/events/{door.event}/attendees/{door.ada_person}/check-in")
    url = f"/manage/events/{door.event}/parties/{door.ada}/check-in"

    response = post_form(organiser, url, headers=htmx(target=f"party-{door.ada}"))

    assert "1 person of the party of Ada Lovelace is checked in." in text(response)
    assert "Undo all" in text(response)
    assert attendee(app, door.bob_person).checked_in_at is not None
    again = post_form(organiser, url, headers=htmx(target=f"party-{door.ada}"))
    assert "Everyone of the party of Ada Lovelace was checked in already." in text(again)

    undone = post_form(
        organiser,
        f"/manage/events/{door.event}/parties/{door.ada}/undo",
        headers=htmx(target=f"party-{door.ada}"),
    )
    assert "The check-in of 2 people of the party of Ada Lovelace is undone." in text(undone)
    assert attendee(app, door.ada_person).checked_in_at is None
    assert attendee(app, door.bob_person).checked_in_at is None


def test_nobody_on_the_waiting_list_or_cancelled_is_checked_in(app, organiser, door):
    response = post_form(
        organiser,
        f"/manage/events/{door.event}/attendees/{door.gus_person}/check-in",
        headers=htmx(target=f"party-{door.gus}"),
    )
    assert response.status_code == 422
    assert "Gus is on the waiting list: they have no place to check in." in text(response)
    assert "HX-Trigger" not in response.headers
    party = post_form(organiser, f"/manage/events/{door.event}/parties/{door.gus}/check-in")
    assert party.status_code == 303
    assert "This party is on the waiting list" in text(organiser.get(party.headers["Location"]))
    assert attendee(app, door.gus_person).checked_in_at is None

    with app.app_context():
        registrations.cancel_attendee(db.session.get(Attendee, door.bob_person))
        db.session.commit()
    refused = post_form(
        organiser, f"/manage/events/{door.event}/attendees/{door.bob_person}/check-in"
    )
    assert "The place of Bob is cancelled: they cannot be checked in." in text(
        organiser.get(refused.headers["Location"])
    )
    assert attendee(app, door.bob_person).checked_in_at is None


def test_a_person_of_another_event_is_not_found(app, organiser, door):
    with app.app_context():
        other = make_event("ander", "Ander feest", collective_id=door.host)
        stranger = make_registration(other, ["Zed"], email="zed@example.org")
        stranger_id, party_id = stranger.attendees[0].id, stranger.id
    base = f"/manage/events/{door.event}"
    assert post_form(organiser, f"{base}/attendees/{stranger_id}/check-in").status_code == 404
    assert post_form(organiser, f"{base}/parties/{party_id}/check-in").status_code == 404
    assert organiser.get(f"{base}/parties/{party_id}/door-payment").status_code == 404
    assert attendee(app, stranger_id).checked_in_at is None


def test_two_volunteers_checking_in_the_same_person_at_once_record_one_check_in(app, auth, door):
    """Two phones, two sessions, the same tap at the same moment."""
    phones = [app.test_client(), app.test_client()]
    for phone, email in zip(phones, (ORGANISER, HELPER), strict=True):
        phone.get("/auth/login?lang=en")
        post_form(phone, "/auth/login", {"email": email, "password": "correct horse battery"})
    url = f"/manage/events/{door.event}/attendees/{door.ada_person}/check-in"
    tokens = [
        re.search(r'name="csrf_token" value="([^"]+)"', text(phone.get(door.list))).group(1)
        for phone in phones
    ]
    barrier = threading.Barrier(2)
    answers = [None, None]

    def tap(index):
        barrier.wait(timeout=10)
        answers[index] = phones[index].post(
            url, headers={"X-CSRFToken": tokens[index], **htmx(target=f"party-{door.ada}")}
        )

    threads = [threading.Thread(target=tap, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [answer.status_code for answer in answers] == [200, 200]
    messages = sorted(
        re.search(r'hx-swap-oob="innerHTML">([^<]+)<', text(answer)).group(1) for answer in answers
    )
    assert messages == ["Ada is checked in.", "Ada was checked in already."]
    with app.app_context():
        helper = db.session.scalar(sa.select(User.id).where(User.email == HELPER))
    ada = attendee(app, door.ada_person)
    assert ada.checked_in_by_id in (door.organiser, helper)
    with app.app_context():
        summary = attendance.summary(db.session.get(Event, door.event))
    assert summary.checked_in == 1


def test_each_volunteer_sees_the_others_check_ins(app, auth, client, door):
    other = app.test_client()
    other.get("/auth/login?lang=en")
    post_form(other, "/auth/login", {"email": HELPER, "password": "correct horse battery"})
    log_in(client, auth)

    post_form(other, f"/manage/events/{door.event}/attendees/{door.ada_person}/check-in")

    polled = text(client.get(door.list, headers=htmx(trigger="attendee-list")))
    ada = polled[polled.index("Ada Lovelace") : polled.index(">chris<")]
    assert "by Henk Helper" in ada
    numbers = text(
        client.get(f"/manage/events/{door.event}/attendees/counters", headers=htmx("x", "x"))
    )
    assert counters(numbers)["Checked in"] == 1


# ---------------------------------------------------------------------------------------
# Paying at the door


def test_one_tap_records_the_door_payment_with_who_and_when(app, organiser, door):
    before = utcnow()
    response = post_form(
        organiser,
        f"/manage/events/{door.event}/parties/{door.ada}/door-payment",
        {"amount": "10.00", "expected_open_cents": "1000"},
        headers=htmx(target=f"party-{door.ada}"),
    )

    assert response.status_code == 200 and response.headers["HX-Trigger"] == "checkin-changed"
    row = text(response)
    assert "Paid at the door €10.00" in row and "Paid €10.00 at the door" not in row
    assert "€10.00 paid at the door by the party of Ada Lovelace is recorded." in row
    with app.app_context():
        [payment] = db.session.scalars(sa.select(Payment)).all()
        assert payment.registration_id == door.ada
        assert payment.provider == PaymentProvider.DOOR
        assert payment.status == PaymentStatus.PAID
        assert payment.amount_cents == 1000
        assert payment.recorded_by_id == door.organiser
        assert payment.paid_at >= before
    paid = registration(app, door.ada)
    assert (paid.amount_paid_cents, paid.payment_state) == (1000, PaymentState.PAID)
    page = text(organiser.get(door.list))
    assert "Received at the door</dt><dd>€10.00" in page
    assert "Still open</dt><dd>€10.00" in page


def test_a_door_payment_tapped_twice_is_recorded_once(app, organiser, door):
    url = f"/manage/events/{door.event}/parties/{door.ada}/door-payment"
    tap = {"amount": "10,00", "expected_open_cents": "1000"}
    post_form(organiser, url, tap)

    again = post_form(organiser, url, tap, headers=htmx(target=f"party-{door.ada}"))

    assert again.status_code == 200
    assert "Nothing new is recorded" in text(again)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1
    assert registration(app, door.ada).amount_paid_cents == 1000


def test_two_phones_taking_the_same_door_payment_at_once_record_it_once(app, door):
    phones = [app.test_client(), app.test_client()]
    for phone, email in zip(phones, (ORGANISER, HELPER), strict=True):
        post_form(phone, "/auth/login", {"email": email, "password": "correct horse battery"})
    tokens = [
        re.search(r'name="csrf_token" value="([^"]+)"', text(phone.get(door.list))).group(1)
        for phone in phones
    ]
    url = f"/manage/events/{door.event}/parties/{door.eve}/door-payment"
    barrier = threading.Barrier(2)
    statuses = [None, None]

    def tap(index):
        barrier.wait(timeout=10)
        statuses[index] = (
            phones[index]
            .post(
                url,
                data={"amount": "10", "expected_open_cents": "1000"},
                headers={"X-CSRFToken": tokens[index]},
            )
            .status_code
        )

    threads = [threading.Thread(target=tap, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [303, 303]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1
    assert registration(app, door.eve).amount_paid_cents == 1000


def test_another_amount_on_its_own_page(app, organiser, door):
    url = f"/manage/events/{door.event}/parties/{door.ada}/door-payment"
    form = text(organiser.get(url, query_string={"q": "ada"}))
    assert 'name="amount" value="10.00"' in form and "Still to pay: €10.00." in form

    response = post_form(organiser, url, {"amount": "€ 4,50", "on_page": "1", "q": "ada"})

    assert response.status_code == 303
    assert response.headers["Location"] == f"{door.list}?q=ada#party-{door.ada}"
    partly = registration(app, door.ada)
    assert (partly.amount_paid_cents, partly.payment_state) == (450, PaymentState.DUE_AT_DOOR)
    page = text(organiser.get(door.list, query_string={"q": "ada"}))
    assert "Paid at the door €4.50; To pay at the door €5.50" in page
    assert "Paid €5.50 at the door" in page


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("abc", "Please write an amount in euros, like 4,50."),
        ("0", "Please write an amount in euros, like 4,50."),
        ("-5", "Please write an amount in euros, like 4,50."),
        ("", "Please write an amount in euros, like 4,50."),
        ("100", "Only €10.00 is still to pay."),
    ],
)
def test_a_door_payment_that_is_not_a_positive_amount_is_refused(
    app, organiser, door, amount, message
):
    url = f"/manage/events/{door.event}/parties/{door.ada}/door-payment"

    response = post_form(organiser, url, {"amount": amount, "on_page": "1"})

    assert response.status_code == 422
    page = text(response)
    assert f'<p class="error" id="amount-error">{message}</p>' in page
    assert f'name="amount" value="{amount}"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0

    in_row = post_form(organiser, url, {"amount": amount}, headers=htmx(target=f"party-{door.ada}"))
    assert in_row.status_code == 422 and message in text(in_row)


def test_no_door_payment_for_a_party_that_owes_nothing_or_has_no_place(app, organiser, door):
    for party, message in (
        (door.chris, "This party has nothing left to pay."),
        (door.gus, "Only a party with a place can pay at the door."),
    ):
        response = post_form(
            organiser,
            f"/manage/events/{door.event}/parties/{party}/door-payment",
            {"amount": "5"},
            headers=htmx(target=f"party-{party}"),
        )
        assert response.status_code == 422 and message in text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0


# ---------------------------------------------------------------------------------------
# Walk-ins


def walk_in(client, door, **fields):
    data = {"name": "Wim", "meal": "", "paid": "", **fields}
    return post_form(client, f"/manage/events/{door.event}/walk-in", data)


def walk_ins(app, door) -> list[Registration]:
    with app.app_context():
        return db.session.scalars(
            sa.select(Registration)
            .where(Registration.event_id == door.event, Registration.contact_email == "")
            .options(sa.orm.selectinload(Registration.attendees))
        ).all()


def test_no_walk_in_beyond_the_seats_and_in_when_one_frees_up(app, organiser, door):
    form = text(organiser.get(f"/manage/events/{door.event}/walk-in"))
    assert "0 seats left" in form

    full = walk_in(organiser, door, name="Wim")
    assert full.status_code == 422
    assert "The event is full: all 5 seats are taken." in text(full)
    assert 'value="Wim"' in text(full)
    assert walk_ins(app, door) == []

    with app.app_context():
        event = db.session.get(Event, door.event)
        event.capacity = 7  # the organiser found two more chairs; Gus is not promoted by this
        db.session.commit()
    assert walk_in(organiser, door, name="Wim").status_code == 303
    assert walk_in(organiser, door, name="Xander").status_code == 303
    third = walk_in(organiser, door, name="Yara")
    assert third.status_code == 422 and "all 7 seats are taken" in text(third)
    assert sorted(w.contact_name for w in walk_ins(app, door)) == ["Wim", "Xander"]


def test_a_walk_in_is_confirmed_checked_in_and_may_pay_at_once(app, organiser, door):
    with app.app_context():
        registrations.cancel(db.session.get(Registration, door.eve))  # 2 seats, 2 dinners free
        db.session.commit()
    before = utcnow()

    response = walk_in(
        organiser,
        door,
        name="Wim",
        meal=str(door.dinner),
        diets="vegan",
        diet_note="Geen ui",
        paid="5",
        q="w",
    )

    assert response.status_code == 303
    [wim] = walk_ins(app, door)
    assert response.headers["Location"] == f"{door.list}?q=w#party-{wim.id}"
    assert wim.status == RegistrationStatus.CONFIRMED
    assert (wim.amount_due_cents, wim.amount_paid_cents) == (500, 500)
    assert wim.payment_state == PaymentState.PAID
    [person] = wim.attendees
    assert (person.name, person.meal_option_id, person.diets) == ("Wim", door.dinner, ["vegan"])
    assert person.checked_in_at >= before and person.checked_in_by_id == door.organiser
    with app.app_context():
        payment = db.session.scalar(sa.select(Payment).where(Payment.registration_id == wim.id))
        assert (payment.provider, payment.amount_cents) == (PaymentProvider.DOOR, 500)
        assert payment.recorded_by_id == door.organiser
        # No e-mail for someone without an address.
        assert (
            db.session.scalar(
                sa.select(sa.func.count(OutboxMessage.id)).where(OutboxMessage.to_address == "")
            )
            == 0
        )
    page = text(organiser.get(response.headers["Location"]))
    assert "Wim is added and checked in." in page
    assert "Came in at the door" in page and "Paid at the door €5.00" in page


def test_no_walk_in_beyond_the_meals_left(app, organiser, door):
    with app.app_context():
        db.session.get(Event, door.event).capacity = None
        db.session.commit()

    refused = walk_in(organiser, door, name="Wim", meal=str(door.dinner), diet_note="Geen ui")

    assert refused.status_code == 422
    page = text(refused)
    assert "No meals of “Diner” are left." in page
    assert 'value="Geen ui"' in page
    assert walk_ins(app, door) == []
    assert walk_in(organiser, door, name="Wim").status_code == 303  # without a meal: fine


def test_walk_ins_come_after_registration_closed_and_after_the_start(app, organiser, door):
    with app.app_context():
        event = db.session.get(Event, door.event)
        event.capacity = None
        event.starts_at = utcnow() - timedelta(hours=1)
        event.registration_closes_at = utcnow() - timedelta(days=1)
        event.meal_options[0].signup_deadline = utcnow() - timedelta(days=2)
        event.meal_options[0].capacity = 5
        db.session.commit()

    assert walk_in(organiser, door, name="Laat", meal=str(door.dinner), paid="5").status_code == 303
    [late] = walk_ins(app, door)
    assert late.payment_state == PaymentState.PAID


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "  "}, "Please fill in their name."),
        ({"paid": "vijf"}, "Please write an amount in euros, like 4,50."),
        ({"paid": "5"}, "They have nothing to pay."),
        ({"meal": "dinner", "paid": "6"}, "They owe €5.00: the amount paid cannot be more."),
        (
            {"meal": "dinner", "diets": "gluten_free"},
            "Please choose from the diets this meal offers.",
        ),
        ({"meal": "999999"}, "Please choose one of the meals offered."),
    ],
)
def test_a_walk_in_with_bad_input_is_refused_with_what_was_typed(
    app, organiser, door, fields, message
):
    with app.app_context():
        db.session.get(Event, door.event).capacity = None
        db.session.get(Event, door.event).meal_options[0].capacity = None
        db.session.commit()
    if fields.get("meal") == "dinner":
        fields["meal"] = str(door.dinner)

    response = walk_in(organiser, door, **{"name": "Wim", **fields})

    assert response.status_code == 422
    assert message in text(response)
    assert walk_ins(app, door) == []


def test_a_pay_what_you_can_walk_in_pays_their_own_amount(app, organiser, door):
    with app.app_context():
        event = db.session.get(Event, door.event)
        event.capacity = None
        event.ticket_price_cents = 200
        meal = event.meal_options[0]
        meal.capacity, meal.pwyc_min_cents, meal.pwyc_suggested_cents = None, 300, 500
        db.session.commit()

    assert (
        walk_in(organiser, door, name="Wim", meal=str(door.dinner), paid="6,00").status_code == 303
    )
    low = walk_in(organiser, door, name="Xan", meal=str(door.dinner), paid="4")
    assert low.status_code == 422
    assert "For the meal they can pay from €3.00 to €100.00, plus €2.00 entry." in text(low)
    [wim] = walk_ins(app, door)
    assert (wim.amount_due_cents, wim.payment_state) == (600, PaymentState.PAID)
    assert wim.attendees[0].meal_price_cents == 400


# ---------------------------------------------------------------------------------------
# Exports


def read_csv(response) -> tuple[str, list[list[str]]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the byte order mark Excel needs for UTF-8
    content = body.decode("utf-8-sig")
    delimiter = ";" if content.split("\r\n")[0].count(";") > 3 else ","
    return delimiter, list(csv.reader(io.StringIO(content), delimiter=delimiter))


def test_the_csv_has_one_row_per_person_with_the_lists_columns(app, organiser, door):
    post_form(organiser, f"/manage/events/{door.event}/attendees/{door.ada_person}/check-in")
    post_form(
        organiser,
        f"/manage/events/{door.event}/parties/{door.eve}/door-payment",
        {"amount": "10"},
    )

    response = organiser.get(f"/manage/events/{door.event}/attendees.csv")

    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="buurtdiner-attendees.csv"'
    )
    delimiter, rows = read_csv(response)
    assert delimiter == ","
    assert rows[0] == [
        "Party",
        "Contact e-mail",
        "Name",
        "Meal",
        "Diets",
        "Note for the kitchen",
        "Status",
        "Price",
        "Payment",
        "Checked in",
        "Checked in by",
        "Ticket code",
    ]
    people = {row[2]: row for row in rows[1:]}
    assert list(people) == ["Ada", "Bob", "chris", "Eve", "Finn"]
    ada = people["Ada"]
    assert ada[:9] == [
        "Ada Lovelace",
        "ada@example.org",
        "Ada",
        "Diner",
        "Vegan",
        "No nuts, please",
        "Confirmed",
        "5.00",
        "To pay at the door €10.00",
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", ada[9]) and ada[10] == "Olga Organiser"
    assert ada[11] == attendance.short_code(attendee(app, door.ada_person))
    assert people["Bob"][9:11] == ["", ""]
    assert people["chris"][3:9] == ["", "", "", "Confirmed", "0.00", "Nothing to pay"]
    assert people["Eve"][4] == "Vegetarian, Halal"
    assert people["Eve"][8] == "Paid at the door €10.00"

    waiting = read_csv(organiser.get(door.list + ".csv", query_string={"show": "waiting"}))[1]
    assert [row[2] for row in waiting[1:]] == ["Gus"] and waiting[1][6] == "Waiting list"


def test_the_csv_in_dutch_uses_semicolons_and_decimal_commas(organiser, door):
    delimiter, rows = read_csv(organiser.get(door.list + ".csv?lang=nl"))
    assert delimiter == ";"
    ada = next(row for row in rows if row[2] == "Ada")
    assert ada[7] == "5,00"


def test_the_printable_list_is_sorted_by_name_with_boxes(app, organiser, door):
    post_form(organiser, f"/manage/events/{door.event}/attendees/{door.bob_person}/check-in")

    page = text(organiser.get(f"/manage/events/{door.event}/attendees/print"))

    names = re.findall(r'<td class="print-box-column">.*?</td>\s*<td>([^<(]+?)(?: \(|</td>)', page)
    assert names == ["Ada", "Bob", "chris", "Eve", "Finn"]
    assert page.count('class="print-box"') == 5
    assert page.count('aria-hidden="true">✓</span>') == 1
    bob = page[page.index("<td>Bob</td>") :]
    assert "with Ada Lovelace" in bob[: bob.index("</tr>")]
    assert "@page" not in page and 'class="print-sheet"' in page


# ---------------------------------------------------------------------------------------
# Scanning a ticket, and typing its code


def test_an_organiser_scanning_a_ticket_sees_the_party_and_checks_in(app, organiser, door):
    page = text(organiser.get(f"/t/{door.ada_ticket}"))

    assert "At the door" in page and "Diner: Vegan" in page and "No nuts, please" in page
    assert "To pay at the door €10.00" in page and "Bob: Diner" in page
    assert 'class="button button-checkin button-big">Check in' in page
    response = post_form(
        organiser,
        f"/manage/events/{door.event}/attendees/{door.ada_person}/check-in",
        {"back": "ticket", "ticket_attendee": str(door.ada_person)},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/t/{door.ada_ticket}"
    after = text(organiser.get(response.headers["Location"]))
    assert "Ada is checked in." in after and "Checked in at" in after
    assert "Check in all 2" not in after
    assert attendee(app, door.ada_person).checked_in_by_id == door.organiser


def test_a_waiting_ticket_shows_the_organiser_why_there_is_no_check_in(organiser, door):
    page = text(organiser.get(f"/t/{door.gus_ticket}"))
    assert "At the door" in page
    assert "This party is on the waiting list: they have no place to check in." in page
    assert "button-checkin" not in page


@pytest.mark.parametrize("who", ["anonymous", "member", "other organiser"])
def test_anyone_else_sees_only_the_ticket(app, client, auth, door, who):
    with app.app_context():
        if who == "member":
            make_user(email="member@example.org")
        if who == "other organiser":
            make_organiser(make_collective("ander", "Ander"), email="other@example.org")
    if who != "anonymous":
        log_in(client, auth, {"member": "member@example.org"}.get(who, "other@example.org"))

    page = text(client.get(f"/t/{door.ada_ticket}?lang=en"))

    assert "Ticket of Ada" in page and "Ticket code" in page
    assert "At the door" not in page and "Check in" not in page and "€10.00" not in page


def test_a_typed_code_opens_the_ticket(app, organiser, door):
    short = attendance.short_code(attendee(app, door.ada_person))
    url = f"/manage/events/{door.event}/check-in"
    assert "Ticket code" in text(organiser.get(url))

    found = organiser.get(url, query_string={"code": f" {short} "})
    assert found.status_code == 302 and found.headers["Location"] == f"/t/{door.ada_ticket}"
    typed = organiser.get(url, query_string={"code": short.upper()})  # capitals on a phone
    assert typed.headers["Location"] == f"/t/{door.ada_ticket}"

    wrong = organiser.get(url, query_string={"code": "12345-abcdef"})
    assert wrong.status_code == 422
    assert "No ticket of this event has this code." in text(wrong)
    assert 'value="12345-abcdef"' in text(wrong)


def test_a_typed_code_of_another_event_is_not_found_here(app, organiser, door):
    with app.app_context():
        other = make_event("ander", "Ander", collective_id=door.host)
        zed = make_registration(other, ["Zed"], email="zed@example.org").attendees[0]
        code = zed.ticket
    response = organiser.get(f"/manage/events/{door.event}/check-in", query_string={"code": code})
    assert response.status_code == 422


# ---------------------------------------------------------------------------------------
# Messages


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        return db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.subject.like("Buurtdiner:%"))
        ).all()


def test_a_message_goes_to_every_party_with_a_place_through_the_outbox(app, organiser, door):
    with app.app_context():
        db.session.get(Event, door.event).capacity = None
        db.session.commit()
    walk_in(organiser, door, name="Wim")  # no address: gets nothing
    form = text(organiser.get(f"/manage/events/{door.event}/message"))
    assert "Everyone with a place (3 parties)" in form
    assert "The waiting list (1 party)" in form

    response = post_form(
        organiser,
        f"/manage/events/{door.event}/message",
        {"audience": "confirmed", "subject": "Parkeren", "body": "Parkeer bij de kerk."},
    )

    assert response.status_code == 303
    assert "Your message is on its way to 3 parties." in text(
        organiser.get(response.headers["Location"])
    )
    messages = outbox(app)
    assert sorted(m.to_address for m in messages) == [
        "ada@example.org",
        "chris@example.org",
        "eve@example.org",
    ]
    ada = next(m for m in messages if m.to_address == "ada@example.org")
    assert ada.subject == "Buurtdiner: Parkeren"
    assert "Hallo Ada Lovelace," in ada.body_text  # in the party's own language
    assert "Parkeer bij de kerk." in ada.body_text
    assert f"/r/{registration(app, door.ada).token}" in ada.body_text


def test_a_message_to_the_waiting_list(app, organiser, door):
    post_form(
        organiser,
        f"/manage/events/{door.event}/message",
        {"audience": "waiting", "subject": "Nog even geduld", "body": "We laten het weten."},
    )
    assert [m.to_address for m in outbox(app)] == ["gus@example.org"]


def test_a_message_twice_by_a_double_click_goes_once(app, organiser, door):
    data = {"audience": "waiting", "subject": "Nog even geduld", "body": "We laten het weten."}
    post_form(organiser, f"/manage/events/{door.event}/message", data)

    again = post_form(organiser, f"/manage/events/{door.event}/message", data)

    assert again.status_code == 422
    assert "This message was sent a few minutes ago already." in text(again)
    assert len(outbox(app)) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"subject": "", "body": "Hoi"}, "Please write a subject."),
        ({"subject": "Hoi", "body": "   "}, "Please write your message."),
        (
            {"subject": "Hoi", "body": "Hoi", "audience": "everyone"},
            "Please choose who gets the message.",
        ),
    ],
)
def test_a_message_needs_a_subject_a_text_and_an_audience(app, organiser, door, data, message):
    response = post_form(
        organiser, f"/manage/events/{door.event}/message", {"audience": "confirmed", **data}
    )
    assert response.status_code == 422
    assert message in text(response)
    assert outbox(app) == []


def test_a_message_to_nobody_is_refused(app, organiser, door):
    with app.app_context():
        registrations.cancel(db.session.get(Registration, door.gus))
        db.session.commit()
    response = post_form(
        organiser,
        f"/manage/events/{door.event}/message",
        {"audience": "waiting", "subject": "Hoi", "body": "Hoi"},
    )
    assert response.status_code == 422 and "Nobody would get this message." in text(response)


# ---------------------------------------------------------------------------------------
# Cancel and refund a party that paid online


@pytest.fixture
def paid(app, client, fake_stripe):
    """A party of two that paid €14 online for Buurtdiner (online payment only)."""
    with app.app_context():
        host = make_collective("zonnedak", "Zonnedak")
        make_organiser(host, email=ORGANISER)
        event = make_event(
            capacity=3,
            ticket_price_cents=200,
            payment_mode=PaymentMode.ONLINE,
            collective_id=host.id,
            meals=[{"name": "Diner", "price_cents": 500}],
        )
        dinner, event_id = event.meal_options[0].id, event.id
    response = post_form(
        client,
        "/events/buurtdiner/register?lang=en",
        {
            "contact_name": "Ada",
            "contact_email": "ada@example.org",
            "submit": "register",
            "people-0-name": "Ada",
            "people-0-meal": str(dinner),
            "people-1-name": "Bob",
            "people-1-meal": str(dinner),
        },
    )
    session_id = response.headers["Location"].rsplit("/", 1)[1]
    fake_stripe.pay(session_id)
    deliver_webhook(client, fake_stripe, fake_stripe.pending_events[-1])
    with app.app_context():
        party = db.session.scalar(sa.select(Registration))
        assert party.payment_state == PaymentState.PAID
        return SimpleNamespace(event=event_id, party=party.id)


def test_an_organiser_cancels_and_refunds_a_party_that_paid_online(
    app, client, auth, fake_stripe, paid
):
    with app.app_context():
        db.session.get(Event, paid.event).refund_until = utcnow() - timedelta(days=1)
        db.session.commit()
    log_in(client, auth)
    page = text(client.get(f"/manage/events/{paid.event}/attendees"))
    assert "Paid online €14.00" in page
    assert "Received online</dt><dd>€14.00" in page
    url = f"/manage/events/{paid.event}/parties/{paid.party}/refund"
    assert f'href="{url}"' in page

    confirm = text(client.get(url))
    assert "Cancel the registration of Ada and refund it?" in confirm
    assert "€14.00 paid online goes back to their account" in confirm
    response = post_form(client, url)

    assert response.status_code == 303
    assert "is cancelled and €14.00 is refunded online" in text(
        client.get(response.headers["Location"])
    )
    party = registration(app, paid.party)
    assert party.status == RegistrationStatus.CANCELLED
    assert party.payment_state == PaymentState.REFUNDED
    [refund] = fake_stripe.refunds.values()
    assert refund["amount"] == 1400
    cancelled = text(client.get(f"/manage/events/{paid.event}/attendees?show=cancelled"))
    assert "Refunded" in cancelled and "Cancel and refund" not in cancelled
    again = post_form(client, url)
    assert again.status_code == 303 and len(fake_stripe.refunds) == 1


def test_when_stripe_does_not_answer_nothing_is_cancelled(
    app, client, auth, fake_stripe, paid, monkeypatch
):
    log_in(client, auth)
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT_SECONDS", 0.3)
    fake_stripe.timeout_next_requests(2, 2.0)  # the SDK tries twice

    response = post_form(client, f"/manage/events/{paid.event}/parties/{paid.party}/refund")

    assert response.status_code == 503
    assert "Stripe does not answer right now, so nothing is cancelled or refunded." in text(
        response
    )
    party = registration(app, paid.party)
    assert party.status == RegistrationStatus.CONFIRMED
    assert party.payment_state == PaymentState.PAID
    assert fake_stripe.refunds == {}


def test_a_party_that_paid_at_the_door_has_no_refund_button(organiser, door):
    post_form(
        organiser, f"/manage/events/{door.event}/parties/{door.ada}/door-payment", {"amount": "10"}
    )
    page = text(organiser.get(door.list))
    assert "Cancel and refund" not in page
    response = post_form(organiser, f"/manage/events/{door.event}/parties/{door.ada}/refund")
    assert response.status_code == 303
    assert "This party has nothing paid online to refund." in text(
        organiser.get(response.headers["Location"])
    )


# ---------------------------------------------------------------------------------------
# The dashboard


def test_the_dashboard_shows_counts_and_links_to_the_list(organiser, door):
    post_form(organiser, f"/manage/events/{door.event}/parties/{door.ada}/check-in")
    page = text(organiser.get("/manage/events"))
    card = page[page.index("Buurtdiner") :]
    assert "<dt>Checked in</dt>\n      <dd>2</dd>" in card
    assert "<dt>Waiting list</dt>\n      <dd>1</dd>" in card
    assert f'href="{door.list}" aria-label="Attendance list: ' in card


# ---------------------------------------------------------------------------------------
# Queries do not grow with the number of people


def fill(app, event_id, first: int, last: int) -> None:
    """Parties of three, numbered first..last-1: one eats vegan with a note, one is checked
    in, and each party pays part at the door."""
    with app.app_context():
        event = db.session.get(Event, event_id)
        dinner = event.meal_options[0].id
        organiser = db.session.scalar(sa.select(User).where(User.email == ORGANISER))
        for number in range(first, last):
            party = make_registration(
                event,
                [
                    PersonChoice(f"Guest {number}", dinner, ["vegan"], "Note"),
                    PersonChoice(f"Friend {number}"),
                    PersonChoice(f"Child {number}", dinner),
                ],
                email=f"guest{number}@example.org",
            )
            attendance.check_in(event, party.attendees[1].id, organiser)
            attendance.record_door_payment(party, 500, organiser)
            db.session.commit()


def measure(client, count_queries, door) -> dict[str, int]:
    counts = {}
    for name, url, headers in (
        ("page", door.list, {}),
        ("page 2", door.list + "?page=2", {}),
        ("fragment", door.list, htmx(trigger="attendee-list")),
        ("fragment 2", door.list + "?page=2", htmx(trigger="attendee-list")),
        ("search", door.list + "?q=guest&show=todo", htmx()),
        ("counters", f"/manage/events/{door.event}/attendees/counters", htmx("x", "x")),
    ):
        with count_queries as counted:
            assert client.get(url, headers=headers).status_code == 200
        counts[name] = counted.count
    return counts


def test_the_list_and_counters_cost_the_same_statements_for_3_and_60_parties(
    app, client, auth, door, count_queries
):
    with app.app_context():
        event = db.session.get(Event, door.event)
        event.capacity = None
        event.meal_options[0].capacity = None
        for party in db.session.scalars(sa.select(Registration)):
            db.session.delete(party)
        db.session.commit()
    log_in(client, auth)
    fill(app, door.event, 0, 3)
    client.get(door.list)

    few = measure(client, count_queries, door)
    fill(app, door.event, 3, 60)
    many = measure(client, count_queries, door)

    assert "60 parties, 180 people" in text(client.get(door.list))
    assert "Page 2 of 2" in text(client.get(door.list + "?page=2"))
    assert many == few
    # The whole page: the organiser and their roles, the event and its meals, the menu's
    # membership, the matching parties, the page's rows, and the counters with the kitchen.
    assert many["page"] <= 8, many


def test_a_tap_at_the_door_is_a_few_statements_and_a_small_answer(
    app, organiser, door, count_queries
):
    token = csrf_token(organiser)
    base = f"/manage/events/{door.event}"
    person, party = f"{base}/attendees/{door.ada_person}", f"{base}/parties/{door.ada}"
    costs, updates = {}, []
    for name, url in (
        ("check in", f"{person}/check-in"),
        ("again", f"{person}/check-in"),
        ("undo", f"{person}/undo"),
        ("party", f"{party}/check-in"),
        ("undo party", f"{party}/undo"),
    ):
        with count_queries as counted:
            response = organiser.post(
                url, data={"csrf_token": token}, headers=htmx(target=f"party-{door.ada}")
            )
        assert response.status_code == 200, name
        assert response.headers["HX-Trigger"] == "checkin-changed"
        assert len(response.data) < 6000 and party_names(text(response)) == ["Ada Lovelace"]
        costs[name] = counted.count
        updates += [sql for sql in counted.statements if sql.startswith("UPDATE attendees")]

    # The volunteer and their roles, the event and its meals; the UPDATE, its record, and
    # the party's row to send back.
    assert max(costs.values()) <= 8, costs
    # Whether the person's party holds a place is asked of that party alone.
    assert all("EXISTS (SELECT" in sql for sql in updates) and len(updates) == 5
    assert not any("IN (SELECT registrations.id" in sql for sql in updates)
    assert attendee(app, door.ada_person).checked_in_at is None  # undone at the end


def test_a_line_break_in_the_subject_cannot_reach_the_mail_header(app, organiser, door):
    post_form(
        organiser,
        f"/manage/events/{door.event}/message",
        {"audience": "waiting", "subject": "Nog even\r\nBcc: x@example.org", "body": "Hoi"},
    )
    [message] = outbox(app)
    assert message.subject == "Buurtdiner: Nog even Bcc: x@example.org"


def test_every_check_in_and_undo_is_kept_with_who_and_when(app):
    with app.app_context():
        event = make_event(capacity=10)
        registration = make_registration(event, people=("Ada", "Bob"))
        volunteer = make_user(email="volunteer@example.org", is_admin=True)
        ada, bob = (person.id for person in registration.attendees)
        assert attendance.check_in(event, ada, volunteer).changed == [ada]
        assert attendance.check_in(event, ada, volunteer).changed == []  # in already: no record
        assert attendance.undo_check_in(event, ada, volunteer).changed == [ada]
        assert attendance.check_in_party(event, registration.id, volunteer).changed == [ada, bob]
        assert attendance.undo_party(event, registration.id, volunteer).changed == [ada, bob]
        assert attendance.undo_party(event, registration.id, volunteer).changed == []
        db.session.commit()
        trail = db.session.execute(
            sa.select(
                CheckInRecord.attendee_id, CheckInRecord.action, CheckInRecord.by_id
            ).order_by(CheckInRecord.id)
        ).all()
        assert [tuple(row) for row in trail] == [
            (ada, "check_in", volunteer.id),
            (ada, "undo", volunteer.id),
            (ada, "check_in", volunteer.id),
            (bob, "check_in", volunteer.id),
            (ada, "undo", volunteer.id),
            (bob, "undo", volunteer.id),
        ]


def test_a_check_in_through_another_event_changes_nothing(app):
    """The services take the event the organiser manages: its id must own the person."""
    with app.app_context():
        event, other = make_event(capacity=10), make_event("ander", "Ander", capacity=10)
        party = make_registration(event, people=("Ada", "Bob"))
        ada = party.attendees[0]
        ada.checked_in_at = utcnow()
        db.session.commit()
        volunteer = make_user(email="volunteer@example.org", is_admin=True)
        bob_id, ada_id = party.attendees[1].id, ada.id

        assert attendance.check_in(other, bob_id, volunteer) is None
        assert attendance.check_in_party(other, party.id, volunteer) is None
        assert attendance.undo_check_in(other, ada_id, volunteer) is None
        assert attendance.undo_party(other, party.id, volunteer) is None
        db.session.commit()

        assert db.session.get(Attendee, bob_id).checked_in_at is None
        assert db.session.get(Attendee, ada_id).checked_in_at is not None
        assert db.session.scalar(sa.select(sa.func.count(CheckInRecord.id))) == 0


def test_what_residents_typed_never_runs_as_a_spreadsheet_formula(app, organiser, door):
    with app.app_context():
        make_registration(
            db.session.get(Event, door.event),
            people=('=HYPERLINK("http://evil.example","klik")',),
            email="formula@example.org",
            contact_name="+SUM(A1)",
            join_waitlist=True,
        )
    _delimiter, rows = read_csv(organiser.get(door.list + ".csv?show=waiting&lang=en"))
    formula = next(row for row in rows if "HYPERLINK" in row[2])
    assert formula[0] == "'+SUM(A1)"
    assert formula[2].startswith("'=HYPERLINK(")
