"""Issue 18 in a browser, the way into a koppel: an official of a municipal department
posts a question (in Dutch; a question without a domain first, its message by the field
and the typing kept), a collective's organiser finds it by domain and responds, programme
staff form a koppel of the two and go on in the back office of collaborations, and a
stranger reads the question with its status.
Then the rest of the way: staff give the koppel two commitments and a shared cost and
publish it, the collective's contact records progress, and the stranger follows it from
the question to its public page and its feed. axe-core and a phone's width on every page
(`check_page`)."""

import re
from datetime import date

import feedparser
import sqlalchemy as sa
from playwright.sync_api import expect

from cooperative.extensions import db
from cooperative.models import Collaboration, Question, QuestionStatus
from tests.browser.conftest import log_in, log_out
from tests.collaboration_factories import make_organisation, organisation_of
from tests.factories import make_collective, make_domain, make_organiser, make_user


def test_a_question_becomes_a_koppel_anyone_can_follow(page, live_server, app, check_page):
    with app.app_context():
        energy = make_domain()
        make_domain("wonen", "Wonen", "Housing")
        city = make_organisation()
        make_organisation(
            "duurzaamheid",
            "Duurzaamheid",
            kind="department",
            parent=city,
            people=[make_user("ambtenaar@amsterdam.example", name="Aafke", locale="nl")],
        )
        collective = make_collective("zonnedak-oost", "Zonnedak Oost", domain=energy)
        make_organiser(collective, email="olga@example.org", locale="en")
        organisation_of(collective)
        make_user("staff@example.org", name="Pim Programma", is_programme_staff=True)

    # The official posts a question; without a domain first.
    log_in(page, live_server, "ambtenaar@amsterdam.example", next_path="/questions", lang="nl")
    page.get_by_role("link", name="Een vraag stellen").click()
    expect(page).to_have_url(re.compile("/questions/new$"))
    check_page(page)
    expect(page.get_by_label("Gesteld door")).to_have_value(re.compile(r"\d+"))
    page.get_by_label("De vraag in één regel").fill(
        "Inkoop energiebespaarservice raakt meerdere domeinen"
    )
    page.get_by_label("Waar gaat het over?").fill("Wie betaalt, en wie profiteert?")
    page.get_by_role("button", name="De vraag plaatsen").click()
    expect(page.locator("#domains-error")).to_have_text("Kies minstens één thema.")
    expect(page.get_by_label("Waar gaat het over?")).to_have_value(
        "Wie betaalt, en wie profiteert?"
    )
    check_page(page)
    page.get_by_label("Energie").check()
    page.get_by_label("Wonen").check()
    page.get_by_role("button", name="De vraag plaatsen").click()
    expect(page).to_have_url(re.compile(r"/questions/\d+$"))
    expect(page.locator(".flash-success")).to_have_text("Je vraag is geplaatst.")
    expect(page.locator(".facts")).to_contain_text("Duurzaamheid, Gemeente Amsterdam")
    check_page(page)
    question_url = page.url
    log_out(page)

    # The collective's organiser finds it by its domain and responds.
    log_in(page, live_server, "olga@example.org", next_path="/questions", lang="en")
    page.get_by_label("Domain").select_option(label="Housing")
    page.get_by_role("button", name="Show questions").click()
    expect(page).to_have_url(re.compile(r"domain=wonen"))
    check_page(page)
    page.get_by_role("link", name="Inkoop energiebespaarservice raakt meerdere domeinen").click()
    expect(page.get_by_text("For Zonnedak Oost")).to_be_visible()
    page.get_by_label("What would you bring? (optional)").fill("Our energy coaches.")
    page.get_by_role("button", name="We want to work on this").click()
    expect(page.locator(".flash-success")).to_have_text(
        "Zonnedak Oost wants to work on this question."
    )
    expect(page.locator(".response-list")).to_contain_text("Zonnedak Oost: Our energy coaches.")
    check_page(page)
    log_out(page)

    # Programme staff form the koppel: first without choosing anyone.
    log_in(page, live_server, "staff@example.org", next_path="/questions", lang="en")
    page.goto(question_url)
    check_page(page)
    page.get_by_role("button", name="Form the koppel").click()
    expect(page.locator("#responses-error")).to_have_text(
        "Please choose at least one organisation that responded."
    )
    check_page(page)
    page.get_by_label("Zonnedak Oost").check()
    page.get_by_role("button", name="Form the koppel").click()
    expect(page).to_have_url(re.compile(r"/manage/collaborations/\d+$"))
    with app.app_context():
        koppel = db.session.scalar(sa.select(Collaboration))
        assert [p.organisation.title for p in koppel.parties] == [
            "Duurzaamheid, Gemeente Amsterdam",
            "Zonnedak Oost",
        ]
        assert not koppel.is_published
        assert db.session.scalar(sa.select(Question.status)) == QuestionStatus.PAIRED

    # In the back office: two commitments, a shared cost split equally, then public.
    def field(label: str):
        return page.get_by_label(label, exact=True)

    back_office = page.url
    field("Responsible party").select_option(label="Zonnedak Oost")
    field("Commitment").fill("120 homes get an energy coach")
    field("Starting value (optional)").fill("0")
    field("Target (optional)").fill("120")
    field("Unit (optional)").fill("homes")
    page.get_by_role("button", name="Add the commitment").click()
    expect(page.locator(".flash-success")).to_have_text("The commitment is added.")
    field("Responsible party").select_option(label="Duurzaamheid, Gemeente Amsterdam")
    field("Commitment").fill("One budget across the domains")
    page.get_by_role("button", name="Add the commitment").click()
    expect(page.locator(".commitments > li")).to_have_count(2)
    page.goto(f"{back_office}/costs")
    page.locator("main a", has_text="New shared cost").click()
    page.locator("#description").fill("Project leader")
    page.locator("#total").fill("1000.01")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#messages")).to_contain_text("The cost is saved and split")
    expect(page.locator("main table")).to_contain_text("€500.01")
    expect(page.locator("main table")).to_contain_text("€500.00")
    check_page(page)
    page.goto(back_office)
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".flash-success")).to_have_text("The collaboration is public now.")
    log_out(page)

    # The collective's organiser responded, so is the party's contact: records progress.
    log_in(page, live_server, "olga@example.org", "/manage/collaborations/", lang="nl")
    page.get_by_role("link", name="Inkoop energiebespaarservice raakt meerdere domeinen").click()
    page.get_by_text("Voortgang vastleggen").click()
    field("Waarde nu (niet verplicht)").fill("30")
    field("Wat is er gebeurd").fill("Dertig huizen in de eerste maand.")
    field("Datum").fill(date.today().isoformat())
    page.get_by_role("button", name="Voortgang opslaan").click()
    expect(page.locator(".flash-success")).to_have_text("De voortgang is vastgelegd.")
    log_out(page)

    # A stranger reads the question: a koppel is formed, no more responses; its public
    # page shows the progress and the costs, and its feed the update.
    page.goto(f"{question_url}?lang=en")
    expect(page.locator(".facts")).to_contain_text("Koppel formed")
    expect(page.get_by_role("button", name="We want to work on this")).to_have_count(0)
    check_page(page)
    page.get_by_role("link", name="Inkoop energiebespaarservice raakt meerdere domeinen").click()
    expect(page).to_have_url(re.compile(r"/collaborations/[\w-]+$"))
    expect(page.locator("progress.commitment-progress").first).to_have_attribute("value", "25")
    expect(page.locator(".timeline li").first).to_contain_text("Dertig huizen")
    expect(page.locator("main")).to_contain_text("€500.01")
    expect(page.locator("main")).not_to_contain_text("olga@example.org")
    check_page(page)
    feed_url = page.locator("a[type='application/atom+xml']").last.get_attribute("href")
    feed = feedparser.parse(page.request.get(f"{live_server}{feed_url}").body())
    assert "Dertig huizen" in feed.entries[0].summary
