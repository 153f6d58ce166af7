"""Browser tests: the app served on 127.0.0.1, driven by the system's Chromium.

Without /usr/bin/chromium these tests are skipped with one line, unless
in CI (the CI variable is set), where a missing browser is an error.

Every page a test checks with `assert_accessible` is also measured on a phone (it must not
be wider than a 360 px or a 390 px screen) and photographed at 390 px (with
SCREENSHOT_WIDE=1 also at 1280 px, in Dutch) into SCREENSHOTS (test-artifacts/screenshots,
or $SCREENSHOT_DIR), for a reviewer to look through. TAKE_SCREENSHOTS=0 takes none: CI, where
nobody looks at them, saves a tenth of the browser tests' time.
"""

import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
SCREENSHOTS = Path(
    os.environ.get(
        "SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
    )
)
PHONE_WIDTHS = (360, 390)
# Every page is shot on a phone. On a wide screen only when asked (SCREENSHOT_WIDE=1), and
# only in Dutch, the site's first language: the layout is the same in English, and a wide
# full-page shot was a tenth of the browser tests' time. PNG, which every viewer shows.
SCREENSHOT_WIDTHS = {"nl": (390, 1280) if os.environ.get("SCREENSHOT_WIDE") else (390,)}
TAKE_SCREENSHOTS = os.environ.get("TAKE_SCREENSHOTS", "1") != "0"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(
            f"CI needs the browser tests, but there is no Chromium at {CHROMIUM}"
        )
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def live_server(app):
    """The app on a real HTTP server in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, axe):
    """A fresh browser tab (own cookies) with a phone-sized screen.

    axe-core is loaded into each page it opens before the page's own scripts run, so
    `check_page` need not send it over at each check. Fails the test if the page broke
    the Content-Security-Policy (an inline script or style, a script from elsewhere):
    Chromium reports those on the console.
    """
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.add_init_script(axe.axe_script)
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    assert violations == [], "the page broke its Content-Security-Policy"


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def run_axe(page, axe):
    """axe-core's violations on the page as it is now. A page of a context a test made
    itself has no axe-core loaded yet: it is loaded first."""
    from axe_playwright_python.base import AxeResults

    if page.evaluate("typeof axe === 'undefined'"):
        page.evaluate(axe.axe_script)
    return AxeResults(page.evaluate("axe.run({resultTypes: ['violations']})"))


# The elements that reach past the right edge of the screen, to say what made a page too wide.
TOO_WIDE_JS = """() => {
  const edge = window.innerWidth;
  const wide = [];
  for (const element of document.querySelectorAll('body *')) {
    const box = element.getBoundingClientRect();
    if (box.right > edge + 0.5 && box.width > 0 && element.checkVisibility()) {
      const name = (node) => node.tagName.toLowerCase() + (node.id ? '#' + node.id : '')
        + (node.classList.length ? '.' + [...node.classList].join('.') : '');
      const within = element.parentElement.closest('[id], [class]');
      const where = within ? name(within) + ' ' : '';
      wide.push(where + name(element) + ' ' + Math.round(box.right) + 'px');
    }
  }
  return wide.slice(0, 8);
}"""


def page_width(page, width: int) -> int:
    """The page's width (`scrollWidth`) in a screen `width` px wide."""
    page.set_viewport_size({"width": width, "height": page.viewport_size["height"]})
    return page.evaluate("document.documentElement.scrollWidth")


def screenshot_name(test: str, url: str, number: int, width: int) -> str:
    """`<test>-<number>-<page>-<width>.png`, safe as a file name."""
    path = re.sub(r"^https?://[^/]+", "", url).split("#")[0] or "/"
    page = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "home"
    test = re.sub(r"[^A-Za-z0-9]+", "_", test).strip("_")
    return f"{test}-{number:02d}-{page[:60]}-{width}.png"


@pytest.fixture
def check_page(axe, request):
    """`check_page(page)`: axe-core, the width on a phone, and screenshots of the page as it is.
    `check_page(page, width_only=True)`: only the width, for a page checked whole already in
    the other language (the same elements; only the words, and so the widths, differ).

    Fails the test at once on an axe violation. A page wider than a 360 px or 390 px screen
    is collected and fails the test at its end (listing every such page and what sticks
    out), so one run measures every page it visits. The screen size is put back after.
    """
    too_wide = []
    shots = []

    def check(page, width_only: bool = False):
        # A click on a link returns before the next page has loaded: measuring then would
        # measure a page without a body yet (axe-core fails on a null documentElement).
        page.wait_for_load_state()
        if not width_only:
            results = run_axe(page, axe)
            assert results.violations_count == 0, results.generate_report()
        viewport = dict(page.viewport_size)
        try:
            for width in PHONE_WIDTHS:
                scroll_width = page_width(page, width)
                if scroll_width > width:
                    culprits = ", ".join(page.evaluate(TOO_WIDE_JS))
                    too_wide.append(f"{page.url} is {scroll_width}px at {width}px: {culprits}")
            if width_only or not TAKE_SCREENSHOTS:
                return
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shots.append(page.url)
            for width in SCREENSHOT_WIDTHS.get(page.locator("html").get_attribute("lang"), (390,)):
                page_width(page, width)
                name = screenshot_name(request.node.name, page.url, len(shots), width)
                # caret="initial": hiding the caret would add an inline style, which the
                # page's Content-Security-Policy refuses (and the test would fail on it).
                page.screenshot(path=SCREENSHOTS / name, full_page=True, caret="initial")
        finally:
            page.set_viewport_size(viewport)

    yield check
    assert too_wide == [], "pages wider than the phone:\n" + "\n".join(too_wide)


@pytest.fixture
def assert_accessible(check_page):
    """Run axe-core on the page as it is now (failing on any violation), and check that it
    fits a phone, with screenshots: see `check_page`."""
    return check_page


def open_menu(page) -> None:
    """Open the site's menu where it is folded away behind "Menu" (a phone); on a wide
    screen, where it shows in the header, do nothing."""
    summary = page.locator(".site-nav .menu > summary")
    if summary.is_visible() and not page.locator(".site-nav .menu[open]").count():
        summary.click()


def log_in(page, live_server, email: str, next_path: str = "/account/", lang: str = "") -> None:
    """Log in on the login page as `email` (password: correct horse battery, as the test
    factories make them), then go on to `next_path`; `lang` also sets the language."""
    language = f"&lang={lang}" if lang else ""
    page.goto(f"{live_server}/auth/login?next={next_path}{language}")
    page.locator("#email").fill(email)
    page.locator("#password").fill("correct horse battery")
    page.locator("main button[type=submit]").click()


def log_out(page) -> None:
    """Log out through the site's menu (folded away on a phone)."""
    open_menu(page)
    page.locator("form[action='/auth/logout'] button").click()
