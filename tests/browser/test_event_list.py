"""Finding an event on /events in a real browser: with htmx, and with JavaScript turned off."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from cooperative.extensions import db
from tests.factories import make_collective, make_domain, make_event


@pytest.fixture
def events(app):
    with app.app_context():
        energie = make_domain("energie", "Energie", "Energy", position=1)
        voedsel = make_domain("voedsel", "Voedsel", "Food", position=2)
        zonnedak = make_collective("zonnedak", "Zonnedak Oost", domain=energie)
        pluktuin = make_collective("pluktuin", "Pluktuin West", domain=voedsel)
        make_event(
            "zonnepanelen",
            "Zonnepanelen avond",
            starts_in=timedelta(days=2),
            collective=zonnedak,
            meals=[{"name": "Soep"}],
        )
        make_event("oogstavond", "Oogstavond", starts_in=timedelta(days=4), collective=pluktuin)
        make_event("oogstfeest", "Oogstfeest", starts_in=timedelta(days=9), collective=pluktuin)
        make_event("winterfeest", "Winterfeest", starts_in=timedelta(days=40), capacity=None)
        db.session.commit()


def cards(page):
    return page.locator("#event-list .event-card h3")


def test_the_list_follows_the_filters_and_the_back_button(page, live_server, events):
    page.goto(f"{live_server}/events?lang=en")
    expect(cards(page)).to_have_text(
        ["Zonnepanelen avond", "Oogstavond", "Oogstfeest", "Winterfeest"]
    )

    page.get_by_label("Search").press_sequentially("avond", delay=30)
    expect(cards(page)).to_have_text(["Zonnepanelen avond", "Oogstavond"])
    expect(page).to_have_url(re.compile(r"/events\?q=avond(&|$)"))
    expect(page.get_by_role("heading", name="2 events found")).to_be_visible()
    expect(page.locator("#event-list-status")).to_have_text("2 events found")
    # the list was swapped, not the page: the search box still has the focus
    expect(page.get_by_label("Search")).to_be_focused()

    page.get_by_label("Domain").select_option(label="Energy")
    expect(cards(page)).to_have_text(["Zonnepanelen avond"])
    expect(page).to_have_url(re.compile(r"q=avond&domain=energie"))
    expect(page.locator("#event-list-status")).to_have_text("1 event found")

    page.go_back()
    expect(page).to_have_url(re.compile(r"/events\?q=avond&domain=&"))
    expect(cards(page)).to_have_text(["Zonnepanelen avond", "Oogstavond"])
    expect(page.get_by_label("Search")).to_have_value("avond")
    expect(page.get_by_label("Domain")).to_have_value("")

    page.go_back()
    expect(page).to_have_url(re.compile(r"/events\?lang=en$"))
    expect(cards(page)).to_have_count(4)
    expect(page.get_by_label("Search")).to_have_value("")

    page.go_forward()
    expect(cards(page)).to_have_text(["Zonnepanelen avond", "Oogstavond"])


def test_choosing_a_collective_and_a_period(page, live_server, events):
    page.goto(f"{live_server}/events?lang=en")

    page.get_by_label("Collective").select_option(label="Pluktuin West")
    expect(cards(page)).to_have_text(["Oogstavond", "Oogstfeest"])
    page.get_by_label("When").select_option(label="Next 7 days")
    expect(cards(page)).to_have_text(["Oogstavond"])
    expect(page).to_have_url(re.compile(r"collective=pluktuin&period=week"))

    subscribe = page.get_by_role("link", name="Subscribe in your calendar")
    expect(subscribe).to_have_attribute(
        "href", re.compile(r"^webcal://.*/events\.ics\?collective=pluktuin&period=week$")
    )


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_event_list_is_accessible(page, live_server, events, assert_accessible, lang):
    page.goto(f"{live_server}/events?lang={lang}")
    assert_accessible(page)

    page.locator("#filter-q").fill("niets te vinden")
    expect(cards(page)).to_have_count(0)
    expect(page.locator(".no-events")).to_be_visible()
    assert_accessible(page)


def test_the_filters_work_without_javascript(browser, live_server, events):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server}/events?lang=en")
        page.get_by_label("Search").fill("oogst")
        page.get_by_label("Domain").select_option(label="Food")
        # nothing happens until the form is sent
        expect(cards(page)).to_have_count(4)

        page.get_by_role("button", name="Show events").click()
        expect(page).to_have_url(re.compile(r"/events\?q=oogst&domain=voedsel&collective=&period="))
        expect(cards(page)).to_have_text(["Oogstavond", "Oogstfeest"])
        expect(page.get_by_label("Search")).to_have_value("oogst")
        expect(page.get_by_label("Domain")).to_have_value("voedsel")

        page.get_by_label("Domain").select_option(label="Energy")
        page.get_by_role("button", name="Show events").click()
        expect(page.get_by_text("No events match these filters.")).to_be_visible()
        page.get_by_role("link", name="Show all upcoming events").click()
        expect(cards(page)).to_have_count(4)
    finally:
        context.close()


@pytest.fixture
def many_events(app):
    with app.app_context():
        for number in range(1, 31):
            make_event(f"avond-{number:02}", f"Avond {number:02}", starts_in=timedelta(days=number))
        db.session.commit()


def test_show_more_events_adds_the_next_cards(page, live_server, many_events, assert_accessible):
    page.goto(f"{live_server}/events?q=avond&lang=en")
    expect(cards(page)).to_have_count(24)
    expect(page.get_by_role("heading", name="30 events found")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Show more events").click()
    expect(cards(page)).to_have_count(30)
    expect(cards(page).nth(24)).to_have_text("Avond 25")
    expect(page).to_have_url(re.compile(r"/events\?q=avond&page=2$"))
    expect(page.locator("#event-list-status")).to_have_text("6 more events shown")
    expect(page.get_by_role("link", name="Show more events")).to_have_count(0)
    # the search box and the count were left alone: only cards were added
    expect(page.get_by_label("Search")).to_have_value("avond")
    expect(page.get_by_role("heading", name="30 events found")).to_be_visible()
    assert_accessible(page)


def test_show_more_events_works_without_javascript(browser, live_server, many_events):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server}/events?q=avond&lang=en")
        expect(cards(page)).to_have_count(24)
        page.get_by_role("link", name="Show more events").click()
        expect(page).to_have_url(re.compile(r"/events\?q=avond&page=2$"))
        expect(cards(page)).to_have_count(30)
        expect(page.get_by_label("Search")).to_have_value("avond")
    finally:
        context.close()
