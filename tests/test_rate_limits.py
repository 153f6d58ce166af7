"""Rate limits on the forms anyone can send: log-in, sign-up, password reset, event
registration and suggesting a collective. Each counts per client address: one address
that sends too much gets the "too many attempts" page with status 429, in its language;
another address goes on as before.

First with the app's memory storage (the limits made small for the test), then on the
running Redis (`RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0`, as with several
workers): two app processes share the count, each run with a key prefix of its own.
"""

import json
import secrets
import subprocess
import sys

import pytest
import redis

from tests.conftest import csrf_token
from tests.factories import make_domain, make_event, make_user

HOME = "10.1.1.1"
NEIGHBOUR = "10.2.2.2"
REDIS_URL = "redis://127.0.0.1:6379/0"


def registration(email: str) -> dict:
    return {
        "contact_name": "Ada",
        "contact_email": email,
        "people-0-name": "Ada",
        "people-0-meal": "",
        "submit": "register",
    }


# form: (setting, path, the n-th form sent from one address)
FORMS = {
    "log-in": (
        "LOGIN_RATE_LIMIT",
        "/auth/login",
        lambda n: {"email": "resident@example.org", "password": f"wrong {n}"},
    ),
    "sign-up": (
        "SIGNUP_RATE_LIMIT",
        "/auth/signup",
        lambda n: {
            "name": f"Resident {n}",
            "email": f"resident{n}@example.org",
            "password": "correct horse battery",
            "password_confirm": "correct horse battery",
        },
    ),
    "reset": ("RESET_RATE_LIMIT", "/auth/reset", lambda n: {"email": f"someone{n}@example.org"}),
    "registration": (
        "REGISTRATION_RATE_LIMIT",
        "/events/buurtdiner/register",
        lambda n: registration(f"guest{n}@example.org"),
    ),
    "suggestion": (
        "SUGGESTION_RATE_LIMIT",
        "/collectives/suggest",
        lambda n: {
            "name": f"Voedselbos {n}",
            "domain": "",
            "contact_email": "lies@example.org",
            "reason": "Ze planten een voedselbos voor de hele buurt.",
        },
    ),
}


@pytest.fixture
def site(app):
    """A published event to register for, a domain, and an account to log in to."""
    with app.app_context():
        make_domain()
        make_event()
        make_user()


def post_from(client, address: str, path: str, data: dict, token: str, lang: str = "en"):
    return client.post(
        f"{path}?lang={lang}",
        data={"csrf_token": token, **data},
        environ_base={"REMOTE_ADDR": address},
    )


def test_the_settings_have_sensible_defaults(app):
    from cooperative.config import from_environment

    settings = from_environment(app.instance_path)
    for setting, _path, _data in FORMS.values():
        assert " per " in settings[setting]
    assert settings["SIGNUP_RATE_LIMIT"] == "10 per minute; 50 per hour"
    assert settings["REGISTRATION_RATE_LIMIT"] == "20 per minute; 200 per hour"


@pytest.mark.parametrize("form", FORMS)
def test_each_form_is_limited_per_address(app, client, site, monkeypatch, form):
    setting, path, data = FORMS[form]
    monkeypatch.setitem(app.config, setting, "3 per minute")
    token = csrf_token(client)

    for n in range(3):
        response = post_from(client, HOME, path, data(n), token)
        assert response.status_code in (200, 302, 303, 422), (n, response.status_code)

    refused = post_from(client, HOME, path, data(3), token)
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "Too many attempts" in page
    assert "Please wait a minute and try again." in page

    dutch = post_from(client, HOME, path, data(4), token, lang="nl")
    assert dutch.status_code == 429
    assert "Te veel pogingen" in dutch.get_data(as_text=True)

    # The neighbour, on another address, is not held back.
    assert post_from(client, NEIGHBOUR, path, data(5), token).status_code != 429
    # Reading the page is never limited.
    get = client.get(path if form != "registration" else "/events/buurtdiner")
    assert get.status_code == 200


def test_adding_and_removing_people_does_not_use_up_the_registration_limit(
    app, client, site, monkeypatch
):
    monkeypatch.setitem(app.config, "REGISTRATION_RATE_LIMIT", "2 per minute")
    token = csrf_token(client)
    path = "/events/buurtdiner/register"
    form = {k: v for k, v in registration("ada@example.org").items() if k != "submit"}
    for _ in range(4):
        added = post_from(client, HOME, path, form | {"add_person": "1"}, token)
        assert added.status_code == 200
        removed = post_from(client, HOME, path, form | {"remove_person": "1"}, token)
        assert removed.status_code == 200
    assert post_from(client, HOME, path, registration("ada@example.org"), token).status_code == 303
    assert post_from(client, HOME, path, registration("bob@example.org"), token).status_code == 303
    assert post_from(client, HOME, path, registration("cor@example.org"), token).status_code == 429
    # Redrawing the form still works; only sending it waits.
    assert post_from(client, HOME, path, form | {"add_person": "1"}, token).status_code == 200


# --- On Redis, shared by two app processes ---------------------------------------------------

WORKER = """
import json, sys
from cooperative import create_app
database_url, redis_url, prefix, path, posts = sys.argv[1:6]
app = create_app({
    "SQLALCHEMY_DATABASE_URI": database_url,
    "RATELIMIT_STORAGE_URI": redis_url,
    "RATELIMIT_KEY_PREFIX": prefix,
    "LOGIN_RATE_LIMIT": "3 per minute",
    "REGISTRATION_RATE_LIMIT": "3 per minute",
    "MAIL_SERVER": "",
    "WTF_CSRF_ENABLED": False,  # the CSRF check has tests of its own
})
client = app.test_client()
statuses = [
    client.post(path, data=data, environ_base={"REMOTE_ADDR": address}).status_code
    for address, data in json.loads(posts)
]
print(json.dumps(statuses))
"""


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own on the running Redis; its keys removed afterwards."""
    store = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    assert store.ping(), "Redis must run on 127.0.0.1:6379 (.ci/run starts it)"
    prefix = f"coop-test-{secrets.token_hex(6)}"
    yield prefix
    for key in store.scan_iter(f"*{prefix}*"):
        store.delete(key)


def run_worker(database_url: str, prefix: str, path: str, posts: list) -> list[int]:
    """A second app instance in its own process, on Redis; the statuses of its POSTs."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", WORKER, database_url, REDIS_URL, prefix, path, json.dumps(posts)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("form", ["log-in", "registration"])
def test_on_redis_two_processes_share_the_limit_per_address(
    app, site, database_url, redis_prefix, form
):
    _setting, path, data = FORMS[form]
    first = run_worker(database_url, redis_prefix, path, [(HOME, data(0)), (HOME, data(1))])
    assert 429 not in first
    second = run_worker(
        database_url,
        redis_prefix,
        path,
        [(HOME, data(2)), (HOME, data(3)), (NEIGHBOUR, data(4))],
    )
    # The third form from HOME in a minute passes, the fourth waits, counted across both
    # processes; the neighbour's first goes through.
    assert second[0] != 429
    assert second[1] == 429
    assert second[2] != 429
    store = redis.Redis.from_url(REDIS_URL)
    assert any(True for _ in store.scan_iter(f"*{redis_prefix}*")), "the count lives in Redis"
