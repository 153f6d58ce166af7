"""Guests who helped with a task (a slot without an account) are forgotten like guests
who registered: `coop purge` removes their name and address GUEST_DATA_DAYS after the
event, keeps the slot as a count, and leaves members' slots and recent events alone."""

from datetime import timedelta

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Event, OutboxMessage, Task, TaskSignup, utcnow
from cooperative.services import retention, volunteers
from tests.conftest import post_form
from tests.factories import make_event, make_member
from tests.test_retention import move_event_back, places_holding
from tests.volunteer_fixtures import make_task

GERDA = ("Gerda Gastvrij", "gerda.gastvrij@example.org")
GIJS = ("Gijs Gastvrij", "gijs.gastvrij@example.org")
RECENT = ("Rita Recent", "rita.recent@example.org")


def sign_up_over_http(client, slug: str, task_id: int, name: str, email: str) -> str:
    response = post_form(
        client, f"/events/{slug}/tasks/{task_id}/signup", {"name": name, "email": email}
    )
    assert response.status_code == 303, response.text
    return response.headers["Location"]


def test_the_purge_forgets_guest_volunteers_after_their_event(client, app, runner):
    with app.app_context():
        old = make_event(starts_in=timedelta(days=1))
        recent = make_event("soepavond", "Soepavond", starts_in=timedelta(days=1))
        old_id, recent_id, old_slug = old.id, recent.id, old.slug
        cooking = make_task(old).id
        soup = make_task(recent).id
        member = make_member("lid@example.org", name="Lotte Lid")
        volunteers.sign_up(db.session.get(Task, cooking), user=member)
        db.session.commit()
    # Two guests in one task: once forgotten, their slots must still stand side by side.
    private = sign_up_over_http(client, old_slug, cooking, *GERDA)
    sign_up_over_http(client, old_slug, cooking, *GIJS)
    sign_up_over_http(client, "soepavond", soup, *RECENT)
    assert "Sent 5" in runner.invoke(args=["coop", "send-mail"]).output
    with app.app_context():
        assert "task_signups.email" in places_holding(GERDA[1])
        move_event_back(old_id, 92)
        move_event_back(recent_id, 10)
        # Ninety days on, the mails about the slots were sent long ago (they go with the
        # outbox, after OUTBOX_KEEP_DAYS).
        for message in db.session.scalars(sa.select(OutboxMessage)):
            message.sent_at -= timedelta(days=92)
        db.session.commit()

    result = runner.invoke(args=["coop", "purge"])

    assert result.exit_code == 0, result.output
    assert "Removed the names and addresses of 2 guest volunteers' slots." in result.output
    with app.app_context():
        assert places_holding(*GERDA, *GIJS) == []
        # The slots stay, as a count; the member's and the recent guest's as they were.
        assert db.session.get(Task, cooking).slots_taken == 3
        assert "task_signups.email" in places_holding(RECENT[1])
        assert "task_signups.guest_name" in places_holding(RECENT[0])
        (kept,) = db.session.scalars(sa.select(TaskSignup).where(TaskSignup.user_id.is_not(None)))
        assert kept.name == "Lotte Lid"
        assert db.session.get(Event, old_id).ends_at < utcnow()
        assert retention.purge_guest_slots() == 0, "a second purge finds nothing"
    page = client.get(private + "?lang=en")
    assert page.status_code == 200
    assert "Koken" in page.text and GERDA[0] not in page.text


def test_guest_slots_are_kept_until_the_days_have_passed(app):
    with app.app_context():
        event = make_event(starts_in=timedelta(days=1))
        task = make_task(event)
        volunteers.sign_up(task, name=GERDA[0], email=GERDA[1])
        db.session.commit()
        ended = event.ends_at
        assert retention.purge_guest_slots(days=90, now=ended + timedelta(days=90)) == 0
        assert places_holding(GERDA[1]) != []
        assert retention.purge_guest_slots(days=90, now=ended + timedelta(days=90, seconds=1)) == 1
        db.session.commit()
        signup = db.session.scalar(sa.select(TaskSignup))
        assert (signup.guest_name, signup.email, signup.cancelled_at) == ("", "", None)
