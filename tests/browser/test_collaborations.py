"""Following a collaboration with the city in a real browser, as a stranger: filter the
register on Green Deals (with htmx, and without JavaScript), open the Westergas Green
Deal, read its progress as a bar and in words; a contact records a new measurement (as
the back office would), and the stranger sees it on the page and in the Atom feed.
axe-core and the phone's width on each page, in Dutch and English."""

import re
from datetime import date

import feedparser
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from cooperative.extensions import db
from cooperative.models import Collaboration
from cooperative.services import demo_collaborations
from cooperative.services.demo import seed_demo
from tests.collaboration_factories import make_progress

WORDS = {
    "nl": ("Green Deal", "Toon samenwerkingen", "Van 100 % naar 70 %: nu 78 %"),
    "en": ("Green Deal", "Show collaborations", "From 100 % to 70 %: now 78 %"),
}


@pytest.fixture
def demo(app):
    with app.app_context():
        seed_demo()
        db.session.commit()


def cards(page):
    return page.locator("#collaboration-list .collaboration-card h3")


def record_progress(app, value: float) -> None:
    """The Green Deal's contact records a measurement of its waste target (the back
    office's form is another part; here the row is made as it would make it)."""
    with app.app_context():
        deal = db.session.scalar(
            sa.select(Collaboration).where(Collaboration.slug == demo_collaborations.GREEN_DEAL)
        )
        make_progress(deal.commitments[0], value, date.today(), note="Nieuwe meting")


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_stranger_follows_a_green_deal_on_its_page_and_in_the_feed(
    app, page, live_server, demo, assert_accessible, lang
):
    kind, _, progress = WORDS[lang]
    page.goto(f"{live_server}/collaborations?lang={lang}")
    expect(cards(page)).to_have_count(3)
    assert_accessible(page)

    page.locator("#filter-kind").select_option(label=kind)
    expect(page).to_have_url(re.compile(r"/collaborations\?.*kind=green_deal"))
    expect(cards(page)).to_have_count(1)
    expect(page.locator("#collaboration-list-status")).to_have_text(re.compile(r"^1 "))
    assert_accessible(page)

    cards(page).first.locator("a").click()
    expect(page).to_have_url(re.compile(rf"/collaborations/{demo_collaborations.GREEN_DEAL}$"))
    bar = page.locator("progress.commitment-progress").first
    expect(bar).to_have_attribute("value", "47")
    assert_accessible(page)

    record_progress(app, 78)
    page.reload()
    expect(page.locator(".progress-words").first).to_contain_text(progress)
    expect(bar).to_have_attribute("value", "73")
    expect(page.locator(".timeline li").first).to_contain_text("Nieuwe meting")

    feed_url = page.locator("a[type='application/atom+xml']").get_attribute("href")
    feed = feedparser.parse(page.request.get(f"{live_server}{feed_url}").body())
    assert "78 %" in feed.entries[0].title
    assert feed.entries[0].link.endswith(
        f"#{page.locator('.timeline li').first.get_attribute('id')}"
    )


def test_the_register_filters_without_javascript(browser, live_server, demo):
    context = browser.new_context(viewport={"width": 360, "height": 800}, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server}/collaborations?lang=en")
        page.locator("#filter-kind").select_option("cluster")
        page.get_by_role("button", name=WORDS["en"][1]).click()
        expect(page).to_have_url(re.compile(r"/collaborations\?.*kind=cluster"))
        expect(cards(page)).to_have_text(["Klimaatcluster Zuid-Kennemerland"])
        expect(page.locator("#filter-kind")).to_have_value("cluster")
    finally:
        context.close()
