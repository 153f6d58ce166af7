"""A visitor's first steps, in a real browser, checked with axe-core in both languages."""

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from cooperative.extensions import db
from cooperative.models import User
from cooperative.services.demo import seed_demo
from tests.browser.conftest import open_menu
from tests.factories import make_user


@pytest.fixture
def demo(app):
    with app.app_context():
        seed_demo()
        db.session.commit()


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_home_page(page, live_server, demo, assert_accessible, lang):
    page.goto(f"{live_server}/?lang={lang}")

    heading = "Coming up" if lang == "en" else "Binnenkort"
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Lancering"))).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    assert_accessible(page)


def test_the_language_switch_keeps_the_page(page, live_server, demo):
    page.goto(f"{live_server}/collectives?domain=energie")
    page.get_by_role("link", name="English").click()

    expect(page).to_have_url(re.compile(r"/collectives\?domain=energie&lang=en$"))
    expect(page.get_by_role("heading", name="Collectives", exact=True)).to_be_visible()
    open_menu(page)
    page.get_by_role("link", name="Events", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_skip_link_is_the_first_stop_for_the_keyboard(page, live_server):
    page.goto(f"{live_server}/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Naar de inhoud")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#main$"))


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_log_in_wrong_then_right(page, live_server, app, assert_accessible, lang):
    with app.app_context():
        make_user(email="maria@example.org", password="mijn geheime zin", name="Maria")
    english = lang == "en"
    page.goto(f"{live_server}/auth/login?lang={lang}")
    assert_accessible(page)

    page.get_by_label("E-mail address" if english else "E-mailadres").fill("maria@example.org")
    page.get_by_label("Password" if english else "Wachtwoord", exact=True).fill("niet goed")
    page.get_by_role("button", name="Log in" if english else "Inloggen").click()

    error = page.locator("#password-error")
    expect(error).to_be_visible()
    expect(page.get_by_label("E-mail address" if english else "E-mailadres")).to_have_value(
        "maria@example.org"
    )
    assert_accessible(page)

    page.get_by_label("Password" if english else "Wachtwoord", exact=True).fill("mijn geheime zin")
    page.get_by_role("button", name="Log in" if english else "Inloggen").click()
    expect(page).to_have_url(re.compile("/account/$"))
    expect(page.get_by_text("maria@example.org")).to_be_visible()
    assert_accessible(page)

    open_menu(page)
    page.get_by_role("button", name="Log out" if english else "Uitloggen").click()
    open_menu(page)
    expect(page.get_by_role("link", name="Log in" if english else "Inloggen")).to_be_visible()


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_sign_up(page, live_server, app, assert_accessible, lang):
    english = lang == "en"
    page.goto(f"{live_server}/auth/signup?lang={lang}")
    assert_accessible(page)

    page.get_by_label("Your name" if english else "Je naam").fill("Kees Jansen")
    page.get_by_label("E-mail address" if english else "E-mailadres").fill("kees@example")
    page.get_by_label("Password" if english else "Wachtwoord", exact=True).fill("kort")
    page.get_by_role(
        "button", name="Create my account" if english else "Maak mijn account aan"
    ).click()

    expect(page.locator(".error").first).to_be_visible()
    expect(page.get_by_label("Your name" if english else "Je naam")).to_have_value("Kees Jansen")
    assert_accessible(page)

    page.get_by_label("E-mail address" if english else "E-mailadres").fill("kees@example.org")
    page.get_by_label("Password" if english else "Wachtwoord", exact=True).fill("lang genoeg nu")
    page.get_by_label("Password again" if english else "Wachtwoord nog een keer").fill(
        "lang genoeg nu"
    )
    page.get_by_role(
        "button", name="Create my account" if english else "Maak mijn account aan"
    ).click()

    expect(page).to_have_url(re.compile("/auth/check-email$"))
    assert_accessible(page)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "kees@example.org"))
        assert user is not None and user.locale == lang


def test_the_menu_folds_away_on_a_phone_without_javascript(browser, live_server):
    """On a phone the menu opens with "Menu" (a <details>, no script); on a desktop its
    links stand in the header and "Menu" is not there."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server}/?lang=en")
        log_in = page.get_by_role("link", name="Log in")
        expect(log_in).to_be_hidden()
        page.get_by_text("Menu", exact=True).click()
        log_in.click()
        expect(page).to_have_url(re.compile("/auth/login$"))

        page.set_viewport_size({"width": 1280, "height": 800})
        expect(page.get_by_text("Menu", exact=True)).to_be_hidden()
        page.get_by_role("link", name="Events", exact=True).click()
        expect(page).to_have_url(re.compile("/events$"))
    finally:
        context.close()
