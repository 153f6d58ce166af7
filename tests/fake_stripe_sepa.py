"""SEPA Direct Debit for the fake Stripe (tests/fake_stripe.py), as a mixin of FakeStripe.

What it adds:

- ``POST /v1/checkout/sessions`` with ``mode=setup`` (no line items; ``currency`` or
  ``allowed_payment_method_types``; ``setup_intent_data[metadata]``), its page ``/pay/{id}``
  with a "Set up" button, and ``expand`` of ``setup_intent`` and
  ``setup_intent.payment_method`` when it is fetched. Completing it makes a Customer, a
  ``sepa_debit`` PaymentMethod (test IBAN ``setup_iban``, holder ``setup_holder``), an active
  multi-use Mandate and a succeeded SetupIntent, and sends ``checkout.session.completed``
  and ``setup_intent.succeeded``.
- ``GET /v1/setup_intents/{id}``, ``GET /v1/payment_methods/{id}``, ``GET /v1/mandates/{id}``,
  ``GET /v1/disputes/{id}``; ``POST /v1/payment_methods/{id}/detach``, which makes the
  method's mandates inactive.
- ``POST /v1/payment_intents`` for a saved ``sepa_debit`` method, ``confirm`` and
  ``off_session``, as Stripe checks it (the method's customer, an active mandate, at least
  50 cents): the intent is ``processing`` (``payment_intent.processing`` is sent) until the
  test settles it with ``settle_debit(intent_id, "succeeded" | "failed")``, which sends
  ``payment_intent.succeeded`` or ``payment_intent.payment_failed`` (with
  ``last_payment_error``), signed like every event. ``dispute_debit(intent_id)`` is the
  member's bank taking a paid debit back: ``charge.dispute.created``.
"""

from __future__ import annotations

import copy
import time

from stripe.params import (
    DisputeRetrieveParams,
    MandateRetrieveParams,
    PaymentIntentCreateParams,
    PaymentMethodDetachParams,
    PaymentMethodRetrieveParams,
    SetupIntentRetrieveParams,
)

from tests import fake_stripe as base

DEFAULT_IBAN = "DE89370400440532013000"  # Stripe's own test IBAN that succeeds


class SepaDebitMixin:
    """The SEPA Direct Debit part of FakeStripe (see the module doc)."""

    def _reset_sepa(self) -> None:
        self.setup_iban = DEFAULT_IBAN
        self.setup_holder = "Jenny Rosen"
        self.setup_intents: dict[str, dict] = {}
        self.payment_methods: dict[str, dict] = {}
        self.mandates: dict[str, dict] = {}
        self.customers: dict[str, dict] = {}
        self.disputes: dict[str, dict] = {}
        self._setup_metadata: dict[str, dict] = {}

    def _sepa_routes(self) -> list[tuple]:
        return [
            ("POST", r"/v1/payment_intents", PaymentIntentCreateParams, self._create_intent),
            ("GET", r"/v1/setup_intents/([^/]+)", SetupIntentRetrieveParams, self._get_setup),
            (
                "GET",
                r"/v1/payment_methods/([^/]+)",
                PaymentMethodRetrieveParams,
                self._get_method,
            ),
            (
                "POST",
                r"/v1/payment_methods/([^/]+)/detach",
                PaymentMethodDetachParams,
                self._detach_method,
            ),
            ("GET", r"/v1/mandates/([^/]+)", MandateRetrieveParams, self._get_mandate),
            ("GET", r"/v1/disputes/([^/]+)", DisputeRetrieveParams, self._get_dispute),
        ]

    # --- controls for tests ---------------------------------------------------------------

    def settle_debit(self, intent_id: str, outcome: str = "succeeded", code: str = "") -> dict:
        """Finish a processing SEPA debit as the banks do days later; returns the intent."""
        if outcome not in ("succeeded", "failed"):
            raise ValueError("outcome is 'succeeded' or 'failed'")
        with self._lock:
            intent = self.payment_intents.get(intent_id)
            if intent is None or intent["status"] != "processing":
                raise ValueError(f"PaymentIntent {intent_id} is not processing")
            charge = self.charges[intent["latest_charge"]]
            if outcome == "succeeded":
                intent.update(status="succeeded", amount_received=intent["amount"])
                charge.update(status="succeeded", paid=True, amount_captured=charge["amount"])
                event = self._event("payment_intent.succeeded", intent, None)
            else:
                code = code or "insufficient_funds"
                intent.update(
                    status="requires_payment_method",
                    last_payment_error={
                        "type": "card_error",
                        "code": code,
                        "message": "The customer's account has insufficient funds to cover "
                        "this payment."
                        if code == "insufficient_funds"
                        else f"The debit failed: {code}.",
                        "payment_method": {"id": intent["payment_method"], "type": "sepa_debit"},
                    },
                )
                charge.update(status="failed", failure_code=code)
                event = self._event("payment_intent.payment_failed", intent, None)
        self._dispatch([event], wait=True)
        return copy.deepcopy(self.payment_intents[intent_id])

    def dispute_debit(self, intent_id: str, reason: str = "general") -> dict:
        """The member's bank takes a succeeded debit back; returns the dispute."""
        with self._lock:
            intent = self.payment_intents.get(intent_id)
            if intent is None or intent["status"] != "succeeded":
                raise ValueError(f"PaymentIntent {intent_id} has not succeeded")
            dispute = {
                "id": base._new_id("dp_test_"),
                "object": "dispute",
                "amount": intent["amount"],
                "charge": intent["latest_charge"],
                "created": int(time.time()),
                "currency": intent["currency"],
                "livemode": False,
                "metadata": {},
                "payment_intent": intent_id,
                "reason": reason,
                "status": "lost",
            }
            self.disputes[dispute["id"]] = dispute
            event = self._event("charge.dispute.created", dispute, None)
        self._dispatch([event], wait=True)
        return copy.deepcopy(dispute)

    # --- setup sessions (lock held) ---------------------------------------------------------

    def _create_setup_session(self, params, request_info):
        if params.get("line_items"):
            raise base.StripeError(
                "You can not pass `line_items` in `setup` mode.", param="line_items"
            )
        allowed = params.get("allowed_payment_method_types") or None
        currency = (params.get("currency") or "").lower() or None
        if currency is None and not allowed:
            raise base.StripeError(
                "`currency` is required in setup mode when `allowed_payment_method_types` is "
                "not set.",
                param="currency",
            )
        if allowed and "sepa_debit" in allowed and currency not in (None, "eur"):
            raise base.StripeError("sepa_debit needs currency eur.", param="currency")
        email = params.get("customer_email") or None
        now = int(time.time())
        session_id = base._new_id("cs_test_", 58)
        intent_data = params.get("setup_intent_data") or {}
        self._setup_metadata[session_id] = base._metadata(
            intent_data.get("metadata"), "setup_intent_data[metadata]"
        )
        session = {
            "id": session_id,
            "object": "checkout.session",
            "allowed_payment_method_types": allowed,
            "amount_subtotal": None,
            "amount_total": None,
            "cancel_url": base._url(params, "cancel_url"),
            "client_reference_id": params.get("client_reference_id") or None,
            "created": now,
            "currency": currency,
            "customer": params.get("customer") or None,
            "customer_creation": params.get("customer_creation") or None,
            "customer_details": None,
            "customer_email": email,
            "expires_at": now + 24 * 3600,
            "livemode": False,
            "locale": params.get("locale") or None,
            "metadata": base._metadata(params.get("metadata"), "metadata"),
            "mode": "setup",
            "payment_intent": None,
            "payment_method_types": list(allowed or ["card"]),
            "payment_status": "no_payment_required",
            "setup_intent": None,
            "status": "open",
            "success_url": base._url(params, "success_url"),
            "ui_mode": "hosted",
            "url": f"{self.url}/pay/{session_id}",
        }
        self.sessions[session_id] = session
        self._line_items[session_id] = []
        return self._setup_session_view(session, params), []

    def _setup_session_view(self, session: dict, params: dict) -> dict:
        expand = params.get("expand") or []
        expand = [expand] if isinstance(expand, str) else expand
        view = self._expanded(
            session,
            {"expand": [field for field in expand if "." not in field]},
            {
                "setup_intent": lambda s: copy.deepcopy(self.setup_intents.get(s["setup_intent"])),
                "line_items": lambda s: self._line_item_list(s["id"]),
            },
        )
        if "setup_intent.payment_method" in expand:
            intent = view.get("setup_intent")
            if not isinstance(intent, dict):
                raise base.StripeError(
                    "This property cannot be expanded (setup_intent.payment_method).",
                    param="expand",
                )
            intent["payment_method"] = copy.deepcopy(
                self.payment_methods.get(intent["payment_method"])
            )
        return view

    def _setup_page(self, session: dict) -> base.Response:
        parts = [
            "<p>A test page: no real mandate is given.</p>",
            f"<p>SEPA Direct Debit from {self.setup_holder}, IBAN ending in "
            f"{self.setup_iban[-4:]}</p>",
            f'<form method="post" action="/pay/{session["id"]}/pay">'
            '<button type="submit">Set up</button></form>',
            f'<form method="post" action="/pay/{session["id"]}/cancel">'
            '<button type="submit">Cancel</button></form>',
        ]
        return self._html(200, "Set up SEPA Direct Debit", "\n".join(parts))

    def _complete_setup(self, session_id: str) -> str | None:
        with self._lock:
            session = self.sessions[session_id]
            if session["status"] != "open":
                raise self._closed_page(session)
            now = int(time.time())
            customer_id = session["customer"] or base._new_id("cus_test_", 14)
            self.customers.setdefault(
                customer_id,
                {"id": customer_id, "object": "customer", "email": session["customer_email"]},
            )
            method_id = base._new_id("pm_test_")
            self.payment_methods[method_id] = {
                "id": method_id,
                "object": "payment_method",
                "billing_details": {
                    "address": None,
                    "email": session["customer_email"],
                    "name": self.setup_holder,
                    "phone": None,
                },
                "created": now,
                "customer": customer_id,
                "livemode": False,
                "metadata": {},
                "sepa_debit": {
                    "bank_code": self.setup_iban[4:12],
                    "country": self.setup_iban[:2],
                    "fingerprint": base._new_id("", 16),
                    "last4": self.setup_iban[-4:],
                },
                "type": "sepa_debit",
            }
            mandate_id = base._new_id("mandate_test_")
            self.mandates[mandate_id] = {
                "id": mandate_id,
                "object": "mandate",
                "customer_acceptance": {"accepted_at": now, "type": "online"},
                "livemode": False,
                "multi_use": {},
                "payment_method": method_id,
                "payment_method_details": {
                    "sepa_debit": {"reference": base._new_id("", 16).upper(), "url": ""},
                    "type": "sepa_debit",
                },
                "status": "active",
                "type": "multi_use",
            }
            intent_id = base._new_id("seti_test_")
            intent = {
                "id": intent_id,
                "object": "setup_intent",
                "created": now,
                "customer": customer_id,
                "livemode": False,
                "mandate": mandate_id,
                "metadata": dict(self._setup_metadata.get(session_id, {})),
                "payment_method": method_id,
                "payment_method_types": ["sepa_debit"],
                "status": "succeeded",
                "usage": "off_session",
            }
            self.setup_intents[intent_id] = intent
            session.update(
                status="complete",
                setup_intent=intent_id,
                customer=customer_id,
                url=None,
                customer_details={
                    "address": None,
                    "email": session["customer_email"],
                    "name": self.setup_holder,
                    "phone": None,
                    "tax_exempt": "none",
                    "tax_ids": [],
                },
            )
            events = [
                self._event("setup_intent.succeeded", intent, None),
                self._event("checkout.session.completed", session, None),
            ]
            location = session["success_url"]
        self._dispatch(events, wait=True)
        return location.replace("{CHECKOUT_SESSION_ID}", session_id) if location else None

    # --- API handlers (lock held) -----------------------------------------------------------

    def _get_setup(self, params, request_info, intent_id):
        intent = self._find(self.setup_intents, "setup_intent", intent_id, "intent")
        view = self._expanded(
            intent,
            params,
            {"payment_method": lambda i: copy.deepcopy(self.payment_methods[i["payment_method"]])},
        )
        return view, []

    def _get_method(self, params, request_info, method_id):
        method = self._find(self.payment_methods, "payment_method", method_id, "payment_method")
        return self._expanded(method, params, {}), []

    def _detach_method(self, params, request_info, method_id):
        method = self._find(self.payment_methods, "payment_method", method_id, "payment_method")
        if method["customer"] is None:
            raise base.StripeError(
                f"The payment method {method_id} is not attached to a customer.",
                code="payment_method_unexpected_state",
            )
        method["customer"] = None
        for mandate in self.mandates.values():
            if mandate["payment_method"] == method_id:
                mandate["status"] = "inactive"
        return copy.deepcopy(method), []

    def _get_mandate(self, params, request_info, mandate_id):
        mandate = self._find(self.mandates, "mandate", mandate_id, "mandate")
        return self._expanded(mandate, params, {}), []

    def _get_dispute(self, params, request_info, dispute_id):
        dispute = self._find(self.disputes, "dispute", dispute_id, "dispute")
        return self._expanded(dispute, params, {}), []

    def _create_intent(self, params, request_info):
        amount = base._integer(params, "amount", "amount", minimum=1)
        currency = (params.get("currency") or "").lower()
        if not currency:
            raise base._missing("currency")
        minimum = base.MINIMUM_CHARGE.get(currency, 0)
        if amount < minimum:
            raise base.StripeError(
                f"Amount must be at least {base.format_money(minimum, currency)} {currency}",
                code="amount_too_small",
                param="amount",
            )
        method_id = params.get("payment_method") or ""
        if not method_id:
            raise base.StripeError(
                "The fake Stripe only models payment intents on a saved payment method.",
                param="payment_method",
            )
        if method_id not in self.payment_methods:
            raise base._no_such("payment_method", method_id, "payment_method", status=400)
        method = self.payment_methods[method_id]
        if method["type"] != "sepa_debit":
            raise base.StripeError("The fake Stripe only models sepa_debit here.")
        if currency != "eur":
            raise base.StripeError("sepa_debit needs currency eur.", param="currency")
        allowed = params.get("allowed_payment_method_types") or ["sepa_debit"]
        if "sepa_debit" not in allowed:
            raise base.StripeError(
                "The PaymentMethod's type is not in allowed_payment_method_types.",
                param="payment_method",
            )
        customer = params.get("customer") or None
        if method["customer"] is None or customer != method["customer"]:
            raise base.StripeError(
                f"The provided PaymentMethod {method_id} belongs to another customer, or to "
                "none: it cannot be used off session.",
                param="payment_method",
            )
        mandate_id = params.get("mandate") or next(
            (m["id"] for m in self.mandates.values() if m["payment_method"] == method_id), None
        )
        mandate = self.mandates.get(mandate_id or "")
        if mandate is None or mandate["payment_method"] != method_id:
            raise base._no_such("mandate", mandate_id or "", "mandate", status=400)
        if mandate["status"] != "active":
            raise base.StripeError(
                f"The mandate {mandate_id} is not active.", code="mandate_inactive"
            )
        if params.get("confirm") != "true" or params.get("off_session") not in (
            "true",
            "recurring",
        ):
            raise base.StripeError(
                "The fake Stripe only models debits confirmed off session.", param="confirm"
            )
        now = int(time.time())
        charge_id = base._new_id("py_test_")
        intent = {
            "id": base._new_id("pi_test_"),
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "created": now,
            "currency": currency,
            "customer": customer,
            "description": params.get("description") or None,
            "last_payment_error": None,
            "latest_charge": charge_id,
            "livemode": False,
            "mandate": mandate_id,
            "metadata": base._metadata(params.get("metadata"), "metadata"),
            "payment_method": method_id,
            "payment_method_types": ["sepa_debit"],
            "receipt_email": None,
            "status": "processing",
        }
        self.payment_intents[intent["id"]] = intent
        self.charges[charge_id] = {
            "id": charge_id,
            "object": "charge",
            "amount": amount,
            "amount_captured": 0,
            "amount_refunded": 0,
            "created": now,
            "currency": currency,
            "livemode": False,
            "metadata": {},
            "paid": False,
            "payment_intent": intent["id"],
            "refunded": False,
            "status": "pending",
        }
        event = self._event("payment_intent.processing", intent, request_info)
        return copy.deepcopy(intent), [event]
