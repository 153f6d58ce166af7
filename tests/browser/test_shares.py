"""A member buys an extra share from their account, an admin records the bank transfer,
and the member downloads the certificate; axe-core and a phone's width on every page."""

import io
from pathlib import Path

import pypdf
from playwright.sync_api import expect

from tests.browser.conftest import log_in, log_out
from tests.factories import make_admin, make_member
from tests.share_factories import make_member_share_class, make_share_class


def test_a_member_buys_an_extra_share_and_downloads_the_certificate(
    page, live_server, app, check_page
):
    with app.app_context():
        make_member_share_class()
        make_share_class("extra-aandeel", 10000, max_per_member=20, name_en="Extra share")
        make_member("ada@example.org", name="Ada Lovelace")
        make_admin()

    log_in(page, live_server, "ada@example.org", "/account/", lang="en")
    page.locator("a[href='/account/shares/']").click()
    expect(page.locator("h1")).to_have_text("My shares")
    check_page(page)
    page.get_by_label("Extra share, €100.00").check()
    page.locator("#quantity").fill("25")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#quantity-error")).to_contain_text("at most 20")
    expect(page.locator("#quantity")).to_have_value("25")
    check_page(page)
    page.locator("#quantity").fill("2")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("MEENTCOOP-A")
    expect(page.locator("main table")).to_contain_text("not paid yet")
    check_page(page)
    log_out(page)

    log_in(page, live_server, "admin@example.org", "/admin/shares", lang="en")
    check_page(page)
    page.locator("form[action$='/payment'] button").click()
    expect(page.locator("#messages")).to_contain_text("The payment is recorded.")
    page.locator("main table a", has_text="1").first.click()
    expect(page.locator("main ol")).to_contain_text("paid")
    check_page(page)
    log_out(page)

    log_in(page, live_server, "ada@example.org", "/account/shares/", lang="en")
    with page.expect_download() as download:
        page.locator("a[href='/account/shares/certificate-en.pdf']").click()
    data = Path(download.value.path()).read_bytes()
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "Share certificate" in text and "Ada Lovelace" in text
    assert text.count("Extra share") == 2 and "€100.00" in text
    assert "not paid yet" not in text
