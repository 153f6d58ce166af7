"""The public event list: its filters, the htmx fragment, the cards, and its query count."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Collective, Event, EventStatus, utcnow
from cooperative.services.registration import PersonChoice
from tests.conftest import forget_pages
from tests.factories import (
    amsterdam_time,
    make_collective,
    make_domain,
    make_event,
    make_event_at,
    make_registration,
)

HTMX_LIST = {"HX-Request": "true", "HX-Target": "event-list"}
HTMX_MORE = {"HX-Request": "true", "HX-Target": "event-cards"}

# Every upcoming published event in `world`, soonest first.
UPCOMING = [
    "Koffieochtend",
    "Late zonnewandeling",
    "Zonnepanelen avond",
    "Nachtelijk oogstfeest",
    "Vroege oogst",
    "Oogstmaaltijd",
    "Winterfeest",
    "Verre toekomst",
]
NEVER = ["Oud feest", "Geheim concept", "Afgelast"]


@pytest.fixture
def world(app):
    """Two domains and two collectives, events past, near, far, draft and cancelled."""
    with app.app_context():
        energie = make_domain("energie", "Energie", "Energy", position=1)
        voedsel = make_domain("voedsel", "Voedsel", "Food", position=2)
        buurt = make_domain("buurt", "Buurt", "Neighbourhood", position=3)
        zonnedak = make_collective("zonnedak", "Zonnedak Oost", domain=energie)
        pluktuin = make_collective("pluktuin", "Pluktuin West", domain=voedsel)
        pluktuin.domains = [buurt]
        db.session.commit()

        now = utcnow()
        koffie = make_event("koffie", "Koffieochtend", collective=pluktuin, venue="De Kantine")
        koffie.starts_at, koffie.ends_at = now - timedelta(hours=1), now + timedelta(hours=2)
        db.session.commit()
        # On both sides of Amsterdam midnights: a UTC day would put them in the wrong period.
        make_event_at(
            "late-wandeling", "Late zonnewandeling", amsterdam_time(0, 23, 30), collective=zonnedak
        )
        make_event_at(
            "zonnepanelen",
            "Zonnepanelen avond",
            amsterdam_time(1, 0, 30),
            collective=zonnedak,
            summary="Hoe werkt een dak vol PANELEN?",
            venue="Huis van de Wijk",
        )
        make_event_at(
            "nacht-oogst", "Nachtelijk oogstfeest", amsterdam_time(6, 23, 30), collective=pluktuin
        )
        make_event_at(
            "vroege-oogst",
            "Vroege oogst",
            amsterdam_time(7, 0, 30),
            collective=pluktuin,
            description="Met pompoensoep en brood.",
        )
        make_event_at(
            "oogstmaaltijd", "Oogstmaaltijd", amsterdam_time(30, 23, 30), collective=pluktuin
        )
        make_event_at(
            "winterfeest", "Winterfeest", amsterdam_time(31, 0, 30), venue="Stadsschouwburg"
        )
        make_event("verre-toekomst", "Verre toekomst", starts_in=timedelta(days=400))
        make_event("oud-feest", "Oud feest", starts_in=timedelta(days=-2), collective=zonnedak)
        make_event(
            "concept",
            "Geheim concept",
            starts_in=timedelta(days=3),
            collective=zonnedak,
            status=EventStatus.DRAFT,
        )
        make_event(
            "afgelast",
            "Afgelast",
            starts_in=timedelta(days=3),
            collective=zonnedak,
            status=EventStatus.CANCELLED,
        )


def titles(response) -> list[str]:
    """The titles of the event cards on the page, in their order."""
    html = response.get_data(as_text=True)
    return re.findall(r'<h3[^>]*><a href="/events/[^"]+">([^<]+)</a>', html)


def test_the_list_shows_upcoming_published_events_soonest_first(client, world):
    response = client.get("/events?lang=en")

    assert response.status_code == 200
    assert titles(response) == UPCOMING
    html = response.get_data(as_text=True)
    assert "8 events found" in html
    for title in NEVER:
        assert title not in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # primary domain
        ("domain=energie", ["Late zonnewandeling", "Zonnepanelen avond"]),
        # another domain of the collective
        (
            "domain=buurt",
            ["Koffieochtend", "Nachtelijk oogstfeest", "Vroege oogst", "Oogstmaaltijd"],
        ),
        (
            "domain=voedsel",
            ["Koffieochtend", "Nachtelijk oogstfeest", "Vroege oogst", "Oogstmaaltijd"],
        ),
        ("collective=zonnedak", ["Late zonnewandeling", "Zonnepanelen avond"]),
        (
            "collective=pluktuin",
            ["Koffieochtend", "Nachtelijk oogstfeest", "Vroege oogst", "Oogstmaaltijd"],
        ),
        # text: title, summary, description, venue; any case; every word must match
        ("q=OOGST", ["Nachtelijk oogstfeest", "Vroege oogst", "Oogstmaaltijd"]),
        ("q=panelen", ["Zonnepanelen avond"]),
        ("q=pompoensoep", ["Vroege oogst"]),
        ("q=schouwburg", ["Winterfeest"]),
        ("q=kantine", ["Koffieochtend"]),
        ("q=oogst+vroege", ["Vroege oogst"]),
        ("q=++zonne++", ["Late zonnewandeling", "Zonnepanelen avond"]),
        # wildcards of LIKE are plain characters here
        ("q=%25", []),
        ("q=_", []),
        # days in Amsterdam, from the start of today
        ("period=today", ["Koffieochtend", "Late zonnewandeling"]),
        (
            "period=week",
            ["Koffieochtend", "Late zonnewandeling", "Zonnepanelen avond", "Nachtelijk oogstfeest"],
        ),
        ("period=month", UPCOMING[:6]),
        ("period=", UPCOMING),
        # combinations
        ("domain=energie&period=today", ["Late zonnewandeling"]),
        ("collective=pluktuin&period=week", ["Koffieochtend", "Nachtelijk oogstfeest"]),
        ("domain=voedsel&q=oogst&period=week", ["Nachtelijk oogstfeest"]),
        ("domain=energie&collective=pluktuin", []),
        ("collective=zonnedak&q=pompoensoep", []),
    ],
)
def test_filters_find_exactly_the_matching_events(client, world, query, expected):
    response = client.get(f"/events?{query}&lang=en")

    assert response.status_code == 200
    assert titles(response) == expected
    html = response.get_data(as_text=True)
    found = len(expected)
    assert f"{found} event{'s' if found != 1 else ''} found" in html
    for title in NEVER:
        assert title not in html


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("domain=onbekend", "There is no domain called “onbekend”."),
        ("collective=onbekend", "There is no collective called “onbekend”."),
        ("period=xyz", "Choose a period from the list"),
        ("q=" + "zonne" * 2000, None),
        ("q=zonne%00kaas", None),
        ("domain=ener%00gie&collective=%00", None),
        ("domain=energie&period=xyz", "Choose a period from the list"),
    ],
)
def test_bad_filters_give_an_explained_empty_list(client, world, query, reason):
    for headers in ({}, HTMX_LIST):
        response = client.get(f"/events?{query}&lang=en", headers=headers)

        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert titles(response) == []
        assert "0 events found" in html
        assert "No events match these filters." in html
        assert 'href="/events">Show all upcoming events' in html
        if reason:
            assert reason in html


def test_without_any_event_the_page_says_so(client, app):
    response = client.get("/events?lang=en")

    assert response.status_code == 200
    assert "No events are planned yet" in response.get_data(as_text=True)


def test_htmx_aimed_at_the_list_gets_only_the_list(client, world):
    response = client.get("/events?domain=energie&lang=en", headers=HTMX_LIST)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert "<form" not in html
    assert titles(response) == ["Late zonnewandeling", "Zonnepanelen avond"]
    # the count for screen readers replaces the text of the live region on the page
    assert re.search(
        r'<p id="event-list-status" hx-swap-oob="innerHTML"[^>]*>2 events found</p>', html
    )
    assert {"HX-Request", "HX-Target"} <= set(response.vary)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HX-Request": "true", "HX-Boosted": "true", "HX-Target": "main"},
        {"HX-Request": "true", "HX-History-Restore-Request": "true"},
    ],
    ids=["plain", "boosted", "history-restore"],
)
def test_other_requests_get_the_whole_page(client, world, headers):
    response = client.get("/events?domain=energie&lang=en", headers=headers)

    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<!doctype html>")
    assert '<div id="event-list">' in html
    assert titles(response) == ["Late zonnewandeling", "Zonnepanelen avond"]
    assert "HX-Request" in response.vary
    # the live region is empty until the list changes; the count is the list's heading
    assert re.search(r'<p id="event-list-status"[^>]*aria-live="polite"[^>]*></p>', html)
    assert "hx-swap-oob" not in html


def test_the_filter_form_works_without_javascript_and_keeps_the_choices(client, world):
    html = client.get("/events?domain=buurt&collective=pluktuin&q=oogst&period=week&lang=en")
    html = html.get_data(as_text=True)

    form = re.search(r'<form[^>]* method="get" action="/events".*?</form>', html, re.S).group(0)
    assert 'method="get" action="/events"' in form
    assert 'hx-get="/events"' in form and 'hx-target="#event-list"' in form
    assert 'hx-push-url="true"' in form
    assert 'hx-trigger="input changed delay:300ms, search"' in form
    assert re.search(r'<button type="submit"[^>]*>Show events</button>', form)
    assert 'name="q" value="oogst"' in form
    assert '<option value="buurt" selected>Neighbourhood</option>' in form
    assert '<option value="pluktuin" selected>Pluktuin West</option>' in form
    assert '<option value="week" selected>Next 7 days</option>' in form
    assert re.search(r'<label for="filter-q">', form)


def test_the_subscribe_link_carries_the_filters(client, world):
    html = client.get("/events?domain=energie&q=zon&period=&lang=en").get_data(as_text=True)

    link = re.search(r'<a href="([^"]+)">Subscribe in your calendar</a>', html).group(1)
    assert link == "webcal://localhost/events.ics?domain=energie&amp;q=zon"
    assert "<code>http://localhost/events.ics?domain=energie&amp;q=zon</code>" in html

    feed = client.get("/events.ics?domain=energie&q=zon")
    assert feed.status_code == 200
    assert b"Zonnepanelen avond" in feed.data and b"Oogstmaaltijd" not in feed.data


def card_of(html: str, title: str) -> str:
    return re.search(r"<li[^>]*>(?:(?!</li>).)*?" + title + r".*?</li>", html, re.S).group(0)


def test_cards_say_when_where_who_meal_and_seats(client, app):
    with app.app_context():
        zonnedak = make_collective("zonnedak", "Zonnedak Oost")
        full = make_event_at(
            "vol",
            "Volle avond",
            amsterdam_time(3, 19, 30),
            capacity=2,
            collective=zonnedak,
            venue="Het Dak",
        )
        make_registration(full, people=("Ada", "Bo"))
        open_event = make_event_at(
            "diner",
            "Buurtdiner",
            amsterdam_time(4, 17, 30),
            capacity=14,
            meals=[{"name": "Diner", "price_cents": 0}],
        )
        make_registration(open_event, people=("Ada", "Bo"))
        make_event_at("vrij", "Vrije inloop", amsterdam_time(5, 10, 0), capacity=None)
        weekday = amsterdam_time(3, 19, 30).strftime("%A")

    html = client.get("/events?lang=en").get_data(as_text=True)

    full_card = card_of(html, "Volle avond")
    assert f"{weekday} " in full_card and "19:30" in full_card
    assert "Het Dak" in full_card
    assert "Hosted by Zonnedak Oost" in full_card
    assert "Full: waiting list" in full_card
    assert "With a meal" not in full_card

    diner_card = card_of(html, "Buurtdiner")
    assert "12 seats left" in diner_card
    assert "With a meal" in diner_card
    assert "Hosted by" not in diner_card

    free_card = card_of(html, "Vrije inloop")
    assert "seats left" not in free_card and "Full" not in free_card


def test_the_home_page_uses_the_same_cards(client, app):
    with app.app_context():
        event = make_event_at("vol", "Volle avond", amsterdam_time(3, 19, 30), capacity=1)
        make_registration(event, people=("Ada",))

    html = client.get("/?lang=en").get_data(as_text=True)

    assert "Full: waiting list" in card_of(html, "Volle avond")


def add_busy_events(numbers: range) -> None:
    """Events by two collectives, each with two meals and three registrations of two people."""
    collectives = db.session.scalars(sa.select(Collective).order_by(Collective.id)).all()
    if not collectives:
        energie = make_domain("energie", "Energie", "Energy")
        collectives = [
            make_collective("zonnedak", "Zonnedak", domain=energie),
            make_collective("pluktuin", "Pluktuin", domain=energie),
        ]
    for number in numbers:
        event = make_event(
            slug=f"avond-{number}",
            title=f"Avond {number}",
            starts_in=timedelta(days=1 + number),
            capacity=40,
            collective=collectives[number % 2],
            ticket_price_cents=0,
            meals=[
                {"name": "Diner", "price_cents": 0},
                {"name": "Soep", "price_cents": 0, "capacity": None},
            ],
        )
        meals = [meal.id for meal in event.meal_options]
        for person in range(3):
            make_registration(
                event,
                people=[
                    PersonChoice(name=f"Gast {person}", meal_option_id=meals[person % 2]),
                    PersonChoice(name=f"Kind {person}"),
                ],
                email=f"gast{person}@example.org",
            )


URLS = [
    "/events",
    "/events?page=2",
    "/events?domain=energie&q=avond&period=month",
    "/events?domain=energie&q=avond&period=month&page=2",
    "/events/avond-1",
    "/events.ics",
    "/events.ics?collective=zonnedak&domain=energie",
]


def events_linked(response) -> set[str]:
    """The busy events a page links to (one card each)."""
    return set(re.findall(r'href="/events/(avond-[0-9]+)"', response.get_data(as_text=True)))


def count_each(client, count_queries) -> dict[str, int]:
    """The statements each page takes to build (not answered from memory)."""
    counts = {}
    for url in URLS:
        forget_pages(client.application)
        with count_queries as counted:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[url] = counted.count
    return counts


def test_queries_do_not_grow_with_events_registrations_and_meals(app, client, count_queries):
    with app.app_context():
        add_busy_events(range(2))
    client.get("/events")  # the first request of a session may set things up
    with_two = count_each(client, count_queries)

    with app.app_context():
        add_busy_events(range(2, 30))
        assert db.session.scalar(sa.select(sa.func.count(Event.id))) == 30
    with_thirty = count_each(client, count_queries)

    assert with_thirty == with_two
    assert len(events_linked(client.get("/events"))) == 24
    assert len(events_linked(client.get("/events?page=2"))) == 30
    # the next page alone, for htmx, needs no more than the whole page
    with count_queries as counted:
        more = client.get("/events?page=2", headers=HTMX_MORE)
    assert len(events_linked(more)) == 6
    assert counted.count <= with_thirty["/events?page=2"]


def test_a_draft_collective_is_never_named_as_host(client, app):
    with app.app_context():
        draft = make_collective("geheim", "Geheim Collectief", is_published=False)
        make_event(slug="open-avond", title="Open avond", collective_id=draft.id)
    for url in ("/events", "/", "/events/open-avond", "/events/open-avond.ics", "/events.ics"):
        assert "Geheim Collectief" not in client.get(url).get_data(as_text=True), url


def test_filtering_on_a_draft_collective_finds_nothing(client, app):
    with app.app_context():
        draft = make_collective("stil", "Stil Collectief", is_published=False)
        make_event(slug="stille-avond", title="Stille avond", collective_id=draft.id)
    for url in ("/events?collective=stil", "/events.ics?collective=stil"):
        page = client.get(url).get_data(as_text=True)
        assert "Stille avond" not in page and "Stil Collectief" not in page, url


# --- Pages of 24 and "Show more events" ----------------------------------------------------


@pytest.fixture
def thirty(app):
    """Thirty upcoming events by one collective, "Avond 01" first, and one by another."""
    with app.app_context():
        energie = make_domain("energie", "Energie", "Energy")
        zonnedak = make_collective("zonnedak", "Zonnedak", domain=energie)
        make_collective("pluktuin", "Pluktuin", domain=energie)
        for number in range(1, 31):
            make_event(
                slug=f"avond-{number:02}",
                title=f"Avond {number:02}",
                starts_in=timedelta(days=number),
                collective=zonnedak,
            )
        make_event("ander", "Ander feest", starts_in=timedelta(days=2))


AVONDEN = [f"Avond {number:02}" for number in range(1, 31)]
FILTERED = "/events?collective=zonnedak&q=avond&lang=en"


def more_link(html: str) -> str | None:
    """The href of "Show more events", the same for htmx; None when there is none."""
    match = re.search(
        r'<p id="more-events"[^>]*>\s*<a[^>]* '
        r'href="([^"]+)" hx-get="([^"]+)" hx-target="#event-cards" hx-swap="beforeend"[^>]*>'
        r"Show more events</a>",
        html,
    )
    if match is None:
        assert "Show more events" not in html
        return None
    assert match.group(1) == match.group(2)
    return match.group(1).replace("&amp;", "&")


def test_the_first_page_shows_24_events_and_counts_them_all(client, thirty):
    response = client.get(FILTERED)

    html = response.get_data(as_text=True)
    assert titles(response) == AVONDEN[:24]
    assert re.search(r"<h2[^>]*>30 events found</h2>", html)
    link = more_link(html)
    assert link is not None and link.startswith("/events?")
    assert dict(pair.split("=") for pair in link.split("?")[1].split("&")) == {
        "collective": "zonnedak",
        "q": "avond",
        "page": "2",
    }
    # the calendar feed never takes a page: calendars need every event
    assert "page=" not in re.search(r"<code>([^<]+)</code>", html).group(1)


def test_without_javascript_the_next_page_shows_all_30(client, thirty):
    first = client.get(FILTERED).get_data(as_text=True)
    response = client.get(more_link(first) + "&lang=en")

    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<!doctype html>")
    assert titles(response) == AVONDEN
    assert re.search(r"<h2[^>]*>30 events found</h2>", html)
    assert more_link(html) is None
    assert 'id="more-events"' in html


def test_with_htmx_the_next_page_adds_only_the_next_cards(client, thirty):
    response = client.get(FILTERED + "&page=2", headers=HTMX_MORE)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and "<form" not in html and "<ul" not in html
    assert titles(response) == AVONDEN[24:]
    # the link replaces itself: with nothing more to show, it is empty
    assert re.search(r'<p id="more-events"[^>]* hx-swap-oob="outerHTML">\s*</p>', html)
    assert re.search(
        r'<p id="event-list-status" hx-swap-oob="innerHTML"[^>]*>6 more events shown</p>', html
    )
    assert {"HX-Request", "HX-Target"} <= set(response.vary)


def test_with_htmx_a_middle_page_links_to_the_one_after(client, app):
    with app.app_context():
        for number in range(60):
            make_event(slug=f"dag-{number}", title=f"Dag {number}", starts_in=timedelta(days=1))

    response = client.get("/events?q=dag&page=2&lang=en", headers=HTMX_MORE)

    html = response.get_data(as_text=True)
    assert len(titles(response)) == 24
    assert 'hx-swap-oob="outerHTML"' in html
    assert more_link(html) == "/events?q=dag&page=3"
    assert "24 more events shown" in html
    page_three = client.get("/events?q=dag&page=3&lang=en")
    assert len(titles(page_three)) == 60
    assert more_link(page_three.get_data(as_text=True)) is None


def test_changing_the_filters_starts_again_at_the_first_page(client, thirty):
    response = client.get(FILTERED + "&page=2", headers=HTMX_LIST)

    html = response.get_data(as_text=True)
    assert titles(response) == AVONDEN
    assert re.search(
        r'<p id="event-list-status" hx-swap-oob="innerHTML"[^>]*>30 events found</p>', html
    )


@pytest.mark.parametrize(
    "page, shown",
    [
        ("abc", 24),
        ("0", 24),
        ("-1", 24),
        ("-0", 24),
        ("", 24),
        ("1.5", 24),
        ("%00", 24),
        ("\u0663", 24),
        (" 2 ", 30),
        ("99999999999999999999999999", 30),
        ("2&page=x", 30),
    ],
)
def test_bad_page_numbers_fall_back_to_the_first_page_or_are_capped(client, thirty, page, shown):
    response = client.get(f"/events?collective=zonnedak&page={page}&lang=en")

    assert response.status_code == 200
    assert len(titles(response)) == shown
    assert "30 events found" in response.get_data(as_text=True)
    more = client.get(f"/events?collective=zonnedak&page={page}&lang=en", headers=HTMX_MORE)
    assert more.status_code == 200


def test_the_feed_keeps_every_event_whatever_the_page(client, thirty):
    for url in ("/events.ics", "/events.ics?page=1"):
        feed = client.get(url).get_data(as_text=True)
        assert feed.count("BEGIN:VEVENT") == 31, url


def test_the_home_page_is_not_paged(client, thirty):
    html = client.get("/?lang=en").get_data(as_text=True)

    assert "Show more events" not in html
