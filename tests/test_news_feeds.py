"""The news feeds /events.rss and /events.atom: what they hold (the public list's upcoming
published events, with its filters), in Dutch and English, linked from the pages, kept in
memory like the pages, in a fixed number of queries."""

import re
from calendar import timegm
from datetime import timedelta
from gzip import decompress as gunzip

import feedparser
import pytest
import sqlalchemy as sa
from babel.dates import format_date

from cooperative.extensions import db
from cooperative.models import Collective, Event, EventStatus
from tests.conftest import forget_pages
from tests.factories import (
    amsterdam_time,
    make_collective,
    make_domain,
    make_event,
    make_event_at,
)
from tests.meeting_fixtures import make_meeting

KINDS = ("rss", "atom")


@pytest.fixture
def events(app):
    """Two domains with a collective each, and events of every kind: upcoming published
    ones (hosted and not), a draft, a cancelled one, a past one, and one of a draft
    collective (listed as the list lists it: without its host). Returns some upcoming
    published ones' start times by title."""
    with app.app_context():
        energie = make_domain("energie", "Energie", "Energy")
        voedsel = make_domain("voedsel", "Voedsel", "Food")
        zonnedak = make_collective("zonnedak", "Zonnedak Oost", domain=energie)
        pluktuin = make_collective("pluktuin", "Pluktuin West", domain=voedsel)
        geheim = make_collective("geheim", "Geheim Collectief", domain=energie, is_published=False)
        make_event_at(
            "zonnepanelen",
            "Zonnepanelen avond",
            amsterdam_time(3, 19, 30),
            collective=zonnedak,
            summary="Alles over panelen op je dak",
        )
        make_event_at("oogstfeest", "Oogstfeest", amsterdam_time(10, 17, 0), collective=pluktuin)
        make_event_at("zomeravond", "Zomeravond", amsterdam_time(190, 20, 0))
        make_event("concept", "Geheim concept", status=EventStatus.DRAFT, collective=zonnedak)
        make_event("afgelast", "Afgelast", status=EventStatus.CANCELLED)
        make_event("oud", "Oud feest", starts_in=timedelta(days=-3))
        make_event("verborgen", "Verborgen avond", collective=geheim, starts_in=timedelta(days=50))
        return {
            "Zonnepanelen avond": amsterdam_time(3, 19, 30),
            "Oogstfeest": amsterdam_time(10, 17, 0),
            "Zomeravond": amsterdam_time(190, 20, 0),
        }


def parsed(client, url: str):
    """The feed at `url`, parsed by feedparser, which must find nothing wrong with it."""
    response = client.get(url)
    assert response.status_code == 200, url
    feed = feedparser.parse(response.data)
    assert not feed.bozo, (url, feed.get("bozo_exception"))
    return feed


def titles(feed) -> list[str]:
    return [entry.title for entry in feed.entries]


@pytest.mark.parametrize("kind", KINDS)
def test_a_feed_holds_the_upcoming_published_events_soonest_first(client, events, kind):
    response = client.get(f"/events.{kind}")
    feed = parsed(client, f"/events.{kind}")

    assert response.mimetype == f"application/{kind}+xml"
    assert feed.version == ("rss20" if kind == "rss" else "atom10")
    assert titles(feed) == ["Zonnepanelen avond", "Oogstfeest", "Verborgen avond", "Zomeravond"]
    assert feed.feed.title == "MeentCoop"
    assert feed.feed.language == "nl"
    assert feed.feed.link == "http://localhost/events"
    body = response.get_data(as_text=True)
    # Nor a draft collective's name: the list does not name it either.
    for hidden in ("Geheim concept", "Afgelast", "Oud feest", "Geheim Collectief"):
        assert hidden not in body, hidden


@pytest.mark.parametrize("kind", KINDS)
def test_each_entry_links_to_its_event_with_its_time_and_place(client, app, events, kind):
    feed = parsed(client, f"/events.{kind}")
    entry = feed.entries[0]

    assert entry.link == "http://localhost/events/zonnepanelen"
    assert entry.id == "http://localhost/events/zonnepanelen"
    assert client.get("/events/zonnepanelen").status_code == 200
    starts = events["Zonnepanelen avond"]
    day = format_date(starts.date(), "EEEE d MMMM y", locale="nl")
    assert f"{day}, 19:30 · Buurthuis, Voorbeeldstraat 1, Amsterdam" in entry.summary
    assert "Georganiseerd door Zonnedak Oost" in entry.summary
    assert "Alles over panelen op je dak" in entry.summary
    # The entry's date is when the event was put on the site.
    with app.app_context():
        created = db.session.scalar(sa.select(Event.created_at).where(Event.slug == "zonnepanelen"))
    assert timegm(entry.published_parsed) == int(created.timestamp())
    assert timegm(feed.entries[1].published_parsed) >= int(created.timestamp())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("query", "expected", "title"),
    [
        ("domain=energie", ["Zonnepanelen avond"], "MeentCoop · Energie"),
        ("domain=voedsel", ["Oogstfeest"], "MeentCoop · Voedsel"),
        ("collective=zonnedak", ["Zonnepanelen avond"], "MeentCoop · Zonnedak Oost"),
        ("collective=pluktuin", ["Oogstfeest"], "MeentCoop · Pluktuin West"),
        ("collective=geheim", [], "MeentCoop · geheim"),
        ("domain=onbekend", [], "MeentCoop · onbekend"),
        ("q=zomer", ["Zomeravond"], "MeentCoop · “zomer”"),
        ("period=week", ["Zonnepanelen avond"], "MeentCoop"),
    ],
)
def test_a_feed_takes_the_lists_filters(client, events, kind, query, expected, title):
    feed = parsed(client, f"/events.{kind}?{query}")

    assert titles(feed) == expected
    assert feed.feed.title == title


@pytest.mark.parametrize("kind", KINDS)
def test_a_feed_is_in_english_on_request_and_its_links_stay_in_it(client, events, kind):
    dutch = parsed(client, f"/events.{kind}?domain=energie")
    english = parsed(client, f"/events.{kind}?domain=energie&lang=en")

    assert (dutch.feed.language, english.feed.language) == ("nl", "en")
    assert english.feed.title == "MeentCoop · Energy"
    assert english.feed.subtitle == "Upcoming events at MeentCoop"
    assert dutch.feed.subtitle == "Komende activiteiten bij MeentCoop"
    entry = english.entries[0]
    assert "Hosted by Zonnedak Oost" in entry.summary
    day = format_date(events["Zonnepanelen avond"].date(), "EEEE d MMMM y", locale="en")
    assert f"{day}, 19:30" in entry.summary
    assert entry.link == "http://localhost/events/zonnepanelen?lang=en"
    # The same event keeps its id in both languages.
    assert entry.id == dutch.entries[0].id == "http://localhost/events/zonnepanelen"
    assert english.feed.link == "http://localhost/events?domain=energie&lang=en"


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_feed_is_still_a_valid_feed(client, app, kind):
    feed = parsed(client, f"/events.{kind}")

    assert feed.entries == []
    assert feed.feed.title == "MeentCoop"


def list_titles(client) -> set[str]:
    page = client.get("/events").get_data(as_text=True)
    return set(re.findall(r'<h3 class="card-title"><a href="[^"]+">([^<]+)</a>', page))


def test_the_general_meetings_event_is_in_a_feed_only_as_the_public_list_shows_it(
    client, app, events
):
    with app.app_context():
        meeting = make_meeting(days=20, items=(("Geheim agendapunt", False),))
        event_id = meeting.event_id
    # A draft meeting's event is in neither.
    for kind in KINDS:
        assert "Algemene ledenvergadering" not in titles(parsed(client, f"/events.{kind}"))
    assert "Algemene ledenvergadering" not in list_titles(client)

    with app.app_context():
        db.session.get(Event, event_id).status = EventStatus.PUBLISHED  # as convening does
        db.session.commit()
    listed = "Algemene ledenvergadering" in list_titles(client)
    for kind in KINDS:
        response = client.get(f"/events.{kind}")
        assert ("Algemene ledenvergadering" in titles(parsed(client, f"/events.{kind}"))) is listed
        # Never what only members see: the agenda.
        assert b"Geheim agendapunt" not in response.data


def feed_links(page: str) -> dict[str, str]:
    links = re.findall(r'<link rel="alternate" type="application/(rss|atom)\+xml"[^>]*>', page)
    hrefs = re.findall(
        r'<link rel="alternate" type="application/(?:rss|atom)\+xml"[^>]*href="([^"]+)"', page
    )
    return dict(zip(links, (href.replace("&amp;", "&") for href in hrefs), strict=True))


@pytest.mark.parametrize(
    ("page", "query"),
    [
        ("/", ""),
        ("/events", ""),
        ("/events?domain=energie&q=avond", "?domain=energie&q=avond"),
        ("/collectives/zonnedak", "?collective=zonnedak"),
    ],
)
def test_the_pages_link_their_feeds_for_feed_readers(client, events, page, query):
    html = client.get(page).get_data(as_text=True)

    links = feed_links(html)
    assert links == {"rss": f"/events.rss{query}", "atom": f"/events.atom{query}"}
    for href in links.values():
        parsed(client, href)
    # And a visible link for people, beside the calendar subscription.
    if page != "/":
        assert f'href="{links["rss"].replace("&", "&amp;")}" type="application/rss+xml"' in html


def test_a_feed_is_kept_in_memory_until_an_event_changes(client, app, events):
    gzip = {"Accept-Encoding": "gzip"}
    first = client.get("/events.rss", headers=gzip)
    assert first.headers["Content-Encoding"] == "gzip"
    etag = {"If-None-Match": first.headers["ETag"]}
    assert client.get("/events.rss", headers=gzip | etag).status_code == 304

    with app.app_context():
        make_event("nieuw", "Nieuwe avond", starts_in=timedelta(days=1))
    changed = client.get("/events.rss", headers=gzip | etag)
    assert changed.status_code == 200
    assert "Nieuwe avond" in titles(feedparser.parse(gunzip(changed.get_data())))


def add_hosted_events(app, numbers) -> None:
    with app.app_context():
        zonnedak = db.session.scalar(sa.select(Collective).where(Collective.slug == "zonnedak"))
        for number in numbers:
            make_event(f"avond-{number}", f"Avond {number}", collective=zonnedak)


def test_a_feed_takes_the_same_few_queries_for_any_number_of_events(
    client, app, events, count_queries
):
    urls = [f"/events.{kind}{query}" for kind in KINDS for query in ("", "?domain=energie")]

    def counts() -> dict[str, int]:
        found = {}
        for url in urls:
            forget_pages(app)
            with count_queries as counted:
                assert client.get(url).status_code == 200
            found[url] = counted.count
        return found

    client.get("/events.rss")
    few = counts()
    add_hosted_events(app, range(30))
    many = counts()

    assert many == few
    assert max(few.values()) <= 5
    assert len(parsed(client, "/events.atom?domain=energie").entries) == 31
