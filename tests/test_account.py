"""My account over HTTP: the profile in place (htmx) and as a plain form, e-mail and
password changes, events for me and my private calendar."""

import re

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import OutboxMessage, Profile, User, Visibility
from tests.conftest import post_form
from tests.factories import (
    make_collective,
    make_domain,
    make_event,
    make_member,
    make_plan,
    make_user,
)

HTMX = {"HX-Request": "true", "HX-Target": "profile-neighbourhood"}


def profile_of(app, email="member@example.org") -> Profile:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        return db.session.scalars(
            sa.select(Profile)
            .where(Profile.user_id == user.id)
            .options(sa.orm.selectinload(Profile.interests))
        ).one()


def test_the_account_page_needs_a_log_in(client):
    response = client.get("/account/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_one_field_edited_in_place_with_htmx(client, app, auth):
    with app.app_context():
        make_member(neighbourhood="Oost")
    auth.login("member@example.org")
    page = client.get("/account/?lang=en").get_data(as_text=True)
    assert 'hx-get="/account/profile/neighbourhood/edit"' in page
    assert 'href="/account/profile#neighbourhood"' in page

    editing = client.get("/account/profile/neighbourhood/edit", headers=HTMX)
    assert editing.status_code == 200
    assert '<form method="post" action="/account/profile/neighbourhood"' in editing.get_data(
        as_text=True
    )
    assert "<html" not in editing.get_data(as_text=True)

    saved = post_form(
        client, "/account/profile/neighbourhood?lang=en", {"neighbourhood": "West"}, headers=HTMX
    )
    assert saved.status_code == 200
    body = saved.get_data(as_text=True)
    assert "West" in body and "Saved: Neighbourhood." in body
    assert profile_of(app).neighbourhood == "West"


def test_a_bad_value_in_place_gets_422_and_keeps_what_was_typed(client, app, auth):
    with app.app_context():
        make_member(display_name="Ada")
    auth.login("member@example.org")
    too_long = "x" * 130
    response = post_form(
        client,
        "/account/profile/display_name?lang=en",
        {"display_name": too_long},
        headers={"HX-Request": "true", "HX-Target": "profile-display_name"},
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Please keep it under 120 characters." in body and too_long in body
    assert profile_of(app).display_name == "Ada"

    # The same without JavaScript: the whole profile form, with the error and the typing.
    response = post_form(client, "/account/profile/display_name?lang=en", {"display_name": ""})
    assert response.status_code == 422
    assert "Please fill in a name for your profile." in response.get_data(as_text=True)


def test_one_field_saved_without_javascript_goes_back_to_the_account(client, app, auth):
    with app.app_context():
        make_member()
    auth.login("member@example.org")
    response = post_form(client, "/account/profile/visibility", {"visibility": "hidden"})
    assert response.status_code == 303
    assert profile_of(app).visibility == Visibility.HIDDEN
    response = post_form(client, "/account/profile/newsletter", {"newsletter": "y"})
    assert profile_of(app).newsletter is True
    response = post_form(client, "/account/profile/visibility", {"visibility": "everyone!"})
    assert response.status_code == 422


def test_the_whole_profile_as_a_plain_form(client, app, auth):
    with app.app_context():
        make_member()
        energy = make_domain().id
        food = make_domain("voedsel", "Voedsel", "Food").id
    auth.login("member@example.org")
    assert client.get("/account/profile").status_code == 200
    response = post_form(
        client,
        "/account/profile",
        {
            "display_name": "Ada",
            "neighbourhood": "Noord",
            "bio": "Ik kook graag.",
            "interests": [str(energy), str(food)],
            "offer": "Koken voor 40",
            "visibility": "public",
        },
    )
    assert response.status_code == 303
    profile = profile_of(app)
    assert (profile.display_name, profile.bio, profile.offer) == (
        "Ada",
        "Ik kook graag.",
        "Koken voor 40",
    )
    assert {d.slug for d in profile.interests} == {"energie", "voedsel"}
    assert profile.newsletter is False and profile.visibility == Visibility.PUBLIC


def test_changing_the_e_mail_address_takes_the_link(client, app, auth):
    with app.app_context():
        make_member(locale="en")
    auth.login("member@example.org")
    wrong = post_form(
        client, "/account/email?lang=en", {"new_email": "new@example.org", "password": "nope"}
    )
    assert wrong.status_code == 422
    assert "This password is not right." in wrong.get_data(as_text=True)
    assert 'value="new@example.org"' in wrong.get_data(as_text=True)

    response = post_form(
        client,
        "/account/email",
        {"new_email": "New@Example.org", "password": "correct horse battery"},
    )
    assert response.status_code == 303
    with app.app_context():
        message = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.to_address == "new@example.org")
        ).one()
        link = message.body_text.split("http://localhost", 1)[1].split()[0]
        assert db.session.scalar(sa.select(User.email)) == "member@example.org"
    assert client.get(link).status_code == 200
    assert post_form(client, link).status_code == 303
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        assert (user.email, user.pending_email) == ("new@example.org", None)
    # Used once: the link now fails.
    assert post_form(client, link).status_code == 404


def test_changing_the_password(client, app, auth):
    with app.app_context():
        make_user()
    auth.login()
    wrong = post_form(
        client,
        "/account/password?lang=en",
        {"current_password": "wrong", "password": "a new long one", "password_confirm": "x"},
    )
    assert wrong.status_code == 422
    assert "The two passwords are not the same." in wrong.get_data(as_text=True)
    ok = post_form(
        client,
        "/account/password",
        {
            "current_password": "correct horse battery",
            "password": "a new long one",
            "password_confirm": "a new long one",
        },
    )
    assert ok.status_code == 303
    auth.logout()
    assert auth.login(password="a new long one").status_code == 303


def test_for_you_shows_events_in_my_domains_and_my_calendar_feed(client, app, auth):
    with app.app_context():
        energy = make_domain()
        food = make_domain("voedsel", "Voedsel", "Food")
        make_plan()
        make_member(interests=[energy])
        make_event("zonnedag", "Zonnedag", collective=make_collective("zon", "Zon", energy))
        make_event("soep", "Soepavond", collective=make_collective("soep", "Soep", food))
    auth.login("member@example.org")
    page = client.get("/account/?lang=en").get_data(as_text=True)
    assert "Zonnedag" in page and "Soepavond" not in page

    post_form(client, "/account/calendar")
    with app.app_context():
        token = db.session.scalar(sa.select(User.calendar_token))
    feed = client.get(f"/account/calendar/{token}.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    assert b"Zonnedag" in feed.data and b"Soepavond" not in feed.data

    # Resetting makes the old address stop working.
    post_form(client, "/account/calendar")
    assert client.get(f"/account/calendar/{token}.ics").status_code == 404
    assert client.get("/account/calendar/.ics").status_code == 404


def test_a_bad_new_e_mail_address_gets_its_message_and_keeps_the_typing(client, app, auth):
    with app.app_context():
        make_user(locale="en")
    auth.login()
    cases = [
        (
            {"new_email": "ada at example", "password": "correct horse battery"},
            "new_email",
            "This does not look like an e-mail address, e.g. name@example.nl.",
            "ada at example",
        ),
        (
            {"new_email": "", "password": "correct horse battery"},
            "new_email",
            "Please fill in your e-mail address.",
            None,
        ),
        (
            {"new_email": "Resident@Example.org", "password": "correct horse battery"},
            "new_email",
            "This is already your e-mail address.",
            "Resident@Example.org",
        ),
        (
            {"new_email": "new@example.org", "password": ""},
            "email_password",
            "Please fill in your password.",
            "new@example.org",
        ),
    ]
    for data, name, message, kept in cases:
        response = post_form(client, "/account/email?lang=en", data)
        assert response.status_code == 422, data
        body = response.get_data(as_text=True)
        assert f'id="{name}-error">{message}</p>' in body, message
        if kept:
            assert f'value="{kept}"' in body
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        assert (user.email, user.pending_email) == ("resident@example.org", None)
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_a_refused_password_change_says_why_and_keeps_the_old_password(client, app, auth):
    with app.app_context():
        make_user(locale="en")
    auth.login()
    new = {"password": "a new long one", "password_confirm": "a new long one"}
    cases = [
        ({"current_password": "wrong", **new}, "current_password", "This password is not right."),
        (
            {"current_password": "", **new},
            "current_password",
            "Please fill in your current password.",
        ),
        (
            {
                "current_password": "correct horse battery",
                "password": "short",
                "password_confirm": "short",
            },
            "password",
            "Your password needs at least",
        ),
        (
            {
                "current_password": "correct horse battery",
                "password": "a new long one",
                "password_confirm": "another long one",
            },
            "password_confirm",
            "The two passwords are not the same.",
        ),
    ]
    for data, name, message in cases:
        response = post_form(client, "/account/password?lang=en", data)
        assert response.status_code == 422, data
        body = response.get_data(as_text=True)
        assert f'id="{name}-error">{message}' in body, message
        # Passwords are never written back into the page; the form is there to type again.
        assert "a new long one" not in body and 'action="/account/password"' in body
    auth.logout()
    assert auth.login(password="a new long one").status_code == 422
    assert auth.login().status_code == 303


def test_every_field_on_the_account_page_has_its_own_label(client, app, auth):
    with app.app_context():
        make_user(locale="en")
    auth.login()
    page = client.get("/account/?lang=en").get_data(as_text=True)
    ids = re.findall(r'<(?:input|textarea|select)[^>]* id="([^"]+)"', page)
    assert ids and len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    for field_id in ids:
        assert page.count(f'for="{field_id}"') <= 1
    # The new password's label points at the new password, not at the e-mail form's.
    assert re.search(
        r'<label for="password">New password</label>'
        r'.*?<input[^>]* id="password"[^>]* name="password"',
        page,
        re.S,
    )
