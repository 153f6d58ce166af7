"""A fake Stripe for tests: a real HTTP server on 127.0.0.1 that the real ``stripe`` SDK talks to.

Point a client at it and use the SDK as against Stripe itself::

    fake = FakeStripe(webhook_url=f"{live_server}/payments/webhook").start()
    client = stripe.StripeClient(
        fake.api_key, base_addresses={"api": fake.url}, max_network_retries=0
    )
    session = client.v1.checkout.sessions.create(params={...})

What it serves (form-encoded requests, JSON answers in Stripe's shape, ``Bearer`` key checked):

- ``POST /v1/checkout/sessions``, ``GET /v1/checkout/sessions/{id}`` (``expand`` of
  ``payment_intent`` and ``line_items``), ``POST /v1/checkout/sessions/{id}/expire``,
  ``GET /v1/checkout/sessions/{id}/line_items``; ``mode=payment`` with ``price_data`` line items
  only (prices and products stored at Stripe are not modelled).
- ``GET /v1/payment_intents/{id}``, ``GET /v1/charges/{id}``, ``POST /v1/refunds``,
  ``GET /v1/refunds/{id}``, ``GET /v1/refunds?payment_intent=...``.
- A hosted checkout page ``GET /pay/{session id}`` with a "Pay" and a "Cancel" button
  (``POST /pay/{id}/pay``, ``POST /pay/{id}/cancel``), both answering 303 to the session's
  ``success_url`` (``{CHECKOUT_SESSION_ID}`` filled in) or ``cancel_url``.

Where it is as strict as Stripe:

- When a request carries the SDK's own ``Stripe-Version`` (or none), its parameters are checked
  against the SDK's generated parameter types for that API version: an unknown parameter, a
  value outside an enum (``locale``, payment method types, ...) or a non-integer amount is a
  400 ``invalid_request_error`` naming the parameter, like Stripe's "Received unknown parameter".
  Note: from API version 2026-09-30 (the SDK's is 2026-10-28.endive) Checkout Sessions no longer
  take ``payment_method_types``; ``allowed_payment_method_types`` replaces it.
- ``expires_at`` must lie between 30 minutes and 24 hours after creation; the total must be at
  least 50 cents in eur/usd/gbp; metadata keeps Stripe's limits (50 keys, key 40, value 500
  characters); ``Idempotency-Key`` replays the first successful answer and refuses other
  parameters with the same key.
- A session's ``url`` is null once it is no longer open; its ``payment_intent`` is null until it
  is completed.

SEPA Direct Debit (setup-mode sessions, SetupIntents, mandates, payment intents on a saved
``sepa_debit`` method, disputes) lives in ``tests/fake_stripe_sepa.py``, mixed into FakeStripe.

Webhooks: every event is signed as Stripe signs them (``Stripe-Signature: t=...,v1=...``, HMAC
SHA-256 of ``"{t}.{body}"``), so ``stripe.Webhook.construct_event`` accepts them. Besides
the SEPA ones, only ``checkout.session.*`` events are sent (``completed``,
``async_payment_succeeded``, ``async_payment_failed``, ``expired``). Events caused by the
checkout page or by the helper methods are delivered before the page answers / the method
returns. Events caused by an API call (expiring a session) are delivered in the background
just after the answer, as Stripe does; call ``wait_for_deliveries()`` before asserting on
them. When ``webhook_url`` is None or ``deliver_webhooks`` is False, events wait in
``pending_events``.
"""

from __future__ import annotations

import copy
import decimal
import functools
import hashlib
import hmac
import html
import json
import queue
import re
import secrets
import string
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

import stripe
import typing_extensions as te
from stripe.params import (
    ChargeRetrieveParams,
    PaymentIntentRetrieveParams,
    RefundCreateParams,
    RefundListParams,
    RefundRetrieveParams,
)
from stripe.params.checkout import (
    SessionCreateParams,
    SessionExpireParams,
    SessionListLineItemsParams,
    SessionRetrieveParams,
)
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.fake_stripe_sepa import SepaDebitMixin

PAYMENT_OUTCOMES = ("paid", "async_success", "async_failure")
MINIMUM_CHARGE = {"eur": 50, "usd": 50, "gbp": 30}
CURRENCY_SIGNS = {"eur": "€", "usd": "$", "gbp": "£"}
_REQUEST_OPTIONS = set(stripe.RequestOptions.__annotations__)
_ALPHANUMERIC = string.ascii_letters + string.digits


class _ApiRequestFields(NamedTuple):
    method: str
    path: str
    params: dict


class ApiRequest(_ApiRequestFields):
    """One request the fake API received: a tuple ``(method, path, params)`` plus ``headers``.

    ``params`` is nested the way the SDK flattened it (``line_items[0][quantity]=2`` becomes
    ``{"line_items": [{"quantity": "2"}]}``); every leaf is a string, as on the wire.
    ``headers`` holds the request's headers by lower-case name (outside the tuple).
    """

    def __new__(cls, method: str, path: str, params: dict, headers: dict | None = None):
        self = super().__new__(cls, method, path, params)
        self.headers = dict(headers or {})
        return self


class Delivery(NamedTuple):
    """One webhook delivery: the event, the HTTP status (None if unreachable) and the body."""

    event: dict
    status: int | None
    body: str

    @property
    def ok(self) -> bool:
        """True when the receiver answered 2xx."""
        return self.status is not None and 200 <= self.status < 300


class StripeError(Exception):
    """An error the fake API answers in Stripe's shape."""

    def __init__(self, message, *, status=400, type="invalid_request_error", code=None, param=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param

    def body(self) -> dict:
        """The JSON body Stripe sends with this error."""
        error = {"message": self.message, "type": self.type}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return {"error": error}


def _missing(param: str) -> StripeError:
    return StripeError(f"Missing required param: {param}.", code="parameter_missing", param=param)


def _no_such(kind: str, object_id: str, param: str, status: int = 404) -> StripeError:
    return StripeError(
        f"No such {kind}: '{object_id}'", status=status, code="resource_missing", param=param
    )


def _new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def format_money(cents: int, currency: str) -> str:
    """Cents as the page shows them: ``€15.00``, or ``15.00 SEK`` without a known sign."""
    sign = CURRENCY_SIGNS.get(currency)
    amount = f"{cents // 100}.{cents % 100:02d}"
    return f"{sign}{amount}" if sign else f"{amount} {currency.upper()}"


# --- form decoding and parameter checking ---------------------------------------------------

_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")


def decode_params(encoded: str) -> dict:
    """Decode Stripe's form encoding (``a[b][0][c]=1``) into nested dicts and lists of strings."""
    root: dict = {}
    for key, value in parse_qsl(encoded, keep_blank_values=True):
        match = _KEY.fullmatch(key)
        parts = [key] if match is None else [match[1], *re.findall(r"\[([^\[\]]*)\]", match[2])]
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":  # a[]=x: append
                part = str(sum(1 for k in node if k.isdigit()))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
    return _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    node = {k: _listify(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node


def _resolve(tp, namespace: dict):
    if isinstance(tp, te.ForwardRef):
        tp = tp.__forward_arg__
    if isinstance(tp, str):
        try:
            return eval(tp, namespace)  # noqa: S307 - the SDK's own type annotations
        except Exception:
            return Any
    return tp


def check_params(value, tp, path: str = "", namespace: dict | None = None) -> None:
    """Raise StripeError where decoded params do not fit the SDK's parameter type ``tp``."""
    namespace = namespace if namespace is not None else {}
    tp = _resolve(tp, namespace)
    origin, args = te.get_origin(tp), te.get_args(tp)
    if origin in (te.NotRequired, te.Required):
        return check_params(value, args[0], path, namespace)
    if value == "":  # an empty value unsets a field at Stripe
        return None
    if te.is_typeddict(tp):
        if not isinstance(value, dict):
            raise StripeError(f"Invalid object: {path}", param=path)
        own = sys.modules[tp.__module__].__dict__
        annotations = tp.__annotations__
        for key, annotation in annotations.items():
            annotation = _resolve(annotation, own)
            required = te.get_origin(annotation) is not te.NotRequired and annotation is not Any
            if required and key not in value and not (not path and key in _REQUEST_OPTIONS):
                raise _missing(f"{path}[{key}]" if path else key)
        for key, sub in value.items():
            sub_path = f"{path}[{key}]" if path else key
            if key not in annotations or (not path and key in _REQUEST_OPTIONS):
                raise StripeError(f"Received unknown parameter: {sub_path}", param=sub_path)
            check_params(sub, annotations[key], sub_path, own)
        return None
    if origin is te.Union or type(tp).__name__ == "UnionType":
        options = [_resolve(option, namespace) for option in args]
        if str in options and any(te.get_origin(o) is te.Literal for o in options):
            # The SDK widens enums with `|str` for later API versions; Stripe itself checks them.
            options.remove(str)
        errors = []
        for option in options:
            try:
                check_params(value, option, path, namespace)
                return None
            except StripeError as error:
                errors.append(error)
        raise errors[-1]
    if origin is te.Literal:
        choices = [a if isinstance(a, str) else json.dumps(a) for a in args]
        if value not in choices:
            allowed = ", ".join(choices)
            raise StripeError(f"Invalid {path}: must be one of {allowed}", param=path)
        return None
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise StripeError(f"Invalid array: {path}", param=path)
        for i, item in enumerate(value):
            check_params(item, args[0] if args else Any, f"{path}[{i}]", namespace)
        return None
    if origin is dict or (isinstance(origin, type) and issubclass(origin, dict)) or tp is dict:
        if not isinstance(value, dict):
            raise StripeError(f"Invalid object: {path}", param=path)
        return None
    if tp is bool:
        if value not in ("true", "false"):
            raise StripeError(f"Invalid boolean: {value}", param=path)
    elif tp is int:
        if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
            raise StripeError(f"Invalid integer: {value}", param=path)
    elif tp in (float, decimal.Decimal):
        try:
            float(value)
        except (TypeError, ValueError):
            raise StripeError(f"Invalid decimal: {value}", param=path) from None
    elif tp is str and not isinstance(value, str):
        raise StripeError(f"Invalid string: {path}", param=path)
    return None


def _integer(params: dict, key: str, path: str, *, minimum: int | None = None) -> int:
    value = params.get(key)
    if value is None or value == "":
        raise _missing(path)
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise StripeError(f"Invalid integer: {value}", param=path)
    number = int(value)
    if minimum is not None and number < minimum:
        raise StripeError(f"This value must be greater than or equal to {minimum}.", param=path)
    return number


def _metadata(value, path: str) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise StripeError(f"Invalid object: {path}", param=path)
    if len(value) > 50:
        raise StripeError(f"Invalid {path}: at most 50 keys are allowed.", param=path)
    for key, item in value.items():
        if len(key) > 40:
            raise StripeError(
                f"Metadata keys can have a maximum length of 40 characters: {key}",
                param=f"{path}[{key}]",
            )
        if not isinstance(item, str) or len(item) > 500:
            raise StripeError(
                f"Metadata values can have a maximum length of 500 characters: {key}",
                param=f"{path}[{key}]",
            )
    return {k: v for k, v in value.items() if v != ""}


def _url(params: dict, key: str) -> str | None:
    value = params.get(key) or None
    if value is not None:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise StripeError(f"Not a valid URL: {key}", code="url_invalid", param=key)
    return value


class _QuietHandler(WSGIRequestHandler):
    def log(self, type, message, *args):
        pass


class _PageError(Exception):
    def __init__(self, status: int, title: str, message: str, back: str | None = None):
        super().__init__(message)
        self.status, self.title, self.message, self.back = status, title, message, back


class FakeStripe(SepaDebitMixin):
    """A fake Stripe API, checkout page and webhook sender on 127.0.0.1 (see the module doc).

    Controls (plain attributes, also after ``start()``): ``webhook_url``, ``webhook_secret``,
    ``api_key``, ``api_version``, ``webhook_timeout`` (seconds), ``deliver_webhooks`` (False:
    events wait in ``pending_events``), ``payment_outcome`` ("paid", "async_success",
    "async_failure"), ``hold_async_payments`` (True: delayed payments wait for
    ``settle_async()``); methods ``timeout_next_requests`` and ``answer_after`` slow the
    API, ``release`` lets what they hold go on.

    What happened (read them directly): ``sessions``, ``payment_intents``, ``charges``,
    ``refunds`` (dicts by id, the JSON objects), ``requests`` (ApiRequest), ``events`` (every
    event made), ``pending_events``, ``deliveries`` (Delivery).
    """

    def __init__(
        self,
        webhook_url: str | None = None,
        webhook_secret: str = "whsec_test_fakestripe",
        api_key: str = "sk_test_fakestripe",
        *,
        api_version: str = stripe.api_version,
    ):
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.api_key = api_key
        self.api_version = api_version
        self.webhook_timeout = 5.0
        self._lock = threading.RLock()
        self._server = None
        self._thread: threading.Thread | None = None
        self._worker: threading.Thread | None = None
        self._outbox: queue.Queue = queue.Queue()
        self._stopping = threading.Event()
        self._go_on = threading.Event()  # held requests answer at once (`release`)
        self._answering = 0  # API requests under way
        self._answered = threading.Condition(self._lock)
        self.reset()

    # --- life cycle ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every object, request, event and delivery; put the controls back to defaults."""
        with self._lock:
            self.deliver_webhooks = True
            self.payment_outcome = "paid"
            self.hold_async_payments = False
            self.sessions: dict[str, dict] = {}
            self.payment_intents: dict[str, dict] = {}
            self.charges: dict[str, dict] = {}
            self.refunds: dict[str, dict] = {}
            self.events: list[dict] = []
            self.pending_events: list[dict] = []
            self.deliveries: list[Delivery] = []
            self.requests: list[ApiRequest] = []
            self._line_items: dict[str, list[dict]] = {}
            self._intent_metadata: dict[str, dict] = {}
            self._awaiting_settlement: dict[str, str] = {}
            self._idempotent: dict[str, tuple] = {}
            self._delays: list[float] = []
            self._slow: tuple[float, str] = (0.0, "")
            self._reset_sepa()  # setup sessions, mandates, SEPA debits (fake_stripe_sepa)

    def start(self) -> FakeStripe:
        """Serve on a free port of 127.0.0.1 in a background thread; returns self."""
        self._stopping.clear()
        self._go_on.clear()
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        self._worker = threading.Thread(target=self._deliver_from_outbox, daemon=True)
        self._worker.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests held by ``timeout_next_requests`` answer 503 at once."""
        self._stopping.set()
        self._go_on.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None
        if self._worker is not None:
            self._outbox.put(None)
            self._worker.join(timeout=self.webhook_timeout + 1)
            self._worker = None

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base address, e.g. ``http://127.0.0.1:54321`` (only once started)."""
        if self._server is None:
            raise RuntimeError("FakeStripe is not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    # --- controls for tests -------------------------------------------------------------------

    def timeout_next_requests(self, n: int, seconds: float) -> None:
        """Make the next ``n`` API requests wait ``seconds`` before they are handled.

        The request is still carried out after the wait (as at Stripe, a client that gave up
        does not know whether it happened), unless the fake is stopped meanwhile.
        """
        with self._lock:
            self._delays.extend([seconds] * n)
            self._go_on.clear()

    def answer_after(self, seconds: float, path: str = "/v1/") -> None:
        """Make every API request whose path starts with ``path`` wait ``seconds`` before it
        is handled, until ``answer_after(0)``: a slow Stripe (a client that gives up first
        does not know whether it happened, as with ``timeout_next_requests``)."""
        with self._lock:
            self._slow = (seconds, path)
            self._go_on.clear()

    def release(self, timeout: float = 30.0) -> None:
        """Let the requests held by ``timeout_next_requests`` or ``answer_after`` go on at
        once (and later ones, until the next of those calls), rather than after their
        seconds; return once every API request under way has been answered. A test that
        checked what happens while Stripe is slow need not sit out the rest of the wait."""
        self._go_on.set()
        with self._lock:
            if not self._answered.wait_for(lambda: self._answering == 0, timeout):
                raise TimeoutError("the fake Stripe is still answering")

    def pay(self, session_id: str, outcome: str | None = None) -> str | None:
        """Do what the "Pay" button does; returns where the customer is sent (None if nowhere).

        ``outcome`` overrides ``payment_outcome`` for this payment. Raises ValueError when the
        session is unknown or not open.
        """
        try:
            return self._pay(session_id, outcome or self.payment_outcome)
        except _PageError as error:
            raise ValueError(error.message) from None

    def cancel(self, session_id: str) -> str | None:
        """Do what the "Cancel" button does: nothing changes; returns the session's cancel_url."""
        with self._lock:
            if session_id not in self.sessions:
                raise ValueError(f"No such checkout.session: '{session_id}'")
            return self.sessions[session_id]["cancel_url"]

    def settle_async(self, session_id: str) -> dict:
        """Finish an asynchronous payment held by ``hold_async_payments``; returns the session."""
        with self._lock:
            outcome = self._awaiting_settlement.pop(session_id, None)
            if outcome is None:
                raise ValueError(f"Checkout session {session_id} has no payment to settle")
            event = self._settle(session_id, outcome)
        self._dispatch([event], wait=True)
        return copy.deepcopy(self.sessions[session_id])

    def expire_session(self, session_id: str) -> dict:
        """Expire an open session as Stripe does when its time is up; returns the session."""
        with self._lock:
            event = self._expire(session_id, request=None)
        self._dispatch([event], wait=True)
        return copy.deepcopy(self.sessions[session_id])

    def sign(
        self, body: bytes | str, timestamp: int | None = None, secret: str | None = None
    ) -> str:
        """The ``Stripe-Signature`` header Stripe would send with ``body``."""
        if isinstance(body, str):
            body = body.encode()
        timestamp = int(time.time()) if timestamp is None else int(timestamp)
        key = (secret if secret is not None else self.webhook_secret).encode()
        signature = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        return f"t={timestamp},v1={signature}"

    def webhook_request(
        self, event: dict, timestamp: int | None = None, secret: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers of a webhook delivery, e.g. to post with Flask's test client."""
        body = json.dumps(event, indent=2).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": self.sign(body, timestamp, secret),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        return body, headers

    def send_event(
        self, event: dict, timestamp: int | None = None, secret: str | None = None
    ) -> Delivery:
        """POST ``event`` to ``webhook_url`` now (whatever ``deliver_webhooks`` says); record it."""
        if not self.webhook_url or urlsplit(self.webhook_url).scheme not in ("http", "https"):
            raise ValueError(f"FakeStripe.webhook_url is not an http(s) URL: {self.webhook_url!r}")
        body, headers = self.webhook_request(event, timestamp, secret)
        request = urllib.request.Request(  # noqa: S310 - checked above
            self.webhook_url, data=body, headers=headers, method="POST"
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=self.webhook_timeout) as response:
                delivery = Delivery(
                    event, response.status, response.read().decode(errors="replace")
                )
        except urllib.error.HTTPError as error:
            delivery = Delivery(event, error.code, error.read().decode(errors="replace"))
        except OSError as error:
            delivery = Delivery(event, None, str(error))
        with self._lock:
            self.deliveries.append(delivery)
        return delivery

    def send_pending(self) -> list[Delivery]:
        """Deliver the events waiting in ``pending_events``, oldest first."""
        with self._lock:
            events, self.pending_events = self.pending_events, []
        return [self.send_event(event) for event in events]

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool:
        """Wait until events queued for delivery are sent; False if time ran out."""
        deadline = time.monotonic() + timeout
        while self._outbox.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def held_events(self, type: str) -> list[dict]:
        """The events of this type held back (not delivered), once the ones queued are in:
        events go out from a thread, so a test asking at once could miss the newest."""
        self.wait_for_deliveries()
        with self._lock:
            return [event for event in self.pending_events if event["type"] == type]

    def events_of_type(self, type: str) -> list[dict]:
        """The events created so far with this type (delivered or not)."""
        with self._lock:
            return [event for event in self.events if event["type"] == type]

    # --- events -------------------------------------------------------------------------------

    def _event(self, type: str, obj: dict, request: dict | None) -> dict:
        event = {
            "id": _new_id("evt_test_"),
            "object": "event",
            "api_version": self.api_version,
            "created": int(time.time()),
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": request or {"id": None, "idempotency_key": None},
            "type": type,
        }
        self.events.append(event)
        return event

    def _dispatch(self, events: list[dict], wait: bool) -> None:
        for event in events:
            self._outbox.put(event)
        if wait:
            self.wait_for_deliveries(self.webhook_timeout * max(len(events), 1) + 1)

    def _deliver_from_outbox(self) -> None:
        while True:
            event = self._outbox.get()
            try:
                if event is None:
                    return
                with self._lock:
                    hold = not self.deliver_webhooks or not self.webhook_url
                    if hold:
                        self.pending_events.append(event)
                if not hold:
                    self.send_event(event)
            except Exception:  # noqa: S110 - a failed delivery is recorded, never fatal
                pass
            finally:
                self._outbox.task_done()

    # --- state changes (called with the lock held) --------------------------------------------

    def _expire(self, session_id: str, request: dict | None) -> dict:
        session = self.sessions.get(session_id)
        if session is None:
            raise _no_such("checkout.session", session_id, "session")
        if session["status"] != "open":
            raise StripeError(
                'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
                f'Session has a status of "{session["status"]}".',
                code="checkout_session_not_open" if request else None,
                param="session",
            )
        session.update(status="expired", url=None)
        return self._event("checkout.session.expired", session, request)

    def _pay(self, session_id: str, outcome: str) -> str | None:
        if outcome not in PAYMENT_OUTCOMES:
            raise ValueError(f"payment outcome must be one of {PAYMENT_OUTCOMES}")
        if self.sessions.get(session_id, {}).get("mode") == "setup":
            return self._complete_setup(session_id)
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None:
                raise _PageError(404, "Not found", "This checkout page does not exist.")
            if session["status"] != "open":
                raise self._closed_page(session)
            now = int(time.time())
            charge_id = _new_id("ch_test_")
            paid = outcome == "paid"
            intent = {
                "id": _new_id("pi_test_"),
                "object": "payment_intent",
                "amount": session["amount_total"],
                "amount_received": session["amount_total"] if paid else 0,
                "created": now,
                "currency": session["currency"],
                "description": None,
                "latest_charge": charge_id,
                "livemode": False,
                "metadata": dict(self._intent_metadata.get(session_id, {})),
                "payment_method_types": list(session["payment_method_types"]),
                "receipt_email": None,
                "status": "succeeded" if paid else "processing",
            }
            self.payment_intents[intent["id"]] = intent
            self.charges[charge_id] = {
                "id": charge_id,
                "object": "charge",
                "amount": intent["amount"],
                "amount_captured": intent["amount"] if paid else 0,
                "amount_refunded": 0,
                "created": now,
                "currency": intent["currency"],
                "livemode": False,
                "metadata": {},
                "paid": paid,
                "payment_intent": intent["id"],
                "refunded": False,
                "status": "succeeded" if paid else "pending",
            }
            session.update(
                status="complete",
                payment_status="paid" if paid else "unpaid",
                payment_intent=intent["id"],
                url=None,
                customer_details={
                    "address": None,
                    "email": session["customer_email"],
                    "name": None,
                    "phone": None,
                    "tax_exempt": "none",
                    "tax_ids": [],
                },
            )
            events = [self._event("checkout.session.completed", session, None)]
            if not paid:
                if self.hold_async_payments:
                    self._awaiting_settlement[session_id] = outcome
                else:
                    events.append(self._settle(session_id, outcome))
            location = session["success_url"]
        self._dispatch(events, wait=True)
        return location.replace("{CHECKOUT_SESSION_ID}", session_id) if location else None

    def _settle(self, session_id: str, outcome: str) -> dict:
        session = self.sessions[session_id]
        intent = self.payment_intents[session["payment_intent"]]
        charge = self.charges[intent["latest_charge"]]
        if outcome == "async_success":
            session["payment_status"] = "paid"
            intent.update(status="succeeded", amount_received=intent["amount"])
            charge.update(status="succeeded", paid=True, amount_captured=charge["amount"])
            return self._event("checkout.session.async_payment_succeeded", session, None)
        intent["status"] = "requires_payment_method"
        charge["status"] = "failed"
        return self._event("checkout.session.async_payment_failed", session, None)

    # --- HTTP ---------------------------------------------------------------------------------

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        try:
            if request.path.startswith("/v1/"):
                with self._lock:
                    self._answering += 1
                try:
                    response = self._api(request)
                finally:
                    with self._lock:
                        self._answering -= 1
                        self._answered.notify_all()
            elif request.path.startswith("/pay/"):
                response = self._page(request)
            else:
                response = self._html(404, "Not found", "<p>Nothing here.</p>")
        except Exception as error:  # never leave the SDK without an answer
            response = self._json(
                500, StripeError(repr(error), status=500, type="api_error").body()
            )
        return response(environ, start_response)

    def _json(
        self, status: int, body: dict, headers: dict | None = None, request_id: str | None = None
    ) -> Response:
        response = Response(json.dumps(body, indent=2), status=status, mimetype="application/json")
        response.headers["Request-Id"] = request_id or _new_id("req_", 14)
        response.headers["Stripe-Version"] = self.api_version
        for name, value in (headers or {}).items():
            response.headers[name] = value
        return response

    def _api(self, request: Request) -> Response:
        params = decode_params(request.query_string.decode())
        if request.method == "POST":
            params.update(decode_params(request.get_data(as_text=True)))
        headers = {name.lower(): value for name, value in request.headers.items()}
        record = ApiRequest(request.method, request.path, params, headers)
        idempotency_key = headers.get("idempotency-key") if request.method == "POST" else None
        request_info = {"id": _new_id("req_", 14), "idempotency_key": idempotency_key}
        answer = functools.partial(self._json, request_id=request_info["id"])
        with self._lock:
            self.requests.append(record)
            delay = self._delays.pop(0) if self._delays else 0
            slow_seconds, slow_path = self._slow
            if not delay and slow_seconds and request.path.startswith(slow_path):
                delay = slow_seconds
        if delay:
            self._go_on.wait(delay)  # cut short by `release` or `stop`
            if self._stopping.is_set():
                error = StripeError(
                    "The fake Stripe is shutting down.", status=503, type="api_error"
                )
                return answer(503, error.body())

        authorization = headers.get("authorization", "")
        if not authorization.startswith("Bearer ") or not authorization[7:]:
            error = StripeError(
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth.",
                status=401,
            )
            return answer(401, error.body())
        key = authorization[7:]
        if key != self.api_key:
            error = StripeError(f"Invalid API Key provided: {key[:8]}****{key[-4:]}", status=401)
            return answer(401, error.body())

        events: list[dict] = []
        with self._lock:
            fingerprint = (request.method, request.path, params)
            if idempotency_key and idempotency_key in self._idempotent:
                first, status, body = self._idempotent[idempotency_key]
                if first != fingerprint:
                    error = StripeError(
                        "Keys for idempotent requests can only be used with the same parameters "
                        "they were first used with. Try using a key other than "
                        f"'{idempotency_key}' if you meant to execute a different request.",
                        type="idempotency_error",
                    )
                    return answer(400, error.body())
                return answer(status, body, {"Idempotent-Replayed": "true"})
            try:
                body, events = self._route(
                    request.method, request.path, params, headers, request_info
                )
                status = 200
            except StripeError as error:
                return answer(error.status, error.body())
            if idempotency_key:
                self._idempotent[idempotency_key] = (fingerprint, status, body)
        self._dispatch(events, wait=False)
        return answer(status, body)

    def _route(self, method, path, params, headers, request_info) -> tuple[dict, list[dict]]:
        routes: list[tuple[str, str, type, Callable]] = [
            ("POST", r"/v1/checkout/sessions", SessionCreateParams, self._create_session),
            ("GET", r"/v1/checkout/sessions/([^/]+)", SessionRetrieveParams, self._get_session),
            (
                "POST",
                r"/v1/checkout/sessions/([^/]+)/expire",
                SessionExpireParams,
                self._api_expire,
            ),
            (
                "GET",
                r"/v1/checkout/sessions/([^/]+)/line_items",
                SessionListLineItemsParams,
                self._get_line_items,
            ),
            ("GET", r"/v1/payment_intents/([^/]+)", PaymentIntentRetrieveParams, self._get_intent),
            ("GET", r"/v1/charges/([^/]+)", ChargeRetrieveParams, self._get_charge),
            ("POST", r"/v1/refunds", RefundCreateParams, self._create_refund),
            ("GET", r"/v1/refunds/([^/]+)", RefundRetrieveParams, self._get_refund),
            ("GET", r"/v1/refunds", RefundListParams, self._list_refunds),
            *self._sepa_routes(),
        ]
        for route_method, pattern, param_type, handler in routes:
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                if headers.get("stripe-version", self.api_version) == self.api_version:
                    check_params(
                        params, param_type, "", sys.modules[param_type.__module__].__dict__
                    )
                return handler(params, request_info, *match.groups())
        raise StripeError(
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
            "or we can help at https://support.stripe.com/.",
            status=404,
        )

    # --- API handlers (lock held) -------------------------------------------------------------

    def _expanded(self, obj: dict, params: dict, expandable: dict[str, Callable]) -> dict:
        expand = params.get("expand") or []
        if isinstance(expand, str):
            expand = [expand]
        result = copy.deepcopy(obj)
        for field in expand:
            if field not in expandable:
                raise StripeError(f"This property cannot be expanded ({field}).", param="expand")
            result[field] = expandable[field](result)
        return result

    def _session_view(self, session: dict, params: dict) -> dict:
        if session["mode"] == "setup":
            return self._setup_session_view(session, params)
        return self._expanded(
            session,
            params,
            {
                "payment_intent": lambda s: copy.deepcopy(
                    self.payment_intents.get(s["payment_intent"])
                ),
                "line_items": lambda s: self._line_item_list(s["id"]),
            },
        )

    def _line_item_list(self, session_id: str) -> dict:
        return {
            "object": "list",
            "data": copy.deepcopy(self._line_items[session_id]),
            "has_more": False,
            "url": f"/v1/checkout/sessions/{session_id}/line_items",
        }

    def _create_session(self, params, request_info):
        if not params.get("mode"):
            raise _missing("mode")
        if params["mode"] == "setup":
            return self._create_setup_session(params, request_info)
        if params["mode"] != "payment":
            raise StripeError(
                f"The fake Stripe only models mode=payment, not mode={params['mode']}.",
                param="mode",
            )
        items = params.get("line_items")
        if not items:
            raise _missing("line_items")
        currency = (params.get("currency") or "").lower() or None
        line_items = []
        for i, item in enumerate(items):
            path = f"line_items[{i}]"
            if item.get("price"):
                raise _no_such("price", item["price"], f"{path}[price]", status=400)
            price_data = item.get("price_data")
            if not price_data:
                raise StripeError(
                    f"You must specify either `price` or `price_data` in {path}.", param=path
                )
            quantity = _integer(item, "quantity", f"{path}[quantity]", minimum=1)
            if not price_data.get("currency"):
                raise _missing(f"{path}[price_data][currency]")
            item_currency = price_data["currency"].lower()
            if price_data.get("unit_amount_decimal") and not price_data.get("unit_amount"):
                raise StripeError(
                    "The fake Stripe only models unit_amount.",
                    param=f"{path}[price_data][unit_amount_decimal]",
                )
            unit_amount = _integer(
                price_data, "unit_amount", f"{path}[price_data][unit_amount]", minimum=0
            )
            name = (price_data.get("product_data") or {}).get("name")
            if not name:
                if price_data.get("product"):
                    raise _no_such(
                        "product", price_data["product"], f"{path}[price_data][product]", 400
                    )
                raise _missing(f"{path}[price_data][product_data][name]")
            if currency is None:
                currency = item_currency
            if item_currency != currency:
                raise StripeError(
                    "All line items must share the same currency: "
                    f"{path}[price_data][currency] is {item_currency}, not {currency}.",
                    param=f"{path}[price_data][currency]",
                )
            line_items.append(
                {
                    "id": _new_id("li_test_"),
                    "object": "item",
                    "amount_discount": 0,
                    "amount_subtotal": quantity * unit_amount,
                    "amount_tax": 0,
                    "amount_total": quantity * unit_amount,
                    "currency": item_currency,
                    "description": name,
                    "price": {
                        "id": _new_id("price_test_"),
                        "object": "price",
                        "currency": item_currency,
                        "product": _new_id("prod_test_", 14),
                        "type": "one_time",
                        "unit_amount": unit_amount,
                    },
                    "quantity": quantity,
                }
            )
        total = sum(item["amount_total"] for item in line_items)
        minimum = MINIMUM_CHARGE.get(currency, 0)
        if total < minimum:
            raise StripeError(
                "The Checkout Session's total amount due must add up to at least "
                f"{format_money(minimum, currency)} {currency}",
                param="line_items",
            )
        now = int(time.time())
        expires_at = now + 24 * 3600
        if params.get("expires_at"):
            expires_at = _integer(params, "expires_at", "expires_at")
            if expires_at < now + 30 * 60 - 5:
                raise StripeError(
                    "The `expires_at` timestamp must be at least 30 minutes from Checkout "
                    "Session creation.",
                    param="expires_at",
                )
            if expires_at > now + 24 * 3600 + 5:
                raise StripeError(
                    "The `expires_at` timestamp must be less than 24 hours from Checkout "
                    "Session creation.",
                    param="expires_at",
                )
        email = params.get("customer_email") or None
        if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise StripeError(
                f"Invalid email address: {email}", code="email_invalid", param="customer_email"
            )
        reference = params.get("client_reference_id") or None
        if reference is not None and len(reference) > 200:
            raise StripeError(
                "client_reference_id can be at most 200 characters.", param="client_reference_id"
            )
        metadata = _metadata(params.get("metadata"), "metadata")
        intent_data = params.get("payment_intent_data") or {}
        intent_metadata = _metadata(intent_data.get("metadata"), "payment_intent_data[metadata]")
        allowed = params.get("allowed_payment_method_types") or None
        session_id = _new_id("cs_test_", 58)
        session = {
            "id": session_id,
            "object": "checkout.session",
            "after_expiration": None,
            "allow_promotion_codes": None,
            "allowed_payment_method_types": allowed,
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": _url(params, "cancel_url"),
            "client_reference_id": reference,
            "created": now,
            "currency": currency,
            "customer": None,
            "customer_creation": "if_required",
            "customer_details": None,
            "customer_email": email,
            "expires_at": expires_at,
            "livemode": False,
            "locale": params.get("locale") or None,
            "metadata": metadata,
            "mode": "payment",
            "payment_intent": None,
            "payment_method_types": list(allowed or params.get("payment_method_types") or ["card"]),
            "payment_status": "unpaid",
            "status": "open",
            "submit_type": params.get("submit_type") or None,
            "success_url": _url(params, "success_url"),
            "ui_mode": "hosted",
            "url": f"{self.url}/pay/{session_id}",
        }
        self.sessions[session_id] = session
        self._line_items[session_id] = line_items
        self._intent_metadata[session_id] = intent_metadata
        return self._session_view(session, params), []

    def _find(self, store: dict, kind: str, object_id: str, param: str) -> dict:
        if object_id not in store:
            raise _no_such(kind, object_id, param)
        return store[object_id]

    def _get_session(self, params, request_info, session_id):
        session = self._find(self.sessions, "checkout.session", session_id, "session")
        return self._session_view(session, params), []

    def _api_expire(self, params, request_info, session_id):
        event = self._expire(session_id, request_info)
        return self._session_view(self.sessions[session_id], params), [event]

    def _get_line_items(self, params, request_info, session_id):
        self._find(self.sessions, "checkout.session", session_id, "session")
        return self._line_item_list(session_id), []

    def _get_intent(self, params, request_info, intent_id):
        intent = self._find(self.payment_intents, "payment_intent", intent_id, "intent")
        view = self._expanded(
            intent,
            params,
            {"latest_charge": lambda i: copy.deepcopy(self.charges[i["latest_charge"]])},
        )
        return view, []

    def _get_charge(self, params, request_info, charge_id):
        return self._expanded(
            self._find(self.charges, "charge", charge_id, "charge"), params, {}
        ), []

    def _get_refund(self, params, request_info, refund_id):
        return self._expanded(
            self._find(self.refunds, "refund", refund_id, "refund"), params, {}
        ), []

    def _list_refunds(self, params, request_info):
        wanted = params.get("payment_intent")
        refunds = [r for r in self.refunds.values() if wanted in (None, r["payment_intent"])]
        refunds.sort(key=lambda r: r["created"], reverse=True)
        return {
            "object": "list",
            "data": copy.deepcopy(refunds),
            "has_more": False,
            "url": "/v1/refunds",
        }, []

    def _create_refund(self, params, request_info):
        if params.get("payment_intent"):
            intent_id = params["payment_intent"]
            if intent_id not in self.payment_intents:
                raise _no_such("payment_intent", intent_id, "payment_intent", status=400)
            intent = self.payment_intents[intent_id]
            charge = self.charges[intent["latest_charge"]]
        elif params.get("charge"):
            charge = self._find(self.charges, "charge", params["charge"], "charge")
            intent = self.payment_intents[charge["payment_intent"]]
        else:
            raise StripeError(
                "One of the following params should be provided for this request: "
                "payment_intent or charge."
            )
        if intent["status"] != "succeeded":
            raise StripeError(
                f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        amount = remaining
        if params.get("amount") not in (None, ""):
            amount = _integer(params, "amount", "amount", minimum=1)
        if remaining <= 0:
            raise StripeError(
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        if amount > remaining:
            currency = charge["currency"]
            raise StripeError(
                f"Refund amount ({format_money(amount, currency)}) is greater than unrefunded "
                f"amount on charge ({format_money(remaining, currency)})",
                code="amount_too_large",
                param="amount",
            )
        refund = {
            "id": _new_id("re_test_"),
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "created": int(time.time()),
            "currency": charge["currency"],
            "metadata": _metadata(params.get("metadata"), "metadata"),
            "payment_intent": intent["id"],
            "reason": params.get("reason") or None,
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        return copy.deepcopy(refund), []

    # --- the hosted checkout page -------------------------------------------------------------

    def _html(self, status: int, title: str, content: str) -> Response:
        page = (
            "<!doctype html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)} – Fake Stripe Checkout</title>\n</head>\n"
            f"<body>\n<main>\n<h1>{html.escape(title)}</h1>\n{content}\n</main>\n</body>\n</html>\n"
        )
        return Response(page, status=status, mimetype="text/html")

    def _closed_page(self, session: dict) -> _PageError:
        back = session["cancel_url"]
        if session["status"] == "expired":
            return _PageError(400, "Payment expired", "This checkout session has expired.", back)
        return _PageError(400, "Already paid", "This checkout session is already complete.", back)

    def _error_page(self, error: _PageError) -> Response:
        content = f"<p>{html.escape(error.message)}</p>"
        if error.back:
            content += f'\n<p><a href="{html.escape(error.back)}">Go back</a></p>'
        return self._html(error.status, error.title, content)

    def _page(self, request: Request) -> Response:
        match = re.fullmatch(r"/pay/([^/]+)(?:/(pay|cancel))?", request.path)
        if match is None:
            return self._html(404, "Not found", "<p>This checkout page does not exist.</p>")
        session_id, action = match.groups()
        expected = "GET" if action is None else "POST"
        if request.method != expected:
            response = self._html(405, "Method not allowed", "<p>Use the buttons.</p>")
            response.headers["Allow"] = expected
            return response
        try:
            if action is None:
                return self._checkout_page(session_id)
            if action == "cancel":
                location = self.cancel(session_id)
                if location is None:
                    return self._html(200, "Payment cancelled", "<p>You did not pay.</p>")
            else:
                location = self._pay(session_id, self.payment_outcome)
                if location is None:
                    return self._html(200, "Payment received", "<p>Thank you.</p>")
        except _PageError as error:
            return self._error_page(error)
        except ValueError as error:
            return self._error_page(_PageError(404, "Not found", str(error)))
        return Response(status=303, headers={"Location": location})

    def _checkout_page(self, session_id: str) -> Response:
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None:
                raise _PageError(404, "Not found", "This checkout page does not exist.")
            if session["status"] != "open":
                raise self._closed_page(session)
            if session["mode"] == "setup":
                return self._setup_page(session)
            session = copy.deepcopy(session)
            items = copy.deepcopy(self._line_items[session_id])
        currency = session["currency"]
        total = format_money(session["amount_total"], currency)
        rows = "\n".join(
            f"<li>{item['quantity']} × {html.escape(item['description'])}: "
            f"{format_money(item['amount_total'], currency)}</li>"
            for item in items
        )
        parts = ["<p>A test payment page: no real money is paid.</p>"]
        if session["customer_email"]:
            parts.append(f"<p>Receipt to {html.escape(session['customer_email'])}</p>")
        parts += [
            f"<ul>\n{rows}\n</ul>",
            f"<p>Total: <strong>{total}</strong></p>",
            f'<form method="post" action="/pay/{session_id}/pay">'
            '<button type="submit">Pay</button></form>',
            f'<form method="post" action="/pay/{session_id}/cancel">'
            '<button type="submit">Cancel</button></form>',
        ]
        return self._html(200, f"Pay {total}", "\n".join(parts))
