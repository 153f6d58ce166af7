"""Sign-up and password reset do not tell, by their answer or by how long they take,
whether an address has an account: both paths do the same work. The work is counted
(password hashes computed, e-mails queued), not timed, so the test cannot be flaky."""

import hashlib

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from cooperative.models import OutboxMessage
from tests.conftest import csrf_token
from tests.factories import make_user

SIGNUP = {
    "name": "Fatima de Vries",
    "password": "een lang wachtwoord",
    "password_confirm": "een lang wachtwoord",
}


@pytest.fixture
def hashes(monkeypatch):
    """Counts the key derivations (werkzeug's scrypt or pbkdf2) that really run."""
    counted = []
    for name in ("scrypt", "pbkdf2_hmac"):
        real = getattr(hashlib, name)

        def counting(*args, _real=real, **kwargs):
            counted.append(1)
            return _real(*args, **kwargs)

        monkeypatch.setattr(hashlib, name, counting)
    return counted


def work_done(app, client, hashes, url: str, data: dict):
    """Send the form; return the answer and the work it took (hashes, e-mails queued)."""
    data = {**data, "csrf_token": csrf_token(client, url)}
    with app.app_context():
        mails_before = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))
    hashes.clear()
    response = client.post(url, data=data)
    with app.app_context():
        mails = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) - mails_before
    return response.status_code, response.headers.get("Location"), len(hashes), mails


def test_signup_does_the_same_work_for_a_known_and_an_unknown_address(app, client, hashes):
    with app.app_context():
        make_user(email="known@example.org")

    known = work_done(app, client, hashes, "/auth/signup", {**SIGNUP, "email": "known@example.org"})
    unknown = work_done(app, client, hashes, "/auth/signup", {**SIGNUP, "email": "new@example.org"})

    assert known == unknown == (303, "/auth/check-email", 1, 1)


def test_password_reset_does_the_same_work_for_a_known_and_an_unknown_address(app, client, hashes):
    with app.app_context():
        make_user(email="known@example.org")

    known = work_done(app, client, hashes, "/auth/reset", {"email": "known@example.org"})
    unknown = work_done(app, client, hashes, "/auth/reset", {"email": "nobody@example.org"})

    assert known == unknown == (303, "/auth/check-email?reset=1", 0, 1)


def test_a_reset_for_an_unknown_address_says_so_in_the_visitors_language(app, client):
    data = {"email": "Nobody@Example.org", "csrf_token": csrf_token(client, "/auth/reset")}
    assert client.post("/auth/reset?lang=en", data=data).status_code == 303

    with app.app_context():
        [message] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert message.to_address == "nobody@example.org"
    assert message.subject == "Reset your password"
    assert "No account at MeentCoop has this address" in message.body_text
    assert "http://localhost/auth/signup" in message.body_text
    assert "/auth/reset/" not in message.body_text  # no reset link: there is nothing to reset
