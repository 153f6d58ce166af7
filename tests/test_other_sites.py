"""A form sent from another site's page is refused, even with a valid CSRF token: its
`Origin` (or, without one, its `Referer`) must name this site's own host. Stripe's webhook
is the one exception; a request with neither header passes on its token alone."""

import json

import pytest
import sqlalchemy as sa

from cooperative import create_app
from cooperative.extensions import db
from cooperative.models import StripeEvent, User
from tests.conftest import csrf_token, deliver_webhook

SIGNUP = {
    "name": "Fatima de Vries",
    "email": "fatima@example.org",
    "password": "een lang wachtwoord",
    "password_confirm": "een lang wachtwoord",
}


def sign_up(client, headers: dict, url: str = "/auth/signup"):
    """Send the sign-up form with a valid token and these headers."""
    data = {**SIGNUP, "csrf_token": csrf_token(client, "/auth/signup")}
    return client.post(url, data=data, headers=headers)


def accounts(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(User.id)))


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "https://evil.example"},
        {"Origin": "http://localhost.evil.example"},
        {"Origin": "http://localhost:8080"},
        {"Origin": "null"},
        {"Referer": "http://evil.example/page"},
        {"Origin": "http://evil.example", "Referer": "http://localhost/auth/signup"},
    ],
)
def test_a_form_from_another_site_is_refused_with_a_valid_token(app, client, headers):
    response = sign_up(client, headers)

    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Dit formulier kwam van een andere website" in page
    assert accounts(app) == 0


def test_the_refusal_speaks_the_visitors_language(app, client):
    response = sign_up(client, {"Origin": "http://evil.example"}, "/auth/signup?lang=en")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "This form came from another website" in page
    assert "reload the page" in page


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://localhost"},
        {"Origin": "http://LOCALHOST:80"},
        {"Referer": "http://localhost/auth/signup"},
        {},  # an old browser, or privacy settings: the token alone decides
    ],
)
def test_a_form_from_this_site_or_without_either_header_goes_through(app, client, headers):
    response = sign_up(client, headers)
    assert response.status_code == 303
    assert accounts(app) == 1


def test_without_a_token_the_csrf_check_still_answers_first(app, client):
    response = client.post("/auth/signup", data=SIGNUP, headers={"Origin": "http://localhost"})
    assert response.status_code == 400
    assert accounts(app) == 0


def test_over_https_too(app):
    client = app.test_client()
    token = csrf_token(client, "https://localhost/auth/signup")
    data = {**SIGNUP, "csrf_token": token}

    refused = client.post(
        "https://localhost/auth/signup", data=data, headers={"Origin": "https://evil.example"}
    )
    assert refused.status_code == 403
    assert accounts(app) == 0

    refused = client.post(
        "https://localhost/auth/signup", data=data, headers={"Referer": "https://evil.example/"}
    )
    assert refused.status_code == 403
    assert accounts(app) == 0

    accepted = client.post(
        "https://localhost/auth/signup", data=data, headers={"Origin": "https://localhost"}
    )
    assert accepted.status_code == 303
    assert accounts(app) == 1


def test_over_https_neither_header_is_needed(app):
    """Privacy settings may drop the Referer: the token alone decides then, as over http."""
    client = app.test_client()
    token = csrf_token(client, "https://localhost/auth/signup")
    response = client.post("https://localhost/auth/signup", data={**SIGNUP, "csrf_token": token})
    assert response.status_code == 303
    assert accounts(app) == 1


def test_behind_a_proxy_the_host_is_the_one_the_visitor_asked_for(app):
    """With PROXY_COUNT=1 the site's host is the proxy's X-Forwarded-Host."""
    behind_proxy = create_app({**app.config, "PROXY_COUNT": 1}, migrations=False)
    client = behind_proxy.test_client()
    forwarded = {"X-Forwarded-Host": "meentcoop.example", "X-Forwarded-Proto": "https"}
    token = csrf_token(client, "/auth/signup")
    data = {**SIGNUP, "csrf_token": token}

    inner = client.post(
        "/auth/signup", data=data, headers={**forwarded, "Origin": "http://localhost"}
    )
    assert inner.status_code == 403

    outer = client.post(
        "/auth/signup", data=data, headers={**forwarded, "Origin": "https://meentcoop.example"}
    )
    assert outer.status_code == 303
    assert accounts(app) == 1


def test_the_stripe_webhook_takes_a_signed_event_from_anywhere(app, client, fake_stripe):
    event = {
        "id": "evt_from_stripe",
        "object": "event",
        "type": "customer.created",
        "data": {"object": {"id": "cus_1", "object": "customer"}},
    }
    body, headers = fake_stripe.webhook_request(event)
    response = client.post(
        "/payments/stripe/webhook",
        data=body,
        headers={**headers, "Origin": "https://stripe.com", "Referer": "https://stripe.com/"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert json.loads(response.get_data())["received"] is True
    with app.app_context():
        assert db.session.get(StripeEvent, "evt_from_stripe") is not None
    # and as the suite's usual helper sends it
    event["id"] = "evt_again"
    assert deliver_webhook(client, fake_stripe, event).status_code == 200
