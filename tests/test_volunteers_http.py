"""Volunteer tasks over HTTP: the organiser's pages (add, change, remove with a confirming
step, who does what), signing up from the event page as a member or a guest, leaving from
the account page or the private link, who may do what, bad input (422 with the typing
kept), the e-mails through a real SMTP server, and the queries of the pages that list."""

import re
from datetime import timedelta

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import Collective, Event, Task, TaskSignup, User
from cooperative.services import mail, volunteers
from tests.conftest import body_of, link_in, post_form
from tests.factories import (
    make_admin,
    make_collective,
    make_event,
    make_member,
    make_organiser,
    make_registration,
)
from tests.volunteer_fixtures import guest_signup, make_task


def world(app):
    """Collective A's event with an organiser, collective B's organiser, a member."""
    with app.app_context():
        collective_a = make_collective("zonnedak", "Zonnedak")
        collective_b = make_collective("voedselbank", "Voedselbank")
        make_organiser(collective_a, email="olga@example.org")
        make_organiser(collective_b, email="bert@example.org")
        make_member("mia@example.org", name="Mia Member")
        make_member("max@example.org", name="Max Member")
        event = make_event(collective_id=collective_a.id)
        return event.id, event.slug


def tasks_url(event_id: int) -> str:
    return f"/manage/events/{event_id}/tasks"


def task_id_named(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Task.id).where(Task.name == name))


def add_task(app, event_id: int, **kw) -> int:
    with app.app_context():
        return make_task(db.session.get(Event, event_id), **kw).id


# --- The organiser's pages -------------------------------------------------------------


def test_the_organiser_adds_changes_and_sees_tasks(client, app, auth):
    event_id, slug = world(app)
    auth.login("olga@example.org")
    response = post_form(
        client,
        tasks_url(event_id),
        {
            "name": "Koken",
            "slots": "3",
            "starts_at": "2030-06-12T15:00",
            "ends_at": "2030-06-12T17:30",
            "description": "Schort mee",
        },
    )
    assert response.status_code == 303
    task_id = task_id_named(app, "Koken")
    with app.app_context():
        task = db.session.get(Task, task_id)
        assert (task.slots, task.event_id, task.description) == (3, event_id, "Schort mee")
        assert task.starts_at.isoformat() == "2030-06-12T13:00:00+00:00"  # 15:00 in summer
    page = client.get(tasks_url(event_id) + "?lang=en").text
    assert "Koken" in page and "0 of 3 places taken" in page
    response = post_form(
        client, f"{tasks_url(event_id)}/{task_id}/edit", {"name": "Koken", "slots": "4"}
    )
    assert response.status_code == 303
    with app.app_context():
        task = db.session.get(Task, task_id)
        assert task.slots == 4 and task.starts_at is None, "times left empty: the event's"
    assert "/tasks" in client.get(f"/manage/events/{event_id}/edit").text


def test_bad_task_input_is_422_with_the_typing_kept(client, app, auth):
    event_id, _slug = world(app)
    auth.login("olga@example.org")
    response = post_form(
        client,
        tasks_url(event_id) + "?lang=en",
        {
            "name": "Deur",
            "slots": "veel",
            "starts_at": "2030-06-12T17:00",
            "ends_at": "2030-06-12T16:00",
        },
    )
    assert response.status_code == 422
    page = response.text
    assert "Please write a whole number, like 40." in page
    assert "The task must end after it starts." in page
    assert 'value="Deur"' in page and 'value="veel"' in page
    for slots in ("0", "101", ""):
        response = post_form(client, tasks_url(event_id), {"name": "Deur", "slots": slots})
        assert response.status_code == 422
    response = post_form(client, tasks_url(event_id), {"name": "  ", "slots": "2"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Task.id))) == 0


def test_slots_never_below_the_people_in_the_task(client, app, auth):
    event_id, _slug = world(app)
    task_id = add_task(app, event_id, slots=3)
    with app.app_context():
        task = db.session.get(Task, task_id)
        guest_signup(task, "Een", "een@example.org")
        guest_signup(task, "Twee", "twee@example.org")
    auth.login("olga@example.org")
    response = post_form(
        client, f"{tasks_url(event_id)}/{task_id}/edit?lang=en", {"name": "Koken", "slots": "1"}
    )
    assert response.status_code == 422
    assert "2 people have signed up: the task needs at least that many slots." in response.text
    assert 'value="1"' in response.text
    with app.app_context():
        assert db.session.get(Task, task_id).slots == 3


def test_removing_a_task_with_people_asks_first_and_mails_them(client, app, auth, smtp_server):
    event_id, _slug = world(app)
    task_id = add_task(app, event_id)
    empty_id = add_task(app, event_id, name="Afwas", starts_after=None)
    with app.app_context():
        guest_signup(db.session.get(Task, task_id))
        mail.send_pending()
    smtp_server.messages.clear()
    auth.login("olga@example.org")
    remove = f"{tasks_url(event_id)}/{task_id}/remove"
    response = post_form(client, remove + "?lang=en")
    assert response.status_code == 200, "asks before removing"
    assert "1 person has signed up for this task" in response.text
    assert task_id_named(app, "Koken") == task_id
    response = post_form(client, remove, {"confirm": "1"})
    assert response.status_code == 303
    assert task_id_named(app, "Koken") is None
    with app.app_context():
        assert mail.send_pending() == (1, 0)
    (message,) = smtp_server.to("gerda@example.org")
    assert message["Subject"] == "Taak geschrapt: Koken"
    assert "Koken" in body_of(message)
    # An empty task goes at once.
    response = post_form(client, f"{tasks_url(event_id)}/{empty_id}/remove")
    assert response.status_code == 303
    assert task_id_named(app, "Afwas") is None


def test_only_the_events_organisers_and_admins_manage_its_tasks(client, app, auth):
    event_id, _slug = world(app)
    task_id = add_task(app, event_id)
    with app.app_context():
        make_admin()
        other_event = make_event("ander", collective_id=None)
        other_task = make_task(other_event, name="Deur").id
    pages = [
        tasks_url(event_id),
        f"{tasks_url(event_id)}/{task_id}/edit",
        f"{tasks_url(event_id)}/{task_id}/remove",
    ]
    for url in pages:
        assert client.get(url).status_code == 302  # to the log-in
    for who in ("bert@example.org", "mia@example.org"):
        auth.login(who)
        for url in pages:
            assert client.get(url).status_code == 403
            assert (
                post_form(client, url, {"name": "X", "slots": "9", "confirm": "1"}).status_code
                == 403
            )
        auth.logout()
    auth.login("olga@example.org")
    # Another event's task through this event's address: 404, and it stays.
    assert client.get(f"{tasks_url(event_id)}/{other_task}/edit").status_code == 404
    response = post_form(client, f"{tasks_url(event_id)}/{other_task}/remove", {"confirm": "1"})
    assert response.status_code == 404
    auth.logout()
    auth.login("admin@example.org")
    assert client.get(tasks_url(event_id)).status_code == 200
    with app.app_context():
        assert db.session.get(Task, task_id).slots == 3
        assert db.session.get(Task, other_task) is not None


# --- Signing up ----------------------------------------------------------------------------


def test_a_guest_signs_up_gets_the_mail_and_leaves_by_the_link(client, app, smtp_server):
    event_id, slug = world(app)
    task_id = add_task(app, event_id, slots=2)
    page = client.get(f"/events/{slug}").text
    assert "Koken" in page and "nog 2 plekken" in page
    signup_page = f"/events/{slug}/tasks/{task_id}/signup"
    assert signup_page in page
    response = post_form(client, signup_page, {"name": "Gerda Gast", "email": "Gerda@Example.org"})
    assert response.status_code == 303
    private = response.headers["Location"]
    assert private.startswith("/v/")
    with app.app_context():
        signup = db.session.scalar(sa.select(TaskSignup))
        assert (signup.guest_name, signup.email, signup.user_id) == (
            "Gerda Gast",
            "gerda@example.org",
            None,
        )
        assert mail.send_pending()[1] == 0
    (message,) = smtp_server.to("gerda@example.org")
    assert message["Subject"].startswith("Je helpt mee met Koken")
    assert link_in(message, "/v/") == private
    (calendar,) = [part for part in message.iter_attachments()]
    assert calendar.get_content_type() == "text/calendar"
    assert "SUMMARY:Koken" in calendar.get_content()
    assert "nog 1 plek" in client.get(f"/events/{slug}").text
    assert "Gerda Gast" in client.get(private).text
    response = post_form(client, private + "/leave")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Task, task_id).slots_taken == 0
    assert post_form(client, private + "/leave").status_code == 303, "twice is harmless"
    assert "nog 2 plekken" in client.get(f"/events/{slug}").text


def test_bad_guest_input_is_422_with_the_typing_kept(client, app):
    event_id, slug = world(app)
    task_id = add_task(app, event_id)
    url = f"/events/{slug}/tasks/{task_id}/signup?lang=en"
    response = post_form(client, url, {"name": "Gerda Gast", "email": "gerda-at-home"})
    assert response.status_code == 422
    assert "This does not look like an e-mail address" in response.text
    assert 'value="Gerda Gast"' in response.text and 'value="gerda-at-home"' in response.text
    response = post_form(client, url, {"name": "", "email": "gerda@example.org"})
    assert response.status_code == 422 and "Please fill in your name." in response.text
    assert post_form(client, url, {"name": "x" * 121, "email": "g@example.org"}).status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(TaskSignup.id))) == 0


def test_a_full_task_says_so(client, app):
    event_id, slug = world(app)
    task_id = add_task(app, event_id, slots=1)
    with app.app_context():
        guest_signup(db.session.get(Task, task_id))
    page = client.get(f"/events/{slug}?lang=en").text
    assert "Full" in page
    assert f"/tasks/{task_id}/signup" not in page, "no button for a full task"
    url = f"/events/{slug}/tasks/{task_id}/signup?lang=en"
    assert "This task is full." in client.get(url).text
    response = post_form(client, url, {"name": "Laat", "email": "laat@example.org"})
    assert response.status_code == 422
    assert "This task is full." in response.text and 'value="Laat"' in response.text


def test_a_guest_twice_gets_the_link_again(client, app):
    event_id, slug = world(app)
    task_id = add_task(app, event_id)
    url = f"/events/{slug}/tasks/{task_id}/signup"
    post_form(client, url, {"name": "Gerda", "email": "gerda@example.org"})
    response = post_form(client, url, {"name": "Gerda", "email": "GERDA@example.org"})
    assert response.status_code == 303 and "/v/" not in response.headers["Location"]
    with app.app_context():
        assert db.session.get(Task, task_id).slots_taken == 1
        assert len(db.session.scalars(sa.select(TaskSignup)).all()) == 1


def test_a_cancelled_or_past_event_takes_no_volunteers(client, app):
    event_id, slug = world(app)
    task_id = add_task(app, event_id)
    with app.app_context():
        past = make_event("vorige-week", starts_in=timedelta(days=-7))
        past_task = make_task(past, starts_after=None).id
        db.session.get(Event, event_id).status = "cancelled"
        db.session.commit()
    for event_slug, tid in ((slug, task_id), ("vorige-week", past_task)):
        url = f"/events/{event_slug}/tasks/{tid}/signup"
        assert f"/tasks/{tid}/signup" not in client.get(f"/events/{event_slug}").text
        response = post_form(client, url, {"name": "Gerda", "email": "gerda@example.org"})
        assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(TaskSignup.id))) == 0


def test_a_member_signs_up_with_one_button_and_leaves_from_the_account(client, app, auth):
    event_id, slug = world(app)
    task_id = add_task(app, event_id)
    auth.login("mia@example.org")
    page = client.get(f"/events/{slug}").text
    assert f'action="/events/{slug}/tasks/{task_id}/signup"' in page
    response = post_form(client, f"/events/{slug}/tasks/{task_id}/signup")
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/events/{slug}")
    assert "Je helpt mee met deze taak." in client.get(f"/events/{slug}").text
    again = post_form(client, f"/events/{slug}/tasks/{task_id}/signup")
    assert again.status_code == 303
    with app.app_context():
        (signup,) = db.session.scalars(sa.select(TaskSignup)).all()
        assert signup.user.email == "mia@example.org" and signup.email == ""
        signup_id = signup.id
    account = client.get("/account/").text
    assert "Mijn taken als vrijwilliger" in account and "Koken" in account
    assert f"/account/tasks/{signup_id}/leave" in account
    response = post_form(client, f"/account/tasks/{signup_id}/leave")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(TaskSignup, signup_id).cancelled_at is not None
    assert f"/account/tasks/{signup_id}/leave" not in client.get("/account/").text
    (exported,) = client.get("/account/export").get_json()["volunteer_tasks"]
    assert exported["task"] == "Koken" and exported["given_up_at"] is not None


def test_nobody_changes_another_persons_slot(client, app, auth):
    event_id, slug = world(app)
    task_id = add_task(app, event_id)
    with app.app_context():
        task = db.session.get(Task, task_id)
        max_member = db.session.scalar(sa.select(User).where(User.email == "max@example.org"))
        maxs = volunteers.sign_up(task, user=max_member)
        gerda = guest_signup(task)
        db.session.commit()
        maxs_id, gerda_token, gerda_id = maxs.id, gerda.token, gerda.id
    auth.login("mia@example.org")
    assert post_form(client, f"/account/tasks/{maxs_id}/leave").status_code == 404
    assert post_form(client, f"/account/tasks/{gerda_id}/leave").status_code == 404
    assert "Max Member" not in client.get("/account/").text
    auth.logout()
    # A link with the wrong secret, or another slot's id with this secret: 404.
    signup_id, secret = gerda_token.split("-", 1)
    for token in (f"{signup_id}-{'x' * len(secret)}", f"{maxs_id}-{secret}", "nonsense"):
        assert client.get(f"/v/{token}").status_code == 404
        assert post_form(client, f"/v/{token}/leave").status_code == 404
    with app.app_context():
        assert db.session.get(TaskSignup, maxs_id).cancelled_at is None
        assert db.session.get(TaskSignup, gerda_id).cancelled_at is None


# --- Who does what, and the queries of the pages that list --------------------------------


def _fill(app, event_id: int, count: int) -> None:
    """`count` tasks, each with the same member and a guest of its own in it."""
    with app.app_context():
        event = db.session.get(Event, event_id)
        member = make_member(f"helper-{count}@example.org", name=f"Helper {count}")
        for i in range(count):
            task = make_task(event, name=f"Taak {i}", slots=3)
            volunteers.sign_up(task, user=member)
            guest_signup(task, f"Gast {i}", f"gast{i}-{count}@example.org")


def test_the_attendance_list_shows_the_volunteers_apart(client, app, auth):
    event_id, _slug = world(app)
    with app.app_context():
        make_registration(db.session.get(Event, event_id), ["Carla"], email="carla@example.org")
    _fill(app, event_id, 2)
    auth.login("olga@example.org")
    page = client.get(f"/manage/events/{event_id}/attendees?lang=en").text
    section = re.search(r'<section class="attendance-volunteers".*?</section>', page, re.S)
    assert section, "a section of its own"
    assert "Taak 0" in section.group(0) and "Gast 1" in section.group(0)
    assert "Carla" not in section.group(0)
    roster = client.get(tasks_url(event_id)).text
    assert "Gast 0" in roster and "gast0-2@example.org" in roster
    assert "Helper 2" in roster


def test_the_pages_that_list_tasks_cost_the_same_queries_for_many(client, app, auth, count_queries):
    counts = {}
    with app.app_context():
        collective_id = make_collective().id
        make_organiser(db.session.get(Collective, collective_id), email="olga@example.org")
    for size in (1, 6):
        with app.app_context():
            event = make_event(f"diner-{size}", collective_id=collective_id)
            event_id, slug = event.id, event.slug
        _fill(app, event_id, size)
        urls = {
            "event page (guest)": f"/events/{slug}",
            "tasks": tasks_url(event_id),
            "attendance": f"/manage/events/{event_id}/attendees",
            "account": "/account/",
            "event page (member)": f"/events/{slug}",
        }
        for name, url in urls.items():
            auth.logout()
            if name in ("tasks", "attendance"):
                auth.login("olga@example.org")
            elif name != "event page (guest)":
                auth.login(f"helper-{size}@example.org")
            client.get("/collectives/")  # the session settled before counting
            with count_queries as counted:
                assert client.get(url).status_code == 200
            counts.setdefault(name, []).append(counted.count)
    for name, (few, many) in counts.items():
        assert few == many, f"{name}: {few} queries for 1 task, {many} for 6"
