"""What the public sees of a general meeting (issue 16): that it exists, its title and
time, and nothing more: not on its page, the event calendar (kept pages too), the
calendar files, the open-data API. And the board at the door of the meeting's event."""

import json

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Meeting, Registration
from cooperative.services import meetings
from tests.conftest import post_form
from tests.factories import make_collective, make_event, make_organiser, make_user
from tests.meeting_fixtures import PDF, make_meeting, make_voter
from tests.minutes_fixtures import hold

PLACE = "Geheime Zaal, Javastraat 1"
ONLINE = "https://meet.example.org/alv-geheim"
MEMBER_ONLY = (PLACE, "Geheime Zaal", ONLINE, "meet.example.org", "Jaarrekening", "stukken.pdf")


@pytest.fixture
def convened(app):
    """A convened meeting 20 days ahead with a place, an online link and a document;
    a member, a guest without membership, the secretary and an organiser of a collective."""
    with app.app_context():
        make_voter("member@example.org")
        make_user("guest@example.org")
        make_user("secretary@example.org", board_role="secretary")
        make_organiser(make_collective(), email="organiser@example.org")
        meeting = make_meeting(20, location=PLACE, online_url=ONLINE)
        meetings.add_document(meeting.items[0], "stukken.pdf", "application/pdf", PDF)
        hold(meeting)
        return {"slug": meeting.slug, "event": meeting.event.slug, "event_id": meeting.event_id}


def _no_member_data(text: str) -> None:
    for secret in MEMBER_ONLY:
        assert secret not in text, secret


def test_the_public_sees_the_meeting_exists_and_nothing_more(client, convened):
    page = client.get(f"/meetings/{convened['slug']}?lang=en")
    assert page.status_code == 200
    assert "Algemene ledenvergadering" in page.text and "Members: log in" in page.text
    assert f"/auth/login?next=/meetings/{convened['slug']}" in page.text
    _no_member_data(page.text)
    listing = client.get("/meetings/?lang=en")
    assert listing.status_code == 200 and "Algemene ledenvergadering" in listing.text
    _no_member_data(listing.text)


def test_the_meetings_event_sends_everyone_to_the_meeting_page(client, app, auth, convened):
    url = f"/events/{convened['event']}?lang=en"
    meeting_page = f"/meetings/{convened['slug']}"
    first = client.get(url)
    again = client.get(url)  # a kept page, if any, is the same answer
    for answer in (first, again):
        assert answer.status_code == 303
        assert answer.headers["Location"].endswith(meeting_page)
        _no_member_data(answer.text)
    for path in (
        "/events?lang=en",
        "/?lang=en",
        "/events.ics",
        f"/events/{convened['event']}.ics",
        "/events.atom",
        "/events.rss",
    ):
        shown = client.get(path)
        assert shown.status_code == 200, path
        assert "Algemene ledenvergadering" in shown.text, path
        _no_member_data(shown.text)
    for path in ("/api/v1/events", f"/api/v1/events/{convened['event']}"):
        answer = client.get(path)
        assert answer.status_code == 200
        _no_member_data(json.dumps(answer.json))
    # Registering is on the meeting's page, for members: posting the event's form sends
    # the public there and registers nobody.
    refused = post_form(
        client,
        f"/events/{convened['event']}/register",
        {"contact_name": "Buiten", "contact_email": "x@example.org", "people-0-name": "Buiten"},
    )
    assert refused.status_code == 303 and refused.headers["Location"].endswith(meeting_page)
    auth.login("guest@example.org")
    guest = client.get(url, follow_redirects=True)
    assert guest.status_code == 403 and "Algemene ledenvergadering" in guest.text
    _no_member_data(guest.text)
    auth.logout()
    # A member is sent to the meeting's page too, where they register and read the rest.
    auth.login("member@example.org")
    member = client.get(url, follow_redirects=True)
    assert member.status_code == 200 and "Geheime Zaal" in member.text
    auth.logout()
    _no_member_data(client.get(url, follow_redirects=True).text)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0


def test_the_meeting_page_for_the_public_reads_only_the_meeting(client, convened, count_queries):
    with count_queries as counted:
        assert client.get(f"/meetings/{convened['slug']}").status_code == 200
    assert counted.count == 1, counted.statements  # nothing of its agenda or documents


def test_the_board_opens_the_door_of_the_meetings_event_not_of_others(client, app, auth, convened):
    with app.app_context():
        other = make_event("buurtdiner").id
    meeting_door = f"/manage/events/{convened['event_id']}/attendees"
    auth.login("secretary@example.org")
    assert client.get(meeting_door).status_code == 200
    assert client.get(f"/manage/events/{convened['event_id']}/check-in").status_code == 200
    assert client.get(f"/manage/events/{other}/attendees").status_code == 403
    assert client.get(f"/manage/events/{convened['event_id']}/edit").status_code == 403
    auth.logout()
    for email in ("member@example.org", "organiser@example.org"):
        auth.login(email)
        assert client.get(meeting_door).status_code == 403, email
        auth.logout()
    assert client.get(meeting_door).status_code == 302


def test_a_meeting_not_convened_is_not_found_by_the_public(client, app):
    with app.app_context():
        draft = make_meeting(30)
        slug, event = draft.slug, draft.event.slug
        assert db.session.scalar(sa.select(Meeting.convened_at)) is None
    assert client.get(f"/meetings/{slug}").status_code == 404
    assert client.get(f"/events/{event}").status_code == 404
    assert "Algemene ledenvergadering" not in client.get("/meetings/").text
