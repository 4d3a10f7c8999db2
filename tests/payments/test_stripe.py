"""Card payments through a real (fake) Stripe server: localstripe on loopback, signed webhooks to the app
served on loopback, the order paid, a declined card, a refund, duplicate and forged deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import timedelta

import pytest
import stripe
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.audit.models import AuditEvent
from marketplace.catalog.models import Product
from marketplace.common import utcnow
from marketplace.extensions import db
from marketplace.ledger import services as ledger
from marketplace.ledger.models import EntryKind, LedgerEntry
from marketplace.orders import services
from marketplace.orders.models import Checkout, Notification, Order, OrderEvent, OrderStatus
from marketplace.payments import services as payments
from marketplace.payments.models import PaymentEvent, Refund
from marketplace.payments.providers import Payments
from tests.conftest import login
from tests.factories import World
from tests.payments.conftest import WEBHOOK_SECRET, StripeWorld

FEE_BPS = 200


def _payments(sw: StripeWorld) -> Payments:
    payments: Payments = sw.app.extensions["payments"]
    return payments


def _client(sw: StripeWorld) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_pasarkube", base_addresses={"api": sw.stripe_base})


def _session() -> Session:
    return db.session  # type: ignore[return-value]


def _card_checkout(sw: StripeWorld, world: World, quantity: int = 2) -> Checkout:
    checkout = services.place_checkout(_session(), world.buyer, [(world.product_a.id, quantity),
                                                                  (world.product_b.id, 1)],
                                       payment_method="stripe", payments=_payments(sw), fee_bps=FEE_BPS)
    _session().commit()
    return checkout


def _wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _session().expire_all()
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the webhook")


def _statuses(checkout_id: int) -> list[OrderStatus]:
    return list(_session().scalars(select(Order.status).where(Order.checkout_id == checkout_id)
                                   .order_by(Order.id)))


def _stock(product_id: int) -> int:
    return _session().scalar(select(Product.stock).where(Product.id == product_id)) or 0


def _signed(payload: bytes, secret: str = WEBHOOK_SECRET) -> str:
    timestamp = int(time.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _post(sw: StripeWorld, payload: bytes, signature: str) -> int:
    request = urllib.request.Request(f"{sw.url}/payments/stripe/webhook", data=payload, method="POST",  # noqa: S310 - loopback
                                     headers={"Stripe-Signature": signature, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _event(event_id: str, intent_id: str, kind: str = "payment_intent.succeeded") -> bytes:
    return json.dumps({"id": event_id, "object": "event", "type": kind, "created": int(time.time()),
                       "data": {"object": {"id": intent_id, "object": "payment_intent"}}}).encode()


def test_card_payment_end_to_end(stripe_world: StripeWorld, card_world: World) -> None:
    sw, world = stripe_world, card_world
    sw.register_webhook()
    before_a = _stock(world.product_a.id)
    checkout = _card_checkout(sw, world)
    assert checkout.payment_intent_id and checkout.payment_intent_id.startswith("pi_")
    assert checkout.expires_at == checkout.created_at + timedelta(minutes=30)
    assert checkout.unique_code == 0
    client = _client(sw)
    intent = client.v1.payment_intents.retrieve(checkout.payment_intent_id)
    assert intent.amount == checkout.total * 100 and intent.currency == "idr"  # Rupiah x 100 at the boundary
    assert _stock(world.product_a.id) == before_a - 2

    # The buyer's page has the card form, with Stripe.js from the configured address.
    page = login(sw.app.test_client(), world.buyer.email)
    html = page.get(f"/orders/checkout/{checkout.id}").get_data(as_text=True)
    assert 'id="card-form"' in html and f"{sw.stripe_base}/js.stripe.com/v3/" in html
    assert intent.client_secret in html
    csp = page.get(f"/orders/checkout/{checkout.id}").headers["Content-Security-Policy"]
    assert f"script-src 'self' {sw.stripe_base}" in csp

    client.v1.payment_intents.update(checkout.payment_intent_id, params={"payment_method": "pm_card_visa"})
    assert client.v1.payment_intents.confirm(checkout.payment_intent_id).status == "succeeded"
    _wait_for(lambda: _statuses(checkout.id) == [OrderStatus.PAID, OrderStatus.PAID])

    orders = list(_session().scalars(select(Order).where(Order.checkout_id == checkout.id).order_by(Order.id)))
    assert all(o.paid_at is not None for o in orders)
    assert _session().scalar(select(func.count(PaymentEvent.id))) == 1
    for order in orders:
        assert [e.note for e in order.events][-1] == services.CARD_PAYMENT_RECEIVED
        fee = order.goods_total * FEE_BPS // 10_000
        assert order.platform_fee == fee
        assert ledger.balance(_session(), order.kube_id) == order.goods_total + order.delivery_fee - fee
    assert "Dibayar" in page.get(f"/orders/{orders[0].id}").get_data(as_text=True)  # "paid", in Indonesian
    assert 'id="card-form"' not in page.get(f"/orders/checkout/{checkout.id}").get_data(as_text=True)


def test_declined_card_leaves_the_order_waiting_and_tells_the_buyer(stripe_world: StripeWorld,
                                                                     card_world: World) -> None:
    sw, world = stripe_world, card_world
    sw.register_webhook()
    checkout = _card_checkout(sw, world)
    client = _client(sw)
    client.v1.payment_intents.update(checkout.payment_intent_id or "",
                                     params={"payment_method": "pm_card_chargeCustomerFail"})
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.confirm(checkout.payment_intent_id or "")
    _wait_for(lambda: _session().scalar(select(func.count(PaymentEvent.id))) == 1)
    assert _statuses(checkout.id) == [OrderStatus.PENDING_PAYMENT, OrderStatus.PENDING_PAYMENT]
    notes = _session().scalars(select(Notification.message).where(Notification.user_id == world.buyer.id))
    assert "did not go through" in " ".join(notes)
    assert _session().scalar(select(func.count(LedgerEntry.id))) == 0


def _paid_by_card(sw: StripeWorld, world: World) -> Checkout:
    checkout = _card_checkout(sw, world)
    client = _client(sw)
    client.v1.payment_intents.update(checkout.payment_intent_id or "", params={"payment_method": "pm_card_visa"})
    client.v1.payment_intents.confirm(checkout.payment_intent_id or "")
    payload = _event(f"evt_paid_{checkout.id}", checkout.payment_intent_id or "")
    assert _post(sw, payload, _signed(payload)) == 200
    _session().expire_all()
    assert _statuses(checkout.id) == [OrderStatus.PAID, OrderStatus.PAID]
    return checkout


def test_refund_goes_back_through_stripe_and_debits_the_ledger(stripe_world: StripeWorld,
                                                               card_world: World) -> None:
    sw, world = stripe_world, card_world
    checkout = _paid_by_card(sw, world)
    order = next(o for o in _session().scalars(select(Order).where(Order.checkout_id == checkout.id))
                 if o.kube_id == world.kube_a.id)
    stock_before = _stock(world.product_a.id)
    services.cancel_order(_session(), world.ketua_a, order.id, "Kelapa habis")
    _session().commit()
    refund = _session().scalars(select(Refund)).one()
    assert refund.status == "requested"  # committed first; sent to Stripe after the commit
    payments.settle_card(_session(), _payments(sw), checkout.id)
    _session().commit()
    assert refund.status == "succeeded" and refund.amount == order.total and refund.order_id == order.id
    assert refund.external_id and refund.external_id.startswith("re_")
    at_stripe = _client(sw).v1.refunds.retrieve(refund.external_id)
    assert at_stripe.amount == order.total * 100 and at_stripe.payment_intent == checkout.payment_intent_id
    _session().expire_all()
    assert order.status == OrderStatus.REFUNDED
    assert _stock(world.product_a.id) == stock_before + 2
    assert ledger.balance(_session(), world.kube_a.id) == 0  # credited, then taken back in full
    audit = {e.action: e for e in _session().scalars(select(AuditEvent).where(AuditEvent.action.like("refund.%")))}
    assert (audit["refund.created"].actor_role, audit["refund.sent"].actor_role) == ("ketua", "system")
    assert json.loads(audit["refund.sent"].details)["status"] == "succeeded"


def test_the_same_webhook_delivered_ten_times_at_once_changes_the_order_once(stripe_world: StripeWorld,
                                                                             card_world: World) -> None:
    sw, world = stripe_world, card_world
    checkout = _card_checkout(sw, world)
    client = _client(sw)
    client.v1.payment_intents.update(checkout.payment_intent_id or "", params={"payment_method": "pm_card_visa"})
    client.v1.payment_intents.confirm(checkout.payment_intent_id or "")
    payload = _event("evt_duplicated", checkout.payment_intent_id or "")
    signature = _signed(payload)
    codes: list[int] = []
    threads = [threading.Thread(target=lambda: codes.append(_post(sw, payload, signature))) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert codes == [200] * 10
    _session().expire_all()
    assert _statuses(checkout.id) == [OrderStatus.PAID, OrderStatus.PAID]
    assert _session().scalar(select(func.count(PaymentEvent.id))) == 1
    paid_events = _session().scalar(select(func.count(OrderEvent.id)).where(OrderEvent.to_status == "paid"))
    assert paid_events == 2  # one per order
    assert _session().scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.kind == EntryKind.SALE)) == 2
    # And one more, later: still nothing changes.
    assert _post(sw, payload, _signed(payload)) == 200
    assert _session().scalar(select(func.count(PaymentEvent.id))) == 1


def test_a_forged_signature_gets_400_and_changes_nothing(stripe_world: StripeWorld, card_world: World) -> None:
    sw, world = stripe_world, card_world
    checkout = _card_checkout(sw, world)
    client = _client(sw)
    client.v1.payment_intents.update(checkout.payment_intent_id or "", params={"payment_method": "pm_card_visa"})
    client.v1.payment_intents.confirm(checkout.payment_intent_id or "")
    payload = _event("evt_forged", checkout.payment_intent_id or "")
    assert _post(sw, payload, _signed(payload, secret="whsec_someone_else")) == 400
    assert _post(sw, payload, "") == 400
    assert _post(sw, payload, "t=1,v1=00") == 400
    tampered = _event("evt_forged", "pi_other")
    assert _post(sw, tampered, _signed(payload)) == 400  # a signature of another body
    _session().expire_all()
    assert _statuses(checkout.id) == [OrderStatus.PENDING_PAYMENT, OrderStatus.PENDING_PAYMENT]
    assert _session().scalar(select(func.count(PaymentEvent.id))) == 0


def test_a_payment_after_the_orders_expired_is_refunded(stripe_world: StripeWorld, card_world: World) -> None:
    sw, world = stripe_world, card_world
    checkout = _card_checkout(sw, world)
    assert services.expire_due(_session(), utcnow() + timedelta(minutes=31)) == 2
    _session().commit()
    client = _client(sw)
    client.v1.payment_intents.update(checkout.payment_intent_id or "", params={"payment_method": "pm_card_visa"})
    client.v1.payment_intents.confirm(checkout.payment_intent_id or "")
    payload = _event("evt_late", checkout.payment_intent_id or "")
    assert _post(sw, payload, _signed(payload)) == 200
    _session().expire_all()
    assert _statuses(checkout.id) == [OrderStatus.EXPIRED, OrderStatus.EXPIRED]
    refund = _session().scalars(select(Refund)).one()
    assert refund.order_id is None and refund.amount == checkout.total and refund.status == "succeeded"
    assert _session().scalar(select(func.count(LedgerEntry.id))) == 0
    assert [(e.action, e.actor_role, e.target_id) for e in _session().scalars(
        select(AuditEvent).where(AuditEvent.target_type == "refund").order_by(AuditEvent.id))] == [
        ("refund.created", "system", refund.id), ("refund.sent", "system", refund.id)]


def test_cancelling_one_unpaid_order_lowers_the_card_amount(stripe_world: StripeWorld, card_world: World) -> None:
    sw, world = stripe_world, card_world
    checkout = _card_checkout(sw, world)
    order_b = next(o for o in checkout.orders if o.kube_id == world.kube_b.id)
    remaining = checkout.total - order_b.total
    services.cancel_order(_session(), world.ketua_b, order_b.id, "Tidak bisa kirim")
    _session().commit()
    payments.settle_card(_session(), _payments(sw), checkout.id)
    _session().commit()
    intent = _client(sw).v1.payment_intents.retrieve(checkout.payment_intent_id or "")
    assert int(intent.amount) == remaining * 100  # (localstripe echoes an updated amount as text)


def test_no_checkout_is_placed_when_stripe_cannot_be_reached(card_world: World, database_url: str,
                                                             tmp_path: object, stripe_world: StripeWorld) -> None:
    from marketplace.payments.providers import from_config
    from tests.payments.conftest import _free_port, stripe_config

    world = card_world
    dead = from_config({**stripe_config(f"http://127.0.0.1:{_free_port()}")})
    dead.stripe.client = stripe.StripeClient(  # type: ignore[union-attr]
        "sk_test_pasarkube", base_addresses={"api": f"http://127.0.0.1:{_free_port()}"}, max_network_retries=0)
    before = _stock(world.product_a.id)
    with pytest.raises(services.PaymentUnavailable):
        services.place_checkout(_session(), world.buyer, [(world.product_a.id, 2)], payment_method="stripe",
                                payments=dead)
    _session().rollback()
    assert _stock(world.product_a.id) == before
    assert _session().scalar(select(func.count(Checkout.id))) == 0


def test_a_refund_stripe_cannot_take_now_is_sent_later(stripe_world: StripeWorld, card_world: World) -> None:
    sw, world = stripe_world, card_world
    checkout = _paid_by_card(sw, world)
    order = next(o for o in checkout.orders if o.kube_id == world.kube_a.id)
    provider = _payments(sw).stripe
    assert provider is not None
    working = provider.client
    provider.client = stripe.StripeClient("sk_test_pasarkube", max_network_retries=0,
                                          base_addresses={"api": "http://127.0.0.1:9"})  # nothing listens there
    try:
        services.cancel_order(_session(), world.ketua_a, order.id, "Rusak di jalan")
        _session().commit()
        payments.settle_card(_session(), _payments(sw), checkout.id)
        _session().commit()
        refund = _session().scalars(select(Refund)).one()
        assert refund.status == "requested" and "retry" in refund.note
        assert payments.unsettled_checkouts(_session()) == [checkout.id]
    finally:
        provider.client = working
    result = sw.app.test_cli_runner().invoke(args=["payments", "settle"])
    assert "Settled 1 of 1" in result.output, result.output
    _session().expire_all()
    refund = _session().scalars(select(Refund)).one()
    assert refund.status == "succeeded" and refund.external_id
    assert payments.unsettled_checkouts(_session()) == []
    assert [r.amount for r in _client(sw).v1.refunds.list(params={"payment_intent": checkout.payment_intent_id})
            ] == [order.total * 100]


@pytest.mark.parametrize("body", [b"[1, 2]", b'"hi"', b'{"id": "evt_1", "type": "x", "data": [1]}',
                                  b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": "x"}}',
                                  b'{"id": 5, "type": "payment_intent.succeeded", "data": {"object": {}}}',
                                  b"not json"])
def test_signed_bodies_of_the_wrong_shape_are_400(stripe_world: StripeWorld, card_world: World, body: bytes) -> None:
    assert _post(stripe_world, body, _signed(body)) == 400
    assert _session().scalar(select(func.count(PaymentEvent.id))) == 0
