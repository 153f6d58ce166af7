"""Issue 16 in a browser: the board convenes a general meeting (the meeting, an agenda of
three items of which one changes the statutes, a PDF, the convocation previewed and
sent), and a member reads the agenda and downloads the document. axe-core and a phone's
width on every page (`check_page`)."""

from datetime import timedelta
from pathlib import Path

from playwright.sync_api import expect

from cooperative.models import utcnow
from tests.browser.conftest import log_in, log_out
from tests.factories import AMSTERDAM, make_admin
from tests.meeting_fixtures import PDF, make_voter


def test_the_board_convenes_and_a_member_reads_the_agenda(
    page, live_server, app, check_page, monkeypatch
):
    monkeypatch.setitem(app.config, "BASE_URL", live_server)
    with app.app_context():
        make_admin()
        make_voter("mila@example.org", consent=True, name="Mila Mail")
        make_voter("piet@example.org", name="Piet Post")
    day = (utcnow() + timedelta(days=30)).astimezone(AMSTERDAM).date().isoformat()

    log_in(page, live_server, "admin@example.org", "/manage/meetings/", lang="en")
    check_page(page)
    page.get_by_role("link", name="New meeting").click()
    page.locator("#title").fill("ALV voorjaar")
    page.locator("#starts_at").fill(f"{day}T19:30")
    page.locator("#ends_at").fill(f"{day}T18:00")
    page.locator("#location").fill("Buurthuis De Meent")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#ends_at-error")).to_be_visible()
    expect(page.locator("#location")).to_have_value("Buurthuis De Meent")
    check_page(page)
    page.locator("#ends_at").fill(f"{day}T22:00")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("ALV voorjaar")

    for title, statutes in (("Opening", False), ("Jaarrekening", False), ("Statuten", True)):
        page.locator("#title_nl").fill(title)
        if statutes:
            page.locator("#changes_statutes").check()
        page.get_by_role("button", name="Add to the agenda").click()
        expect(page.locator(".agenda")).to_contain_text(title)
    page.get_by_role("button", name="Move up: Statuten").click()
    expect(page.locator(".agenda > li").nth(1)).to_contain_text("Statuten")
    statutes_item = page.locator(".agenda > li").nth(1)
    statutes_item.locator("input[type=file]").set_input_files(
        files=[{"name": "statuten.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    statutes_item.get_by_role("button", name="Add the document").click()
    expect(page.locator(".agenda")).to_contain_text("statuten.pdf")
    check_page(page)

    page.get_by_role("link", name="Write and send the convocation").click()
    page.locator("#text").fill("Hierbij roepen wij alle leden op.")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview")).to_contain_text("Hierbij roepen wij alle leden op.")
    expect(page.locator("#preview")).to_contain_text("Statuten")
    check_page(page)
    page.get_by_role("button", name="Send the convocation").click()
    expect(page.locator("main")).to_contain_text("1 by e-mail, 1 by letter")
    check_page(page)
    page.get_by_role("link", name="Letters to print").first.click()
    expect(page.locator("main")).to_contain_text("Piet Post")
    expect(page.locator("main")).not_to_contain_text("Mila Mail")
    check_page(page)
    page.goto(f"{live_server}/manage/meetings/")  # the printed page has no menu
    log_out(page)

    log_in(page, live_server, "mila@example.org", "/meetings/", lang="en")
    check_page(page)
    page.get_by_role("link", name="ALV voorjaar").click()
    agenda = page.locator(".agenda > li")
    expect(agenda).to_have_count(3)
    expect(agenda.nth(1)).to_contain_text("Proposal to change the statutes")
    expect(page.get_by_role("button", name="Register to attend")).to_be_visible()
    expect(page.get_by_role("heading", name="Proxy", exact=True)).to_be_visible()
    check_page(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="statuten.pdf").click()
    assert Path(download.value.path()).read_bytes() == PDF
