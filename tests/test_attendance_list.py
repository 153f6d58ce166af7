"""The attendance list: its parties and people, the counters and the kitchen summary,
search and filters, its pages, and the organisers' dashboard.
"""

import html
import re

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Attendee,
    Event,
    Registration,
)
from cooperative.services import attendance
from cooperative.services import registration as registrations
from cooperative.services.registration import PersonChoice
from tests import attendance_fixtures
from tests.attendance_fixtures import (
    attendee,
    counters,
    htmx,
    party_names,
    read_csv,
    text,
    walk_in,
    walk_ins,
)
from tests.conftest import post_form
from tests.factories import make_event, make_registration

door = attendance_fixtures.door
organiser = attendance_fixtures.organiser


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
    assert re.search(r'<progress [^>]*max="5" value="0"', page)
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


# A page number given, and the page shown: the first for what is no page number at all.
PAGE_NUMBERS = [
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
]


def test_a_page_that_does_not_exist_shows_the_first_or_the_last(organiser, crowd):
    # One crowd for every value (not one test each): 52 registrations take seconds to make.
    for value, shown in PAGE_NUMBERS:
        response = organiser.get(crowd.list, query_string={"page": value})

        assert response.status_code == 200, value
        page = text(response)
        assert f"Page {shown} of 2" in page, value
        assert f'<input type="hidden" id="attendance-page" name="page" value="{shown}">' in page
        assert party_names(page)[0] == ("Ada Lovelace" if shown == 1 else "Guest 48"), value


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
# The dashboard


def test_the_dashboard_shows_counts_and_links_to_the_list(organiser, door):
    post_form(organiser, f"/manage/events/{door.event}/parties/{door.ada}/check-in")
    page = text(organiser.get("/manage/events"))
    card = page[page.index("Buurtdiner") :]
    assert "<dt>Checked in</dt>\n      <dd>2</dd>" in card
    assert "<dt>Waiting list</dt>\n      <dd>1</dd>" in card
    assert f'href="{door.list}" aria-label="Attendance list: ' in card
