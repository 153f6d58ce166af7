"""A resident joins a plan that needs approval, an admin approves, the member edits the
profile in place and downloads their data; axe-core on every page, Dutch and English.

Fields and buttons are found by id and address, so the test holds before and after the
Dutch catalog has the new sentences."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from cooperative.extensions import db
from tests.browser.conftest import log_in, log_out
from tests.factories import make_admin, make_plan, make_user


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_join_approve_edit_and_download(page, live_server, app, assert_accessible, lang):
    with app.app_context():
        make_plan("collectief", needs_approval=True)
        make_user(locale=lang)
        make_admin()
        db.session.commit()

    page.goto(f"{live_server}/join?lang={lang}")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert_accessible(page)
    page.locator("main a[href='/join/collectief']").click()
    assert_accessible(page)

    log_in(page, live_server, "resident@example.org", "/join/collectief")
    expect(page.locator("#display_name")).to_be_visible()
    assert_accessible(page)
    page.locator("#display_name").fill("Ada")
    page.locator("#neighbourhood").fill("Oost")
    page.locator("main form button[type=submit]").click()  # without the privacy box
    expect(page.locator("#privacy-error")).to_be_visible()
    expect(page.locator("#display_name")).to_have_value("Ada")
    assert_accessible(page)
    page.locator("#privacy").check()
    page.locator("#street").fill("Javastraat")
    page.locator("#house_number").fill("12-2")
    page.locator("#postcode").fill("1094hb")
    page.locator("#city").fill("Amsterdam")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{live_server}/account/")
    assert_accessible(page)
    log_out(page)

    log_in(page, live_server, "admin@example.org", "/admin/members?status=pending_approval")
    assert_accessible(page)
    page.locator("main table a").first.click()
    assert_accessible(page)
    page.locator("button[value=approve]").click()
    expect(page.locator("main dl.facts").first).to_contain_text("1")
    log_out(page)

    log_in(page, live_server, "resident@example.org", "/account/")
    page.locator("#profile-neighbourhood a.edit-link").click()
    field = page.locator("#profile-neighbourhood input#neighbourhood")
    expect(field).to_be_focused()
    field.fill("West")
    page.locator("#profile-neighbourhood button[type=submit]").click()
    expect(page.locator("#profile-neighbourhood dd")).to_have_text("West")
    expect(page.locator("#messages")).not_to_be_empty()
    assert_accessible(page)

    with page.expect_download() as download:
        page.locator("a[href='/account/export']").first.click()
    data = json.loads(Path(download.value.path()).read_text())
    assert data["profile"]["neighbourhood"] == "West"
    assert data["memberships"][0]["number"] == 1
