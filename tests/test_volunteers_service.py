"""Volunteer tasks and their slots, on the service functions: the rules at their edges
(exactly full, leave and rejoin, a cancelled or draft event, a task that has started),
one person once per task, the organiser's changes, the reminders, the calendar file."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from cooperative.extensions import db
from cooperative.i18n import local_zone
from cooperative.models import EventStatus, OutboxMessage, Task, TaskSignup, utcnow
from cooperative.refusals import Refused
from cooperative.services import privacy, volunteer_mail, volunteers
from tests.factories import make_event, make_member, make_user
from tests.volunteer_fixtures import guest_signup, make_task


def outbox_to(address: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.to_address == address)
            .order_by(OutboxMessage.id)
        )
    )


def test_exactly_full_then_refused(app):
    with app.app_context():
        task = make_task(make_event(), slots=2)
        guest_signup(task, "Een", "een@example.org")
        guest_signup(task, "Twee", "twee@example.org")
        assert task.slots_taken == 2 and task.is_full and task.slots_left == 0
        with pytest.raises(Refused) as refused:
            volunteers.sign_up(task, name="Drie", email="drie@example.org")
        assert refused.value.field == "task"
        assert str(refused.value) == str(volunteers.CLOSED_MESSAGES["full"])
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(TaskSignup.id))) == 2


def test_leave_frees_the_slot_and_the_person_may_rejoin(app):
    with app.app_context():
        task = make_task(make_event(), slots=1)
        first = guest_signup(task)
        assert volunteers.leave(first) is True
        db.session.commit()
        assert volunteers.leave(first) is False, "a second tap is harmless"
        assert task.slots_taken == 0
        again = guest_signup(task)  # the same address, a new slot
        assert again.id != first.id and again.is_active
        db.session.refresh(task)
        assert task.slots_taken == 1
        assert first.cancelled_at is not None


def test_one_person_once_per_task(app):
    with app.app_context():
        member = make_member("mia@example.org")
        task = make_task(make_event())
        other = make_task(task.event, name="Afwas", starts_after=None)
        volunteers.sign_up(task, user=member)
        db.session.commit()
        with pytest.raises(volunteers.AlreadySignedUp):
            volunteers.sign_up(task, user=member)
        db.session.rollback()
        # As a guest with the member's address, in other letters: the same person.
        with pytest.raises(volunteers.AlreadySignedUp):
            volunteers.sign_up(task, name="Mia", email="MIA@example.org ")
        db.session.rollback()
        guest_signup(task, "Gerda", "gerda@example.org")
        with pytest.raises(volunteers.AlreadySignedUp):
            volunteers.sign_up(task, name="G.", email="Gerda@Example.org")
        db.session.rollback()
        volunteers.sign_up(other, user=member)  # another task is fine
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(TaskSignup.id))) == 3


def test_a_guest_who_signed_up_first_is_the_member_later(app):
    with app.app_context():
        member = make_member("mia@example.org")
        task = make_task(make_event())
        guest_signup(task, "Mia", "mia@example.org")
        with pytest.raises(volunteers.AlreadySignedUp):
            volunteers.sign_up(task, user=member)


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (EventStatus.CANCELLED, "cancelled"),
        (EventStatus.DRAFT, "draft"),
    ],
)
def test_no_slots_at_an_event_that_is_not_open(app, status, state):
    with app.app_context():
        event = make_event()
        task = make_task(event)
        event.status = status
        db.session.commit()
        with pytest.raises(Refused) as refused:
            volunteers.sign_up(task, name="Gerda", email="gerda@example.org")
        assert str(refused.value) == str(volunteers.CLOSED_MESSAGES[state])


def test_a_task_closes_when_it_starts(app):
    with app.app_context():
        task = make_task(make_event(starts_in=timedelta(hours=3)), starts_after=timedelta(hours=-2))
        just_before = task.begins - timedelta(seconds=1)
        signup = volunteers.sign_up(task, name="Laat", email="laat@example.org", now=just_before)
        db.session.commit()
        with pytest.raises(Refused) as refused:
            volunteers.sign_up(task, name="Te laat", email="tl@example.org", now=task.begins)
        assert str(refused.value) == str(volunteers.CLOSED_MESSAGES["started"])
        db.session.rollback()
        with pytest.raises(Refused):
            volunteers.leave(signup, now=task.begins)
        db.session.rollback()
        assert volunteers.leave(signup, now=just_before) is True


def test_a_past_event_takes_no_volunteers(app):
    with app.app_context():
        task = make_task(make_event(starts_in=timedelta(days=-1)), starts_after=None)
        assert volunteers.signup_state(task) == "started"
        with pytest.raises(Refused):
            volunteers.sign_up(task, name="Gerda", email="gerda@example.org")


def test_a_guest_needs_a_name_and_an_address(app):
    with app.app_context():
        task = make_task(make_event())
        with pytest.raises(Refused) as refused:
            volunteers.sign_up(task, name="  ", email="g@example.org")
        assert refused.value.field == "name"
        with pytest.raises(Refused) as refused:
            volunteers.sign_up(task, name="Gerda", email="")
        assert refused.value.field == "email"


def test_a_task_never_shrinks_below_its_people(app):
    with app.app_context():
        task = make_task(make_event(), slots=3)
        guest_signup(task, "Een", "een@example.org")
        guest_signup(task, "Twee", "twee@example.org")
        plan = volunteers.TaskPlan(name="Koken", slots=1)
        with pytest.raises(Refused) as refused:
            volunteers.save_task(task.event, plan, task)
        assert refused.value.field == "slots"
        db.session.rollback()
        plan.slots = 2  # exactly the people signed up
        volunteers.save_task(task.event, plan, task)
        db.session.commit()
        assert task.slots == 2 and task.is_full


def test_a_task_ends_after_it_starts(app):
    with app.app_context():
        event = make_event()
        plan = volunteers.TaskPlan(
            name="Deur", slots=2, starts_at=event.starts_at, ends_at=event.starts_at
        )
        with pytest.raises(Refused) as refused:
            volunteers.save_task(event, plan)
        assert refused.value.field == "ends_at"


def test_removing_a_task_mails_those_still_in_it(app):
    with app.app_context():
        task = make_task(make_event())
        guest_signup(task, "Blijft", "blijft@example.org")
        gone = guest_signup(task, "Weg", "weg@example.org")
        volunteers.leave(gone)
        db.session.commit()
        told = volunteers.remove_task(task)
        db.session.commit()
        assert [signup.guest_name for signup in told] == ["Blijft"]
        assert db.session.scalar(sa.select(sa.func.count(Task.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(TaskSignup.id))) == 0
        subjects = [message.subject for message in outbox_to("blijft@example.org")]
        assert len(subjects) == 2 and subjects[1].startswith("Taak geschrapt")
        assert len(outbox_to("weg@example.org")) == 1, "only the confirmation"


def test_the_confirmation_carries_the_slot_in_a_calendar_file(app):
    with app.app_context():
        task = make_task(make_event(), starts_after=timedelta(hours=-2), hours=2.5)
        signup = guest_signup(task)
        (message,) = outbox_to("gerda@example.org")
        assert f"/v/{signup.token}" in message.body_text
        (attachment,) = message.attachments
        assert attachment["content_type"] == "text/calendar"
        (entry,) = Calendar.from_ical(attachment["content"]).walk("VEVENT")
        whole = {"microsecond": 0}
        assert entry.decoded("dtstart") == task.starts_at.astimezone(local_zone()).replace(**whole)
        assert entry.decoded("dtend") == task.ends_at.replace(**whole)
        assert str(entry["summary"]) == f"Koken · {task.event.title}"
        assert str(entry["uid"]).startswith(f"task-{task.id}-event-")


def test_reminders_go_once_to_those_still_in_the_task(app):
    with app.app_context():
        event = make_event(starts_in=timedelta(days=3))
        soon = make_task(event, starts_after=timedelta(hours=-2))
        stays = guest_signup(soon, "Blijft", "blijft@example.org")
        left = guest_signup(soon, "Weg", "weg@example.org")
        volunteers.leave(left)
        db.session.commit()
        day_before = soon.begins - timedelta(hours=23)
        assert volunteer_mail.volunteer_reminders(soon.begins - timedelta(hours=25)) == 0
        assert volunteer_mail.volunteer_reminders(day_before) == 1
        db.session.commit()
        assert volunteer_mail.volunteer_reminders(day_before + timedelta(hours=1)) == 0
        db.session.refresh(stays)
        assert stays.reminded_at == day_before
        subjects = [m.subject for m in outbox_to("blijft@example.org")]
        assert subjects[-1].startswith("Herinnering")
        assert len(outbox_to("weg@example.org")) == 1


def test_no_reminder_when_the_event_says_none_or_the_slot_came_late(app):
    with app.app_context():
        quiet = make_event("stil", starts_in=timedelta(days=3), reminder_hours=0)
        guest_signup(make_task(quiet), "Stil", "stil@example.org")
        event = make_event(starts_in=timedelta(hours=10), reminder_hours=24)
        late = make_task(event, starts_after=timedelta(hours=-1))
        guest_signup(late, "Laat", "laat@example.org")  # after its reminder time
        assert volunteer_mail.volunteer_reminders(late.begins - timedelta(minutes=5)) == 0


def test_no_reminders_for_a_cancelled_event(app):
    with app.app_context():
        event = make_event(starts_in=timedelta(days=3))
        task = make_task(event)
        guest_signup(task)
        event.status = EventStatus.CANCELLED
        db.session.commit()
        assert volunteer_mail.volunteer_reminders(task.begins - timedelta(hours=1)) == 0


def test_a_members_slots_are_theirs_and_go_with_the_account(app):
    with app.app_context():
        member = make_member("mia@example.org")
        other = make_user("otto@example.org")
        task = make_task(make_event())
        past = make_task(make_event("vorig-jaar", starts_in=timedelta(days=-30)))
        volunteers.sign_up(task, user=member)
        db.session.add(TaskSignup(task=past, user=member, secret="x" * 40, created_at=utcnow()))
        volunteers.sign_up(task, user=other)
        db.session.commit()
        assert [s.task_id for s in volunteers.slots_of(member)] == [task.id]
        privacy.delete_account(member, "correct horse battery")
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(TaskSignup.id))) == 1
