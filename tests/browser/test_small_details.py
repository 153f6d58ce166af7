"""An "Edit" link whose name reads "Bewerken: <event>", without a space before the colon
(a visually hidden ": <event>" after the word is read as "Bewerken : <event>")."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_manage_events import log_in
from tests.factories import make_collective, make_event, make_organiser


@pytest.fixture
def organiser_event(app):
    with app.app_context():
        collective = make_collective("zonnedak-oost", "Zonnedak Oost")
        make_organiser(collective, email="olga@example.org")
        make_event(collective=collective)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_edit_link_reads_without_a_space_before_the_colon(
    page, live_server, organiser_event, lang
):
    log_in(page, live_server, lang)
    page.goto(f"{live_server}/manage/events?lang={lang}")
    name = "Bewerken: Buurtdiner" if lang == "nl" else "Edit: Buurtdiner"
    expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    # Neither that link nor its neighbours ("Aanwezigheidslijst", "Openbare pagina").
    expect(page.get_by_role("link", name=re.compile(r"\s:"))).to_have_count(0)
