"""Log-ins end when they should: log-out, a new password, a reset and deleting the account
log a person out on every device (session cookie and remember-me cookie alike), except the
device that chose the new password. Each "device" is its own test client; a stolen cookie
is a cookie copied into another client."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from cooperative.config import from_environment
from cooperative.extensions import db
from cooperative.models import OutboxMessage, User
from tests.conftest import post_form
from tests.factories import make_user

PASSWORD = "correct horse battery"
NEW_PASSWORD = "een heel nieuw wachtwoord"


def log_in(app, remember: bool = False):
    """A new device (test client) logged in as the resident."""
    device = app.test_client()
    data = {"email": "resident@example.org", "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    response = post_form(device, "/auth/login", data)
    assert response.status_code == 303
    return device


def cookie(device, name: str) -> str:
    found = device.get_cookie(name)
    assert found is not None, f"no {name} cookie"
    return found.value


def device_with(app, **cookies):
    """A new device that carries only these cookies (as a thief who copied them)."""
    device = app.test_client()
    for name, value in cookies.items():
        device.set_cookie(name, value)
    return device


def logged_in(device) -> bool:
    response = device.get("/account/")
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    return False


@pytest.fixture
def resident(app):
    with app.app_context():
        return make_user().id


def test_after_logout_the_old_session_cookie_opens_nothing(app, resident):
    phone = log_in(app)
    stolen = cookie(phone, "session")
    assert logged_in(device_with(app, session=stolen))

    assert post_form(phone, "/auth/logout").status_code == 303

    page = phone.get("/").get_data(as_text=True)
    assert "Je bent uitgelogd, op dit apparaat en op alle andere." in page
    assert not logged_in(phone)
    assert not logged_in(device_with(app, session=stolen))


def test_after_logout_the_remember_cookie_opens_nothing(app, resident):
    phone = log_in(app, remember=True)
    remembered = cookie(phone, "remember_token")
    assert logged_in(device_with(app, remember_token=remembered))

    post_form(phone, "/auth/logout")

    assert not logged_in(device_with(app, remember_token=remembered))


def test_logout_on_one_device_ends_the_others(app, resident):
    phone, laptop = log_in(app), log_in(app, remember=True)
    laptop_remembered = cookie(laptop, "remember_token")

    post_form(phone, "/auth/logout")

    assert not logged_in(laptop)
    assert not logged_in(device_with(app, remember_token=laptop_remembered))


def test_a_password_change_logs_out_the_other_devices_but_not_this_one(app, resident):
    phone = log_in(app, remember=True)
    laptop = log_in(app, remember=True)
    laptop_remembered = cookie(laptop, "remember_token")
    old_phone_session = cookie(phone, "session")

    response = post_form(
        phone,
        "/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )

    assert response.status_code == 303
    page = phone.get("/account/").get_data(as_text=True)
    assert "Op alle andere apparaten ben je uitgelogd." in page
    # The phone's new cookies work on their own, its old session cookie does not.
    assert logged_in(device_with(app, session=cookie(phone, "session")))
    assert logged_in(device_with(app, remember_token=cookie(phone, "remember_token")))
    assert not logged_in(device_with(app, session=old_phone_session))
    assert not logged_in(laptop)
    assert not logged_in(device_with(app, remember_token=laptop_remembered))


def test_a_password_change_keeps_no_remember_cookie_the_device_did_not_have(app, resident):
    phone = log_in(app)
    post_form(
        phone,
        "/account/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
    )
    assert logged_in(phone)
    assert phone.get_cookie("remember_token") is None


def test_a_password_reset_logs_out_every_device(app, resident):
    phone, laptop = log_in(app), log_in(app, remember=True)
    laptop_remembered = cookie(laptop, "remember_token")
    library = app.test_client()
    post_form(library, "/auth/reset", {"email": "resident@example.org"})
    with app.app_context():
        body = db.session.scalars(sa.select(OutboxMessage.body_text)).one()
    path = body.split("http://localhost", 1)[1].split()[0]

    new = {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    response = post_form(library, path, new)

    assert response.status_code == 303
    assert logged_in(library)
    assert not logged_in(phone)
    assert not logged_in(laptop)
    assert not logged_in(device_with(app, remember_token=laptop_remembered))


def test_deleting_the_account_logs_out_every_device_even_if_its_id_comes_back(app, resident):
    phone, laptop = log_in(app), log_in(app, remember=True)
    laptop_session = cookie(laptop, "session")
    laptop_remembered = cookie(laptop, "remember_token")

    response = post_form(phone, "/account/delete", {"password": PASSWORD})

    assert response.status_code == 303
    assert not logged_in(phone)
    assert not logged_in(laptop)
    # SQLite gives a deleted account's id to the next one: the old cookies open nothing.
    with app.app_context():
        db.session.add(User(id=resident, email="next@example.org", name="Next", password_hash="x"))
        db.session.commit()
    assert not logged_in(device_with(app, session=laptop_session))
    assert not logged_in(device_with(app, remember_token=laptop_remembered))


def test_a_session_without_a_key_is_not_logged_in(app, resident):
    """Sessions made before session keys existed (only the id) end."""
    device = app.test_client()
    with device.session_transaction() as session:
        session["_user_id"] = str(resident)
        session["_fresh"] = True
    assert not logged_in(device)


def test_logging_out_keeps_the_public_pages_in_memory(app, resident):
    """A log-out writes the session key only: the kept public pages stay valid."""
    with app.app_context():
        before = db.session.execute(sa.text("SELECT version FROM page_versions")).scalar()
    phone = log_in(app)
    post_form(phone, "/auth/logout")
    with app.app_context():
        after = db.session.execute(sa.text("SELECT version FROM page_versions")).scalar()
    assert after == before


def test_the_remember_cookie_is_lax_http_only_and_lives_as_set(app, resident, monkeypatch):
    phone = log_in(app, remember=True)
    remembered = phone.get_cookie("remember_token")
    assert remembered.same_site == "Lax"
    assert remembered.http_only
    lifetime = remembered.expires - datetime.now(UTC)
    assert timedelta(days=29) < lifetime <= timedelta(days=30)

    monkeypatch.setitem(app.config, "REMEMBER_COOKIE_DURATION", timedelta(days=7))
    lifetime = log_in(app, remember=True).get_cookie("remember_token").expires - datetime.now(UTC)
    assert timedelta(days=6) < lifetime <= timedelta(days=7)


def test_remember_cookie_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COOP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a production secret")
    monkeypatch.setenv("REMEMBER_DAYS", "14")
    config = from_environment(str(tmp_path))
    assert config["REMEMBER_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert config["REMEMBER_COOKIE_DURATION"] == timedelta(days=14)

    monkeypatch.delenv("REMEMBER_DAYS")
    monkeypatch.setenv("COOP_ENV", "development")
    config = from_environment(str(tmp_path))
    assert config["REMEMBER_COOKIE_SECURE"] is False
    assert config["REMEMBER_COOKIE_DURATION"] == timedelta(days=30)
