"""Reminders before an event (`services/reminders.send_event_reminders`), on a frozen
clock: who gets one and when, what it says, delivered once through the outbox, also when
two workers run at the same moment."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Event,
    EventStatus,
    OutboxMessage,
    Registration,
    RegistrationStatus,
)
from cooperative.services import events as event_service
from cooperative.services import mail
from cooperative.services import registration as registrations
from cooperative.services.registration import PersonChoice
from cooperative.services.reminders import send_event_reminders
from tests.conftest import body_of
from tests.factories import make_event, make_registration
from tests.reminder_fixtures import SECOND, run_at_once


def reminder_mails(to: str | None = None) -> list[OutboxMessage]:
    """The reminders and "still waiting" mails in the outbox (to `to`), oldest first."""
    query = sa.select(OutboxMessage).where(
        OutboxMessage.subject.startswith("Herinnering")
        | OutboxMessage.subject.startswith("Reminder")
        | OutboxMessage.subject.startswith("Nog op de wachtlijst")
        | OutboxMessage.subject.startswith("Still on the waiting list")
    )
    if to is not None:
        query = query.where(OutboxMessage.to_address == to)
    return db.session.scalars(query.order_by(OutboxMessage.id)).all()


@pytest.fixture
def dinner(app):
    """Buurtdiner in 7 days (reminder 24 h before), a dinner with diets, 3 seats:
    Ada (English) with Bob, both eating; Chris (Dutch), not eating; Gus waiting."""
    with app.app_context():
        event = make_event(
            capacity=3,
            address="Javaplein 21, Amsterdam",
            meals=[{"name": "Diner vanaf 17:30", "capacity": 10}],
        )
        meal = event.meal_options[0].id
        ada = make_registration(
            event,
            [
                PersonChoice("Ada", meal, ["vegan"]),
                PersonChoice("Bob", meal, ["halal", "vegetarian"]),
            ],
            email="ada@example.org",
            contact_name="Ada Lovelace",
            locale="en",
        )
        chris = make_registration(event, ["Chris"], email="chris@example.org")
        gus = make_registration(event, ["Gus"], email="gus@example.org", join_waitlist=True)
        assert gus.status == RegistrationStatus.WAITLISTED
        db.session.execute(sa.delete(OutboxMessage))  # the confirmations
        db.session.commit()
        return {
            "event": event.id,
            "meal": meal,
            "remind_at": event.starts_at - timedelta(hours=24),
            "starts_at": event.starts_at,
            "ada": ada.id,
            "chris": chris.id,
            "gus": gus.id,
        }


def test_nobody_is_reminded_just_before_the_reminder_time(app, dinner):
    with app.app_context():
        assert send_event_reminders(dinner["remind_at"] - SECOND) == 0
        assert reminder_mails() == []
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(Registration.reminded_at.is_not(None))
            )
            == 0
        )


def test_at_exactly_the_reminder_time_every_party_is_reminded_once(app, dinner):
    now = dinner["remind_at"]
    with app.app_context():
        assert send_event_reminders(now) == 3
        assert [m.to_address for m in reminder_mails()] == [
            "ada@example.org",
            "chris@example.org",
            "gus@example.org",
        ]
        reminded = db.session.scalars(sa.select(Registration.reminded_at)).all()
        assert reminded == [now, now, now]
        # Again later, and again: nothing more.
        assert send_event_reminders(now + timedelta(minutes=5)) == 0
        assert send_event_reminders(dinner["starts_at"] - SECOND) == 0
        assert len(reminder_mails()) == 3


def test_a_late_worker_still_reminds_before_the_start_but_not_after(app, dinner):
    with app.app_context():
        assert send_event_reminders(dinner["starts_at"]) == 0
        assert reminder_mails() == []
        assert send_event_reminders(dinner["starts_at"] - SECOND) == 3


def test_the_event_setting_moves_the_reminder_and_zero_means_none(app, dinner):
    with app.app_context():
        event = db.session.get(Event, dinner["event"])
        event.reminder_hours = 48
        db.session.commit()
        two_days = dinner["starts_at"] - timedelta(hours=48)
        assert send_event_reminders(two_days - SECOND) == 0
        assert send_event_reminders(two_days) == 3

    with app.app_context():
        other = make_event("stil", "Stille avond", reminder_hours=0)
        make_registration(other, ["Dora"], email="dora@example.org")
        for hours in (48, 24, 1, 0.001):
            assert send_event_reminders(other.starts_at - timedelta(hours=hours)) == 0
        assert reminder_mails("dora@example.org") == []


def test_the_reminder_has_the_link_address_time_and_what_each_person_eats(app, dinner):
    with app.app_context():
        send_event_reminders(dinner["remind_at"])
        [mail_to_ada] = reminder_mails("ada@example.org")
        ada = db.session.get(Registration, dinner["ada"])
        assert mail_to_ada.subject == "Reminder: Buurtdiner"
        body = mail_to_ada.body_text
        assert "A reminder: you are coming to Buurtdiner" in body
        assert f"http://localhost/r/{ada.token}" in body
        assert "Javaplein 21, Amsterdam" in body
        assert "- Ada: Diner vanaf 17:30 (Vegan)" in body
        assert "- Bob: Diner vanaf 17:30 (Vegetarian, Halal)" in body
        # The tickets come with it, as in the confirmation.
        assert "Ticket of Ada" in mail_to_ada.body_html

        [mail_to_chris] = reminder_mails("chris@example.org")  # Dutch, like the site
        assert mail_to_chris.subject == "Herinnering: Buurtdiner"
        assert "- Chris\n" in mail_to_chris.body_text


def test_the_time_in_the_reminder_is_amsterdam_time(app):
    from tests.factories import amsterdam_time, make_event_at

    with app.app_context():
        starts = amsterdam_time(days=5, hour=17, minute=30)
        event = make_event_at("om-half-zes", "Om half zes", starts)
        make_registration(event, ["Ada"], email="ada@example.org", locale="en")
        send_event_reminders(event.reminder_at)
        [message] = reminder_mails("ada@example.org")
        assert "at 17:30" in message.body_text
        assert "17:30 - 19:30" in message.body_text


def test_the_waiting_list_hears_it_is_still_waiting_with_the_link_to_leave(app, dinner):
    with app.app_context():
        send_event_reminders(dinner["remind_at"])
        [message] = reminder_mails("gus@example.org")
        gus = db.session.get(Registration, dinner["gus"])
        assert message.subject == "Nog op de wachtlijst: Buurtdiner"
        body = message.body_text
        assert "nog op de wachtlijst, op nummer 1" in body
        assert f"http://localhost/r/{gus.token}" in body
        assert "Ticket" not in message.body_html and message.body_html == ""
        assert gus.status == RegistrationStatus.WAITLISTED  # nothing else changed


def test_the_waiting_list_mail_in_english(app, dinner):
    with app.app_context():
        db.session.get(Registration, dinner["gus"]).locale = "en"
        db.session.commit()
        send_event_reminders(dinner["remind_at"])
        [message] = reminder_mails("gus@example.org")
        assert message.subject == "Still on the waiting list: Buurtdiner"
        assert "still on the waiting list, at place 1" in message.body_text
        assert "Leave the waiting list with this link:" in message.body_text


def test_no_reminder_after_a_cancellation(app, dinner):
    with app.app_context():
        registrations.cancel(db.session.get(Registration, dinner["chris"]))
        db.session.commit()
        # Chris's seat went to Gus, who is confirmed now: Gus gets the usual reminder.
        assert db.session.get(Registration, dinner["gus"]).status == RegistrationStatus.CONFIRMED
        send_event_reminders(dinner["remind_at"])
        assert reminder_mails("chris@example.org") == []
        assert [m.subject for m in reminder_mails("gus@example.org")] == ["Herinnering: Buurtdiner"]
        assert db.session.get(Registration, dinner["chris"]).reminded_at is None


def test_a_cancelled_event_reminds_nobody(app, dinner):
    with app.app_context():
        event_service.cancel_event(db.session.get(Event, dinner["event"]))
        db.session.commit()
        assert send_event_reminders(dinner["remind_at"]) == 0
        assert reminder_mails() == []


@pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.CANCELLED])
def test_an_event_not_published_reminds_nobody_even_with_parties_left(app, dinner, status):
    with app.app_context():
        db.session.get(Event, dinner["event"]).status = status
        db.session.commit()
        assert send_event_reminders(dinner["remind_at"]) == 0
        assert reminder_mails() == []


def test_a_party_still_paying_online_is_not_reminded(app, dinner):
    with app.app_context():
        ada = db.session.get(Registration, dinner["ada"])
        ada.status = RegistrationStatus.PENDING_PAYMENT
        db.session.commit()
        assert send_event_reminders(dinner["remind_at"]) == 2
        assert reminder_mails("ada@example.org") == []
        # Paid a little later, before the start: reminded then.
        ada.status = RegistrationStatus.CONFIRMED
        db.session.commit()
        assert send_event_reminders(dinner["remind_at"] + timedelta(minutes=10)) == 1
        assert len(reminder_mails("ada@example.org")) == 1


def test_who_registers_at_or_after_the_reminder_time_gets_no_reminder(app, dinner):
    remind_at = dinner["remind_at"]
    with app.app_context():
        event = db.session.get(Event, dinner["event"])
        event.capacity = 10
        db.session.commit()
        before = make_registration(
            event, ["Vroeg"], email="early@example.org", now=remind_at - SECOND
        )
        at = make_registration(event, ["Precies"], email="exact@example.org", now=remind_at)
        after = make_registration(
            event, ["Laat"], email="late@example.org", now=remind_at + timedelta(hours=1)
        )
        assert send_event_reminders(remind_at + timedelta(hours=2)) == 4
        assert len(reminder_mails("early@example.org")) == 1
        assert reminder_mails("exact@example.org") == []
        assert reminder_mails("late@example.org") == []
        assert db.session.get(Registration, at.id).reminded_at is None
        assert db.session.get(Registration, after.id).reminded_at is None
        assert db.session.get(Registration, before.id).reminded_at is not None


def test_promoted_after_the_still_waiting_mail_no_second_reminder(app, dinner):
    with app.app_context():
        send_event_reminders(dinner["remind_at"])
        registrations.cancel(db.session.get(Registration, dinner["chris"]))
        db.session.commit()
        gus = db.session.get(Registration, dinner["gus"])
        assert gus.status == RegistrationStatus.CONFIRMED
        assert send_event_reminders(dinner["remind_at"] + timedelta(hours=1)) == 0
        subjects = db.session.scalars(
            sa.select(OutboxMessage.subject)
            .where(OutboxMessage.to_address == "gus@example.org")
            .order_by(OutboxMessage.id)
        ).all()
        assert subjects == ["Nog op de wachtlijst: Buurtdiner", "Er is plek voor je: Buurtdiner"]


def test_two_workers_at_once_remind_each_party_once(app, dinner):
    with app.app_context():
        event = db.session.get(Event, dinner["event"])
        event.capacity = None
        db.session.commit()
        for number in range(12):
            make_registration(event, [f"Buur {number}"], email=f"buur{number}@example.org")
        db.session.execute(sa.delete(OutboxMessage))  # their confirmations
        db.session.commit()
        expected = db.session.scalar(sa.select(sa.func.count(Registration.id)))

    results = run_at_once(app, send_event_reminders, dinner["remind_at"], workers=3)

    assert sum(results) == expected == 15
    with app.app_context():
        per_address = db.session.execute(
            sa.select(OutboxMessage.to_address, sa.func.count()).group_by(OutboxMessage.to_address)
        ).all()
        assert len(per_address) == expected
        assert {count for _address, count in per_address} == {1}


def test_reminders_are_delivered_through_the_outbox(app, dinner, smtp_server):
    with app.app_context():
        send_event_reminders(dinner["remind_at"])
        db.session.commit()
        sent, failed = mail.send_pending()
    assert (sent, failed) == (3, 0)
    [message] = smtp_server.to("ada@example.org")
    assert message["Subject"] == "Reminder: Buurtdiner"
    assert "Javaplein 21, Amsterdam" in body_of(message)
    assert "buurtdiner.ics" in [part.get_filename() for part in message.iter_attachments()]
    [waiting] = smtp_server.to("gus@example.org")
    assert "nog op de wachtlijst" in body_of(waiting)
