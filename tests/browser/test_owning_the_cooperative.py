"""Issue 15 in one browser, end to end: a resident joins with one member share and pays
with iDEAL (the fake Stripe's page), the board approves, the member buys an extra share,
downloads the certificate, gives a SEPA mandate at Stripe and cancels the membership; an
admin records a former member's repayment and exports the register. axe-core and a
phone's width on every page (`check_page`)."""

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pypdf
import sqlalchemy as sa
from playwright.sync_api import expect

from cooperative.extensions import db
from cooperative.models import Membership, utcnow
from cooperative.services import register, shares
from tests import sepa_fixtures
from tests.browser.conftest import log_in, log_out
from tests.factories import make_admin, make_plan, make_user
from tests.share_factories import make_member_share_class, make_share_class, membership_of

creditor = sepa_fixtures.creditor


def pay_at_stripe(page, fake_stripe, button: str = "Pay") -> None:
    expect(page).to_have_url(re.compile(re.escape(fake_stripe.url) + r"/pay/cs_"))
    page.get_by_role("button", name=button).click()


def former_member_due_for_repayment() -> int:
    """Bob left last year: his paid member share is due for repayment. Its number."""
    bob = membership_of("bob@example.org", name="Bob de Vries")
    shares.buy(bob, shares.required_classes()[0], 1)
    [share] = shares.shares_of(bob)
    share.paid_at = utcnow() - timedelta(days=400)
    shares.mark_for_repayment(bob)
    share.repayment_due_on = (utcnow() - timedelta(days=1)).date()
    db.session.commit()
    return share.number


def test_a_resident_becomes_an_owner_and_leaves_again(
    page,
    live_server,
    app,
    fake_stripe,
    creditor,
    check_page,
    monkeypatch,
):
    monkeypatch.setitem(app.config, "BASE_URL", live_server)
    fake_stripe.webhook_url = f"{live_server}/payments/stripe/webhook"
    with app.app_context():
        make_plan("lid", fee_cents=1000, period="yearly", needs_approval=True, name_en="Member")
        make_member_share_class()
        make_share_class("extra-aandeel", 10000, max_per_member=20, name_en="Extra share")
        make_user("ada@example.org", name="Ada Lovelace")
        make_admin()
        bobs_share = former_member_due_for_repayment()

    # Joining shows the member share beside the plan, with the total, and pays both online.
    log_in(page, live_server, "ada@example.org", "/join/lid", lang="en")
    expect(page.locator("#join-shares-title")).to_be_visible()
    expect(page.locator(".join-shares")).to_contain_text("€35.00")
    check_page(page)
    page.locator("#display_name").fill("Ada")
    page.locator("#street").fill("Javastraat")
    page.locator("#house_number").fill("12-2")
    page.locator("#postcode").fill("1094hb")
    page.locator("#city").fill("Amsterdam")
    page.locator("#privacy").check()
    page.locator("input[name=pay_by][value=online]").check()
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_text("€35.00").first).to_be_visible()
    pay_at_stripe(page, fake_stripe)
    expect(page).to_have_url(re.compile(re.escape(live_server)))
    check_page(page)
    log_out(page)

    log_in(page, live_server, "admin@example.org", "/admin/members?status=pending_approval")
    page.locator("main table a", has_text="Ada").click()
    check_page(page)
    page.locator("button[value=approve]").click()
    expect(page.locator("#messages")).not_to_be_empty()
    log_out(page)

    # The member buys an extra share, pays it online, and downloads the certificate.
    log_in(page, live_server, "ada@example.org", "/account/shares/", lang="en")
    expect(page.locator("main table")).to_contain_text("Member share")
    page.get_by_label("Extra share, €100.00").check()
    page.locator("#quantity").fill("1")
    page.locator("input[name=pay_by][value=online]").check()
    page.locator("main form button[type=submit]").click()
    pay_at_stripe(page, fake_stripe)
    expect(page).to_have_url(re.compile(re.escape(live_server)))
    page.goto(f"{live_server}/account/shares/")
    expect(page.locator("main table")).to_contain_text("Extra share")
    expect(page.locator("main table")).not_to_contain_text("not paid yet")
    check_page(page)
    with page.expect_download() as download:
        page.locator("a[href='/account/shares/certificate-en.pdf']").click()
    pdf = pypdf.PdfReader(io.BytesIO(Path(download.value.path()).read_bytes()))
    certificate = "\n".join(p.extract_text() for p in pdf.pages)
    assert "Ada Lovelace" in certificate
    assert "Member share" in certificate and "Extra share" in certificate

    # A SEPA mandate given on Stripe's page.
    page.goto(f"{live_server}/account/mandate")
    expect(page.locator("#mandate-text")).to_be_visible()
    check_page(page)
    page.locator("form[action='/account/mandate/stripe'] button").click()
    pay_at_stripe(page, fake_stripe, button="Set up")
    expect(page).to_have_url(re.compile(re.escape(live_server) + "/account/mandate"))
    expect(page.locator("#mandate-title")).to_be_visible()
    check_page(page)

    # Cancelling in writing: the acknowledgement names the end date.
    page.goto(f"{live_server}/account/membership/cancel")
    page.locator("#confirm").check()
    page.locator("main form button[type=submit]").click()
    with app.app_context():
        ends = register.notice_end_date(register.today())
    expect(page.locator("#messages")).to_contain_text(str(ends.year))
    check_page(page)
    log_out(page)
    with app.app_context():
        ada = db.session.scalar(
            sa.select(Membership).where(Membership.registered_name == "Ada Lovelace")
        )
        assert ada.leaves_on is not None and ada.number is not None
        held = shares.shares_of(ada)
        assert len(held) == 2 and all(share.paid_at for share in held)
        assert all(share.repayment_due_on for share in held)  # repaid after the year's end

    # The admin repays Bob, who left last year, and exports the register.
    log_in(page, live_server, "admin@example.org", f"/admin/shares/{bobs_share}", lang="en")
    check_page(page)
    page.locator("form[action$='/repayment'] input[value=bank_transfer]").check()
    page.locator("form[action$='/repayment'] button[type=submit]").click()
    expect(page.locator("#messages")).to_contain_text("repay")
    check_page(page)
    page.goto(f"{live_server}/admin/register")
    with page.expect_download() as download:
        page.locator("a[href='/admin/register.csv']").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    names = [row[1] for row in csv.reader(io.StringIO(text))][1:]
    assert "Ada Lovelace" in names and "Bob de Vries" in names
