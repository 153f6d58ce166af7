"""The member register in a browser: a member cancels from their account page and sees
the acknowledgement; an admin finds them in the register, prints it and exports it.
axe-core and the 360 px check on every page (`check_page`)."""

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from cooperative.extensions import db
from cooperative.services import membership as memberships
from cooperative.services import register
from tests.browser.conftest import log_in, log_out
from tests.factories import make_admin, make_plan, make_user


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_member_cancels_and_an_admin_exports_the_register(
    page, live_server, app, check_page, lang
):
    with app.app_context():
        user = make_user(locale=lang, name="Ada")
        memberships.join(
            user,
            make_plan(),
            address=register.Address(
                "Ada Lovelace", "Javastraat", "12-2", "1094 HB", "Amsterdam", "NL"
            ),
        )
        make_admin()
        db.session.commit()
        ends = register.notice_end_date(register.today())

    log_in(page, live_server, "resident@example.org", f"/account/?lang={lang}")
    expect(page.locator("#register-title")).to_be_visible()
    check_page(page)
    page.locator("a[href='/account/membership/cancel']").click()
    check_page(page)
    page.locator("main form button[type=submit]").click()  # not confirmed yet
    expect(page.locator("#confirm-error")).to_be_visible()
    check_page(page)
    page.locator("#confirm").check()
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{live_server}/account/#register-title")
    expect(page.locator("#messages")).to_contain_text(str(ends.year))
    expect(page.locator("#membership-ends")).not_to_be_empty()
    expect(page.locator("a[href='/account/membership/cancel']")).to_have_count(0)
    check_page(page)
    log_out(page)

    log_in(page, live_server, "admin@example.org", f"/admin/register?lang={lang}")
    expect(page.locator("main table")).to_contain_text("Ada Lovelace")
    check_page(page)
    page.locator("main table a").first.click()
    expect(page.locator("main dl.facts")).to_contain_text("1094 HB")
    check_page(page)
    page.goto(f"{live_server}/admin/register/print")
    expect(page.locator("main table")).to_contain_text("Ada Lovelace")
    check_page(page)
    page.goto(f"{live_server}/admin/register/letters")
    expect(page.locator(".address-label")).to_contain_text("AMSTERDAM")
    check_page(page)
    page.goto(f"{live_server}/admin/register")
    with page.expect_download() as download:
        page.locator("a[href='/admin/register.csv']").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";" if lang == "nl" else ","))
    assert rows[1][:5] == ["1", "Ada Lovelace", "Javastraat", "12-2", "1094 HB"]
    assert "resident@example.org" not in text
