"""The event's reminder setting on the organisers' form (`reminder_hours`), and
`coop send-reminders`, which sends the reminders and kitchen summaries that are due."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Event, OutboxMessage, Registration, utcnow
from tests.conftest import post_form
from tests.factories import make_admin, make_event, make_registration
from tests.test_manage_events import event_data, log_in, page_of, value_of, world

__all__ = ["world"]  # the fixture, shared with test_manage_events


def saved_hours(title: str = "Repair café") -> int:
    return db.session.scalar(sa.select(Event.reminder_hours).where(Event.title == title))


@pytest.mark.parametrize(
    ("typed", "saved"),
    [("48", 48), ("0", 0), ("336", 336), ("", 24), (None, 24)],
    ids=["two days", "none", "two weeks", "empty", "not posted"],
)
def test_the_organiser_sets_the_reminder_hours(app, client, auth, world, typed, saved):
    log_in(client, auth, "host_organiser")
    data = event_data(world.host_id)
    if typed is not None:
        data["reminder_hours"] = typed
    response = post_form(client, "/manage/events/new", data)
    assert response.status_code == 303
    with app.app_context():
        assert saved_hours() == saved


def test_the_form_shows_the_setting_with_its_hint(app, client, auth, world):
    log_in(client, auth, "host_organiser")
    page = page_of(client.get("/manage/events/new"))
    assert value_of(page, "reminder_hours") == "24"
    assert '<label for="reminder_hours">Reminder e-mail, hours before the start' in page
    assert "0: no reminder." in page
    with app.app_context():
        db.session.get(Event, world.event_id).reminder_hours = 3
        db.session.commit()
    page = page_of(client.get(f"/manage/events/{world.event_id}/edit"))
    assert value_of(page, "reminder_hours") == "3"


def test_changing_the_setting_of_an_event(app, client, auth, world):
    log_in(client, auth, "host_organiser")
    data = {
        **event_data(world.host_id, title="Buurtdiner", slug="buurtdiner"),
        "meals-0-name": "Diner",
        "meals-0-price": "5",
        "reminder_hours": "0",
    }
    response = post_form(client, f"/manage/events/{world.event_id}/edit", data)
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Event, world.event_id).reminder_hours == 0


BAD_HOURS = {
    "negative": ("-1", "Please write a number of hours from 0 to 336."),
    "more than two weeks": ("337", "Please write a number of hours from 0 to 336."),
    "huge": ("99999999999999999999", "Please write a number of hours from 0 to 336."),
    "words": ("een dag", "Please write a whole number, like 40."),
    "a fraction": ("1.5", "Please write a whole number, like 40."),
}


@pytest.mark.parametrize("case", BAD_HOURS, ids=list(BAD_HOURS))
def test_bad_hours_are_refused_next_to_the_field_with_the_typing_kept(
    app, client, auth, world, case
):
    typed, message = BAD_HOURS[case]
    log_in(client, auth, "host_organiser")
    data = event_data(world.host_id, reminder_hours=typed)

    response = post_form(client, "/manage/events/new", data)

    assert response.status_code == 422
    page = page_of(response)
    error = re.search(r'<p[^>]* id="reminder_hours-error">([^<]*)</p>', page)
    assert error and message in error.group(1)
    assert re.search(r'<input[^>]*autofocus[^>]*id="reminder_hours"', page)
    assert value_of(page, "reminder_hours") == typed
    assert value_of(page, "title") == "Repair café"
    with app.app_context():
        assert saved_hours() is None


def test_bad_hours_in_dutch(app, client, auth, world):
    client.get("/?lang=nl")
    auth.login(email="host@example.org")
    response = post_form(
        client, "/manage/events/new", event_data(world.host_id, reminder_hours="-5")
    )
    assert response.status_code == 422
    assert "Vul een aantal uren van 0 tot en met 336 in." in page_of(response)


def test_the_command_sends_what_is_due_once(app, runner):
    with app.app_context():
        make_admin()
        event = make_event(starts_in=timedelta(hours=3), meals=[{}])
        make_registration(event, ["Ada"], email="ada@example.org", now=utcnow() - timedelta(days=2))
        make_registration(event, ["Bea"], email="bea@example.org")  # just now: none
        db.session.execute(sa.delete(OutboxMessage))
        db.session.commit()

    result = runner.invoke(args=["coop", "send-reminders"])
    assert result.exit_code == 0, result.output
    assert "Reminded 1 registrations and 0 volunteers, sent 1 kitchen summaries." in result.output
    again = runner.invoke(args=["coop", "send-reminders"])
    assert "Reminded 0 registrations and 0 volunteers, sent 0 kitchen summaries." in again.output
    with app.app_context():
        assert sorted(db.session.scalars(sa.select(OutboxMessage.to_address))) == [
            "ada@example.org",
            "admin@example.org",
        ]
        reminded = db.session.scalars(
            sa.select(Registration.contact_email).where(Registration.reminded_at.is_not(None))
        ).all()
        assert reminded == ["ada@example.org"]
