"""The public register of collaborations: the list with its filters and pages, a
collaboration's page (parties, commitments with progress, timeline, events, costs,
JSON-LD), who sees a draft, and the Atom feeds of progress updates."""

import json
import re
from datetime import date

import feedparser
import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Collaboration
from tests import collaboration_register_fixtures
from tests.collaboration_factories import (
    make_collaboration,
    make_commitment,
    make_organisation,
    make_progress,
)
from tests.conftest import forget_pages

city = collaboration_register_fixtures.city
HTMX_LIST = {"HX-Request": "true", "HX-Target": "collaboration-list"}


def titles(response) -> list[str]:
    return re.findall(
        r'<h3 class="card-title"><a href="/collaborations/[^"]+">([^<]+)</a>',
        response.get_data(as_text=True),
    )


def login_as(client, email: str) -> None:
    from tests.conftest import post_form

    response = post_form(
        client, "/auth/login", {"email": email, "password": "correct horse battery"}
    )
    assert response.status_code in (302, 303)


# --- The list ------------------------------------------------------------------------------


def test_the_register_lists_published_collaborations_last_changed_first(client, city):
    response = client.get("/collaborations?lang=en")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert titles(response) == [
        "Inkoop energiebespaarservice",
        "Minder restafval op het Westergasterrein",
    ]
    assert "Klimaatcluster" not in page
    assert "2 collaborations found" in page
    assert "Afval en Grondstoffen, Gemeente Amsterdam, Zonnedak" in page
    assert 'href="/collaborations.atom"' in page


@pytest.mark.parametrize(
    "query, expected",
    [
        ("kind=koppel", ["Inkoop energiebespaarservice"]),
        ("kind=green_deal", ["Minder restafval op het Westergasterrein"]),
        ("kind=cluster", []),
        ("status=idea", ["Inkoop energiebespaarservice"]),
        ("status=running&kind=koppel", []),
        ("domain=circulair", ["Minder restafval op het Westergasterrein"]),
        ("organisation=zonnedak", ["Inkoop energiebespaarservice"]),
        ("organisation=gemeente-amsterdam", ["Minder restafval op het Westergasterrein"]),
        ("q=AFVAL", ["Minder restafval op het Westergasterrein"]),
        ("q=inkoop+domeinen", ["Inkoop energiebespaarservice"]),
        ("q=inkoop+westergas", []),
        ("q=klimaatcluster", []),  # a draft is not found by its title either
    ],
)
def test_each_filter_narrows_the_list(client, city, query, expected):
    assert titles(client.get(f"/collaborations?{query}")) == expected


def test_the_filters_offer_only_what_published_collaborations_use(client, city):
    page = client.get("/collaborations?lang=en").get_data(as_text=True)
    organisation = page.split('name="organisation"')[1].split("</select>")[0]
    assert re.findall(r'<option value="([^"]*)"', organisation) == [
        "",
        "afval-grondstoffen",
        "gemeente-amsterdam",
        "westergasfabriek",
        "zonnedak",
    ]
    domain = page.split('name="domain"')[1].split("</select>")[0]
    assert re.findall(r'<option value="([^"]*)"', domain) == ["", "circulair", "energie"]
    assert '<option value="koppel" selected>' not in page
    assert '<option value="koppel" selected>' in client.get("/collaborations?kind=koppel").get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    "query, reason",
    [
        ("kind=hackathon", "There is no kind of collaboration called “hackathon”."),
        ("status=paused", "There is no status called “paused”."),
        ("domain=ruimte", "No published collaboration works in a domain called “ruimte”."),
        (
            "organisation=nobody",
            "No organisation called “nobody” takes part in a published collaboration.",
        ),
    ],
)
def test_unknown_filters_give_an_explained_empty_list(client, city, query, reason):
    response = client.get(f"/collaborations?{query}&lang=en")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert titles(response) == []
    assert "No collaborations match these filters." in page
    assert reason in page


@pytest.mark.parametrize(
    "query",
    ["q=%00", "q=" + "x" * 500, "page=-1", "page=abc", "page=99999999999", "kind=%ff", "q=%25_"],
)
def test_bad_input_is_never_an_error(client, city, query):
    assert client.get(f"/collaborations?{query}").status_code == 200


def test_the_list_is_in_dutch_by_default(client, city):
    page = client.get("/collaborations").get_data(as_text=True)
    assert "Samenwerkingen met de stad" in page
    assert "2 samenwerkingen gevonden" in page


def test_htmx_gets_only_the_list(client, city):
    response = client.get("/collaborations?kind=koppel&lang=en", headers=HTMX_LIST)
    page = response.get_data(as_text=True)
    assert "<html" not in page and "<form" not in page
    assert titles(response) == ["Inkoop energiebespaarservice"]
    assert 'id="collaboration-list-status" hx-swap-oob="innerHTML"' in page
    assert {"HX-Request", "HX-Target"} <= set(response.vary)
    full = client.get("/collaborations?kind=koppel", headers={"HX-Request": "true"})
    assert "<html" in full.get_data(as_text=True)


def test_the_form_works_without_javascript(client, city):
    page = client.get("/collaborations").get_data(as_text=True)
    assert re.search(r'<form[^>]* method="get" action="/collaborations"', page)
    assert re.search(r'<button type="submit"[^>]*>', page)


def _add_published(app, count: int, start: int = 0) -> None:
    with app.app_context():
        city = make_organisation("stad", "Stad") if start == 0 else None
        for number in range(start, start + count):
            organisation = city or make_organisation(f"org-{number}", f"Organisatie {number}")
            make_collaboration(
                f"samen-{number:03d}",
                f"Samen {number:03d}",
                parties=[organisation],
                domains=[],
            )


def test_pages_of_twenty_keep_the_filters(app, client):
    _add_published(app, 25)
    first = client.get("/collaborations?kind=green_deal&lang=en")
    assert len(titles(first)) == 20
    page = first.get_data(as_text=True)
    assert "25 collaborations found" in page
    assert "/collaborations?kind=green_deal&amp;lang=en&amp;page=2" in page
    second = client.get("/collaborations?kind=green_deal&page=2&lang=en")
    assert len(titles(second)) == 5
    assert set(titles(first)).isdisjoint(titles(second))
    assert "Previous page" in second.get_data(as_text=True)
    assert "Next page" not in second.get_data(as_text=True)


def test_queries_do_not_grow_with_collaborations(app, client, count_queries):
    urls = ("/collaborations", "/collaborations.atom", "/api/v1/collaborations")

    def count_each() -> dict[str, int]:
        counts = {}
        for url in urls:
            forget_pages(app)
            with count_queries as counted:
                assert client.get(url).status_code == 200
            counts[url] = counted.count
        return counts

    _add_published(app, 2)
    with app.app_context():
        for collaboration in db.session.scalars(sa.select(Collaboration)):
            party = collaboration.parties[0]
            make_progress(make_commitment(party), 95, date(2026, 2, 1))
    few = count_each()
    _add_published(app, 12, start=2)
    with app.app_context():
        for collaboration in db.session.scalars(sa.select(Collaboration)):
            party = collaboration.parties[0]
            make_progress(make_commitment(party, title="Nog een"), 90, date(2026, 3, 1))
    assert count_each() == few


# --- One collaboration ---------------------------------------------------------------------


def test_a_collaborations_page_shows_parties_commitments_and_progress(client, city):
    response = client.get("/collaborations/afval-westergas?lang=en")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Minder restafval op het Westergasterrein</h1>" in page
    assert "Green Deal" in page and "Running" in page and "Circular economy" in page
    assert "From 1 January 2026 to 31 December 2027" in page
    assert '<a href="https://westergas.example" rel="noopener">Westergasfabriek</a>' in page
    assert "(Business)</span>: Terreinbeheerder" in page
    # The measurable target: a bar and the same in words (100 -> 70, now 82: 60 %).
    assert "From 100 % to 70 %: now 82 % (60 % of the way)." in page
    assert re.search(r'<progress [^>]*max="100" value="60"', page)
    # A commitment without a target shows its last note.
    assert "Last update 1 April 2026: Extra inzamelronde geregeld." in page
    # Contact people are never public.
    assert "Wendy" not in page and "contact@westergas.example" not in page
    assert "Arie" not in page


def test_the_timeline_has_every_update_newest_first(client, city):
    page = client.get("/collaborations/afval-westergas?lang=en").get_data(as_text=True)
    timeline = page.split('<ol class="timeline">')[1].split("</ol>")[0]
    assert re.findall(r'<time datetime="([0-9-]+)">', timeline) == [
        "2026-06-01",
        "2026-04-01",
        "2026-03-01",
    ]
    assert "Measured: 82 %" in timeline
    assert '<a href="https://w.example/r" rel="noopener nofollow">' in timeline


def test_numbers_are_written_in_the_readers_language(app, client, city):
    with app.app_context():
        deal = db.session.scalar(
            sa.select(Collaboration).where(Collaboration.slug == "afval-westergas")
        )
        make_progress(deal.commitments[0], 1250.5, date(2026, 7, 1))
    assert "1.250,5 %" in client.get("/collaborations/afval-westergas").get_data(as_text=True)
    assert "1,250.5 %" in client.get("/collaborations/afval-westergas?lang=en").get_data(
        as_text=True
    )


def test_linked_events_show_unless_they_are_drafts(client, city):
    page = client.get("/collaborations/afval-westergas?lang=en").get_data(as_text=True)
    assert 'href="/events/afval-sessie"' in page
    assert "Nog geheim overleg" not in page


def test_the_shared_costs_show_each_partys_share_paid_and_due(client, city):
    page = client.get("/collaborations/afval-westergas?lang=en").get_data(as_text=True)
    cost = page.split('id="cost-')[1]
    assert "€10,000.00 excluding VAT" in cost
    assert "split by containers" in cost
    assert "Paid €7,500.00, still due €2,500.00." in cost
    rows = re.findall(r"<tr>(.*?)</tr>", cost, re.S)[1:]
    cells = [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in rows]
    assert cells == [
        ["Westergasfabriek", "3", "€7,500.00", "€7,500.00", "€0.00"],
        ["Gemeente Amsterdam", "1", "€2,500.00", "€0.00", "€2,500.00"],
    ]
    assert "GD-1" not in page  # bank references are for the parties


def test_the_page_carries_json_ld_of_a_project(client, city):
    page = client.get("/collaborations/afval-westergas?lang=en").get_data(as_text=True)
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)
    data = json.loads(raw)
    assert data["@type"] == "Project"
    assert data["name"] == "Minder restafval op het Westergasterrein"
    assert data["url"] == "http://localhost/collaborations/afval-westergas"
    assert data["foundingDate"] == "2026-01-01"
    assert data["dissolutionDate"] == "2027-12-31"
    assert data["member"][0] == {
        "@type": "OrganizationRole",
        "roleName": "Terreinbeheerder",
        "member": {
            "@type": "Organization",
            "name": "Westergasfabriek",
            "url": "https://westergas.example",
        },
    }
    assert data["member"][1]["member"]["@type"] == "GovernmentOrganization"
    assert data["event"][0]["name"] == "Co-creatiesessie afval"


def test_a_koppel_names_the_collective_by_its_directory_page(client, city):
    page = client.get("/collaborations/energiebespaarservice?lang=en").get_data(as_text=True)
    assert '<a href="/collectives/zonnedak">Zonnedak</a>' in page
    assert "Afval en Grondstoffen, Gemeente Amsterdam" in page
    assert "No commitments yet." in page
    assert "Shared costs" not in page


def test_a_draft_is_hidden_from_the_public_and_strangers(app, city):
    client = app.test_client()
    assert client.get("/collaborations/cluster-concept").status_code == 404
    assert client.get("/collaborations/cluster-concept.atom").status_code == 404
    assert client.get("/collaborations/nothing-here").status_code == 404
    login_as(client, "stranger@example.org")
    assert client.get("/collaborations/cluster-concept").status_code == 404


@pytest.mark.parametrize("email", ["staff@meentcoop.example", "ambtenaar@amsterdam.example"])
def test_programme_staff_and_its_contacts_see_a_draft_with_a_note(app, city, email):
    client = app.test_client()
    login_as(client, email)
    response = client.get("/collaborations/cluster-concept?lang=en")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This collaboration is not published" in page
    assert "application/ld+json" not in page  # nothing for search engines
    # Still not listed.
    assert "Klimaatcluster" not in client.get("/collaborations").get_data(as_text=True)


def test_a_page_costs_the_same_queries_however_much_it_holds(app, client, city, count_queries):
    def cost() -> int:
        forget_pages(app)
        with count_queries as counted:
            assert client.get("/collaborations/afval-westergas").status_code == 200
        return counted.count

    few = cost()
    with app.app_context():
        deal = db.session.scalar(
            sa.select(Collaboration).where(Collaboration.slug == "afval-westergas")
        )
        for number in range(6):
            organisation = make_organisation(f"extra-{number}", f"Extra {number}")
            deal.parties.append(type(deal.parties[0])(organisation=organisation, role="Meedoen"))
            db.session.commit()
            commitment = make_commitment(deal.parties[-1], title=f"Belofte {number}")
            make_progress(commitment, 80, date(2026, 5, number + 1), note="Stap")
    assert cost() == few


# --- Feeds ---------------------------------------------------------------------------------


def parsed(response):
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert feed.version == "atom10" and not feed.bozo
    return feed


def entries(response) -> list:
    return parsed(response).entries


def test_the_feed_carries_progress_of_published_collaborations(app, client, city):
    with app.app_context():
        draft = db.session.scalar(
            sa.select(Collaboration).where(Collaboration.slug == "cluster-concept")
        )
        hidden = make_commitment(draft.parties[0], title="Geheime belofte")
        make_progress(hidden, 1, date(2026, 5, 1), note="Niet publiek")
    response = client.get("/collaborations.atom?lang=en")
    found = entries(response)
    assert len(found) == 3
    text = response.get_data(as_text=True)
    assert "Geheime belofte" not in text and "Niet publiek" not in text
    # Newest recorded first: the note on the support was recorded last.
    assert (
        found[0].title == "Minder restafval op het Westergasterrein: Ondersteuning bij inzameling"
    )
    [summer] = [entry for entry in found if "82" in entry.title]
    assert summer.title == (
        "Minder restafval op het Westergasterrein: Restafval −30% · 82 % (target 70 %)"
    )
    update_id = re.search(r"#(update-\d+)$", summer.id).group(1)
    assert summer.id == f"http://localhost/collaborations/afval-westergas#{update_id}"
    assert summer.link == f"http://localhost/collaborations/afval-westergas?lang=en#{update_id}"
    assert summer.summary.startswith("1 June 2026 · Westergasfabriek")
    assert "Zomer: minder restafval." in summer.summary
    assert summer.author == "Westergasfabriek"
    assert f'id="{update_id}"' in client.get("/collaborations/afval-westergas").get_data(
        as_text=True
    )


def test_the_feed_is_in_dutch_by_default(client, city):
    feed = parsed(client.get("/collaborations.atom"))
    assert feed.feed.title == "MeentCoop · Samenwerkingen met de stad"
    assert "(doel 70 %)" in feed.entries[1].title + feed.entries[2].title


def test_the_feed_takes_the_lists_filters(client, city):
    assert len(entries(client.get("/collaborations.atom?kind=green_deal"))) == 3
    assert entries(client.get("/collaborations.atom?kind=koppel")) == []
    assert entries(client.get("/collaborations.atom?kind=nonsense")) == []
    assert client.get("/collaborations.atom?q=%00").status_code == 200


def test_a_collaborations_own_feed(client, city):
    feed = parsed(client.get("/collaborations/afval-westergas.atom"))
    assert len(feed.entries) == 3
    assert feed.feed.title == "MeentCoop · Minder restafval op het Westergasterrein"
    assert entries(client.get("/collaborations/energiebespaarservice.atom")) == []
    page = client.get("/collaborations/afval-westergas").get_data(as_text=True)
    assert 'href="/collaborations/afval-westergas.atom"' in page


def test_the_menu_links_to_the_register(client, city):
    page = client.get("/?lang=en").get_data(as_text=True)
    assert '<a href="/collaborations">Collaborations</a>' in page
