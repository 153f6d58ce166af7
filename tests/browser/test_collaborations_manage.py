"""Issue 18 in a browser, the collaborations' back office: programme staff make a koppel
(in English, fields found by their labels; a bad end date first: its message by the field,
the typing kept), add a collective and a municipal department as parties, two
commitments (one measurable) and publish it; the collective's contact logs in (in Dutch),
records progress and sees the bar with its words. axe-core and a phone's width on every
page (`check_page`)."""

import re
from datetime import date

import sqlalchemy as sa
from playwright.sync_api import expect

from cooperative.extensions import db
from cooperative.models import Collaboration, ProgressUpdate
from tests.browser.conftest import log_in, log_out
from tests.collaboration_factories import make_organisation, organisation_of
from tests.factories import make_collective, make_organiser, make_user


def test_staff_make_a_koppel_and_a_contact_records_progress(page, live_server, app, check_page):
    with app.app_context():
        collective = make_collective("zonnedak-oost", "Zonnedak Oost")
        make_organiser(collective, email="ans@zonnedak.example", name="Ans Aalders")
        organisation_of(collective)
        city = make_organisation()
        make_organisation("duurzaamheid", "Duurzaamheid", kind="department", parent=city)
        make_user("pim@example.org", name="Pim", is_programme_staff=True, locale="en")
    log_in(page, live_server, "pim@example.org", next_path="/manage/collaborations/", lang="en")
    expect(page).to_have_url(re.compile("/manage/collaborations/$"))
    check_page(page)
    page.get_by_role("link", name="New collaboration").click()

    def field(label: str):
        return page.get_by_label(label, exact=True)

    field("Title").fill("Energy saving service, bought together")
    field("Kind").select_option(label="Koppel")
    field("Status").select_option(label="Running")
    field("Shared goal").fill("One purchase that serves several domains.")
    field("Start (optional)").fill("2026-01-01")
    field("End (optional)").fill("2025-12-31")
    page.get_by_role("button", name="Save the collaboration").click()
    expect(page.locator("#ends_on-error")).to_have_text("The end cannot be before the start.")
    expect(field("End (optional)")).to_have_attribute("aria-invalid", "true")
    expect(field("Title")).to_have_value("Energy saving service, bought together")
    expect(field("Shared goal")).to_have_value("One purchase that serves several domains.")
    check_page(page)
    field("End (optional)").fill("2027-12-31")
    page.get_by_role("button", name="Save the collaboration").click()
    expect(page).to_have_url(re.compile(r"/manage/collaborations/\d+$"))
    expect(page.locator(".flash-success")).to_be_visible()
    check_page(page)

    field("Organisation").select_option(label="Zonnedak Oost")
    field("Contact person’s e-mail address (optional)").fill("ans@zonnedak.example")
    field("Role (optional)").fill("Energy coaches")
    page.get_by_role("button", name="Add the party").click()
    expect(page.locator("#parties ~ ul")).to_contain_text("Contact: Ans Aalders")
    field("Organisation").select_option(label="Duurzaamheid, Gemeente Amsterdam")
    page.get_by_role("button", name="Add the party").click()
    expect(page.locator("#parties ~ ul")).to_contain_text("Duurzaamheid, Gemeente Amsterdam")

    field("Responsible party").select_option(label="Zonnedak Oost")
    field("Commitment").fill("120 homes get an energy coach")
    field("Starting value (optional)").fill("0")
    field("Target (optional)").fill("120")
    field("Unit (optional)").fill("homes")
    field("Due date (optional)").fill("2027-06-30")
    page.get_by_role("button", name="Add the commitment").click()
    expect(page.locator(".flash-success")).to_have_text("The commitment is added.")
    field("Responsible party").select_option(label="Duurzaamheid, Gemeente Amsterdam")
    field("Commitment").fill("One budget across the domains")
    page.get_by_role("button", name="Add the commitment").click()
    expect(page.locator(".commitments > li")).to_have_count(2)
    check_page(page)
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".flash-success")).to_have_text("The collaboration is public now.")
    with app.app_context():
        collaboration = db.session.scalar(sa.select(Collaboration))
        assert collaboration.is_published
        assert [c.title for c in collaboration.commitments] == [
            "120 homes get an energy coach",
            "One budget across the domains",
        ]
    log_out(page)

    # The collective's contact, in Dutch: only their own commitment takes progress.
    log_in(
        page, live_server, "ans@zonnedak.example", next_path="/manage/collaborations/", lang="nl"
    )
    page.get_by_role("link", name="Energy saving service, bought together").click()
    expect(page.get_by_text("Voortgang vastleggen")).to_have_count(1)
    expect(page.get_by_role("button", name="Publiceren")).to_have_count(0)
    check_page(page)
    page.get_by_text("Voortgang vastleggen").click()
    field("Waarde nu (niet verplicht)").fill("30")
    field("Wat is er gebeurd").fill("Dertig huizen in de eerste maand.")
    field("Datum").fill(date.today().isoformat())
    page.get_by_role("button", name="Voortgang opslaan").click()
    expect(page.locator(".flash-success")).to_have_text("De voortgang is vastgelegd.")
    commitment = page.locator(".commitments > li").first
    expect(commitment).to_contain_text("Nu 30 homes: 25% van de weg.")
    expect(commitment.locator("progress")).to_have_attribute("value", "25")
    expect(commitment).to_contain_text("Dertig huizen in de eerste maand.")
    check_page(page)
    with app.app_context():
        update = db.session.scalar(sa.select(ProgressUpdate))
        assert (update.value, update.on) == (30, date.today())
