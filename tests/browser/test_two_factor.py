"""An admin who must use two-factor log-in is sent to set it up, scans the key into an
app (here pyotp), keeps the recovery codes, reads the audit log, and logs in again with a
code; on every page axe-core and the width on a phone (`check_page`), Dutch and English."""

import time

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, open_menu
from tests.factories import make_admin


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_an_admin_sets_up_two_factor_and_logs_in_with_a_code(
    page, live_server, app, assert_accessible, monkeypatch, lang
):
    monkeypatch.setitem(app.config, "REQUIRE_ADMIN_2FA", True)
    with app.app_context():
        make_admin(locale=lang)
    page.goto(f"{live_server}/?lang={lang}")
    log_in(page, live_server, "admin@example.org", "/admin/members")
    expect(page).to_have_url(f"{live_server}/account/two-factor")
    assert_accessible(page)
    page.locator("form[action='/account/two-factor/start'] button").click()
    expect(page.locator("main svg")).to_be_visible()  # the QR code
    assert_accessible(page)
    secret = page.locator("code.secret-key").inner_text()

    page.locator("#code").fill("000000")
    page.locator("form[action='/account/two-factor/confirm'] button").click()
    expect(page.locator("#code-error")).to_be_visible()
    assert_accessible(page)
    page.locator("#code").fill(pyotp.TOTP(secret).now())
    page.locator("form[action='/account/two-factor/confirm'] button").click()
    expect(page.locator("ul.recovery-codes li")).to_have_count(10)
    assert_accessible(page)

    page.goto(f"{live_server}/account/two-factor")
    expect(page.locator("#codes-proof")).to_be_visible()
    assert_accessible(page)

    page.goto(f"{live_server}/admin/audit/")
    expect(page.locator("main h1")).to_be_visible()
    assert_accessible(page)
    open_menu(page)
    page.locator("form[action='/auth/logout'] button").click()

    log_in(page, live_server, "admin@example.org", "/admin/members")
    expect(page).to_have_url(f"{live_server}/auth/two-factor")
    assert_accessible(page)
    page.locator("#code").fill(pyotp.TOTP(secret).at(time.time() + 30))  # the next code
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(f"{live_server}/admin/members")
