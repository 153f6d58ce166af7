"""The kitchen's summary e-mailed to the organisers when sign-up for the meals closes
(`services/reminders.send_kitchen_summaries`), on a frozen clock: when, to whom, what it
counts, and once, also with several workers at the same moment."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import (
    Attendee,
    Event,
    EventStatus,
    OutboxMessage,
    RegistrationStatus,
)
from cooperative.services import mail
from cooperative.services import registration as registrations
from cooperative.services.registration import PersonChoice
from cooperative.services.reminders import kitchen_recipients, send_kitchen_summaries
from tests.conftest import body_of
from tests.factories import (
    make_admin,
    make_collective,
    make_event,
    make_organiser,
    make_registration,
)
from tests.reminder_fixtures import SECOND, run_at_once


def kitchen_mails(to: str | None = None) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).where(
        OutboxMessage.subject.startswith("Overzicht voor de keuken")
        | OutboxMessage.subject.startswith("Kitchen summary")
    )
    if to is not None:
        query = query.where(OutboxMessage.to_address == to)
    return db.session.scalars(query.order_by(OutboxMessage.id)).all()


@pytest.fixture
def kitchen(app):
    """Buurtdiner of Zonnedak in 7 days, 5 seats, a dinner (sign-up until 3 days before)
    and a soup (until 2 days before). Organisers Olga (Dutch) and Henk (English); an
    admin and another collective's organiser who are not this event's.

    - Eve (vegetarian + halal) and Finn: dinner
    - Ada (vegan, "No nuts, please"): dinner; Bob: soup; Carl (vegan): dinner, cancelled
    - Gus and Guus: dinner, on the waiting list
    """
    with app.app_context():
        host = make_collective("zonnedak", "Zonnedak")
        other = make_collective("voedselbank", "Voedselbank")
        make_organiser(host, email="olga@example.org", name="Olga")
        make_organiser(host, email="henk@example.org", name="Henk", locale="en")
        make_organiser(other, email="other@example.org", name="Otto")
        make_admin()
        event = make_event(capacity=5, collective_id=host.id, meals=[{}, {}])
        starts = event.starts_at
        dinner, soup = event.meal_options
        dinner.name, dinner.signup_deadline = "Diner", starts - timedelta(days=3)
        soup.name, soup.signup_deadline = "Soep", starts - timedelta(days=2)
        db.session.commit()
        make_registration(
            event,
            [
                PersonChoice("Eve", dinner.id, ["vegetarian", "halal"]),
                PersonChoice("Finn", dinner.id),
            ],
            email="eve@example.org",
        )
        ada = make_registration(
            event,
            [
                PersonChoice("Ada", dinner.id, ["vegan"], "No nuts, please"),
                PersonChoice("Bob", soup.id),
                PersonChoice("Carl", dinner.id, ["vegan"]),
            ],
            email="ada@example.org",
        )
        registrations.cancel_attendee(ada.attendees[2])
        db.session.commit()
        gus = make_registration(
            event,
            [PersonChoice("Gus", dinner.id), PersonChoice("Guus", dinner.id)],
            email="gus@example.org",
            join_waitlist=True,
        )
        assert gus.status == RegistrationStatus.WAITLISTED
        db.session.execute(sa.delete(OutboxMessage))  # the confirmations
        db.session.commit()
        return {
            "event": event.id,
            "starts_at": starts,
            "first_deadline": dinner.signup_deadline,
            "last_deadline": soup.signup_deadline,
        }


def test_sent_when_the_last_meal_closes_not_before(app, kitchen):
    with app.app_context():
        assert send_kitchen_summaries(kitchen["first_deadline"]) == 0
        assert send_kitchen_summaries(kitchen["last_deadline"] - SECOND) == 0
        assert kitchen_mails() == []

        assert send_kitchen_summaries(kitchen["last_deadline"]) == 1
        assert sorted(m.to_address for m in kitchen_mails()) == [
            "henk@example.org",
            "olga@example.org",
        ]
        event = db.session.get(Event, kitchen["event"])
        assert event.kitchen_summary_sent_at == kitchen["last_deadline"]


def test_it_counts_meals_per_diet_with_the_notes_and_leaves_out_the_rest(app, kitchen):
    with app.app_context():
        send_kitchen_summaries(kitchen["last_deadline"])
        [dutch] = kitchen_mails("olga@example.org")
        [english] = kitchen_mails("henk@example.org")
    assert dutch.subject == "Overzicht voor de keuken: Buurtdiner"
    assert english.subject == "Kitchen summary: Buurtdiner"
    body = english.body_text
    assert "Hello Henk," in body
    dinner = body.split("Diner: ")[1].split("Soep: ")[0]
    # Eve, Finn and Ada; not Carl (cancelled), not Gus and Guus (waiting).
    assert dinner.startswith("3 meals\n")
    assert "- Vegetarian + Halal: 1\n" in dinner
    assert "- Vegan: 1\n" in dinner
    assert "- No special diet: 1\n" in dinner
    assert "Notes for the kitchen:\n- Ada: No nuts, please\n" in dinner
    soup = body.split("Soep: ")[1]
    assert soup.startswith("1 meal\n- No special diet: 1\n")
    assert "2 people are on the waiting list; their meals are not counted." in body
    assert f"http://localhost/manage/events/{kitchen['event']}/kitchen" in body
    assert "3 maaltijden" in dutch.body_text and "- Vegetarisch + Halal: 1" in dutch.body_text
    assert "Opmerkingen voor de keuken:\n- Ada: No nuts, please" in dutch.body_text


def test_the_counts_are_those_at_the_time_it_is_sent(app, kitchen):
    with app.app_context():
        finn = db.session.scalar(sa.select(Attendee).where(Attendee.name == "Finn"))
        registrations.cancel_attendee(finn)  # two seats free: Gus and Guus come
        db.session.commit()
        send_kitchen_summaries(kitchen["last_deadline"])
        [message] = kitchen_mails("henk@example.org")
    assert "Diner: 4 meals\n" in message.body_text
    assert "- No special diet: 2\n" in message.body_text.split("Soep")[0]
    assert "waiting list" not in message.body_text


def test_sent_once_however_often_and_however_many_workers(app, kitchen):
    results = run_at_once(app, send_kitchen_summaries, kitchen["last_deadline"], workers=3)
    assert sorted(results) == [0, 0, 1]
    with app.app_context():
        assert len(kitchen_mails()) == 2
        assert send_kitchen_summaries(kitchen["last_deadline"] + timedelta(hours=1)) == 0
        assert send_kitchen_summaries(kitchen["starts_at"] - SECOND) == 0
        assert len(kitchen_mails()) == 2


def test_a_late_worker_sends_it_before_the_start_not_after(app, kitchen):
    with app.app_context():
        assert send_kitchen_summaries(kitchen["starts_at"]) == 0
        assert send_kitchen_summaries(kitchen["starts_at"] - SECOND) == 1


@pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.CANCELLED])
def test_nothing_for_an_event_not_published(app, kitchen, status):
    with app.app_context():
        db.session.get(Event, kitchen["event"]).status = status
        db.session.commit()
        assert send_kitchen_summaries(kitchen["last_deadline"]) == 0
        assert kitchen_mails() == []


def test_nothing_for_an_event_without_meals(app, kitchen):
    with app.app_context():
        plain = make_event(
            "lezing", "Lezing", collective_id=db.session.get(Event, kitchen["event"]).collective_id
        )
        assert plain.kitchen_summary_at is None
        assert send_kitchen_summaries(plain.starts_at - timedelta(hours=1)) == 1  # Buurtdiner
        assert {m.subject for m in kitchen_mails()} == {
            "Overzicht voor de keuken: Buurtdiner",
            "Kitchen summary: Buurtdiner",
        }
        assert plain.kitchen_summary_sent_at is None


def test_meals_without_a_deadline_close_for_the_kitchen_at_the_reminder_time(app):
    with app.app_context():
        event = make_event(meals=[{}])
        starts = event.starts_at
        assert event.kitchen_summary_at == starts - timedelta(hours=24)
        event.reminder_hours = 6
        assert event.kitchen_summary_at == starts - timedelta(hours=6)
        event.reminder_hours = 0  # no reminders: still a day before
        assert event.kitchen_summary_at == starts - timedelta(hours=24)
        event.registration_closes_at = starts - timedelta(hours=48)  # closes sooner
        assert event.kitchen_summary_at == starts - timedelta(hours=48)
        event.registration_closes_at = None
        event.reminder_hours = 24
        # A meal with a deadline before the reminder time waits for the one without.
        event.meal_options.append(
            type(event.meal_options[0])(
                name="Lunch", position=1, signup_deadline=starts - timedelta(days=3)
            )
        )
        assert event.kitchen_summary_at == starts - timedelta(hours=24)
        db.session.commit()
        make_admin()
        assert send_kitchen_summaries(starts - timedelta(hours=24) - SECOND) == 0
        assert send_kitchen_summaries(starts - timedelta(hours=24)) == 1


def test_without_organisers_the_admins_get_it(app):
    with app.app_context():
        lonely = make_collective("eenzaam", "Eenzaam")
        own = make_event("eigen", "Eigen diner", meals=[{}])
        hosted = make_event("gehost", "Gehost diner", collective_id=lonely.id, meals=[{}])
        admin = make_admin()
        assert [user.email for user in kitchen_recipients(own)] == [admin.email]
        assert [user.email for user in kitchen_recipients(hosted)] == [admin.email]
        make_organiser(lonely, email="lena@example.org")
        assert [user.email for user in kitchen_recipients(hosted)] == ["lena@example.org"]
        later = max(own.starts_at, hosted.starts_at)
        assert send_kitchen_summaries(later - timedelta(hours=24)) == 2
        assert sorted(m.to_address for m in kitchen_mails()) == [
            "admin@example.org",
            "lena@example.org",
        ]


def test_the_summary_is_delivered_through_the_outbox(app, kitchen, smtp_server):
    with app.app_context():
        send_kitchen_summaries(kitchen["last_deadline"])
        assert mail.send_pending() == (2, 0)
    [message] = smtp_server.to("olga@example.org")
    assert message["Subject"] == "Overzicht voor de keuken: Buurtdiner"
    assert "Diner: 3 maaltijden" in body_of(message)
    assert smtp_server.to("other@example.org") == smtp_server.to("admin@example.org") == []
