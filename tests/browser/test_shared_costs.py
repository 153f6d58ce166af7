"""A cluster of municipalities splits a cost by inhabitants: programme staff set it (a
missing key first: its message by the field, the typing kept), a municipality's contact
sees its own share and reference, staff record its transfer; axe-core and a phone's
width on every page."""

from playwright.sync_api import expect

from cooperative.models import CollaborationKind
from tests.browser.conftest import log_in, log_out
from tests.collaboration_factories import make_collaboration, make_organisation
from tests.factories import make_user


def test_staff_split_a_cost_by_inhabitants_and_a_contact_sees_its_share(
    page, live_server, app, check_page
):
    with app.app_context():
        make_user("staff@example.org", name="Sam Staff", is_programme_staff=True)
        contact = make_user("contact@oostzaan.example", name="Olga Oostzaan")
        cluster = make_collaboration(
            "klimaatcluster",
            "Klimaatcluster Zaanstreek",
            CollaborationKind.CLUSTER,
            [
                make_organisation("zaanstad", "Gemeente Zaanstad"),
                (make_organisation("oostzaan", "Gemeente Oostzaan"), contact),
                make_organisation("wormerland", "Gemeente Wormerland"),
            ],
        ).id
    costs = f"/manage/collaborations/{cluster}/costs"

    log_in(page, live_server, "staff@example.org", costs, lang="en")
    expect(page.locator("main")).to_contain_text("There are no shared costs yet.")
    check_page(page)
    page.locator("main a", has_text="New shared cost").click()
    page.locator("#description").fill("Klimaatacties 2026")
    page.locator("#total").fill("10000")
    page.get_by_label("By a key: each party its own weight").check()
    page.locator("#key_name").fill("inhabitants")
    page.get_by_label("Key of Gemeente Zaanstad").fill("160000")
    page.get_by_label("Key of Gemeente Wormerland").fill("16500")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#keys-1-key-error")).to_contain_text(
        "Give Gemeente Oostzaan a key of 1 or more, or split the cost equally."
    )
    expect(page.get_by_label("Key of Gemeente Zaanstad")).to_have_value("160000")
    expect(page.locator("#description")).to_have_value("Klimaatacties 2026")
    check_page(page)
    page.get_by_label("Key of Gemeente Oostzaan").fill("9800")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#messages")).to_contain_text("The cost is saved and split")
    table = page.locator("main table")
    expect(table).to_contain_text("€8,588.30")
    expect(table).to_contain_text("€526.03")
    expect(table).to_contain_text("€885.67")
    expect(page.locator("main")).to_contain_text("The shares add up to €10,000.00.")
    check_page(page)
    log_out(page)

    log_in(page, live_server, "contact@oostzaan.example", costs, lang="en")
    main = page.locator("main")
    expect(main).to_contain_text("Gemeente Oostzaan")
    expect(main).not_to_contain_text("Gemeente Zaanstad")
    expect(main.locator(".bank-transfer")).to_contain_text("€526.03")
    reference = main.locator(".bank-transfer dd").last.inner_text()
    assert reference.startswith("MEENTCOOP-K")
    check_page(page)
    log_out(page)

    log_in(page, live_server, "staff@example.org", costs, lang="en")
    page.get_by_label("Record a transfer: Gemeente Oostzaan").click()
    expect(page.locator("main")).to_contain_text(reference)
    page.locator("#amount").fill("500")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#amount-error")).to_contain_text("The amount owed is €526.03.")
    check_page(page)
    page.locator("#amount").fill("526.03")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("#messages")).to_contain_text("The transfer of €526.03 is recorded.")
    expect(page.locator("main table")).to_contain_text("paid in full")
    check_page(page)
