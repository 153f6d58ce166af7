"""Small details a visitor noticed: one order of diets on the meal card and in the form,
and an "Edit" link whose name reads "Bewerken: <event>" without a space before the colon."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_manage_events import log_in, organiser  # noqa: F401 - a fixture
from tests.factories import make_event


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_edit_link_reads_without_a_space_before_the_colon(
    page,
    live_server,
    app,
    organiser,
    lang,  # noqa: F811 - the fixture
):
    from cooperative.extensions import db
    from cooperative.models import Collective

    with app.app_context():
        host = db.session.query(Collective).filter_by(slug="zonnedak-oost").one()
        make_event(collective=host)
    log_in(page, live_server, lang)
    page.goto(f"{live_server}/manage/events?lang={lang}")
    name = "Bewerken: Buurtdiner" if lang == "nl" else "Edit: Buurtdiner"
    expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    # Neither that link nor its neighbours ("Aanwezigheidslijst", "Openbare pagina").
    expect(page.get_by_role("link", name=re.compile(r"\s:"))).to_have_count(0)
