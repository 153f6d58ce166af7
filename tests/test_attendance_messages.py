"""The organisers' messages to the parties, through the outbox."""

import pytest

from cooperative.extensions import db
from cooperative.models import (
    Event,
    Registration,
)
from cooperative.services import registration as registrations
from tests import attendance_fixtures
from tests.attendance_fixtures import (
    outbox,
    registration,
    text,
    walk_in,
)
from tests.conftest import post_form

door = attendance_fixtures.door
organiser = attendance_fixtures.organiser


# ---------------------------------------------------------------------------------------
# Messages


def test_a_message_goes_to_every_party_with_a_place_through_the_outbox(app, organiser, door):
    with app.app_context():
        db.session.get(Event, door.event).capacity = None
        db.session.commit()
    walk_in(organiser, door, name="Wim")  # no address: gets nothing
    form = text(organiser.get(f"/manage/events/{door.event}/message"))
    assert "Everyone with a place (3 parties)" in form
    assert "The waiting list (1 party)" in form

    response = post_form(
        organiser,
        f"/manage/events/{door.event}/message",
        {"audience": "confirmed", "subject": "Parkeren", "body": "Parkeer bij de kerk."},
    )

    assert response.status_code == 303
    assert "Your message is on its way to 3 parties." in text(
        organiser.get(response.headers["Location"])
    )
    messages = outbox(app)
    assert sorted(m.to_address for m in messages) == [
        "ada@example.org",
        "chris@example.org",
        "eve@example.org",
    ]
    ada = next(m for m in messages if m.to_address == "ada@example.org")
    assert ada.subject == "Buurtdiner: Parkeren"
    assert "Hallo Ada Lovelace," in ada.body_text  # in the party's own language
    assert "Parkeer bij de kerk." in ada.body_text
    assert f"/r/{registration(app, door.ada).token}" in ada.body_text


def test_a_message_to_the_waiting_list(app, organiser, door):
    post_form(
        organiser,
        f"/manage/events/{door.event}/message",
        {"audience": "waiting", "subject": "Nog even geduld", "body": "We laten het weten."},
    )
    assert [m.to_address for m in outbox(app)] == ["gus@example.org"]


def test_a_message_twice_by_a_double_click_goes_once(app, organiser, door):
    data = {"audience": "waiting", "subject": "Nog even geduld", "body": "We laten het weten."}
    post_form(organiser, f"/manage/events/{door.event}/message", data)

    again = post_form(organiser, f"/manage/events/{door.event}/message", data)

    assert again.status_code == 422
    assert "This message was sent a few minutes ago already." in text(again)
    assert len(outbox(app)) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"subject": "", "body": "Hoi"}, "Please write a subject."),
        ({"subject": "Hoi", "body": "   "}, "Please write your message."),
        (
            {"subject": "Hoi", "body": "Hoi", "audience": "everyone"},
            "Please choose who gets the message.",
        ),
    ],
)
def test_a_message_needs_a_subject_a_text_and_an_audience(app, organiser, door, data, message):
    response = post_form(
        organiser, f"/manage/events/{door.event}/message", {"audience": "confirmed", **data}
    )
    assert response.status_code == 422
    assert message in text(response)
    assert outbox(app) == []


def test_a_message_to_nobody_is_refused(app, organiser, door):
    with app.app_context():
        registrations.cancel(db.session.get(Registration, door.gus))
        db.session.commit()
    response = post_form(
        organiser,
        f"/manage/events/{door.event}/message",
        {"audience": "waiting", "subject": "Hoi", "body": "Hoi"},
    )
    assert response.status_code == 422 and "Nobody would get this message." in text(response)


def test_a_line_break_in_the_subject_cannot_reach_the_mail_header(app, organiser, door):
    post_form(
        organiser,
        f"/manage/events/{door.event}/message",
        {"audience": "waiting", "subject": "Nog even\r\nBcc: x@example.org", "body": "Hoi"},
    )
    [message] = outbox(app)
    assert message.subject == "Buurtdiner: Nog even Bcc: x@example.org"
