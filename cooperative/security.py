"""What keeps other sites out: security headers on every response, and no form sent from
another site.

Headers: a strict Content-Security-Policy and friends. No page has inline scripts or
`on*=` handlers, so scripts come only from this site. Forms may post to this site and be
sent on to Stripe's Checkout page (a redirect after a form counts for `form-action`). HSTS
only in production, where the site is served over HTTPS. No other site may frame a page
(`frame-ancestors 'none'`, `X-Frame-Options: DENY`), except the views marked `framable`: the
embeddable event lists that collectives put on their own sites, which any site may frame.

Forms: besides its CSRF token, a POST (PUT, PATCH, DELETE) must not say it comes from
another host (`refuse_other_sites`), over http and https alike.
"""

from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import Forbidden

STRIPE_CHECKOUT = "https://checkout.stripe.com"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_PORTS = {"http": ":80", "https": ":443"}


class OtherSiteRefused(Forbidden):
    """A form sent from another site's page (errors.py shows it in the site's language)."""

    description = "This form came from another website."


def any_origin(view):
    """Mark a view that takes POSTs from anywhere (Stripe's webhook: it checks a signature
    instead): `refuse_other_sites` leaves it alone."""
    view.any_origin = True
    return view


def framable(view):
    """Mark a view any site may show in a frame (`frame-ancestors *`, no X-Frame-Options):
    the embeddable event lists. Every other view keeps `frame-ancestors 'none'`."""
    view.framable = True
    return view


def is_framable() -> bool:
    """Whether this request is for a view marked `framable`."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "framable", False))


def _host(scheme: str, netloc: str) -> str:
    """`host[:port]` in lower case, without the port its scheme has by default."""
    netloc = netloc.lower()
    default = DEFAULT_PORTS.get(scheme.lower(), "")
    return netloc[: -len(default)] if default and netloc.endswith(default) else netloc


def refuse_other_sites() -> None:
    """Refuse (403, OtherSiteRefused) a state-changing request whose `Origin`, or without
    one its `Referer`, names another host than the one this request is for (as the app sees
    it: behind PROXY_COUNT proxies, their `X-Forwarded-Host`).

    An `Origin` of `null` (a sandboxed frame, a page without an origin) is refused too. A
    request with neither header is let through (old browsers, privacy settings): its CSRF
    token is still checked. Views marked `any_origin` are not checked.
    """
    if request.method not in STATE_CHANGING:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or getattr(view, "any_origin", False):
        return
    ours = _host(request.scheme, request.host)
    origin = request.headers.get("Origin", "").strip()
    if origin:
        parts = urlsplit(origin)
        if origin == "null" or _host(parts.scheme, parts.netloc) != ours:
            raise OtherSiteRefused()
        return
    parts = urlsplit(request.headers.get("Referer", "").strip())
    if parts.netloc and _host(parts.scheme, parts.netloc) != ours:
        raise OtherSiteRefused()


@lru_cache(maxsize=8)
def security_headers(
    stripe_api_base: str, production: bool, framable: bool = False
) -> tuple[tuple[str, str], ...]:
    """The headers every answer gets, for these settings (worked out once for each).
    `framable`: any site may frame the page (no X-Frame-Options, `frame-ancestors *`)."""
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
            "frame-ancestors *" if framable else "frame-ancestors 'none'",
            "form-action 'self' " + " ".join(checkout),
        ]
    )
    headers = [
        ("Content-Security-Policy", policy),
        ("X-Content-Type-Options", "nosniff"),
        # Private links (/r/..., /t/...) never travel to another site in a Referer header.
        ("Referrer-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ]
    if not framable:
        headers.append(("X-Frame-Options", "DENY"))
    if production:
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    return tuple(headers)


def add_security_headers(response: Response) -> Response:
    config = current_app.config
    headers = response.headers
    for name, value in security_headers(
        config.get("STRIPE_API_BASE", ""), config["COOP_ENV"] == "production", is_framable()
    ):
        if name not in headers:
            headers[name] = value
    return response


def init_app(app: Flask) -> None:
    app.before_request(refuse_other_sites)
    app.after_request(add_security_headers)
