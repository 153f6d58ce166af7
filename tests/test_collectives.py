"""The directory of collectives: filters and their combinations, chips with counts, the htmx
fragments, "more", a collective's page, its calendar feed, the home page, and query counts."""

import itertools
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from cooperative.extensions import db
from cooperative.models import Collective, Domain, Event, EventStatus
from cooperative.services.collectives import PAGE_SIZE
from tests.conftest import forget_pages
from tests.factories import make_collective, make_domain, make_event

HTMX_LIST = {"HX-Request": "true", "HX-Target": "collective-list"}
CARD_RE = re.compile(r'<li[^>]*>\s*<h3[^>]*><a href="/collectives/([^"]+)"')


def cards(response) -> list[str]:
    """The slugs of the collectives shown as cards, in order."""
    assert response.status_code == 200, response.status_code
    return CARD_RE.findall(response.get_data(as_text=True))


@pytest.fixture
def world(app):
    """Four domains, four published collectives and a draft, with events."""
    with app.app_context():
        energie = make_domain("energie", "Energie", "Energy", position=1)
        voedsel = make_domain("voedsel", "Voedsel", "Food", position=2)
        wonen = make_domain("wonen", "Wonen", "Housing", position=3)
        make_domain("zorg", "Zorg", "Care", position=4)
        zonnedak = make_collective(
            "zonnedak",
            "Zonnedak Oost",
            domain=energie,
            domains=[wonen],
            neighbourhood="Oost",
            summary="Zonnepanelen op de daken van de buurt",
            description="Wij leggen panelen op daken.",
            legal_form="Coöperatie U.A.",
            founded_year=2019,
            website="https://zonnedak.example",
        )
        windkracht = make_collective(
            "windkracht", "Windkracht West", domain=energie, neighbourhood="West"
        )
        pluktuin = make_collective(
            "pluktuin",
            "Pluktuin West",
            domain=voedsel,
            neighbourhood="West",
            summary="Samen groenten kweken",
        )
        make_collective("woongroep", "Woongroep Oost", domain=wonen, neighbourhood="Oost")
        geheim = make_collective(
            "geheim",
            "Geheim Zonnecollectief",
            domain=energie,
            neighbourhood="Noord",
            is_published=False,
        )
        make_event("zonnepanelen", "Zonnepanelen avond", collective=zonnedak)
        make_event(
            "zonnewandeling",
            "Zonnewandeling",
            starts_in=timedelta(days=20),
            collective=zonnedak,
        )
        make_event("oude-avond", "Oude avond", starts_in=timedelta(days=-30), collective=zonnedak)
        make_event(
            "concept",
            "Concept-avond",
            starts_in=timedelta(days=2),
            collective=zonnedak,
            status=EventStatus.DRAFT,
        )
        make_event("oogstfeest", "Oogstfeest", starts_in=timedelta(days=3), collective=pluktuin)
        make_event("windfeest", "Windfeest", starts_in=timedelta(days=-3), collective=windkracht)
        make_event("geheim-feest", "Geheim feest", collective=geheim)


def truth(domain: str = "", neighbourhood: str = "", q: str = "") -> list[str]:
    """What the directory must show, worked out in Python from every row in the database."""
    shown = []
    for collective in db.session.scalars(sa.select(Collective).order_by(Collective.name)):
        if not collective.is_published:
            continue
        slugs = {collective.primary_domain.slug} | {d.slug for d in collective.domains}
        if domain and domain not in slugs:
            continue
        if neighbourhood and collective.neighbourhood != neighbourhood:
            continue
        text = " ".join(
            (collective.name, collective.summary, collective.description, collective.neighbourhood)
        ).lower()
        if any(word.lower() not in text for word in q.split()):
            continue
        shown.append(collective.slug)
    return shown


DOMAINS = ["", "energie", "voedsel", "wonen", "zorg", "onbekend"]
NEIGHBOURHOODS = ["", "Oost", "West", "Noord"]
TEXTS = ["", "zon", "WEST", "panelen daken", "geheim"]


def test_every_combination_of_filters_shows_what_the_database_holds(app, client, world):
    with app.app_context():
        for domain, neighbourhood, q in itertools.product(DOMAINS, NEIGHBOURHOODS, TEXTS):
            response = client.get(
                "/collectives",
                query_string={"domain": domain, "neighbourhood": neighbourhood, "q": q},
            )
            assert cards(response) == truth(domain, neighbourhood, q), (domain, neighbourhood, q)


def test_each_filter_alone(client, world):
    assert cards(client.get("/collectives")) == ["pluktuin", "windkracht", "woongroep", "zonnedak"]
    # a second domain counts as much as the main one
    assert cards(client.get("/collectives?domain=wonen")) == ["woongroep", "zonnedak"]
    assert cards(client.get("/collectives?domain=energie")) == ["windkracht", "zonnedak"]
    assert cards(client.get("/collectives?neighbourhood=West")) == ["pluktuin", "windkracht"]
    assert cards(client.get("/collectives?q=groenten")) == ["pluktuin"]
    assert cards(client.get("/collectives?domain=energie&neighbourhood=West")) == ["windkracht"]


def test_the_draft_is_nowhere(client, world, auth, app):
    for url in ("/collectives", "/collectives?q=geheim", "/collectives?neighbourhood=Noord"):
        page = client.get(url).get_data(as_text=True)
        assert "Geheim" not in page, url
    assert "Noord" not in client.get("/collectives").get_data(as_text=True)
    assert client.get("/collectives/geheim").status_code == 404
    assert client.get("/collectives/geheim/events.ics").status_code == 404


def test_chips_count_the_collectives_of_each_domain_with_the_other_filters(client, world):
    page = client.get("/collectives").get_data(as_text=True)
    counts = dict(re.findall(r'id="count-([a-z]+)">\((\d+)\)', page))
    assert counts == {"energie": "2", "voedsel": "1", "wonen": "2", "zorg": "0"}

    page = client.get("/collectives?neighbourhood=Oost&domain=voedsel").get_data(as_text=True)
    counts = dict(re.findall(r'id="count-([a-z]+)">\((\d+)\)', page))
    # the counts say what choosing that domain would find in Oost
    assert counts == {"energie": "1", "voedsel": "0", "wonen": "2", "zorg": "0"}
    assert 'value="voedsel" checked' in page


def test_an_unknown_domain_or_neighbourhood_gives_an_explained_empty_list(client, world):
    response = client.get("/collectives?domain=ruimtevaart&lang=en")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert cards(response) == []
    assert "No collectives match these filters." in page
    assert "There is no domain called “ruimtevaart”." in page

    response = client.get("/collectives?neighbourhood=Atlantis&lang=en")
    assert response.status_code == 200
    assert "neighbourhood called “Atlantis”" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        "q=%00zon",
        "q=" + "zon" * 400,
        "domain=%27%3B--",
        "page=-1",
        "page=abc",
        "page=99999999999",
        "page=%C2%B2",
        "neighbourhood=%00",
        "q=100%25_",
    ],
)
def test_bad_input_is_never_an_error(client, world, query):
    response = client.get(f"/collectives?{query}")
    assert response.status_code == 200


def test_htmx_gets_only_the_list_and_the_new_counts(client, world):
    response = client.get("/collectives?domain=energie&lang=en", headers=HTMX_LIST)
    page = response.get_data(as_text=True)
    assert cards(response) == ["windkracht", "zonnedak"]
    assert "<html" not in page and "<form" not in page
    assert "2 collectives found" in page
    assert re.search(r'id="count-voedsel"[^>]* hx-swap-oob="true">\(1\)', page)
    assert {"HX-Request", "HX-Target"} <= set(response.vary)
    # a boosted or plain request gets the whole page
    full = client.get("/collectives?domain=energie", headers={"HX-Request": "true"})
    assert "<html" in full.get_data(as_text=True)


def test_the_form_works_without_javascript(client, world):
    page = client.get("/collectives").get_data(as_text=True)
    assert re.search(r'<form[^>]* method="get" action="/collectives"', page)
    assert 'hx-push-url="true"' in page and 'hx-history="false"' in page
    assert 'name="domain" value="energie"' in page
    assert '<option value="Oost">Oost</option>' in page
    assert re.search(r'<button type="submit"[^>]*>', page)


def test_cards_show_domains_neighbourhood_summary_and_next_event(client, world):
    page = client.get("/collectives?q=zonnedak&lang=en").get_data(as_text=True)
    card = page[page.index('<a href="/collectives/zonnedak">') :]
    card = card[: card.index("</li>")]
    assert re.search(r">Energy</span><span[^>]*>Housing</span>", card)
    assert "Oost" in card and "Zonnepanelen op de daken van de buurt" in card
    # the next published event; not the draft, not the later one
    assert 'href="/events/zonnepanelen">Zonnepanelen avond</a>' in card
    assert "Zonnewandeling" not in card and "Concept" not in card
    windkracht = client.get("/collectives?q=windkracht&lang=en").get_data(as_text=True)
    assert "No events planned right now." in windkracht  # its only event is over


def test_more_pages_without_and_with_javascript(app, client):
    with app.app_context():
        domain = make_domain()
        for number in range(PAGE_SIZE + 5):
            make_collective(f"c{number:02d}", f"Collectief {number:02d}", domain=domain)
    first = client.get("/collectives")
    assert len(cards(first)) == PAGE_SIZE
    assert 'href="/collectives?page=2"' in first.get_data(as_text=True)

    # without JavaScript: the link shows both pages
    both = client.get("/collectives?page=2")
    assert len(cards(both)) == PAGE_SIZE + 5
    assert "page=3" not in both.get_data(as_text=True)

    # with htmx: only the next cards, and the button replaced beside them
    more = client.get(
        "/collectives?page=2", headers={"HX-Request": "true", "HX-Target": "collective-cards"}
    )
    page = more.get_data(as_text=True)
    assert CARD_RE.findall(page) == [f"c{n:02d}" for n in range(PAGE_SIZE, PAGE_SIZE + 5)]
    assert re.search(r'<p id="more-collectives"[^>]* hx-swap-oob="outerHTML">', page)
    assert "<html" not in page


def test_a_filtered_list_keeps_its_filters_in_more(app, client):
    with app.app_context():
        energie = make_domain()
        voedsel = make_domain("voedsel", "Voedsel", "Food")
        for number in range(PAGE_SIZE + 1):
            make_collective(f"e{number:02d}", f"Energie {number:02d}", domain=energie)
            make_collective(f"v{number:02d}", f"Voedsel {number:02d}", domain=voedsel)
    page = client.get("/collectives?domain=voedsel").get_data(as_text=True)
    assert 'href="/collectives?domain=voedsel&amp;page=2"' in page
    assert cards(client.get("/collectives?domain=voedsel&page=2"))[-1] == f"v{PAGE_SIZE:02d}"


# --- A collective's page -----------------------------------------------------------------


def test_the_page_shows_facts_events_feed_and_structured_data(client, world):
    response = client.get("/collectives/zonnedak?lang=en")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for text in (
        "Zonnedak Oost",
        "Wij leggen panelen op daken.",
        "Coöperatie U.A.",
        "2019",
        'href="https://zonnedak.example"',
        'href="mailto:info@zonnedak.example"',
        ">Energy</a>",
        ">Housing</a>",
        'href="/events/zonnepanelen"',
        'href="/events/zonnewandeling"',
        'href="/events/oude-avond"',
        'href="/collectives/zonnedak/events.ics"',
    ):
        assert text in page, text
    assert "Concept-avond" not in page
    upcoming = page[page.index('id="upcoming-heading"') : page.index('id="past-heading"')]
    assert "Zonnepanelen avond" in upcoming and "Oude avond" not in upcoming
    assert "Edit this page" not in page

    data = json.loads(
        re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)
    )
    assert data["@type"] == "Organization"
    assert data["name"] == "Zonnedak Oost"
    assert data["url"] == "http://localhost/collectives/zonnedak"
    assert data["foundingDate"] == "2019"
    assert data["sameAs"] == ["https://zonnedak.example"]
    assert data["email"] == "info@zonnedak.example"
    assert [event["name"] for event in data["event"]] == ["Zonnepanelen avond", "Zonnewandeling"]


def test_an_unknown_collective_is_404(client, world):
    assert client.get("/collectives/niemand").status_code == 404
    assert client.get("/collectives/niemand/events.ics").status_code == 404


def test_the_calendar_feed_has_the_collectives_events(client, world):
    response = client.get("/collectives/zonnedak/events.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    titles = sorted(str(entry["summary"]) for entry in calendar.walk("VEVENT"))
    assert titles == ["Oude avond", "Zonnepanelen avond", "Zonnewandeling"]
    assert "Zonnedak Oost" in str(calendar["x-wr-calname"])


def test_admins_see_a_draft_with_a_note(app, client, auth, world):
    with app.app_context():
        from tests.factories import make_admin

        make_admin()
    auth.login("admin@example.org")
    response = client.get("/collectives/geheim?lang=en")
    assert response.status_code == 200
    assert "only admins see this page" in response.get_data(as_text=True)
    # still not in the public list, not even for an admin
    assert "Geheim" not in client.get("/collectives").get_data(as_text=True)


# --- The home page -------------------------------------------------------------------------


def test_the_home_page_counts_collectives_and_upcoming_events_per_domain(client, world):
    page = client.get("/?lang=en").get_data(as_text=True)
    section = page[page.index('id="domains-heading"') :]
    rows = re.findall(
        r'<a href="/collectives\?domain=([a-z]+)">[^<]+</a>\s*<span[^>]*>([^<]+)</span>',
        section,
    )
    assert rows == [
        # two events of Zonnedak; the secret collective's event does not count
        ("energie", "2 collectives · 2 upcoming events"),
        ("voedsel", "1 collective · 1 upcoming event"),
        ("wonen", "2 collectives · 2 upcoming events"),
        ("zorg", "0 collectives · 0 upcoming events"),
    ]


# --- Query counts ----------------------------------------------------------------------------


def add_collectives(app, numbers) -> None:
    """Collectives in two domains with a few events each, one past."""
    with app.app_context():
        energie = db.session.scalar(sa.select(Domain).where(Domain.slug == "energie"))
        for number in numbers:
            collective = make_collective(
                f"load-{number}",
                f"Belasting {number:03d}",
                domain=energie,
                neighbourhood=f"Wijk {number % 4}",
            )
            for offset in (2, 5, -5):
                make_event(
                    f"load-{number}-{offset}",
                    f"Avond {number} {offset}",
                    starts_in=timedelta(days=offset),
                    collective=collective,
                    meals=[{"name": "Soep"}],
                )


URLS = [
    "/",
    "/collectives",
    "/collectives?domain=energie",
    "/collectives?domain=energie&neighbourhood=Wijk+1&q=belasting",
    "/collectives?page=3",
    "/collectives/load-1",
    "/collectives/load-1/events.ics",
    "/api/v1/collectives",
    "/api/v1/collectives?domain=energie&q=belasting",
    "/api/v1/domains",
]


def test_queries_do_not_grow_with_collectives_and_events(app, client, count_queries):
    with app.app_context():
        make_domain()
        make_domain("wonen", "Wonen", "Housing")
    add_collectives(app, range(2))
    client.get("/")

    def count_each() -> dict[str, int]:
        counts = {}
        for url in URLS:
            forget_pages(app)  # what building the page costs, not answering from memory
            with count_queries as counted:
                response = client.get(url)
            assert response.status_code == 200, url
            counts[url] = counted.count
        return counts

    with_few = count_each()
    add_collectives(app, range(2, 70))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Event.id))) == 210
    with_many = count_each()
    assert with_many == with_few
    assert max(with_many.values()) <= 8, with_many
    assert len(cards(client.get("/collectives?page=3"))) == 70


def test_the_collective_page_says_its_summary_once(client, app):
    """The demo's collectives (and a hurried editor) give the same text as summary and
    description: the page shows it once."""
    from tests.factories import make_collective

    summary = "Samen koken en eten met groenten van boeren uit de regio."
    with app.app_context():
        make_collective("kookclub", "Kookclub", summary=summary, description=summary + "\n")
        make_collective("fietsclub", "Fietsclub", summary="Fietsen.", description="Elke zondag.")
    kookclub = client.get("/collectives/kookclub").get_data(as_text=True)
    # Once on the page itself (the structured data in the head holds its own copy).
    assert kookclub.split("<main", 1)[1].count(summary) == 1
    page = client.get("/collectives/fietsclub").get_data(as_text=True)
    assert "Fietsen." in page and "Elke zondag." in page
