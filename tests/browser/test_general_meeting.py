"""Issue 16 in a browser, from proxy to minutes: a member gives a proxy and its holder
accepts it; two members register for the room; at the meeting the chair checks them in at
the door, sees the attendance and the quorum, puts the change of the statutes to a vote
and closes it after three phones voted (one for a proxy too, one online); the chair fills
in, approves and publishes the minutes and a member reads them. axe-core and a phone's
width on every kind of page (`check_page`); the chair in English, members in Dutch and
English."""

import re
from datetime import timedelta

import sqlalchemy as sa
from playwright.sync_api import expect

from cooperative.extensions import db
from cooperative.models import Meeting, MeetingAttendance, OpenBallot, Proxy, utcnow
from tests.browser.conftest import log_in, log_out
from tests.factories import AMSTERDAM, make_user
from tests.meeting_fixtures import convened_meeting, make_voter

TITLE = "Statutenwijziging 2027"
STATUTES = "Wijziging van de statuten"


def new_phone(browser, phones: list):
    """Another phone (its own cookies), closed at the end of the test; fails the test on a
    broken Content-Security-Policy, as the `page` fixture does."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    phone = context.new_page()
    phone.set_default_timeout(10_000)
    violations = []
    phone.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    phones.append((context, violations))
    return phone


def test_a_general_meeting_from_proxy_to_minutes(page, browser, live_server, app, check_page):
    with app.app_context():
        make_user(
            "chair@example.org", name="Carla Chair", locale="en", is_admin=True, board_role="chair"
        )
        members = {}
        for key, name in (
            ("A", "Anouk Afwezig"),
            ("B", "Bram Bos"),
            ("C", "Cor Cats"),
            ("D", "Dewi Digitaal"),
        ):
            _, membership = make_voter(f"{key.lower()}@example.org", name=name)
            members[key] = (membership.id, membership.number, name)
        meeting = convened_meeting(
            20,
            items=(("Opening", False), ("Jaarrekening 2026", False), (STATUTES, True)),
            proxies_allowed=True,
            max_proxies_per_member=1,
            online_voting=True,
        )
        meeting_id, slug, event_id = meeting.id, meeting.slug, meeting.event_id
    _, _, a_name = members["A"]
    _, b_number, b_name = members["B"]
    phones = []
    try:
        # 1. A gives a proxy to B (in Dutch), B accepts it.
        phone_b = new_phone(browser, phones)
        log_in(phone_b, live_server, "a@example.org", f"/meetings/{slug}", lang="nl")
        expect(phone_b.get_by_role("heading", name="Volmacht", exact=True)).to_be_visible()
        phone_b.locator("#number").fill(str(b_number))
        phone_b.locator("#email").fill("b@example.org")
        phone_b.get_by_role("button", name="Mijn volmacht geven").click()
        expect(phone_b.locator("#volmacht")).to_contain_text(f"Je volmacht aan {b_name}")
        check_page(phone_b)
        log_out(phone_b)

        log_in(phone_b, live_server, "b@example.org", f"/meetings/{slug}", lang="en")
        phone_b.get_by_role("button", name=f"Accept: {a_name}").click()
        expect(phone_b.locator("#volmacht")).to_contain_text("accepted: you vote for them")
        check_page(phone_b)

        # 2. B and C register for the room.
        phone_c = new_phone(browser, phones)
        log_in(phone_c, live_server, "c@example.org", f"/meetings/{slug}", lang="en")
        for phone in (phone_b, phone_c):
            phone.get_by_label("In the room (you get a ticket to show at the door)").check()
            phone.get_by_role("button", name="Register to attend").click()
            expect(phone.locator("#taking-part")).to_contain_text(
                "You are registered to come to the room."
            )
        check_page(phone_c)

        # Time passes: the meeting (and its event) started 10 minutes ago.
        with app.app_context():
            meeting = db.session.get(Meeting, meeting_id)
            length = meeting.ends_at - meeting.starts_at
            starts = utcnow() - timedelta(minutes=10)
            meeting.starts_at = meeting.event.starts_at = starts
            meeting.ends_at = meeting.event.ends_at = starts + length
            db.session.commit()

        # 3. The chair checks B and C in at the door and sees who takes part.
        log_in(
            page,
            live_server,
            "chair@example.org",
            f"/manage/events/{event_id}/attendees",
            lang="en",
        )
        for name in (b_name, "Cor Cats"):
            page.get_by_role("button", name=f"Check in {name}").click()
            expect(page.get_by_role("button", name=f"Undo the check-in of {name}")).to_be_visible()
        expect(page.locator("#checked-in-count")).to_have_text("2")
        check_page(page)

        page.goto(f"{live_server}/manage/meetings/{meeting_id}/attendance")
        expect(page.get_by_role("heading", name="Present (2)")).to_be_visible()
        expect(page.locator("#present")).to_contain_text(b_name)
        expect(page.locator("#present")).to_contain_text("Cor Cats")
        expect(page.locator("#represented")).to_contain_text(f"{a_name} → {b_number} · {b_name}")
        expect(page.locator("#quorum")).to_contain_text("3 of 4 members take part")
        check_page(page)

        # 4. A vote on the change of the statutes: opened, cast on three phones, closed.
        page.goto(f"{live_server}/manage/meetings/{meeting_id}/votes")
        item = page.locator(".vote-item", has=page.get_by_role("heading", name=STATUTES))
        item.get_by_text("Add a vote to this item").click()
        item.get_by_label("Title (the item's title if empty)").fill(TITLE)
        item.get_by_label("Open: members see afterwards how each voted").check()
        item.get_by_label("Simple: more than half").check()
        check_page(page)
        item.get_by_role("button", name="Add the vote").click()
        page.get_by_role("button", name=f"Open the vote: {TITLE}").click()
        expect(page.get_by_role("button", name=f"Close the vote: {TITLE}")).to_be_visible()

        # B votes for himself and, with the same answer, for A.
        phone_b.goto(f"{live_server}/meetings/{slug}")
        phone_b.get_by_role("link", name=f"Vote now: {TITLE}").click()
        phone_b.get_by_role("group", name="Your vote").get_by_label("For", exact=True).check()
        phone_b.get_by_label("The same as my own vote, for everyone I represent").check()
        check_page(phone_b)
        phone_b.get_by_role("button", name="Cast my vote").click()
        expect(phone_b.locator("main p[role=status]")).to_have_text("Your vote is recorded.")

        phone_c.goto(f"{live_server}/meetings/{slug}")
        phone_c.get_by_role("link", name=f"Vote now: {TITLE}").click()
        phone_c.get_by_label("Against", exact=True).check()
        phone_c.get_by_role("button", name="Cast my vote").click()
        expect(phone_c.locator("main p[role=status]")).to_have_text("Your vote is recorded.")

        # D is not at the meeting: votes online, in Dutch.
        phone_d = new_phone(browser, phones)
        log_in(phone_d, live_server, "d@example.org", f"/meetings/{slug}", lang="nl")
        phone_d.locator("#votes a.button").click()
        expect(phone_d.locator("form.ballot")).to_be_visible()
        phone_d.get_by_label("Onthouding", exact=True).check()
        check_page(phone_d)
        phone_d.locator("form.ballot button[type=submit]").click()
        expect(phone_d.locator("main p[role=status]")).to_be_visible()

        page.reload()
        expect(page.locator(".vote-card")).to_contain_text("4 members have voted so far.")
        page.get_by_role("button", name=f"Close the vote: {TITLE}").click()
        result = page.locator(".vote-result")
        expect(result.locator(".vote-outcome")).to_contain_text("Adopted")
        rows = result.locator("tbody tr")
        expect(rows).to_have_count(3)
        expect(rows.nth(0)).to_contain_text("For")
        expect(rows.nth(0).locator("td").first).to_have_text("2")
        expect(rows.nth(1).locator("td").first).to_have_text("1")
        expect(rows.nth(2).locator("td").first).to_have_text("1")
        expect(result).to_contain_text("4 of 4 members (100%)")
        check_page(page)

        phone_c.goto(f"{live_server}/meetings/{slug}")
        phone_c.get_by_role("link", name=TITLE).click()
        expect(phone_c.locator(".vote-outcome")).to_contain_text("Adopted")
        expect(phone_c.locator(".voter-list")).to_contain_text(a_name)
        voters = phone_c.locator(".voter-list li")
        expect(voters.filter(has_text=a_name)).to_contain_text("by proxy")
        expect(voters.filter(has_text="Dewi Digitaal")).to_contain_text("online")
        check_page(phone_c)

        # 5. The minutes: written, filled in with the meeting's data, saved, approved and
        # published by the chair; a member reads them.
        page.goto(f"{live_server}/manage/meetings/{meeting_id}/minutes")
        page.locator("#text").fill("De voorzitter opent de vergadering.")
        page.get_by_role("button", name="Fill in the data of the meeting").click()
        text = page.locator("textarea")
        expect(text).to_have_value(re.compile("De voorzitter opent de vergadering."))
        expect(text).to_have_value(re.compile(TITLE))
        check_page(page)
        page.get_by_role("button", name="Save", exact=True).click()
        today = utcnow().astimezone(AMSTERDAM).date().isoformat()
        page.get_by_label("Approved on").fill(today)
        page.get_by_role("button", name="Record the approval").click()
        page.get_by_role("button", name="Publish for the members").click()
        expect(page.get_by_role("button", name="Withdraw the publication")).to_be_visible()
        check_page(page)

        phone_d.goto(f"{live_server}/meetings/{slug}/minutes")
        expect(phone_d.locator("main")).to_contain_text("De voorzitter opent de vergadering.")
        expect(phone_d.locator("main")).to_contain_text(TITLE)
        check_page(phone_d)
    finally:
        for context, violations in phones:
            context.close()
            assert violations == [], "a phone's page broke its Content-Security-Policy"

    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        assert meeting.minutes_published_at is not None
        assert "De voorzitter opent de vergadering." in meeting.minutes_text
        [proxy] = db.session.scalars(sa.select(Proxy)).all()
        assert (proxy.grantor_id, proxy.holder_id, proxy.status) == (
            members["A"][0],
            members["B"][0],
            "accepted",
        )
        present = db.session.scalars(
            sa.select(MeetingAttendance.membership_id).where(
                MeetingAttendance.present_at.is_not(None)
            )
        ).all()
        assert sorted(present) == sorted([members["B"][0], members["C"][0]])
        ballots = {
            ballot.membership_id: (ballot.cast_by_id, ballot.online)
            for ballot in db.session.scalars(sa.select(OpenBallot))
        }
        assert ballots == {
            members["A"][0]: (members["B"][0], False),
            members["B"][0]: (members["B"][0], False),
            members["C"][0]: (members["C"][0], False),
            members["D"][0]: (members["D"][0], True),
        }
