"""Checking people in and undoing it, of a person or a party, from the list, a scanned
ticket or a typed code; two volunteers at once; the door's trail.
"""

import re
import threading

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Attendee,
    CheckInRecord,
    Event,
    User,
    utcnow,
)
from cooperative.services import attendance
from cooperative.services import registration as registrations
from tests import attendance_fixtures
from tests.attendance_fixtures import (
    HELPER,
    ORGANISER,
    attendee,
    counters,
    htmx,
    log_in,
    text,
)
from tests.conftest import post_form
from tests.factories import (
    make_collective,
    make_event,
    make_organiser,
    make_registration,
    make_user,
)

door = attendance_fixtures.door
organiser = attendance_fixtures.organiser


# ---------------------------------------------------------------------------------------
# Check-in and undo


def test_check_in_without_javascript_goes_back_to_the_list_with_its_filters(app, organiser, door):
    before = utcnow()
    response = post_form(
        organiser,
        f"/manage/events/{door.event}/attendees/{door.ada_person}/check-in",
        {"q": "ada", "show": "todo"},
    )

    assert response.status_code == 303
    assert response.headers["Location"] == (f"{door.list}?q=ada&show=todo#party-{door.ada}")
    ada = attendee(app, door.ada_person)
    assert ada.checked_in_at >= before and ada.checked_in_by_id == door.organiser
    page = text(organiser.get(response.headers["Location"]))
    assert "Ada is checked in." in page
    assert "In at" in page and "by Olga Organiser" in page
    assert counters(page)["Checked in"] == 1


def test_check_in_with_htmx_replaces_the_row_and_moves_the_counters(app, organiser, door):
    response = post_form(
        organiser,
        f"/manage/events/{door.event}/attendees/{door.ada_person}/check-in",
        headers=htmx(target=f"party-{door.ada}", trigger=f"attendee-{door.ada_person}-action"),
    )

    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "checkin-changed"
    row = text(response)
    assert re.match(rf'\s*<li [^>]*id="party-{door.ada}"', row)  # the party's row, whole
    assert "<html" not in row
    assert re.search(rf'<button [^>]*id="attendee-{door.ada_person}-action"[^>]*>Undo', row)
    assert '<p id="attendance-status" hx-swap-oob="innerHTML">Ada is checked in.</p>' in row

    numbers = text(
        organiser.get(
            f"/manage/events/{door.event}/attendees/counters",
            headers=htmx(target="attendance-counters", trigger="attendance-counters"),
        )
    )
    assert counters(numbers)["Checked in"] == 1
    assert '<div id="kitchen-summary" hx-swap-oob="true">' in numbers


def test_checking_in_twice_is_harmless(app, organiser, door):
    url = f"/manage/events/{door.event}/attendees/{door.ada_person}/check-in"
    post_form(organiser, url)
    first = attendee(app, door.ada_person).checked_in_at

    response = post_form(organiser, url, headers=htmx(target=f"party-{door.ada}"))

    assert response.status_code == 200
    assert "Ada was checked in already." in text(response)
    assert attendee(app, door.ada_person).checked_in_at == first


def test_undo_and_undo_again(app, organiser, door):
    post_form(organiser, f"/manage/events/{door.event}/attendees/{door.ada_person}/check-in")
    url = f"/manage/events/{door.event}/attendees/{door.ada_person}/undo"

    response = post_form(organiser, url, headers=htmx(target=f"party-{door.ada}"))

    assert response.status_code == 200 and response.headers["HX-Trigger"] == "checkin-changed"
    assert "The check-in of Ada is undone." in text(response)
    ada = attendee(app, door.ada_person)
    assert ada.checked_in_at is None and ada.checked_in_by_id is None
    again = post_form(organiser, url)
    assert again.status_code == 303
    assert "Ada was not checked in." in text(organiser.get(again.headers["Location"]))


def test_check_in_a_whole_party_and_undo_it(app, organiser, door):
    post_form(organiser, f"/manage/events/{door.event}/attendees/{door.ada_person}/check-in")
    url = f"/manage/events/{door.event}/parties/{door.ada}/check-in"

    response = post_form(organiser, url, headers=htmx(target=f"party-{door.ada}"))

    assert "1 person of the party of Ada Lovelace is checked in." in text(response)
    assert "Undo all" in text(response)
    assert attendee(app, door.bob_person).checked_in_at is not None
    again = post_form(organiser, url, headers=htmx(target=f"party-{door.ada}"))
    assert "Everyone of the party of Ada Lovelace was checked in already." in text(again)

    undone = post_form(
        organiser,
        f"/manage/events/{door.event}/parties/{door.ada}/undo",
        headers=htmx(target=f"party-{door.ada}"),
    )
    assert "The check-in of 2 people of the party of Ada Lovelace is undone." in text(undone)
    assert attendee(app, door.ada_person).checked_in_at is None
    assert attendee(app, door.bob_person).checked_in_at is None


def test_nobody_on_the_waiting_list_or_cancelled_is_checked_in(app, organiser, door):
    response = post_form(
        organiser,
        f"/manage/events/{door.event}/attendees/{door.gus_person}/check-in",
        headers=htmx(target=f"party-{door.gus}"),
    )
    assert response.status_code == 422
    assert "Gus is on the waiting list: they have no place to check in." in text(response)
    assert "HX-Trigger" not in response.headers
    party = post_form(organiser, f"/manage/events/{door.event}/parties/{door.gus}/check-in")
    assert party.status_code == 303
    assert "This party is on the waiting list" in text(organiser.get(party.headers["Location"]))
    assert attendee(app, door.gus_person).checked_in_at is None

    with app.app_context():
        registrations.cancel_attendee(db.session.get(Attendee, door.bob_person))
        db.session.commit()
    refused = post_form(
        organiser, f"/manage/events/{door.event}/attendees/{door.bob_person}/check-in"
    )
    assert "The place of Bob is cancelled: they cannot be checked in." in text(
        organiser.get(refused.headers["Location"])
    )
    assert attendee(app, door.bob_person).checked_in_at is None


def test_a_person_of_another_event_is_not_found(app, organiser, door):
    with app.app_context():
        other = make_event("ander", "Ander feest", collective_id=door.host)
        stranger = make_registration(other, ["Zed"], email="zed@example.org")
        stranger_id, party_id = stranger.attendees[0].id, stranger.id
    base = f"/manage/events/{door.event}"
    assert post_form(organiser, f"{base}/attendees/{stranger_id}/check-in").status_code == 404
    assert post_form(organiser, f"{base}/parties/{party_id}/check-in").status_code == 404
    assert organiser.get(f"{base}/parties/{party_id}/door-payment").status_code == 404
    assert attendee(app, stranger_id).checked_in_at is None


def test_two_volunteers_checking_in_the_same_person_at_once_record_one_check_in(app, auth, door):
    """Two phones, two sessions, the same tap at the same moment."""
    phones = [app.test_client(), app.test_client()]
    for phone, email in zip(phones, (ORGANISER, HELPER), strict=True):
        phone.get("/auth/login?lang=en")
        post_form(phone, "/auth/login", {"email": email, "password": "correct horse battery"})
    url = f"/manage/events/{door.event}/attendees/{door.ada_person}/check-in"
    tokens = [
        re.search(r'name="csrf_token" value="([^"]+)"', text(phone.get(door.list))).group(1)
        for phone in phones
    ]
    barrier = threading.Barrier(2)
    answers = [None, None]

    def tap(index):
        barrier.wait(timeout=10)
        answers[index] = phones[index].post(
            url, headers={"X-CSRFToken": tokens[index], **htmx(target=f"party-{door.ada}")}
        )

    threads = [threading.Thread(target=tap, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [answer.status_code for answer in answers] == [200, 200]
    messages = sorted(
        re.search(r'hx-swap-oob="innerHTML">([^<]+)<', text(answer)).group(1) for answer in answers
    )
    assert messages == ["Ada is checked in.", "Ada was checked in already."]
    with app.app_context():
        helper = db.session.scalar(sa.select(User.id).where(User.email == HELPER))
    ada = attendee(app, door.ada_person)
    assert ada.checked_in_by_id in (door.organiser, helper)
    with app.app_context():
        summary = attendance.summary(db.session.get(Event, door.event))
    assert summary.checked_in == 1


def test_each_volunteer_sees_the_others_check_ins(app, auth, client, door):
    other = app.test_client()
    other.get("/auth/login?lang=en")
    post_form(other, "/auth/login", {"email": HELPER, "password": "correct horse battery"})
    log_in(client, auth)

    post_form(other, f"/manage/events/{door.event}/attendees/{door.ada_person}/check-in")

    polled = text(client.get(door.list, headers=htmx(trigger="attendee-list")))
    ada = polled[polled.index("Ada Lovelace") : polled.index(">chris<")]
    assert "by Henk Helper" in ada
    numbers = text(
        client.get(f"/manage/events/{door.event}/attendees/counters", headers=htmx("x", "x"))
    )
    assert counters(numbers)["Checked in"] == 1


# ---------------------------------------------------------------------------------------
# Scanning a ticket, and typing its code


def test_an_organiser_scanning_a_ticket_sees_the_party_and_checks_in(app, organiser, door):
    page = text(organiser.get(f"/t/{door.ada_ticket}"))

    assert "At the door" in page and "Diner: Vegan" in page and "No nuts, please" in page
    assert "To pay at the door €10.00" in page and "Bob: Diner" in page
    assert re.search(r"<button [^>]*>Check in<", page)
    response = post_form(
        organiser,
        f"/manage/events/{door.event}/attendees/{door.ada_person}/check-in",
        {"back": "ticket", "ticket_attendee": str(door.ada_person)},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/t/{door.ada_ticket}"
    after = text(organiser.get(response.headers["Location"]))
    assert "Ada is checked in." in after and "Checked in at" in after
    assert "Check in all 2" not in after
    assert attendee(app, door.ada_person).checked_in_by_id == door.organiser


def test_a_waiting_ticket_shows_the_organiser_why_there_is_no_check_in(organiser, door):
    page = text(organiser.get(f"/t/{door.gus_ticket}"))
    assert "At the door" in page
    assert "This party is on the waiting list: they have no place to check in." in page
    assert "button-checkin" not in page


@pytest.mark.parametrize("who", ["anonymous", "member", "other organiser"])
def test_anyone_else_sees_only_the_ticket(app, client, auth, door, who):
    with app.app_context():
        if who == "member":
            make_user(email="member@example.org")
        if who == "other organiser":
            make_organiser(make_collective("ander", "Ander"), email="other@example.org")
    if who != "anonymous":
        log_in(client, auth, {"member": "member@example.org"}.get(who, "other@example.org"))

    page = text(client.get(f"/t/{door.ada_ticket}?lang=en"))

    assert "Ticket of Ada" in page and "Ticket code" in page
    assert "At the door" not in page and "Check in" not in page and "€10.00" not in page


def test_a_typed_code_opens_the_ticket(app, organiser, door):
    short = attendance.short_code(attendee(app, door.ada_person))
    url = f"/manage/events/{door.event}/check-in"
    assert "Ticket code" in text(organiser.get(url))

    found = organiser.get(url, query_string={"code": f" {short} "})
    assert found.status_code == 302 and found.headers["Location"] == f"/t/{door.ada_ticket}"
    typed = organiser.get(url, query_string={"code": short.upper()})  # capitals on a phone
    assert typed.headers["Location"] == f"/t/{door.ada_ticket}"

    wrong = organiser.get(url, query_string={"code": "12345-abcdef"})
    assert wrong.status_code == 422
    assert "No ticket of this event has this code." in text(wrong)
    assert 'value="12345-abcdef"' in text(wrong)


def test_a_typed_code_of_another_event_is_not_found_here(app, organiser, door):
    with app.app_context():
        other = make_event("ander", "Ander", collective_id=door.host)
        zed = make_registration(other, ["Zed"], email="zed@example.org").attendees[0]
        code = zed.ticket
    response = organiser.get(f"/manage/events/{door.event}/check-in", query_string={"code": code})
    assert response.status_code == 422


def test_every_check_in_and_undo_is_kept_with_who_and_when(app):
    with app.app_context():
        event = make_event(capacity=10)
        registration = make_registration(event, people=("Ada", "Bob"))
        volunteer = make_user(email="volunteer@example.org", is_admin=True)
        ada, bob = (person.id for person in registration.attendees)
        assert attendance.check_in(event, ada, volunteer).changed == [ada]
        assert attendance.check_in(event, ada, volunteer).changed == []  # in already: no record
        assert attendance.undo_check_in(event, ada, volunteer).changed == [ada]
        assert attendance.check_in_party(event, registration.id, volunteer).changed == [ada, bob]
        assert attendance.undo_party(event, registration.id, volunteer).changed == [ada, bob]
        assert attendance.undo_party(event, registration.id, volunteer).changed == []
        db.session.commit()
        trail = db.session.execute(
            sa.select(
                CheckInRecord.attendee_id, CheckInRecord.action, CheckInRecord.by_id
            ).order_by(CheckInRecord.id)
        ).all()
        assert [tuple(row) for row in trail] == [
            (ada, "check_in", volunteer.id),
            (ada, "undo", volunteer.id),
            (ada, "check_in", volunteer.id),
            (bob, "check_in", volunteer.id),
            (ada, "undo", volunteer.id),
            (bob, "undo", volunteer.id),
        ]


def test_a_check_in_through_another_event_changes_nothing(app):
    """The services take the event the organiser manages: its id must own the person."""
    with app.app_context():
        event, other = make_event(capacity=10), make_event("ander", "Ander", capacity=10)
        party = make_registration(event, people=("Ada", "Bob"))
        ada = party.attendees[0]
        ada.checked_in_at = utcnow()
        db.session.commit()
        volunteer = make_user(email="volunteer@example.org", is_admin=True)
        bob_id, ada_id = party.attendees[1].id, ada.id

        assert attendance.check_in(other, bob_id, volunteer) is None
        assert attendance.check_in_party(other, party.id, volunteer) is None
        assert attendance.undo_check_in(other, ada_id, volunteer) is None
        assert attendance.undo_party(other, party.id, volunteer) is None
        db.session.commit()

        assert db.session.get(Attendee, bob_id).checked_in_at is None
        assert db.session.get(Attendee, ada_id).checked_in_at is not None
        assert db.session.scalar(sa.select(sa.func.count(CheckInRecord.id))) == 0
