"""Two-factor log-in with an authenticator app: setting it up, the log-in's second step,
recovery codes, turning it off, and admins sent to set it up (`REQUIRE_ADMIN_2FA`)."""

import re
import time

import pyotp
import sqlalchemy as sa

from cooperative.config import from_environment
from cooperative.extensions import db
from cooperative.models import RecoveryCode, TwoFactor, User
from cooperative.services import two_factor
from tests.conftest import post_form
from tests.factories import make_admin, make_user

PASSWORD = "correct horse battery"


def code(secret: str, steps: int = 0) -> str:
    """The app's code `steps` time steps from now."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


def enable(app, email: str = "resident@example.org") -> tuple[str, list[str]]:
    """Two-factor log-in turned on for `email` as the set-up page does it (with the code of
    the step before now, so the current one is still unused): its secret and codes."""
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        found = two_factor.start(user)
        codes = two_factor.confirm(found, code(found.secret, -1))
        assert codes is not None
        db.session.commit()
        return found.secret, codes


def shown_codes(response) -> list[str]:
    """The recovery codes on a page."""
    return re.findall(r"<code>([A-Z0-9]{5}-[A-Z0-9]{5})</code>", response.get_data(as_text=True))


def log_in(client, email="resident@example.org", password=PASSWORD):
    return post_form(client, "/auth/login", {"email": email, "password": password})


def stored(app, email="resident@example.org") -> TwoFactor | None:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        found = db.session.get(TwoFactor, user.id)
        if found is not None:
            db.session.expunge(found)
        return found


def test_setting_it_up_shows_a_qr_code_and_turns_on_with_a_right_code(app, client, auth):
    with app.app_context():
        make_user()
    auth.login()
    assert 'href="/account/two-factor"' in client.get("/account/").get_data(as_text=True)
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "<svg" not in page
    assert post_form(client, "/account/two-factor/start").status_code == 303
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = stored(app).secret
    assert "<svg" in page  # the QR code, inline
    assert secret in page  # and the key as text
    assert stored(app).confirmed_at is None

    wrong = post_form(client, "/account/two-factor/confirm?lang=en", {"code": "000000"})
    assert wrong.status_code == 422
    assert "This code is not right" in wrong.get_data(as_text=True)
    assert stored(app).confirmed_at is None

    right = post_form(client, "/account/two-factor/confirm", {"code": code(secret)})
    assert right.status_code == 200
    shown = shown_codes(right)
    assert len(set(shown)) == 10
    assert stored(app).confirmed_at is not None
    with app.app_context():
        hashes = db.session.scalars(sa.select(RecoveryCode.code_hash)).all()
    assert len(hashes) == 10
    assert not {c.replace("-", "") for c in shown} & set(hashes)  # kept only hashed
    # Shown once: the page afterwards has no codes, only how many are left.
    page = client.get("/account/two-factor?lang=en").get_data(as_text=True)
    assert shown[0] not in page
    assert "10 recovery codes left" in page


def test_login_asks_for_the_code_after_a_right_password(app, client):
    with app.app_context():
        make_user()
    secret, _ = enable(app)

    response = log_in(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/two-factor"
    # Not logged in yet.
    assert client.get("/account/").headers["Location"].startswith("/auth/login")

    wrong = post_form(client, "/auth/two-factor?lang=en", {"code": "123456"})
    assert wrong.status_code == 422
    assert "This code is not right, or it was used already" in wrong.get_data(as_text=True)
    assert client.get("/account/").status_code == 302

    right = post_form(client, "/auth/two-factor", {"code": code(secret)})
    assert right.status_code == 303
    assert right.headers["Location"] == "/account/"
    assert client.get("/account/").status_code == 200


def test_a_wrong_password_never_reaches_the_second_step(app, client):
    with app.app_context():
        make_user()
    secret, _ = enable(app)
    assert log_in(client, password="wrong password").status_code == 422
    response = post_form(client, "/auth/two-factor", {"code": code(secret)})
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login"
    assert client.get("/account/").status_code == 302


def test_a_code_is_not_accepted_twice(app, client, auth):
    with app.app_context():
        make_user()
    secret, _ = enable(app)
    used = code(secret)
    log_in(client)
    assert post_form(client, "/auth/two-factor", {"code": used}).status_code == 303
    last_step = stored(app).last_step
    assert pyotp.TOTP(secret).at(last_step * 30) == used  # the step of the code is kept
    auth.logout()

    log_in(client)
    replayed = post_form(client, "/auth/two-factor", {"code": used})
    assert replayed.status_code == 422
    assert client.get("/account/").status_code == 302
    assert stored(app).last_step == last_step
    # The next code works.
    assert post_form(client, "/auth/two-factor", {"code": code(secret, 1)}).status_code == 303


def test_a_recovery_code_works_once(app, client, auth):
    with app.app_context():
        make_user()
    _, codes = enable(app)
    log_in(client)
    response = post_form(client, "/auth/two-factor?lang=en", {"code": codes[3].lower()})
    assert response.status_code == 303
    page = client.get("/account/?lang=en").get_data(as_text=True)
    assert "You used a recovery code: 9 are left." in page
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count(RecoveryCode.id)).where(RecoveryCode.used_at.is_not(None))
            )
            == 1
        )
    auth.logout()

    log_in(client)
    assert post_form(client, "/auth/two-factor", {"code": codes[3]}).status_code == 422
    assert client.get("/account/").status_code == 302
    assert post_form(client, "/auth/two-factor", {"code": codes[4]}).status_code == 303


def test_the_second_step_is_rate_limited_like_the_login(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
    with app.app_context():
        make_user()
    secret, _ = enable(app)
    log_in(client)
    statuses = [
        post_form(client, "/auth/two-factor", {"code": "000000"}).status_code for _ in range(4)
    ]
    assert statuses == [422, 422, 422, 429]
    # Even the right code waits now.
    assert post_form(client, "/auth/two-factor", {"code": code(secret)}).status_code == 429
    assert client.get("/account/").status_code == 302


def test_a_password_reset_still_asks_for_the_code(app, client):
    from cooperative.services import accounts

    with app.app_context():
        user = make_user()
        token = accounts.make_reset_token(user)
    secret, _ = enable(app)
    new = "a brand new password"
    response = post_form(client, f"/auth/reset/{token}", {"password": new, "password_confirm": new})
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/two-factor"
    assert client.get("/account/").status_code == 302
    assert post_form(client, "/auth/two-factor", {"code": code(secret)}).status_code == 303
    assert client.get("/account/").status_code == 200


def test_turning_it_off_needs_the_password_or_a_code(app, client):
    with app.app_context():
        make_user()
    secret, _ = enable(app)
    log_in(client)
    post_form(client, "/auth/two-factor", {"code": code(secret)})

    wrong = post_form(client, "/account/two-factor/disable?lang=en", {"proof": "guess"})
    assert wrong.status_code == 422
    assert "neither your password nor a right code" in wrong.get_data(as_text=True)
    assert stored(app).confirmed_at is not None

    right = post_form(client, "/account/two-factor/disable", {"proof": PASSWORD})
    assert right.status_code == 303
    assert stored(app) is None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(RecoveryCode.id))) == 0
    # The next log-in needs only the password.
    post_form(client, "/auth/logout")
    assert log_in(client).headers["Location"] == "/account/"


def test_turning_it_off_with_a_code(app, client, auth):
    with app.app_context():
        make_user()
    secret, _ = enable(app)
    log_in(client)
    post_form(client, "/auth/two-factor", {"code": code(secret)})
    response = post_form(client, "/account/two-factor/disable", {"proof": code(secret, 1)})
    assert response.status_code == 303
    assert stored(app) is None


def test_admins_are_sent_to_set_it_up_when_it_is_required(app, client, auth, monkeypatch):
    with app.app_context():
        make_admin()
        make_user()
    monkeypatch.setitem(app.config, "REQUIRE_ADMIN_2FA", True)
    auth.login("admin@example.org")
    for path in ("/admin/members", "/admin/collectives/", "/admin/audit"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"] == "/account/two-factor"
    page = client.get("/account/two-factor?lang=en").get_data(as_text=True)
    assert "Admins need two-factor log-in" in page

    # Set up through the pages; then the admin pages open.
    post_form(client, "/account/two-factor/start")
    secret = stored(app, "admin@example.org").secret
    post_form(client, "/account/two-factor/confirm", {"code": code(secret)})
    assert client.get("/admin/members").status_code == 200

    # Others are untouched: a member still gets 403.
    auth.logout()
    auth.login()
    assert client.get("/admin/members").status_code == 403


def test_without_the_setting_admins_need_no_second_step(app, client, auth, monkeypatch):
    with app.app_context():
        make_admin()
    monkeypatch.setitem(app.config, "REQUIRE_ADMIN_2FA", False)
    auth.login("admin@example.org")
    assert client.get("/admin/members").status_code == 200


def test_the_setting_is_on_by_default_in_production_only(monkeypatch, tmp_path):
    monkeypatch.delenv("REQUIRE_ADMIN_2FA", raising=False)
    monkeypatch.setenv("COOP_ENV", "development")
    assert from_environment(str(tmp_path))["REQUIRE_ADMIN_2FA"] is False
    monkeypatch.setenv("COOP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a production secret")
    assert from_environment(str(tmp_path))["REQUIRE_ADMIN_2FA"] is True
    monkeypatch.setenv("REQUIRE_ADMIN_2FA", "0")
    assert from_environment(str(tmp_path))["REQUIRE_ADMIN_2FA"] is False


def test_new_recovery_codes_replace_the_old_ones(app, client):
    with app.app_context():
        make_user()
    secret, old_codes = enable(app)
    log_in(client)
    post_form(client, "/auth/two-factor", {"code": code(secret)})

    wrong = post_form(
        client, "/account/two-factor/recovery-codes?lang=en", {"codes-proof": "guess"}
    )
    assert wrong.status_code == 422
    assert "neither your password nor a right code" in wrong.get_data(as_text=True)

    response = post_form(client, "/account/two-factor/recovery-codes", {"codes-proof": PASSWORD})
    assert response.status_code == 200
    new_codes = re.findall(
        r"<code>([A-Z0-9]{5}-[A-Z0-9]{5})</code>", response.get_data(as_text=True)
    )
    assert len(set(new_codes)) == 10 and not set(new_codes) & set(old_codes)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(RecoveryCode.id))) == 10
    post_form(client, "/auth/logout")
    log_in(client)
    assert post_form(client, "/auth/two-factor", {"code": old_codes[0]}).status_code == 422
    assert post_form(client, "/auth/two-factor", {"code": new_codes[0]}).status_code == 303


def test_a_code_of_other_digits_is_wrong_not_a_500(app):
    """'١٢٣٤٥٦' (Arabic-Indic) is six digits to str.isdigit; hmac.compare_digest raises on
    it: it is a wrong code."""
    with app.app_context():
        make_user("resident@example.org")
    enable(app)
    with app.app_context():
        found = stored(app)
        assert two_factor.check_app_code(found, "١٢٣٤٥٦") is False
        assert two_factor.check_app_code(found, "²²²²²²") is False
