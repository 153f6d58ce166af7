"""A member gives a SEPA mandate for their dues (first with a mistake, then right), and an
admin runs the dues and makes the bank's file; a resident joins paying by direct debit;
axe-core and a 360 px phone on each page."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from cooperative.extensions import db
from cooperative.models import utcnow
from tests import sepa_fixtures
from tests.browser.conftest import log_in, log_out
from tests.factories import make_admin, make_plan, make_user
from tests.sepa_fixtures import debit_day, due_member, yearly_member
from tests.share_factories import make_member_share_class

creditor = sepa_fixtures.creditor


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_member_gives_a_mandate_and_an_admin_collects(
    page, live_server, app, creditor, check_page, lang
):
    with app.app_context():
        day = debit_day(utcnow())
        membership = due_member("ada@example.org", day, mandate=False)
        membership.user.locale = lang
        yearly_member("bob@example.org", membership.ends_at)
        make_admin()
        db.session.commit()

    log_in(page, live_server, "ada@example.org", f"/account/?lang={lang}")
    page.locator("main a[href='/account/mandate']").click()
    expect(page.locator("#mandate-text")).to_contain_text("NL57ZZZ999999999999")
    check_page(page)
    page.locator("#account_holder").fill("Ada Lovelace")
    page.locator("#iban").fill("NL02 ABNA 0123 4567 88")
    page.locator("main form button[type=submit]").click()  # a wrong digit, no consent
    expect(page.locator("#iban-error")).to_be_visible()
    expect(page.locator("#consent-error")).to_be_visible()
    expect(page.locator("#iban")).to_have_value("NL02 ABNA 0123 4567 88")
    check_page(page)
    page.locator("#iban").fill("NL02 ABNA 0123 4567 89")
    page.locator("#consent").check()
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#mandate-title")).to_be_visible()
    expect(page.locator("main dl.facts")).to_contain_text("NL02 •••• 6789")
    check_page(page)
    log_out(page)

    log_in(page, live_server, "admin@example.org", f"/admin/dues?lang={lang}")
    expect(page.locator("#debit_date")).to_have_value(day.isoformat())
    check_page(page)
    page.locator("form[action='/admin/dues'] button[type=submit]").click()
    expect(page.locator("main table")).to_contain_text("Ada")
    check_page(page)
    page.locator("form[action$='/file'] button").click()
    expect(page.locator("a[href$='/pain008.xml']")).to_be_visible()
    check_page(page)
    with page.expect_download() as download:
        page.locator("a[href$='/pain008.xml']").click()
    assert b"NL02ABNA0123456789" in Path(download.value.path()).read_bytes()


def test_a_resident_joins_paying_by_direct_debit(page, live_server, app, creditor, check_page):
    """The mandate is given on the join form (a wrong IBAN first: the typing stays), and
    what joining costs is announced on the account page."""
    with app.app_context():
        make_plan("lid", fee_cents=1000, period="yearly", name_en="Member")
        make_member_share_class()
        make_user("ada@example.org", name="Ada Lovelace", locale="en")

    log_in(page, live_server, "ada@example.org", "/join/lid", lang="en")
    page.locator("#display_name").fill("Ada")
    page.locator("#street").fill("Javastraat")
    page.locator("#house_number").fill("12-2")
    page.locator("#postcode").fill("1094hb")
    page.locator("#city").fill("Amsterdam")
    page.locator("#privacy").check()
    page.locator("input[name=pay_by][value=direct_debit]").check()
    expect(page.locator("#mandate-text")).to_contain_text("NL57ZZZ999999999999")
    page.locator("#account_holder").fill("Ada Lovelace")
    page.locator("#iban").fill("NL02 ABNA 0123 4567 88")
    page.locator("#consent").check()
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#iban-error")).to_be_visible()
    expect(page.locator("#iban")).to_have_value("NL02 ABNA 0123 4567 88")
    expect(page.locator("#street")).to_have_value("Javastraat")
    check_page(page)
    page.locator("#iban").fill("NL02 ABNA 0123 4567 89")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("What joining costs, €35.00, will be debited on")
    check_page(page)
