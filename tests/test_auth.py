"""Sign-up, confirmation, log-in, log-out and password reset, through HTTP and the outbox."""

import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import OutboxMessage, User
from tests.conftest import body_of, link_in, post_form
from tests.factories import make_user

SIGNUP = {
    "name": "Fatima de Vries",
    "email": "Fatima@Example.org",
    "password": "een lang wachtwoord",
    "password_confirm": "een lang wachtwoord",
}


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        return db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_signup_creates_an_unconfirmed_account_and_mails_a_link(client, app):
    response = post_form(client, "/auth/signup", SIGNUP)

    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/check-email"
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        assert user.email == "fatima@example.org"
        assert user.name == "Fatima de Vries"
        assert user.email_confirmed_at is None
        assert user.password_hash != SIGNUP["password"]
        assert user.check_password(SIGNUP["password"])
    [message] = outbox(app)
    assert message.to_address == "fatima@example.org"
    assert message.subject == "Bevestig je e-mailadres"
    assert "/auth/confirm/" in message.body_text


def test_signup_with_a_known_address_creates_nothing_and_says_the_same(client, app):
    with app.app_context():
        make_user(email="fatima@example.org", name="Fatima")

    response = post_form(client, "/auth/signup", SIGNUP)

    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/check-email"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    [message] = outbox(app)
    assert message.to_address == "fatima@example.org"
    assert "/auth/reset" in message.body_text
    assert "/auth/confirm/" not in message.body_text


def test_signup_with_bad_input_is_refused_and_keeps_the_typing(client, app):
    response = post_form(
        client,
        "/auth/signup",
        {**SIGNUP, "email": "fatima-at-example", "password_confirm": "iets anders!"},
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Dit lijkt geen e-mailadres" in page
    assert 'value="Fatima de Vries"' in page
    assert 'value="fatima-at-example"' in page
    assert 'aria-invalid="true"' in page
    assert "een lang wachtwoord" not in page  # passwords are never echoed back
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_signup_refuses_a_short_password_in_english(client):
    response = post_form(
        client,
        "/auth/signup?lang=en",
        {**SIGNUP, "password": "kort", "password_confirm": "kort"},
    )

    assert response.status_code == 422
    assert "Your password needs at least 8 characters." in response.get_data(as_text=True)


def test_confirm_link_confirms_and_logs_in(client, app):
    post_form(client, "/auth/signup", SIGNUP)
    [message] = outbox(app)
    path = message.body_text.split("http://localhost", 1)[1].split()[0]

    page = client.get(path)
    assert page.status_code == 200
    assert "fatima@example.org" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(User)).email_confirmed_at is None  # GET changes nothing

    response = post_form(client, path)
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/"
    with app.app_context():
        assert db.session.scalar(sa.select(User)).email_confirmed_at is not None
    assert "Fatima de Vries" in client.get("/account/").get_data(as_text=True)


def test_a_forged_confirm_link_is_refused(client, app):
    response = client.get("/auth/confirm/not-a-real-token")
    assert response.status_code == 404
    assert "Deze link werkt niet" in response.get_data(as_text=True)


def test_login_with_the_right_password(client, app, auth):
    with app.app_context():
        make_user()

    response = auth.login()

    assert response.status_code == 303
    assert response.headers["Location"] == "/account/"
    assert "Resident" in client.get("/account/").get_data(as_text=True)


def test_login_address_is_case_insensitive(client, app, auth):
    with app.app_context():
        make_user()
    assert auth.login(email="  RESIDENT@example.ORG").status_code == 303


def test_login_with_a_wrong_password_or_unknown_address_says_the_same(client, app, auth):
    with app.app_context():
        make_user()

    wrong_password = auth.login(password="not the password")
    unknown_address = auth.login(email="nobody@example.org")

    message = "Dit e-mailadres en wachtwoord horen niet bij elkaar."
    for response in (wrong_password, unknown_address):
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert message in page
        assert 'value="not the password"' not in page
    assert client.get("/account/").status_code == 302


def test_login_of_an_unconfirmed_account_sends_a_new_link(client, app, auth):
    with app.app_context():
        make_user(confirmed=False)

    response = auth.login()

    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/check-email"
    assert client.get("/account/").status_code == 302
    [message] = outbox(app)
    assert "/auth/confirm/" in message.body_text


def test_login_follows_next_only_within_the_site(client, app):
    with app.app_context():
        make_user()
    data = {"email": "resident@example.org", "password": "correct horse battery"}

    inside = post_form(client, "/auth/login?next=/join", data)
    assert inside.headers["Location"] == "/join"
    client.get("/")
    post_form(client, "/auth/logout")

    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        outside = post_form(client, f"/auth/login?next={target}", data)
        assert outside.headers["Location"] == "/account/"
        post_form(client, "/auth/logout")


def test_account_page_needs_a_login(client):
    response = client.get("/account/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=%2Faccount%2F"


def test_logout_is_a_post(client, app, auth):
    with app.app_context():
        make_user()
    auth.login()

    assert client.get("/auth/logout").status_code == 405
    assert client.get("/account/").status_code == 200

    response = auth.logout()
    assert response.status_code == 303
    assert client.get("/account/").status_code == 302


def test_password_reset_through_a_real_smtp_server(client, app, runner, smtp_server, auth):
    with app.app_context():
        make_user()

    response = post_form(client, "/auth/reset", {"email": "resident@example.org"})
    assert response.status_code == 303
    assert smtp_server.messages == []  # nothing is sent inside the request

    result = runner.invoke(args=["coop", "send-mail"])
    assert result.exit_code == 0, result.output
    assert "Sent 1, failed 0." in result.output
    [message] = smtp_server.to("resident@example.org")
    assert message["Subject"] == "Nieuw wachtwoord instellen"
    assert "Resident" in body_of(message)
    path = link_in(message, "/auth/reset/")

    assert client.get(path).status_code == 200
    short = post_form(client, path, {"password": "kort", "password_confirm": "kort"})
    assert short.status_code == 422
    done = post_form(
        client, path, {"password": "a brand new secret", "password_confirm": "a brand new secret"}
    )
    assert done.status_code == 303
    assert client.get("/account/").status_code == 200

    auth.logout()
    assert auth.login(password="correct horse battery").status_code == 422
    assert auth.login(password="a brand new secret").status_code == 303
    # The link worked once: the password it was made for is gone.
    assert client.get(path).status_code == 404
    with app.app_context():
        assert [m.status for m in db.session.scalars(sa.select(OutboxMessage))] == ["sent"]


def test_password_reset_for_an_unknown_address_looks_the_same(client, app):
    response = post_form(client, "/auth/reset", {"email": "nobody@example.org"})

    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/check-email?reset=1"
    [message] = outbox(app)  # as many e-mails as for a known address, so it takes as long
    assert message.to_address == "nobody@example.org"
    assert "Geen account bij MeentCoop heeft dit adres" in message.body_text


def test_password_reset_link_expires(client, app, monkeypatch):
    from cooperative.services import accounts

    with app.app_context():
        user = make_user()
        with app.test_request_context():
            token = accounts.make_reset_token(user)
    monkeypatch.setattr(accounts, "RESET_MAX_AGE", -1)
    assert client.get(f"/auth/reset/{token}").status_code == 404


def test_login_is_rate_limited(client, app):
    with app.app_context():
        make_user()
    data = {"email": "resident@example.org", "password": "wrong password"}
    token = post_form(client, "/auth/login", data)  # 1st attempt, also fetches the token
    assert token.status_code == 422
    statuses = [post_form(client, "/auth/login", data).status_code for _ in range(9)]
    assert statuses == [422] * 9

    blocked = post_form(client, "/auth/login", data)
    assert blocked.status_code == 429
    assert "Te veel pogingen" in blocked.get_data(as_text=True)
    # Reading the page is not limited.
    assert client.get("/auth/login").status_code == 200


def test_reset_requests_are_rate_limited(client):
    statuses = [
        post_form(client, "/auth/reset", {"email": "a@example.org"}).status_code for _ in range(6)
    ]
    assert statuses == [303] * 5 + [429]


def test_a_post_without_csrf_token_is_refused(client, app):
    with app.app_context():
        make_user()
    response = client.post(
        "/auth/login", data={"email": "resident@example.org", "password": "correct horse battery"}
    )
    assert response.status_code == 400
    assert "Dit formulier is verlopen" in response.get_data(as_text=True)
    assert client.get("/account/").status_code == 302
