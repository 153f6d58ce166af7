"""A guest registers two dinners, pays on the (fake) Stripe page, and comes back paid."""

import re

import pytest
from playwright.sync_api import expect

from cooperative.models import PaymentMode
from tests.factories import make_event


@pytest.fixture
def online_event(app):
    with app.app_context():
        make_event(
            capacity=10,
            payment_mode=PaymentMode.ONLINE,
            meals=[{"name": "Diner", "price_cents": 500, "diets": ["vegetarian", "vegan"]}],
        )
    return "/events/buurtdiner"


def test_a_guest_pays_two_dinners_online(
    page, app, live_server, online_event, fake_stripe, assert_accessible, monkeypatch
):
    # Stripe sends the person back to, and calls, this running site.
    monkeypatch.setitem(app.config, "BASE_URL", live_server)
    fake_stripe.webhook_url = f"{live_server}/payments/stripe/webhook"
    page.goto(f"{live_server}{online_event}?lang=en")
    page.get_by_label("Your name").fill("Ada de Vries")
    page.get_by_label("Your e-mail address").fill("ada@example.org")
    first = page.locator("#person-0")
    first.get_by_label("Name", exact=True).fill("Ada")
    first.get_by_label(re.compile("^Diner")).check()
    page.get_by_role("button", name="Add a person").click()
    second = page.locator("#person-1")
    second.get_by_label("Name", exact=True).fill("Bob")
    second.get_by_label(re.compile("^Diner")).check()
    second.get_by_label("Vegan").check()
    expect(page.locator("#registration-total")).to_contain_text("€10.00")
    expect(page.get_by_text("You pay online right after registering")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Register", exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(fake_stripe.url) + r"/pay/cs_"))
    expect(page.get_by_text("€10.00").first).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Pay").click()

    expect(page).to_have_url(re.compile(r"/r/\d+-[^?]+$"))
    expect(page.get_by_text("Paid. Thank you!")).to_be_visible()
    expect(page.get_by_text("Confirmed: you are coming.")).to_be_visible()
    expect(page.locator(".ticket-qr svg")).to_have_count(2)
    assert fake_stripe.wait_for_deliveries()
    assert [d.status for d in fake_stripe.deliveries] == [200]
    assert_accessible(page)
