"""Security headers on every response: a strict Content-Security-Policy and friends.

No page has inline scripts or `on*=` handlers, so scripts come only from this site. Forms
may post to this site and be sent on to Stripe's Checkout page (a redirect after a form
counts for `form-action`). HSTS only in production, where the site is served over HTTPS.
"""

from urllib.parse import urlsplit

from flask import Flask, Response, current_app

STRIPE_CHECKOUT = "https://checkout.stripe.com"


def content_security_policy() -> str:
    """The policy for this app's settings (the Stripe address may be a local fake)."""
    checkout = [STRIPE_CHECKOUT]
    api_base = current_app.config.get("STRIPE_API_BASE")
    if api_base:
        parts = urlsplit(api_base)
        checkout.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join(
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


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # Private links (/r/..., /t/...) never travel to another site in a Referer header.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config["COOP_ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
