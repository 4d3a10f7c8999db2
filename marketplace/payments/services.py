"""Card payments, webhooks and refunds (no flask here).

A Stripe webhook is verified with the endpoint's secret, then recorded under its UNIQUE event id in the same
transaction as the orders it moves: a second delivery of the same event finds the id and changes nothing, and
two deliveries at once are serialised by a row lock on the checkout (PostgreSQL) or the database's write lock
(SQLite); the loser's INSERT fails and is rolled back. The PaymentIntent is re-read from Stripe before orders
are paid, since events may come late, twice or out of order. Money that arrives for orders that expired or
were cancelled meanwhile is refunded at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from marketplace.auth.models import User
from marketplace.common import N_, ConflictError, NotFoundError, PermissionDenied, ValidationError, clean_text, utcnow
from marketplace.orders import services as orders
from marketplace.orders.models import Checkout, Order, OrderStatus, PaymentMethod
from marketplace.payments.models import PaymentEvent, Refund
from marketplace.payments.providers import BadSignature, Payments, ProviderError, StripeProvider

CARD_DECLINED = N_("The card payment for order #%(id)s did not go through: try again (or another card) "
                   "before the order expires.")
LATE_PAYMENT_REFUNDED = N_("Your card payment for order #%(id)s came after the order had expired or been "
                           "cancelled: %(amount)s is refunded to your card.")


class BadWebhook(ValidationError):
    code = "bad_signature"


@dataclass(frozen=True)
class CardPayment:
    checkout: Checkout
    client_secret: str
    publishable_key: str
    js_url: str


def _stripe(payments: Payments) -> StripeProvider:
    provider = payments.stripe
    if provider is None:
        raise NotFoundError(N_("Card payments are not enabled here."))
    return provider


def card_payment(session: Session, payments: Payments, buyer: User, checkout_id: int) -> CardPayment | None:
    """What the buyer's card form needs for a checkout still waiting for its card payment; None when there is
    nothing to pay by card (another method, paid, expired)."""
    checkout = orders.buyer_checkout(session, buyer, checkout_id)
    if checkout.payment_method != PaymentMethod.STRIPE or not checkout.payment_intent_id or not checkout.amount_due:
        return None
    provider = _stripe(payments)
    try:
        intent = provider.retrieve(checkout.payment_intent_id)
    except ProviderError:
        return None
    if intent.status not in ("requires_payment_method", "requires_confirmation", "requires_action") \
            or not intent.client_secret:
        return None
    return CardPayment(checkout, intent.client_secret, provider.publishable_key, provider.js_url)


def handle_stripe_webhook(session: Session, payments: Payments, payload: bytes, signature: str,
                          now: datetime | None = None) -> str:
    """Process one webhook delivery; returns "processed", "duplicate" or "ignored". The caller commits; an
    IntegrityError on commit means the same event was processed at the same moment: a duplicate too."""
    now = now or utcnow()
    provider = _stripe(payments)
    try:
        event = provider.parse_event(payload, signature)
    except BadSignature:
        raise BadWebhook(N_("The webhook signature does not verify."), field="signature") from None
    event_id, event_type = str(event.get("id") or ""), str(event.get("type") or "")
    intent = (event.get("data") or {}).get("object") or {}
    if not event_id or not event_type:
        raise BadWebhook(N_("The webhook is not a Stripe event."), field="body")
    checkout = None
    if intent.get("object") == "payment_intent" and intent.get("id"):
        # Lock the checkout first: deliveries for one checkout then run one after the other.
        checkout = session.scalar(select(Checkout).where(Checkout.payment_intent_id == str(intent["id"]))
                                  .with_for_update())
    if session.scalar(select(PaymentEvent.id).where(PaymentEvent.event_id == event_id)) is not None:
        return "duplicate"
    session.add(PaymentEvent(provider=provider.name, event_id=event_id, event_type=event_type,
                             checkout_id=checkout.id if checkout else None, received_at=now))
    session.flush()
    if checkout is None:
        return "ignored"
    if event_type == "payment_intent.succeeded":
        _settle(session, provider, checkout, now)
    elif event_type == "payment_intent.payment_failed":
        first = min(checkout.orders, key=lambda o: o.id)
        if first.status == OrderStatus.PENDING_PAYMENT:
            orders.notify(session, [checkout.buyer_id], first, CARD_DECLINED, id=first.id)
    else:
        return "ignored"
    return "processed"


def _settle(session: Session, provider: StripeProvider, checkout: Checkout, now: datetime) -> None:
    """The intent says it succeeded: re-read it, pay the orders still waiting, refund what nobody owes."""
    try:
        intent = provider.retrieve(checkout.payment_intent_id or "")
    except ProviderError as error:
        # Answering 5xx makes Stripe deliver the event again later.
        raise ProviderUnreachable(N_("Stripe could not be reached: %(reason)s"), reason=str(error)) from None
    if intent.status != "succeeded":
        return
    if any(o.paid_at is not None for o in checkout.orders):
        return  # settled already (by another event of the same intent)
    waiting = [o for o in checkout.orders if o.status == OrderStatus.PENDING_PAYMENT]
    due = sum(o.total for o in waiting)
    paid_for = 0
    if waiting and intent.amount >= due:
        for order in waiting:
            if orders.mark_paid(session, order, orders.CARD_PAYMENT_RECEIVED, now):
                paid_for += order.total
    surplus = intent.amount - paid_for
    if surplus > 0:
        try:
            result = provider.refund(checkout, surplus, f"pasarkube-refund-checkout-{checkout.id}-surplus")
        except ProviderError as error:
            raise ProviderUnreachable(N_("Stripe could not be reached: %(reason)s"), reason=str(error)) from None
        session.add(Refund(checkout_id=checkout.id, order_id=None, provider=provider.name, amount=surplus,
                           status=result.status, external_id=result.external_id, created_at=now,
                           note="paid after its orders expired or were cancelled",
                           completed_at=now if result.status == "succeeded" else None))
        first = min(checkout.orders, key=lambda o: o.id)
        orders.notify(session, [checkout.buyer_id], first, LATE_PAYMENT_REFUNDED, id=first.id, amount=surplus)
    session.flush()


class ProviderUnreachable(ConflictError):
    code = "provider_unreachable"
    status = 503


# --- Refunds an operator sends by bank transfer -------------------------------------------------------


def pending_refunds(session: Session, actor: User) -> Sequence[Refund]:
    """Refunds waiting for an operator's bank transfer, oldest first, with their order and buyer."""
    if not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))
    return list(session.scalars(
        select(Refund).where(Refund.status == "pending").order_by(Refund.created_at, Refund.id)
        .options(joinedload(Refund.order).joinedload(Order.kube), joinedload(Refund.checkout)
                 .joinedload(Checkout.buyer))
    ))


def mark_refund_sent(session: Session, actor: User, refund_id: int, reference: str,
                     now: datetime | None = None) -> Refund:
    """The operator sent the money back: record the bank reference. Twice is refused."""
    if not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))
    refund = session.get(Refund, refund_id)
    if refund is None:
        raise NotFoundError(N_("Refund not found."))
    if refund.status != "pending":
        raise ConflictError(N_("This refund is already recorded as sent."), field="reference")
    refund.external_id = clean_text(reference, field="reference", max_length=80)
    refund.status = "succeeded"
    refund.completed_at = now or utcnow()
    session.flush()
    return refund
