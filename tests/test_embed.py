"""The embeddable event lists (/embed/collectives/<slug>/events, /embed/domains/<slug>/events):
framable by any site while every other page is not, a page of their own without the site's
chrome, links that open the event here, Dutch and English, the snippet on the collective's
and the domain's pages, and a fixed number of queries."""

import re
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Collective, EventStatus
from cooperative.views.embed import EMBED_EVENTS
from tests.conftest import forget_pages
from tests.factories import (
    make_admin,
    make_collective,
    make_domain,
    make_event,
    make_organiser,
)

COLLECTIVE_EMBED = "/embed/collectives/zonnedak/events"
DOMAIN_EMBED = "/embed/domains/energie/events"


@pytest.fixture
def world(app):
    with app.app_context():
        energie = make_domain("energie", "Energie", "Energy")
        voedsel = make_domain("voedsel", "Voedsel", "Food")
        zonnedak = make_collective("zonnedak", "Zonnedak Oost", domain=energie)
        windpark = make_collective("windpark", "Windpark Noord", domain=energie)
        pluktuin = make_collective("pluktuin", "Pluktuin West", domain=voedsel)
        make_collective("geheim", "Geheim Collectief", domain=energie, is_published=False)
        make_event(
            "zonnepanelen",
            "Zonnepanelen avond",
            collective=zonnedak,
            starts_in=timedelta(days=3),
            summary="Alles over panelen",
        )
        make_event("windmolen", "Windmolen bezoek", collective=windpark)
        make_event("oogst", "Oogstfeest", collective=pluktuin)
        make_event("concept", "Geheim concept", collective=zonnedak, status=EventStatus.DRAFT)
        make_event("oud", "Oud feest", collective=zonnedak, starts_in=timedelta(days=-3))


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(d.strip().split(" ", 1) for d in policy.split(";"))


@pytest.mark.parametrize("url", [COLLECTIVE_EMBED, DOMAIN_EMBED, DOMAIN_EMBED + "?lang=en"])
def test_any_site_may_frame_an_embedded_list(client, world, url):
    response = client.get(url)

    assert response.status_code == 200
    assert directives(response)["frame-ancestors"] == "*"
    assert "X-Frame-Options" not in response.headers
    # The rest of the policy holds: scripts and styles only from this site.
    assert directives(response)["script-src"] == "'self'"
    assert directives(response)["style-src"] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/events",
        "/events/zonnepanelen",
        "/collectives/zonnedak",
        "/events.rss",
        "/events.atom",
        "/embed",
        "/embed/collectives/zonnedak",
    ],
)
def test_no_other_page_may_be_framed(client, world, url):
    response = client.get(url)

    assert directives(response)["frame-ancestors"] == "'none'", url
    assert response.headers["X-Frame-Options"] == "DENY", url


def test_the_embedded_list_has_no_chrome_and_its_links_open_the_event_here(client, world):
    response = client.get(COLLECTIVE_EMBED)
    page = response.get_data(as_text=True)

    assert "<script" not in page
    assert "site-header" not in page and "<nav" not in page and "<form" not in page
    assert "/static/css/embed.css" in page and "site.css" not in page
    assert "style=" not in page
    assert "<h1>Binnenkort: Zonnedak Oost</h1>" in page
    links = re.findall(r'<a href="([^"]+)" target="_blank" rel="noopener">([^<]+)</a>', page)
    assert links == [
        ("http://localhost/events/zonnepanelen", "Zonnepanelen avond"),
        ("http://localhost/collectives/zonnedak", "Bekijk op MeentCoop"),
    ]
    assert len(re.findall(r"<a ", page)) == len(links)
    for href, _title in links:
        assert client.get(href.removeprefix("http://localhost")).status_code == 200
    assert "Alles over panelen" in page
    for hidden in ("Geheim concept", "Oud feest", "Windmolen bezoek", "Oogstfeest"):
        assert hidden not in page


def test_a_domains_list_holds_its_published_collectives_events_with_their_hosts(client, world):
    page = client.get(DOMAIN_EMBED).get_data(as_text=True)

    assert "<h1>Binnenkort: Energie</h1>" in page
    assert "Zonnepanelen avond" in page and "Windmolen bezoek" in page
    assert "Georganiseerd door Zonnedak Oost" in page
    assert "Georganiseerd door Windpark Noord" in page
    assert "Oogstfeest" not in page and "Geheim" not in page
    assert 'href="http://localhost/events?domain=energie" target="_blank"' in page


def test_an_embedded_list_speaks_english_on_request_without_a_cookie(client, world):
    response = client.get(COLLECTIVE_EMBED + "?lang=en")
    page = response.get_data(as_text=True)

    assert '<html lang="en">' in page
    assert "<h1>Coming up: Zonnedak Oost</h1>" in page
    assert 'href="http://localhost/events/zonnepanelen?lang=en" target="_blank"' in page
    assert 'href="http://localhost/collectives/zonnedak?lang=en" target="_blank"' in page
    # Framed on another site, a cookie would be that site's visitors' third-party cookie.
    assert "Set-Cookie" not in response.headers
    assert "Set-Cookie" in client.get("/events?lang=en").headers
    english = client.get(DOMAIN_EMBED + "?lang=en").get_data(as_text=True)
    assert "<h1>Coming up: Energy</h1>" in english and "Hosted by Windpark Noord" in english


@pytest.mark.parametrize(
    "url",
    [
        "/embed/collectives/onbekend/events",
        "/embed/collectives/geheim/events",
        "/embed/domains/onbekend/events",
    ],
)
def test_an_unknown_or_unpublished_slug_is_not_found(client, world, url):
    assert client.get(url).status_code == 404


def test_a_draft_collective_is_not_embedded_even_for_an_admin(client, app, world, auth):
    with app.app_context():
        make_admin()
    auth.login("admin@example.org")

    assert client.get("/embed/collectives/geheim/events").status_code == 404
    page = client.get("/collectives/geheim").get_data(as_text=True)
    assert "<iframe" not in unescape(page)


def test_a_collective_without_events_says_so(client, app, world):
    with app.app_context():
        make_collective("stil", "Stil Collectief")
    page = client.get("/embed/collectives/stil/events").get_data(as_text=True)

    assert "Er zijn nu geen activiteiten gepland." in page


def test_a_long_list_shows_the_first_events_and_links_to_the_rest(client, app, world):
    with app.app_context():
        zonnedak = db.session.scalar(sa.select(Collective).where(Collective.slug == "zonnedak"))
        for number in range(EMBED_EVENTS + 2):
            make_event(f"avond-{number}", f"Avond {number}", collective=zonnedak)
    page = client.get(COLLECTIVE_EMBED).get_data(as_text=True)

    assert page.count('target="_blank" rel="noopener">Avond ') + 1 == EMBED_EVENTS
    assert ">Meer activiteiten op MeentCoop</a>" in page


def snippet(page: str) -> str:
    """The code in the snippet's textarea, as the visitor copies it."""
    match = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)
    assert match, "no snippet"
    return unescape(match.group(1))


def test_the_collectives_page_offers_the_snippet_to_everyone(client, app, world, auth):
    page = client.get("/collectives/zonnedak").get_data(as_text=True)

    code = snippet(page)
    assert code == (
        '<iframe src="http://localhost/embed/collectives/zonnedak/events?lang=nl"'
        ' title="Activiteiten van Zonnedak Oost" width="100%" height="450"'
        ' loading="lazy"></iframe>'
    )
    assert '<label for="embed-code">Code voor je website</label>' in page
    src = re.search(r'src="([^"]+)"', code).group(1)
    assert client.get(src.removeprefix("http://localhost")).status_code == 200
    english = client.get("/collectives/zonnedak?lang=en").get_data(as_text=True)
    assert "/embed/collectives/zonnedak/events?lang=en" in snippet(english)
    assert 'title="Events of Zonnedak Oost"' in snippet(english)
    # The collective's own people see the same.
    with app.app_context():
        make_organiser(
            db.session.scalar(sa.select(Collective).where(Collective.slug == "zonnedak"))
        )
    auth.login("organiser@example.org")
    assert snippet(client.get("/collectives/zonnedak?lang=nl").get_data(as_text=True)) == code


def test_a_quote_in_a_name_cannot_break_the_snippets_code(client, app, world):
    with app.app_context():
        make_collective("quote", 'De "Buurt" <Kas>')
    code = snippet(client.get("/collectives/quote").get_data(as_text=True))

    assert 'title="Activiteiten van De &#34;Buurt&#34; &lt;Kas&gt;"' in code


def test_the_list_of_one_domain_offers_that_domains_snippet(client, world):
    code = snippet(client.get("/events?domain=energie").get_data(as_text=True))

    assert 'src="http://localhost/embed/domains/energie/events?lang=nl"' in code
    assert 'title="Activiteiten in Energie"' in code
    assert "<textarea" not in client.get("/events").get_data(as_text=True)
    assert "<textarea" not in client.get("/events?domain=onbekend").get_data(as_text=True)
    # The htmx list follows the filter.
    fragment = client.get(
        "/events?domain=voedsel", headers={"HX-Request": "true", "HX-Target": "event-list"}
    ).get_data(as_text=True)
    assert "/embed/domains/voedsel/events" in snippet(fragment)


def test_an_embedded_list_takes_the_same_few_queries_for_any_number_of_events(
    client, app, world, count_queries
):
    def counts() -> dict[str, int]:
        found = {}
        for url in (COLLECTIVE_EMBED, DOMAIN_EMBED):
            forget_pages(app)
            with count_queries as counted:
                assert client.get(url).status_code == 200
            found[url] = counted.count
        return found

    client.get(COLLECTIVE_EMBED)
    few = counts()
    with app.app_context():
        zonnedak = db.session.scalar(sa.select(Collective).where(Collective.slug == "zonnedak"))
        windpark = db.session.scalar(sa.select(Collective).where(Collective.slug == "windpark"))
        for number in range(20):
            make_event(
                f"avond-{number}", f"Avond {number}", collective=(zonnedak, windpark)[number % 2]
            )
    many = counts()

    assert many == few
    assert max(few.values()) <= 4
