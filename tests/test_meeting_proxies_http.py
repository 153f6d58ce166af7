"""Proxies and attendance of a general meeting over HTTP (issue 16): the member's forms
on the meeting page (give, withdraw, accept, decline; the room or online; "I am here"),
bad input (422 with the typing kept), who may touch which proxy, the board's proxies and
attendance pages (paper proxies, the quorum, the htmx fragment, the queries), the door's
check-in, the meeting's event for members only, and the e-mails through a real SMTP
server."""

import re
from datetime import timedelta

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    AttendanceMode,
    Meeting,
    MeetingAttendance,
    Membership,
    Proxy,
    ProxyStatus,
    Registration,
    RegistrationStatus,
    User,
    utcnow,
)
from cooperative.services import mail, meeting_attendance, meeting_proxies
from tests.conftest import body_of, link_in, post_form
from tests.factories import make_admin, make_user
from tests.meeting_fixtures import convened_meeting, make_voters, ref


def _world(app, members: int = 3, **fields):
    """`members` active members (lid1@... with number in order), an admin, a convened
    meeting; returns the meeting's ref and the members' numbers."""
    with app.app_context():
        make_admin()
        numbers = [m.number for m in make_voters(members)]
        meeting = ref(convened_meeting(**fields))
    return meeting, numbers


def _move(app, meeting_id: int, starts_in: timedelta) -> None:
    """Let the meeting start `starts_in` from now (after its convocation went out)."""
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        meeting.starts_at = utcnow() + starts_in
        meeting.ends_at = meeting.starts_at + timedelta(hours=2)
        db.session.commit()


def _proxy(app) -> Proxy:
    with app.app_context():
        proxy = db.session.scalar(sa.select(Proxy).order_by(Proxy.id.desc()).limit(1))
        db.session.expunge(proxy)
        return proxy


def test_a_member_gives_a_proxy_the_holder_accepts_and_both_get_mail(
    client, app, auth, smtp_server
):
    meeting, (_, bob, _) = _world(app)
    page = f"/meetings/{meeting.slug}"
    with app.app_context():
        mail.send_pending()  # the welcome mails of joining
    smtp_server.messages.clear()
    auth.login("lid1@example.org")
    shown = client.get(f"{page}?lang=en").text
    assert 'id="volmacht"' in shown and "Give my proxy" in shown
    given = post_form(client, f"{page}/proxy", {"number": str(bob), "email": "LID2@example.org"})
    assert given.status_code == 303 and given.headers["Location"].endswith("#volmacht")
    state = client.get(f"{page}?lang=nl").text
    assert "Je volmacht aan Lid 2" in state and "wacht op acceptatie" in state
    with app.app_context():
        assert mail.send_pending() == (1, 0)
    (asked,) = smtp_server.to("lid2@example.org")
    assert "Lid 1 geeft je een volmacht" in body_of(asked)
    assert link_in(asked, "/meetings/") == f"{page}#volmacht"
    auth.logout()
    auth.login("lid2@example.org")
    holder_page = client.get(page).text
    assert "Volmachten aan jou" in holder_page and "Van Lid 1" in holder_page
    proxy = _proxy(app)
    accepted = post_form(client, f"{page}/proxies/{proxy.id}/accept")
    assert accepted.status_code == 303
    with app.app_context():
        assert db.session.get(Proxy, proxy.id).status == ProxyStatus.ACCEPTED
        mail.send_pending()
    (told,) = smtp_server.to("lid1@example.org")
    assert told["Subject"] == "Je volmacht is geaccepteerd" and "Lid 2" in body_of(told)


def test_a_proxy_form_with_bad_input_comes_back_with_422_and_the_typing(client, app, auth):
    meeting, (ada, bob, _) = _world(app)
    url = f"/meetings/{meeting.slug}/proxy?lang=en"
    auth.login("lid1@example.org")
    empty = post_form(client, url, {"number": "", "email": "iemand@example.org"})
    assert empty.status_code == 422
    assert "Please fill in the holder's member number." in empty.text
    assert 'value="iemand@example.org"' in empty.text
    words = post_form(client, url, {"number": "twee", "email": "not-an-address"})
    assert words.status_code == 422 and "Please write a whole number" in words.text
    assert "This does not look like an e-mail address" in words.text
    assert 'value="twee"' in words.text and 'value="not-an-address"' in words.text
    one_message = "No active member has this member number together with this e-mail address."
    for number, email in ((bob, "lid3@example.org"), (bob + 50, "lid2@example.org")):
        wrong = post_form(client, url, {"number": str(number), "email": email})
        assert wrong.status_code == 422 and one_message in wrong.text
        assert f'value="{email}"' in wrong.text and f'value="{number}"' in wrong.text
    myself = post_form(client, url, {"number": str(ada), "email": "lid1@example.org"})
    assert myself.status_code == 422 and "You cannot give a proxy to yourself." in myself.text
    huge = post_form(client, url, {"number": "9" * 30, "email": "lid2@example.org"})
    assert huge.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Proxy.id))) == 0


def test_nobody_touches_another_members_proxy(client, app, auth):
    meeting, (_, bob, _) = _world(app)
    base = f"/meetings/{meeting.slug}"
    auth.login("lid1@example.org")
    assert post_form(client, f"{base}/proxy", {"number": bob, "email": "lid2@example.org"})
    proxy = _proxy(app)
    # The grantor cannot answer their own proxy; the holder cannot withdraw it.
    assert post_form(client, f"{base}/proxies/{proxy.id}/accept").status_code == 404
    auth.logout()
    auth.login("lid2@example.org")
    assert post_form(client, f"{base}/proxies/{proxy.id}/withdraw").status_code == 404
    auth.logout()
    auth.login("lid3@example.org")  # a third member: none of it is theirs
    for action in ("accept", "decline", "withdraw"):
        assert post_form(client, f"{base}/proxies/{proxy.id}/{action}").status_code == 404
    assert "Lid 1" not in client.get(base).text
    auth.logout()
    with app.app_context():
        make_user("guest@example.org")
    auth.login("guest@example.org")
    assert post_form(client, f"{base}/proxy", {"number": bob}).status_code == 403
    assert post_form(client, f"{base}/proxies/{proxy.id}/accept").status_code == 403
    assert post_form(client, f"{base}/attendance", {"mode": "room"}).status_code == 403
    auth.logout()
    auth.login("admin@example.org")  # the board, but no member: no part to take
    assert post_form(client, f"{base}/proxies/{proxy.id}/withdraw").status_code == 403
    with app.app_context():
        assert db.session.get(Proxy, proxy.id).status == ProxyStatus.GIVEN


def test_the_grantor_withdraws_until_the_start_and_is_told_why_not_after(client, app, auth):
    meeting, (_, bob, cor) = _world(app)
    base = f"/meetings/{meeting.slug}"
    auth.login("lid1@example.org")
    post_form(client, f"{base}/proxy", {"number": bob, "email": "lid2@example.org"})
    first = _proxy(app)
    assert post_form(client, f"{base}/proxies/{first.id}/withdraw").status_code == 303
    assert "door jou ingetrokken" in client.get(base).text
    post_form(client, f"{base}/proxy", {"number": cor, "email": "lid3@example.org"})
    second = _proxy(app)
    _move(app, meeting.id, timedelta(minutes=-5))
    late = post_form(client, f"{base}/proxies/{second.id}/withdraw")
    assert late.status_code == 303
    shown = client.get(late.headers["Location"]).text
    assert "De vergadering is begonnen" in shown
    assert "Mijn volmacht intrekken" not in shown  # no button that cannot work
    with app.app_context():
        assert db.session.get(Proxy, second.id).status == ProxyStatus.GIVEN


def test_after_the_meeting_its_page_shows_what_was_not_what_could_be(client, app, auth):
    meeting, (_, bob, _cor) = _world(app)
    base = f"/meetings/{meeting.slug}"
    auth.login("lid1@example.org")
    post_form(client, f"{base}/proxy", {"number": bob, "email": "lid2@example.org"})
    _move(app, meeting.id, timedelta(hours=-3))  # it ended an hour ago

    grantor = client.get(f"{base}?lang=en").text
    assert 'id="taking-part"' not in grantor  # they had not registered
    assert "Your proxy to Lid 2 (member 2): not accepted before the meeting." in grantor
    assert "The meeting has started" not in grantor and "every 5s" not in grantor
    assert "No vote is open now" not in grantor and 'id="votes"' not in grantor
    auth.logout()
    auth.login("lid3@example.org")  # no proxy, no registration: nothing of their part
    bystander = client.get(f"{base}?lang=en").text
    assert 'id="taking-part"' not in bystander and 'id="volmacht"' not in bystander


def test_declining_tells_the_grantor(client, app, auth, smtp_server):
    meeting, (_, bob, _) = _world(app)
    base = f"/meetings/{meeting.slug}"
    auth.login("lid1@example.org")
    post_form(client, f"{base}/proxy", {"number": bob, "email": "lid2@example.org"})
    auth.logout()
    auth.login("lid2@example.org")
    assert post_form(client, f"{base}/proxies/{_proxy(app).id}/decline").status_code == 303
    with app.app_context():
        mail.send_pending()
    (told,) = [m for m in smtp_server.to("lid1@example.org") if "volmacht" in m["Subject"]]
    assert told["Subject"] == "Je volmacht is afgewezen"
    assert f"/meetings/{meeting.slug}#volmacht" in body_of(told)


def test_registering_for_the_room_gives_a_ticket_online_needs_the_button(client, app, auth):
    meeting, _ = _world(app)
    base = f"/meetings/{meeting.slug}"
    auth.login("lid1@example.org")
    bad = post_form(client, f"{base}/attendance?lang=en", {"mode": "balkon"})
    assert bad.status_code == 422 and "Not a valid choice" in bad.text
    none = post_form(client, f"{base}/attendance?lang=en", {})
    assert none.status_code == 422 and "Please choose how you take part." in none.text
    room = post_form(client, f"{base}/attendance", {"mode": "room"})
    assert room.status_code == 303 and room.headers["Location"].endswith("#taking-part")
    page = client.get(f"{base}?lang=nl").text
    assert "Je bent aangemeld voor de zaal." in page and "/r/" in page  # the ticket's page
    with app.app_context():
        registration = db.session.scalar(sa.select(Registration))
        assert registration.status == RegistrationStatus.CONFIRMED
    online = post_form(client, f"{base}/attendance", {"mode": "online"})
    assert online.status_code == 303
    too_early = post_form(client, f"{base}/arrive")
    assert too_early.status_code == 303
    assert "vanaf 30 minuten" in client.get(too_early.headers["Location"]).text
    _move(app, meeting.id, timedelta(minutes=10))
    assert "Ik ben er (online)" in client.get(base).text
    assert post_form(client, f"{base}/arrive").status_code == 303
    here = client.get(base).text
    assert "online op de vergadering" in here and "Ik ben er (online)" not in here
    with app.app_context():
        attendance = db.session.scalar(sa.select(MeetingAttendance))
        assert attendance.present_at is not None
        assert db.session.get(Registration, registration.id).status == (
            RegistrationStatus.CANCELLED
        )
    cancel = post_form(client, f"{base}/attendance/cancel")
    assert "Je bent al op de vergadering." in client.get(cancel.headers["Location"]).text


def test_the_meetings_event_pages_send_everyone_to_the_meeting(client, app, auth):
    meeting, _ = _world(app)
    with app.app_context():
        event_slug = db.session.get(Meeting, meeting.id).event.slug
    answer = client.get(f"/events/{event_slug}")
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/meetings/{meeting.slug}")
    posted = post_form(
        client,
        f"/events/{event_slug}/register",
        {"contact_name": "Gast", "contact_email": "gast@example.org", "people-0-name": "Gast"},
    )
    assert posted.status_code == 303 and f"/meetings/{meeting.slug}" in posted.headers["Location"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Registration.id))) == 0


def test_the_board_records_a_paper_proxy_and_sees_every_proxy(client, app, auth):
    meeting, (ada, bob, cor) = _world(app, members=3)
    url = f"/manage/meetings/{meeting.id}/proxies"
    auth.login("lid1@example.org")
    assert client.get(url).status_code == 403
    assert post_form(client, url, {"grantor_number": ada, "holder_number": bob}).status_code == 403
    auth.logout()
    auth.login("admin@example.org")
    assert "Nog geen volmachten." in client.get(url).text
    empty = post_form(client, f"{url}?lang=en", {"grantor_number": "", "holder_number": "7"})
    assert empty.status_code == 422
    assert "Please fill in the member number of who gives the proxy." in empty.text
    assert 'value="7"' in empty.text
    unknown = post_form(
        client, f"{url}?lang=nl", {"grantor_number": "999", "holder_number": str(bob)}
    )
    assert unknown.status_code == 422 and "Geen actief lid heeft lidnummer 999." in unknown.text
    assert 'value="999"' in unknown.text
    done = post_form(client, url, {"grantor_number": str(ada), "holder_number": str(bob)})
    assert done.status_code == 303
    chain = post_form(client, url, {"grantor_number": str(bob), "holder_number": str(cor)})
    assert chain.status_code == 422 and "geen ketens" in chain.text
    listing = client.get(url).text
    assert "Geaccepteerd" in listing and "op papier" in listing
    assert re.search(rf"{ada} · Lid 1", listing) and re.search(rf"{bob} · Lid 2", listing)
    with app.app_context():
        proxy = db.session.scalar(sa.select(Proxy))
        assert proxy.status == ProxyStatus.ACCEPTED and proxy.recorded_by_id is not None


def test_the_door_check_in_makes_the_member_present_on_the_board_list(client, app, auth):
    meeting, (ada, bob, _) = _world(app, quorum_percent=50, statutes_quorum_percent=75)
    base = f"/meetings/{meeting.slug}"
    auth.login("lid1@example.org")
    post_form(client, f"{base}/proxy", {"number": bob, "email": "lid2@example.org"})
    auth.logout()
    auth.login("lid2@example.org")
    post_form(client, f"{base}/proxies/{_proxy(app).id}/accept")
    post_form(client, f"{base}/attendance", {"mode": "room"})
    auth.logout()
    with app.app_context():
        attendee = db.session.scalar(sa.select(Registration)).attendees[0]
        event_id, attendee_id = attendee.registration.event_id, attendee.id
    auth.login("admin@example.org")
    listing = f"/manage/meetings/{meeting.id}/attendance"
    before = client.get(listing).text
    assert "Niet gehaald" in before and "telt niet mee" in before
    assert "Aangemeld, (nog) niet aanwezig (1)" in before
    tapped = post_form(client, f"/manage/events/{event_id}/attendees/{attendee_id}/check-in")
    assert tapped.status_code in (200, 303)
    after = client.get(listing).text
    assert "Aanwezig (1)" in after and "Vertegenwoordigd (1)" in after
    # 2 of 3 take part: the ordinary quorum (50 %) is reached, the statutes one (75 %) not.
    assert re.search(r"Gewone besluiten</dt>\s*<dd><strong>Gehaald", after)
    assert re.search(r"Een statutenwijziging</dt>\s*<dd><strong>Niet gehaald", after)
    fragment = client.get(
        listing, headers={"HX-Request": "true", "HX-Target": "meeting-attendance"}
    )
    assert "<html" not in fragment.text and "Aanwezig (1)" in fragment.text
    assert "HX-Target" in fragment.headers["Vary"]
    assert 'hx-trigger="every 5s"' in after and f'href="{listing}"' in after  # refresh link
    post_form(client, f"/manage/events/{event_id}/attendees/{attendee_id}/undo")
    assert "Aanwezig (0)" in client.get(listing).text
    with app.app_context():
        assert db.session.scalar(sa.select(Proxy.status)) == ProxyStatus.ACCEPTED


def test_a_grantor_checked_in_at_the_door_loses_the_proxy_for_good(client, app, auth):
    meeting, (_, bob, _) = _world(app)
    base = f"/meetings/{meeting.slug}"
    auth.login("lid1@example.org")
    post_form(client, f"{base}/proxy", {"number": bob, "email": "lid2@example.org"})
    post_form(client, f"{base}/attendance", {"mode": "room"})
    auth.logout()
    with app.app_context():
        attendee = db.session.scalar(sa.select(Registration)).attendees[0]
        door = f"/manage/events/{attendee.registration.event_id}/attendees/{attendee.id}"
    auth.login("admin@example.org")
    post_form(client, f"{door}/check-in")
    post_form(client, f"{door}/undo")
    assert "Vervallen: het lid kwam" in client.get(f"/manage/meetings/{meeting.id}/proxies").text
    auth.logout()
    auth.login("lid1@example.org")
    page = client.get(base).text
    assert "vervallen: je kwam zelf naar de vergadering" in page
    assert "blijft vervallen, ook als je aanmelding bij de deur ongedaan wordt gemaakt" in page
    with app.app_context():
        assert db.session.scalar(sa.select(Proxy.status)) == ProxyStatus.CANCELLED
        assert db.session.scalar(sa.select(MeetingAttendance.present_at)) is None


def _fill(app, meeting_id: int, numbers: list[int]) -> None:
    """Of the members `numbers`, in threes: the first gives the second a paper proxy, the
    second arrives in the room, the third registers online."""
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        board = db.session.scalar(sa.select(User).where(User.is_admin))
        members = db.session.scalars(
            sa.select(Membership).where(Membership.number.in_(numbers)).order_by(Membership.number)
        ).all()
        for grantor, holder, online in zip(*[iter(members)] * 3, strict=True):
            meeting_proxies.record_paper(meeting, grantor, holder, board)
            meeting_attendance.arrive(meeting, holder, AttendanceMode.ROOM)
            meeting_attendance.register(meeting, online, AttendanceMode.ONLINE)
        db.session.commit()


def test_the_board_list_costs_the_same_queries_for_few_and_many_members(
    client, app, auth, count_queries
):
    meeting, numbers = _world(app, members=3, quorum_percent=10)
    _fill(app, meeting.id, numbers)
    auth.login("admin@example.org")
    url = f"/manage/meetings/{meeting.id}/attendance"
    client.get(url)
    with count_queries as counted:
        assert client.get(url).status_code == 200
    few = counted.count
    with app.app_context():
        more = [m.number for m in make_voters(12, prefix="extra")]
    _fill(app, meeting.id, more)
    with count_queries as counted:
        page = client.get(url)
    assert page.status_code == 200 and page.text.count("→") == 5
    assert "Aanwezig (5)" in page.text
    assert counted.count == few
