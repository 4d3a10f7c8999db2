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
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from marketplace.audit import services as audit
from marketplace.auth.models import User
from marketplace.common import N_, ConflictError, NotFoundError, PermissionDenied, ValidationError, clean_text, utcnow
from marketplace.orders import services as orders
from marketplace.orders.models import Checkout, Order, OrderStatus, PaymentMethod
from marketplace.payments.models import PaymentEvent, Refund
from marketplace.payments.providers import BadSignature, Intent, Payments, ProviderError, StripeProvider

CARD_DECLINED = N_("The card payment for order #%(id)s did not go through: try again (or another card) "
                   "before the order expires.")
LATE_PAYMENT_REFUNDED = N_("Your card payment for order #%(id)s came after the order had expired or been "
                           "cancelled: %(amount)s is refunded to your card.")


class BadWebhook(ValidationError):
    code = "bad_signature"


class ProviderUnreachable(ConflictError):
    code = "provider_unreachable"
    status = 503


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


MAX_EVENT_ID = 255


def handle_stripe_webhook(session: Session, payments: Payments, payload: bytes, signature: str,
                          now: datetime | None = None) -> tuple[str, int | None]:
    """Process one webhook delivery; returns ("processed" | "duplicate" | "ignored", the checkout's id). The
    caller commits, then calls settle_card for that checkout (refunds to send). An IntegrityError on commit
    means the same event was processed at the same moment: a duplicate too."""
    now = now or utcnow()
    provider = _stripe(payments)
    try:
        event = provider.parse_event(payload, signature)
    except BadSignature:
        raise BadWebhook(N_("The webhook signature does not verify."), field="signature") from None
    data = event.get("data") if isinstance(event, dict) else None
    intent = data.get("object") if isinstance(data, dict) else None
    event_id, event_type = event.get("id"), event.get("type")
    if not (isinstance(event_id, str) and isinstance(event_type, str) and isinstance(intent, dict)
            and 0 < len(event_id) <= MAX_EVENT_ID and 0 < len(event_type) <= 80):
        raise BadWebhook(N_("The webhook is not a Stripe event."), field="body")
    intent_id = intent.get("id") if intent.get("object") == "payment_intent" else None
    if not isinstance(intent_id, str) or event_type not in ("payment_intent.succeeded",
                                                           "payment_intent.payment_failed"):
        return "ignored", None
    current = None
    if event_type == "payment_intent.succeeded":
        # Re-read the intent before writing anything (events come late, twice or out of order; and no lock
        # is held while Stripe answers). A failure answers 5xx, so Stripe delivers again later.
        try:
            current = provider.retrieve(intent_id)
        except ProviderError as error:
            raise ProviderUnreachable(N_("Stripe could not be reached: %(reason)s"), reason=str(error)) from None
    # Lock the checkout first: deliveries for one checkout then run one after the other.
    checkout = session.scalar(select(Checkout).where(Checkout.payment_intent_id == intent_id).with_for_update())
    if session.scalar(select(PaymentEvent.id).where(PaymentEvent.event_id == event_id)) is not None:
        return "duplicate", None
    session.add(PaymentEvent(provider=provider.name, event_id=event_id, event_type=event_type,
                             checkout_id=checkout.id if checkout else None, received_at=now))
    session.flush()
    if checkout is None:
        return "ignored", None
    if current is not None:
        _settle(session, checkout, current, now)
    else:
        first = min(checkout.orders, key=lambda o: o.id)
        if first.status == OrderStatus.PENDING_PAYMENT:
            orders.notify(session, [checkout.buyer_id], first, CARD_DECLINED, id=first.id)
    return "processed", checkout.id


def _settle(session: Session, checkout: Checkout, intent: Intent, now: datetime) -> None:
    """The intent succeeded: pay the orders still waiting; what nobody owes any more is to be refunded."""
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
        refund = Refund(checkout_id=checkout.id, order_id=None, provider="stripe", amount=surplus,
                        status="requested", created_at=now, note="paid after its orders expired or were cancelled")
        session.add(refund)
        audit.record(session, None, "refund.created", refund, checkout_id=checkout.id, amount=surplus,
                     provider="stripe")
        first = min(checkout.orders, key=lambda o: o.id)
        orders.notify(session, [checkout.buyer_id], first, LATE_PAYMENT_REFUNDED, id=first.id, amount=surplus)
    session.flush()


def settle_card(session: Session, payments: Payments, checkout_id: int, now: datetime | None = None) -> None:
    """After a commit that changed a card checkout: send its requested refunds to Stripe and make the open
    PaymentIntent ask for what is still due (cancelled when nothing is). Each refund is sent with its own
    idempotency key, so sending again after a failure never refunds twice; what fails stays "requested" for
    `flask payments settle`. The caller commits."""
    now = now or utcnow()
    provider = payments.stripe
    checkout = session.get(Checkout, checkout_id)
    if provider is None or checkout is None or checkout.payment_method != PaymentMethod.STRIPE:
        return
    for refund in session.scalars(select(Refund).where(Refund.checkout_id == checkout.id,
                                                       Refund.status == "requested").order_by(Refund.id)):
        try:
            result = provider.refund(checkout, refund.amount, f"pasarkube-refund-{refund.id}")
        except ProviderError as error:
            refund.note = f"{refund.note} (retry: {error})"[:1000]
            continue
        refund.status, refund.external_id = result.status, result.external_id
        refund.completed_at = now if result.status == "succeeded" else None
        audit.record(session, None, "refund.sent", refund, kube_id=refund.order.kube_id if refund.order else None,
                     amount=refund.amount, provider="stripe", status=result.status)
    if checkout.payment_intent_id and not any(o.paid_at is not None for o in checkout.orders):
        # A payment that comes anyway is settled by the webhook (and refunded when not owed).
        with suppress(ProviderError):
            provider.resize(checkout, sum(o.total for o in checkout.orders
                                          if o.status == OrderStatus.PENDING_PAYMENT))
    session.flush()


def unsettled_checkouts(session: Session) -> list[int]:
    """Card checkouts with refunds still to send (for `flask payments settle`)."""
    return list(session.scalars(select(Refund.checkout_id).where(Refund.status == "requested",
                                                                 Refund.provider == "stripe").distinct()))


# --- Refunds an operator sends by bank transfer -------------------------------------------------------


def pending_refunds(session: Session, actor: User) -> Sequence[Refund]:
    """Refunds waiting for an operator's bank transfer, oldest first, with their order and buyer."""
    if not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))
    return list(session.scalars(
        select(Refund).where(Refund.status == "pending", Refund.provider == "manual")
        .order_by(Refund.created_at, Refund.id)
        .options(joinedload(Refund.order).joinedload(Order.kube), joinedload(Refund.checkout)
                 .joinedload(Checkout.buyer))
    ))


def mark_refund_sent(session: Session, actor: User, refund_id: int, reference: str,
                     now: datetime | None = None) -> Refund:
    """The operator sent the money back: record the bank reference. Twice is refused."""
    if not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))
    refund = session.get(Refund, refund_id)
    if refund is None or refund.provider != "manual":
        raise NotFoundError(N_("Refund not found."))
    reference = clean_text(reference, field="reference", max_length=80)
    # Conditional, so that two operators never both record (and send) the same refund.
    sent = session.execute(update(Refund).where(Refund.id == refund.id, Refund.status == "pending")
                           .values(status="succeeded", external_id=reference, completed_at=now or utcnow())
                           .execution_options(synchronize_session=False))
    if sent.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(N_("This refund is already recorded as sent."), field="reference")
    audit.record(session, actor, "refund.sent", refund, kube_id=refund.order.kube_id if refund.order else None,
                 amount=refund.amount, provider="manual", reference=reference)
    session.expire(refund)
    return refund
