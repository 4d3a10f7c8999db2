"""Events are emitted by the order and contract services, in their transaction (an outbox), with payloads that
carry no personal data."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.orders import services as orders
from marketplace.orders.models import OrderStatus
from marketplace.orders.services import Delivery, OutOfStock
from marketplace.sourcing import services as sourcing
from marketplace.webhooks import events
from marketplace.webhooks.models import WebhookDelivery
from tests import factories
from tests.factories import World
from tests.sourcing.support import contract_of_a, deliver, lot_of_a
from tests.webhooks.support import make_endpoint

COURIER = Delivery("courier", "Siti Rahmawati", "081234567890", "Jl. Kenanga 5, Luwuk")


def _events(session: Session) -> list[tuple[str, dict[str, object]]]:
    session.expire_all()
    rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))
    return [(row.event_type, json.loads(row.payload)) for row in rows]


def _count(session: Session) -> int:
    return session.scalar(select(func.count(WebhookDelivery.id))) or 0


def test_order_life_emits_its_events(session: Session, world: World) -> None:
    make_endpoint(session, events=(*events.STATUS_EVENTS.values(), "order.placed", "order.status_changed"))
    session.commit()
    checkout = orders.place_checkout(session, world.buyer, [(world.product_a.id, 2)], payment_method="manual",
                                     delivery=COURIER)
    session.commit()
    (order,) = checkout.orders
    (placed,) = _events(session)
    assert placed[0] == "order.placed"
    body = placed[1]
    assert body["type"] == "order.placed" and len(str(body["id"])) == 36
    data = body["data"]
    assert isinstance(data, dict)
    assert data["order_id"] == order.id and data["kube"] == world.kube_a.slug and data["status"] == "pending_payment"
    assert data["total"] == order.total and isinstance(data["total"], int) and data["currency"] == "IDR"
    assert data["lines"] == [{"product_id": world.product_a.id, "product_name": world.product_a.name,
                              "unit": world.product_a.unit.value, "unit_price": 15_000, "quantity": 2,
                              "line_total": 30_000}]
    assert str(body["created_at"]).endswith("Z") and str(data["placed_at"]).endswith("Z")

    orders.confirm_payment(session, world.operator, checkout.id)
    session.commit()
    paid = _events(session)[1:]
    assert [name for name, _ in paid] == ["order.status_changed", "order.paid"]
    changed = paid[0][1]["data"]
    assert isinstance(changed, dict)
    assert (changed["previous_status"], changed["status"]) == ("pending_payment", "paid")
    assert changed["paid_at"] is not None
    assert paid[0][1]["id"] != paid[1][1]["id"]  # each event its own id

    orders.cancel_order(session, world.ketua_a, order.id, "Stok rusak")
    session.commit()
    assert [name for name, _ in _events(session)[3:]] == ["order.status_changed", "order.refunded"]


def test_a_rolled_back_change_emits_nothing(session: Session, world: World) -> None:
    make_endpoint(session)
    session.commit()
    orders.place_checkout(session, world.buyer, [(world.product_a.id, 1)], payment_method="manual")
    assert _count(session) == 1  # in the transaction ...
    session.rollback()
    assert _count(session) == 0  # ... and gone with it
    with pytest.raises(OutOfStock):
        orders.place_checkout(session, world.buyer, [(world.product_a.id, 1), (world.product_b.id, 999)],
                              payment_method="manual")
    session.rollback()
    assert _count(session) == 0
    # Inactive or unsubscribed endpoints get nothing.
    make_endpoint(session, active=False)
    make_endpoint(session, events=("contract.created",))
    session.commit()
    checkout = orders.place_checkout(session, world.buyer, [(world.product_a.id, 1)], payment_method="manual")
    session.commit()
    assert _count(session) == 1  # the first endpoint only
    orders.cancel_order(session, world.buyer, checkout.orders[0].id, "Salah pesan")
    session.commit()
    assert [name for name, _ in _events(session)] == ["order.placed", "order.status_changed", "order.cancelled"]


def test_expiry_and_cash_on_delivery(session: Session, world: World) -> None:
    from datetime import timedelta

    from marketplace.common import utcnow

    make_endpoint(session, events=("order.paid", "order.expired"))
    session.commit()
    checkout = orders.place_checkout(session, world.buyer, [(world.product_a.id, 1)], payment_method="manual")
    session.commit()
    orders.expire_due(session, utcnow() + timedelta(days=2))
    session.commit()
    assert [name for name, _ in _events(session)] == ["order.expired"]
    assert checkout.orders[0].status == OrderStatus.EXPIRED

    cod = orders.place_checkout(session, world.buyer, [(world.product_a.id, 1)], payment_method="cod")
    session.commit()
    order_id = cod.orders[0].id
    orders.accept_order(session, world.ketua_a, order_id)
    orders.ship_order(session, world.ketua_a, order_id, courier="JNE", tracking_number="JNE123")
    orders.confirm_cash(session, world.ketua_a, order_id)
    session.commit()
    found = _events(session)
    assert [name for name, _ in found] == ["order.expired", "order.paid"]
    data = found[1][1]["data"]
    assert isinstance(data, dict) and data["order_id"] == order_id and data["paid_at"] is not None


def test_payloads_carry_no_personal_data(session: Session, world: World) -> None:
    make_endpoint(session, events=(*events.STATUS_EVENTS.values(), "order.placed", "order.status_changed"))
    session.commit()
    checkout = orders.place_checkout(session, world.buyer, [(world.product_a.id, 1)], payment_method="manual",
                                     delivery=COURIER)
    session.commit()
    orders.confirm_payment(session, world.operator, checkout.id)
    orders.cancel_order(session, world.ketua_a, checkout.orders[0].id, "Habis")
    session.commit()
    payloads = [row.payload for row in session.scalars(select(WebhookDelivery))]
    assert len(payloads) == 5
    buyer = world.buyer
    for text in payloads:
        for secret in (COURIER.recipient_name, COURIER.recipient_phone, COURIER.address, buyer.email, buyer.name,
                       "Kenanga", "0812"):
            assert secret not in text, secret
        assert "email" not in text and "phone" not in text and "address" not in text


def test_contract_events(session: Session, world: World) -> None:
    make_endpoint(session, events=("contract.created", "contract.delivery_recorded", "contract.delivery_confirmed",
                                   "contract.delivery_paid", "contract.completed", "contract.cancelled"))
    session.commit()
    contract = contract_of_a(session, world, quantity="40")
    session.commit()
    lot = lot_of_a(session, world)
    delivery = deliver(session, world, contract, lot)
    session.commit()
    sourcing.confirm_received(session, world.order_taker, delivery.id)
    session.commit()
    sourcing.record_delivery_payment(session, world.operator, delivery.id, "BRI 1234")
    session.commit()
    found = _events(session)
    assert [name for name, _ in found] == ["contract.created", "contract.delivery_recorded", "contract.completed",
                                           "contract.delivery_confirmed", "contract.delivery_paid"]
    created = found[0][1]["data"]
    assert isinstance(created, dict)
    assert created["code"] == contract.code and created["kube"] == world.kube_a.slug
    assert created["price_per_unit"] == 20_000 and created["quantity_per_delivery"] == "40"
    assert created["starts_on"] == contract.starts_on.isoformat()
    paid = found[-1][1]["data"]
    assert isinstance(paid, dict)
    assert paid["status"] == "paid" and paid["amount"] == 800_000 and paid["lot"] == lot.code
    assert paid["due_on"] == contract.starts_on.isoformat() and isinstance(date.fromisoformat(str(paid["due_on"])),
                                                                          date)
    for _, body in found:
        assert "Arang Jaya" not in json.dumps(body) and factories.email_of("order_taker") not in json.dumps(body)

    other = contract_of_a(session, world)
    session.commit()
    sourcing.cancel_contract(session, world.order_taker, other.id)
    session.commit()
    assert [name for name, _ in _events(session)][-2:] == ["contract.created", "contract.cancelled"]
