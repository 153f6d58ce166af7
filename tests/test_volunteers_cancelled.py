"""An event is cancelled: each volunteer who still holds a slot in its tasks is told so
by e-mail (through the outbox and a real SMTP server), in their own language, and their
slot is given up; a slot given up earlier stays as it was and gets no mail."""

from datetime import UTC, datetime

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Event, EventStatus, Task, TaskSignup, User
from cooperative.services import mail, volunteers
from tests.conftest import body_of, post_form
from tests.test_volunteers_http import add_task, world
from tests.volunteer_fixtures import guest_signup

EARLIER = datetime(2020, 1, 1, tzinfo=UTC)


def test_cancelling_the_event_mails_its_volunteers_and_frees_their_slots(
    client, app, auth, smtp_server
):
    event_id, _slug = world(app)
    cooking = add_task(app, event_id, slots=3)
    dishes = add_task(app, event_id, name="Afwas", starts_after=None)
    with app.app_context():
        task = db.session.get(Task, cooking)
        guest_signup(task)  # a guest, in Dutch
        max_ = db.session.scalar(sa.select(User).where(User.email == "max@example.org"))
        max_.locale = "en"
        volunteers.sign_up(db.session.get(Task, dishes), user=max_)
        gone = volunteers.sign_up(task, name="Vera Vroeg", email="vera@example.org")
        volunteers.leave(gone)
        gone.cancelled_at = EARLIER
        db.session.commit()
        mail.send_pending()
    smtp_server.messages.clear()
    auth.login("olga@example.org")

    confirm = client.get(f"/manage/events/{event_id}/cancel?lang=en").text
    assert "2 volunteers lose their tasks and will get an e-mail too." in confirm
    response = post_form(client, f"/manage/events/{event_id}/cancel")

    assert response.status_code == 303
    with app.app_context():
        assert mail.send_pending() == (2, 0)
        assert db.session.get(Event, event_id).status == EventStatus.CANCELLED
        assert db.session.get(Task, cooking).slots_taken == 0
        assert db.session.get(Task, dishes).slots_taken == 0
        signups = {s.name: s for s in db.session.scalars(sa.select(TaskSignup))}
        assert signups["Vera Vroeg"].cancelled_at == EARLIER, "left before: untouched"
        assert signups["Gerda Gast"].cancelled_at is not None
        assert signups["Max Member"].cancelled_at is not None
    (dutch,) = smtp_server.to("gerda@example.org")
    assert dutch["Subject"] == "Geannuleerd: Buurtdiner"
    assert "Hallo Gerda Gast," in body_of(dutch)
    assert "De activiteit is geannuleerd en de taak “Koken”" in body_of(dutch)
    (english,) = smtp_server.to("max@example.org")
    assert english["Subject"] == "Cancelled: Buurtdiner"
    assert "is cancelled, and so is the task “Afwas”" in body_of(english)
    assert smtp_server.to("vera@example.org") == []
    assert len(smtp_server.messages) == 2, "nobody else, and each once"

    # A second cancel changes nothing and mails nobody.
    post_form(client, f"/manage/events/{event_id}/cancel")
    with app.app_context():
        assert mail.send_pending() == (0, 0)


def test_a_cancel_page_without_volunteers_does_not_speak_of_them(client, app, auth):
    event_id, _slug = world(app)
    auth.login("olga@example.org")
    assert "volunteer" not in client.get(f"/manage/events/{event_id}/cancel?lang=en").text
