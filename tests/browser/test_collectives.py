"""The directory of collectives in a real browser: filter on a domain, back, open a collective
and one of its events; axe-core on each page, in Dutch and English."""

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from cooperative.extensions import db
from cooperative.models import Collective, Domain
from cooperative.services import collectives as directory
from cooperative.services.demo import seed_demo


@pytest.fixture
def demo(app):
    """The demo data; returns the energy collectives and one of them with an upcoming event."""
    with app.app_context():
        seed_demo()
        db.session.commit()
        energie = db.session.scalar(sa.select(Domain).where(Domain.slug == "energie"))
        energy = directory.find_collectives(directory.CollectiveFilters(domain="energie"), 0, 100)
        upcoming = directory.next_events([c.id for c in energy])
        host = next(c for c in energy if c.id in upcoming)
        total = db.session.scalar(
            sa.select(sa.func.count(Collective.id)).where(Collective.is_published)
        )
        return {
            "energy": [c.name for c in energy],
            "host": host.name,
            "event": upcoming[host.id].title,
            "total": total,
            "domain": energie,
        }


def cards(page):
    return page.locator("#collective-list .collective-card h3")


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_filter_on_energy_go_back_open_a_collective_and_its_event(
    page, live_server, demo, assert_accessible, lang
):
    page.goto(f"{live_server}/collectives?lang={lang}")
    expect(cards(page)).to_have_count(demo["total"])
    assert_accessible(page)

    page.locator("label[for=domain-energie]").click()
    expect(page).to_have_url(re.compile(r"/collectives\?domain=energie"))
    expect(cards(page)).to_have_text(demo["energy"])
    # the number found is read out ("2 collectives found"; Dutch once translated)
    expect(page.locator("#collective-list-status")).to_have_text(
        re.compile(rf"^{len(demo['energy'])} collect")
    )
    assert_accessible(page)

    page.go_back()
    expect(page).to_have_url(re.compile(rf"/collectives\?lang={lang}$"))
    expect(cards(page)).to_have_count(demo["total"])
    expect(page.locator("#domain-all")).to_be_checked()

    page.go_forward()
    expect(cards(page)).to_have_text(demo["energy"])
    expect(page.locator("#domain-energie")).to_be_checked()

    page.get_by_role("link", name=demo["host"], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(demo["host"])
    assert_accessible(page)

    upcoming = page.locator("section[aria-labelledby=upcoming-heading]")
    upcoming.get_by_role("link", name=demo["event"]).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(demo["event"])


def test_the_filters_work_without_javascript(browser, live_server, demo):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/collectives?lang=en")
    page.locator("label[for=domain-energie]").click()
    page.get_by_role("button", name="Show collectives").click()
    expect(page).to_have_url(re.compile(r"domain=energie"))
    expect(cards(page)).to_have_text(demo["energy"])
    context.close()
