"""Every route that changes something refuses a POST without the form's CSRF token.

The routes come from the URL map: a new one is checked without being listed here. Each
is called as an admin (so no permission check answers first), with the world of the
permissions matrix, with no token, a made-up token and another visitor's real token:
400 every time, the "this form has expired" page, and no row added or removed in any
table. Stripe's webhook has no token: it refuses a missing or wrong signature instead;
nor has the one-click unsubscribe of an announcement (RFC 8058: a mail client POSTs it
without a session), whose signed link is its key.
"""

import json

import pytest
import sqlalchemy as sa

from cooperative.extensions import db
from tests.conftest import csrf_token
from tests.test_permissions_matrix import act_as, build_world, url_values

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
WEBHOOK = "payments.stripe_webhook"
UNSUBSCRIBE = "news.unsubscribe"
# How many (method, route) pairs change state, the two keyed ones aside: a new one must be
# counted here.
STATE_CHANGING_ROUTES = 59 + 9 + 11 + 8 + 2 + 8 + 6 + 5 + 3 + 4 + 1 + 5 + 16 + 12
# + 9: issue 15, mandates and dues; + 11: shares; + 8: issue 16, the general meeting;
# + 2: a legal person on the register, shares issued; + 8: issue 16, proxies and
# attendance; + 6: issue 17, volunteer tasks (add, change, remove; sign up, leave by link
# or account); + 5: issue 16, the votes (add, open, close, remove, cast); + 3: issue 17,
# event series (new, edit, cancel a date); + 4: issue 16, the minutes (save, approve,
# publish, withdraw); + 1: issue 17, announcements (preview and send); + 5: issue 18,
# shared costs (new, change, take away, pay, record a transfer); + 16: issue 18, the
# collaborations' back office (new, edit, publish, unpublish; party add, change, remove;
# event link, unlink; commitment add, change, remove; progress record, remove) and the
# programme-staff role (give, take away); + 12: issue 18, questions (post, respond, hide,
# show, close, reopen, form a koppel) and organisations (new, edit, from a collective, add
# and remove a person)


def state_changing_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.methods & STATE_CHANGING and rule.endpoint not in (WEBHOOK, UNSUBSCRIBE)
    ]


def row_counts(app) -> dict[str, int]:
    """The number of rows in every table."""
    with app.app_context():
        return {
            table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }


def test_the_csrf_check_is_on_in_the_tests(app):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True


@pytest.mark.parametrize("token_kind", ("missing", "made up", "another visitor's"))
def test_every_state_changing_route_refuses_a_bad_token(app, token_kind):
    world = build_world(app)
    client = app.test_client()
    csrf_token(client, "/collectives/suggest?lang=en")  # a token of the admin's own, in English
    tokens = {
        "missing": None,
        "made up": "IjBkZWFkYmVlZiI.aGVsbG8.bm90LWEtcmVhbC1zaWduYXR1cmU",
        "another visitor's": csrf_token(app.test_client()),
    }
    token = tokens[token_kind]
    before = row_counts(app)
    checked = []
    for rule in state_changing_rules(app):
        path = rule.build(url_values(rule.endpoint, rule.arguments, world), append_unknown=False)[1]
        for method in sorted(rule.methods & STATE_CHANGING):
            act_as(client, world.users["admin"])
            data = {"name": "Changed", "action": "approve", "save": "1", "submit": "1"}
            if token is not None:
                data["csrf_token"] = token
            response = client.open(path, method=method, data=data)
            assert response.status_code == 400, f"{method} {path}: {response.status_code}"
            assert "This form has expired" in response.get_data(as_text=True)
            checked.append((method, path))
            # Also as htmx sends it: the token in a header.
            if token is not None:
                response = client.open(
                    path, method=method, data=data, headers={"X-CSRFToken": token}
                )
                assert response.status_code == 400, f"{method} {path} (header)"
    assert len(checked) == STATE_CHANGING_ROUTES
    assert row_counts(app) == before
    # The admin is still logged in: the log-out form without its token did nothing either.
    with client.session_transaction() as session:
        assert session["_user_id"].partition(":")[0] == str(world.users["admin"])


@pytest.mark.parametrize(
    "headers",
    ({"Origin": "https://evil.example"}, {"Referer": "http://evil.example/form"}),
    ids=("origin", "referer"),
)
def test_every_state_changing_route_refuses_a_form_from_another_site(app, headers):
    """Even with the visitor's own valid token: 403, and nothing changes."""
    world = build_world(app)
    client = app.test_client()
    token = csrf_token(client, "/collectives/suggest?lang=en")
    before = row_counts(app)
    checked = 0
    for rule in state_changing_rules(app):
        path = rule.build(url_values(rule.endpoint, rule.arguments, world), append_unknown=False)[1]
        for method in sorted(rule.methods & STATE_CHANGING):
            act_as(client, world.users["admin"])
            data = {"name": "Changed", "action": "approve", "save": "1", "csrf_token": token}
            response = client.open(path, method=method, data=data, headers=headers)
            assert response.status_code == 403, f"{method} {path}: {response.status_code}"
            assert "This form came from another website" in response.get_data(as_text=True)
            checked += 1
    assert checked == STATE_CHANGING_ROUTES
    assert row_counts(app) == before


def test_the_expired_form_page_says_what_to_do(app):
    world = build_world(app)
    client = app.test_client()
    act_as(client, world.users["member"])
    response = client.post("/account/password?lang=en", data={"current_password": "x"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This form has expired" in page
    assert "reload the page and try again" in page


def test_the_stripe_webhook_refuses_a_missing_or_wrong_signature(app, client, fake_stripe):
    before = row_counts(app)
    body = json.dumps({"id": "evt_1", "type": "checkout.session.completed", "data": {}})
    unsigned = client.post("/payments/stripe/webhook", data=body, content_type="application/json")
    assert unsigned.status_code == 400
    wrongly_signed = client.post(
        "/payments/stripe/webhook",
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": "t=1700000000,v1=" + "0" * 64},
    )
    assert wrongly_signed.status_code == 400
    assert row_counts(app) == before


def test_the_one_click_unsubscribe_takes_no_token_but_only_its_signed_link(app):
    world = build_world(app)
    client = app.test_client()
    before = row_counts(app)
    forged = f"/news/unsubscribe/{world.unsubscribe_token[:-4]}abcd"
    assert client.post(forged, headers={"Origin": "https://mail.example"}).status_code == 404
    assert row_counts(app) == before
    real = client.post(f"/news/unsubscribe/{world.unsubscribe_token}")
    assert real.status_code == 200
