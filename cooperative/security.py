"""Security headers on every response: a strict Content-Security-Policy and friends.

No page has inline scripts or `on*=` handlers, so scripts come only from this site. Forms
may post to this site and be sent on to Stripe's Checkout page (a redirect after a form
counts for `form-action`). HSTS only in production, where the site is served over HTTPS.
"""

from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, Response, current_app

STRIPE_CHECKOUT = "https://checkout.stripe.com"


@lru_cache(maxsize=8)
def security_headers(stripe_api_base: str, production: bool) -> tuple[tuple[str, str], ...]:
    """The headers every answer gets, for these settings (worked out once for each)."""
    checkout = [STRIPE_CHECKOUT]
    if stripe_api_base:
        # The Stripe address may be a local fake.
        parts = urlsplit(stripe_api_base)
        checkout.append(f"{parts.scheme}://{parts.netloc}")
    policy = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
            "form-action 'self' " + " ".join(checkout),
        ]
    )
    headers = [
        ("Content-Security-Policy", policy),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        # Private links (/r/..., /t/...) never travel to another site in a Referer header.
        ("Referrer-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]
    if production:
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    return tuple(headers)


def add_security_headers(response: Response) -> Response:
    config = current_app.config
    headers = response.headers
    for name, value in security_headers(
        config.get("STRIPE_API_BASE", ""), config["COOP_ENV"] == "production"
    ):
        if name not in headers:
            headers[name] = value
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
