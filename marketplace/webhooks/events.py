"""The webhook events of orders and supply contracts, and what their payloads hold.

Called by marketplace.orders.services and marketplace.sourcing.services inside their transactions. Payloads
carry ids, codes, statuses, whole-Rupiah amounts, KUBE slugs and ISO 8601 UTC times; never a buyer's name,
address, phone or e-mail (tests/webhooks checks it).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from marketplace.catalog.models import Kube
from marketplace.chains.models import SupplyChain
from marketplace.common import utcnow
from marketplace.orders.models import Checkout, Order, OrderStatus
from marketplace.sourcing.models import ContractDelivery, Lot, SupplyContract
from marketplace.webhooks.services import emit, iso

# A move to one of these also sends its own event (besides order.status_changed).
STATUS_EVENTS = {OrderStatus.PAID: "order.paid", OrderStatus.CANCELLED: "order.cancelled",
                 OrderStatus.EXPIRED: "order.expired", OrderStatus.REFUNDED: "order.refunded"}


def _kube_slug(session: Session, kube_id: int | None) -> str | None:
    kube = session.get(Kube, kube_id) if kube_id is not None else None
    return kube.slug if kube else None


def _quantity(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}"


def order_data(session: Session, order: Order, status: OrderStatus, paid_at: datetime | None) -> dict[str, Any]:
    checkout = session.get(Checkout, order.checkout_id)
    return {
        "order_id": order.id,
        "checkout_id": order.checkout_id,
        "kube": _kube_slug(session, order.kube_id),
        "status": status.value,
        "payment_method": checkout.payment_method.value if checkout else None,
        "delivery_method": order.delivery_method.value,
        "currency": "IDR",
        "goods_total": order.goods_total,
        "delivery_fee": order.delivery_fee,
        "total": order.total,
        "lines": [{"product_id": line.product_id, "product_name": line.product_name, "unit": line.unit,
                   "unit_price": line.unit_price, "quantity": line.quantity, "line_total": line.line_total}
                  for line in order.lines],
        "placed_at": iso(order.created_at),
        "paid_at": iso(paid_at),
    }


def order_placed(session: Session, order: Order, now: datetime) -> None:
    emit(session, "order.placed", lambda: order_data(session, order, OrderStatus.PENDING_PAYMENT, None), now)


def order_moved(session: Session, order: Order, before: OrderStatus, to: OrderStatus, now: datetime) -> None:
    """Call right after the move's UPDATE (the loaded order still shows the old status)."""
    paid_at = now if to == OrderStatus.PAID else order.paid_at

    def data() -> dict[str, Any]:
        return {**order_data(session, order, to, paid_at), "previous_status": before.value,
                "changed_at": iso(now)}

    emit(session, "order.status_changed", data, now)
    if to in STATUS_EVENTS:
        emit(session, STATUS_EVENTS[to], data, now)


def order_cash_paid(session: Session, order: Order, now: datetime) -> None:
    """Cash on delivery: the KUBE recorded the cash (the order's status does not change for it)."""
    emit(session, "order.paid", lambda: order_data(session, order, order.status, now), now)


def contract_data(session: Session, contract: SupplyContract) -> dict[str, Any]:
    chain = session.get(SupplyChain, contract.chain_id) if contract.chain_id is not None else None
    return {
        "contract_id": contract.id,
        "code": contract.code,
        "status": contract.status.value,
        "kube": _kube_slug(session, contract.kube_id),
        "chain": chain.slug if chain else None,
        "item": contract.item,
        "item_name": contract.item_name,
        "unit": contract.unit,
        "quantity_per_delivery": _quantity(contract.quantity),
        "price_per_unit": contract.price_per_unit,
        "currency": "IDR",
        "schedule": contract.schedule.value,
        "starts_on": iso(contract.starts_on),
        "until": iso(contract.until),
        "created_at": iso(contract.created_at),
    }


def contract_event(session: Session, event_type: str, contract: SupplyContract) -> None:
    """contract.created, contract.cancelled or contract.completed."""
    emit(session, event_type, lambda: contract_data(session, contract))


def delivery_data(session: Session, delivery: ContractDelivery) -> dict[str, Any]:
    contract = session.get(SupplyContract, delivery.contract_id)
    lot = session.get(Lot, delivery.lot_id)
    return {
        "delivery_id": delivery.id,
        "contract_id": delivery.contract_id,
        "contract_code": contract.code if contract else None,
        "kube": _kube_slug(session, delivery.kube_id),
        "lot": lot.code if lot else None,
        "status": delivery.status.value,
        "quantity": _quantity(delivery.quantity),
        "unit": contract.unit if contract else None,
        "amount": delivery.amount,
        "currency": "IDR",
        "due_on": iso(delivery.due_on),
        "delivered_on": iso(delivery.delivered_on),
        "received_at": iso(delivery.received_at),
        "paid_at": iso(delivery.paid_at),
        "recorded_at": iso(delivery.created_at or utcnow()),
    }


def delivery_event(session: Session, event_type: str, delivery: ContractDelivery) -> None:
    """contract.delivery_recorded, contract.delivery_confirmed or contract.delivery_paid."""
    emit(session, event_type, lambda: delivery_data(session, delivery))
