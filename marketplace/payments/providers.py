"""Payment providers: how a checkout gets paid and how money goes back. No flask here.

- `ManualProvider` (the default, needs no keys): a bank transfer to the platform's account, told apart by a
  unique amount code and confirmed by an operator; or cash on delivery / at pickup, which the KUBE's bendahara
  confirms. Refunds of transfers are bank transfers an operator makes: they wait as "pending" refunds.
- `StripeProvider`: one PaymentIntent per checkout, in IDR. Stripe's API counts IDR in hundredths, so Rupiah
  are multiplied by 100 at this boundary only (see the payments notes: "IDR is a two-decimal currency in
  Stripe's API"). Webhooks are verified with the endpoint's secret; refunds go back through Stripe.

`Payments` holds the providers a deployment has and is what services receive.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from marketplace.orders.models import Checkout, PaymentMethod

IDR_MINOR_UNITS = 100  # Stripe: amount=15000000 is Rp150.000


class ProviderError(Exception):
    """The provider could not do what was asked (network, declined, refused by its API)."""


class BadSignature(ProviderError):
    """A webhook whose signature does not verify."""


@dataclass(frozen=True)
class Intent:
    """A provider's view of a card payment."""

    id: str
    status: str
    amount: int  # whole Rupiah
    client_secret: str | None = None


@dataclass(frozen=True)
class RefundResult:
    external_id: str | None
    status: str  # "succeeded", "pending" (to be done by hand) ...


class PaymentProvider(Protocol):
    name: str
    methods: tuple[PaymentMethod, ...]

    def start(self, amount: int, reference: str) -> Intent | None:
        """Called while a checkout is placed, before anything is written (no lock is held while the provider
        answers): a card intent for `amount` Rupiah, or None when the buyer pays offline. `reference` is new
        for each attempt and makes a retried call harmless."""

    def refund(self, checkout: Checkout, amount: int, key: str) -> RefundResult:
        """Send `amount` Rupiah back to the buyer of `checkout` (`key` makes a retry harmless)."""

    def resize(self, checkout: Checkout, amount: int) -> None:
        """The amount still to pay changed (an order was cancelled before payment); 0 cancels the payment."""


class ManualProvider:
    name = "manual"
    methods: tuple[PaymentMethod, ...] = (PaymentMethod.MANUAL, PaymentMethod.COD)

    def start(self, amount: int, reference: str) -> Intent | None:
        return None

    def refund(self, checkout: Checkout, amount: int, key: str) -> RefundResult:
        return RefundResult(None, "pending")  # an operator transfers it back and records it

    def resize(self, checkout: Checkout, amount: int) -> None:
        return None  # the amount due is computed from the orders still waiting


class StripeProvider:
    name = "stripe"
    methods: tuple[PaymentMethod, ...] = (PaymentMethod.STRIPE,)

    def __init__(self, secret_key: str, webhook_secret: str, publishable_key: str, js_url: str,
                 api_base: str = "") -> None:
        import stripe

        self._stripe = stripe
        options: dict[str, Any] = {"max_network_retries": 2}
        if api_base:
            options["base_addresses"] = {"api": api_base.rstrip("/")}
        self.client = stripe.StripeClient(secret_key, **options)
        self.webhook_secret = webhook_secret
        self.publishable_key = publishable_key
        self.js_url = js_url
        # A test double (an API base other than Stripe's) refuses the parameters it does not know.
        self.real = not api_base

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except self._stripe.StripeError as error:
            raise ProviderError(getattr(error, "user_message", None) or str(error)) from error

    @staticmethod
    def _intent(obj: Any) -> Intent:
        data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
        return Intent(id=data["id"], status=data["status"], amount=int(data["amount"]) // IDR_MINOR_UNITS,
                      client_secret=data.get("client_secret"))

    def start(self, amount: int, reference: str) -> Intent | None:
        params: dict[str, Any] = {
            "amount": amount * IDR_MINOR_UNITS,
            "currency": "idr",
            "payment_method_types": ["card"],
            "metadata": {"pasarkube_reference": reference},
        }
        if self.real:
            params["description"] = f"Pasar KUBE {reference}"
            # "Separate charges and transfers": the KUBEs' shares are tied to this group.
            params["transfer_group"] = reference
        return self._intent(self._call(self.client.v1.payment_intents.create, params=params,
                                       options={"idempotency_key": f"pasarkube-{reference}"}))

    def cancel(self, intent_id: str) -> None:
        self._call(self.client.v1.payment_intents.cancel, intent_id)

    def retrieve(self, intent_id: str) -> Intent:
        return self._intent(self._call(self.client.v1.payment_intents.retrieve, intent_id))

    def refund(self, checkout: Checkout, amount: int, key: str) -> RefundResult:
        if not checkout.payment_intent_id:
            raise ProviderError("This checkout has no card payment.")
        refund = self._call(self.client.v1.refunds.create,
                            params={"payment_intent": checkout.payment_intent_id,
                                    "amount": amount * IDR_MINOR_UNITS},
                            options={"idempotency_key": key})
        # Stripe may answer "pending" (the bank has not settled yet): that is not for an operator to send.
        return RefundResult(refund.id, "succeeded" if refund.status == "succeeded" else "processing")

    def resize(self, checkout: Checkout, amount: int) -> None:
        if not checkout.payment_intent_id:
            return
        intent = self.retrieve(checkout.payment_intent_id)
        if intent.status in ("succeeded", "canceled", "processing"):
            return  # paid meanwhile: the webhook settles it (and refunds what is no longer owed)
        if amount <= 0:
            self._call(self.client.v1.payment_intents.cancel, checkout.payment_intent_id)
        else:
            self._call(self.client.v1.payment_intents.update, checkout.payment_intent_id,
                       params={"amount": amount * IDR_MINOR_UNITS})

    def parse_event(self, payload: bytes, signature: str) -> dict[str, Any]:
        """A verified webhook event as a dict; BadSignature when it was not signed with our secret."""
        try:
            self._stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature, self.webhook_secret,
                                                        self._stripe.Webhook.DEFAULT_TOLERANCE)
            event = json.loads(payload)
        except (self._stripe.SignatureVerificationError, ValueError) as error:
            raise BadSignature(str(error)) from error
        if not isinstance(event, dict):
            raise BadSignature("the body is not a JSON object")
        return event


class Payments:
    """The providers of this deployment, by payment method."""

    def __init__(self, providers: Iterable[PaymentProvider]) -> None:
        self.by_method: dict[PaymentMethod, PaymentProvider] = {}
        for provider in providers:
            for method in provider.methods:
                self.by_method[method] = provider

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(m.value for m in PaymentMethod if m in self.by_method)

    def provider(self, method: PaymentMethod | str) -> PaymentProvider:
        return self.by_method[PaymentMethod(method)]

    @property
    def stripe(self) -> StripeProvider | None:
        provider = self.by_method.get(PaymentMethod.STRIPE)
        return provider if isinstance(provider, StripeProvider) else None


MANUAL_ONLY = Payments([ManualProvider()])


def from_config(config: Mapping[str, Any]) -> Payments:
    """Manual payments always; cards when a Stripe secret key is set."""
    providers: list[PaymentProvider] = [ManualProvider()]
    if config.get("STRIPE_SECRET_KEY"):
        providers.append(StripeProvider(config["STRIPE_SECRET_KEY"], config["STRIPE_WEBHOOK_SECRET"],
                                        config["STRIPE_PUBLISHABLE_KEY"], config["STRIPE_JS_URL"],
                                        config.get("STRIPE_API_BASE", "")))
    return Payments(providers)
