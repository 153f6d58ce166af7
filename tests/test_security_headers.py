"""Every answer carries the security headers; scripts may come only from this site."""

import re
from pathlib import Path

import pytest

from tests.factories import make_event, make_registration


@pytest.fixture
def urls(app):
    with app.app_context():
        registration = make_registration(make_event())
        return [
            "/",
            "/events",
            "/events/buurtdiner",
            "/events.ics",
            "/collectives",
            "/auth/login",
            "/join",
            f"/r/{registration.token}",
            f"/t/{registration.attendees[0].ticket}",
            "/api/v1/events",
            "/healthz",
            "/no-such-page",
        ]


def test_every_answer_carries_the_security_headers(client, urls):
    for url in urls:
        headers = client.get(url).headers
        policy = headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'", url
        assert "unsafe" not in policy, url
        assert directives["frame-ancestors"] == "'none'", url
        assert directives["object-src"] == "'none'", url
        assert headers["X-Content-Type-Options"] == "nosniff", url
        assert headers["Referrer-Policy"] == "same-origin", url
        assert "Strict-Transport-Security" not in headers, "only over HTTPS in production"


def test_forms_may_go_on_to_stripe_checkout_only(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", "http://127.0.0.1:9999")
    policy = client.get("/").headers["Content-Security-Policy"]
    form_action = next(d for d in policy.split("; ") if d.startswith("form-action"))
    assert form_action == ("form-action 'self' https://checkout.stripe.com http://127.0.0.1:9999")


def test_production_adds_hsts(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "COOP_ENV", "production")
    headers = client.get("/").headers
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_no_template_has_inline_scripts_or_handlers():
    root = Path(__file__).resolve().parent.parent / "templates"
    for template in root.rglob("*.html"):
        text = template.read_text()
        for script in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in script or "application/ld+json" in script, (template, script)
        assert not re.search(r"\son[a-z]+\s*=", text), template
        # A mail's HTML is read in mail programs, not under the site's CSP; many of them
        # keep only inline styles.
        if template.parent.name != "mail":
            assert "style=" not in text, template
