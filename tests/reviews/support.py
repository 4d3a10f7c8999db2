"""Orders brought to `delivered` through the real services, for the review tests."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from marketplace.auth.models import User
from marketplace.catalog.models import Product
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from tests.factories import World


def placed_order(session: Session, world: World, products: Iterable[Product], buyer: User | None = None) -> Order:
    """A bank-transfer order of one KUBE's products (one of each), waiting for payment."""
    checkout = orders.place_checkout(session, buyer or world.buyer, [(p.id, 1) for p in products],
                                     payment_method="manual")
    assert len(checkout.orders) == 1, "one KUBE's products per order"
    return checkout.orders[0]


def shipped_order(session: Session, world: World, products: Iterable[Product], buyer: User | None = None) -> Order:
    order = placed_order(session, world, products, buyer)
    orders.confirm_payment(session, world.operator, order.checkout_id)
    member = world.ketua_a if order.kube_id == world.kube_a.id else world.ketua_b
    orders.accept_order(session, member, order.id)
    orders.ship_order(session, member, order.id)
    return order


def delivered_order(session: Session, world: World, products: Iterable[Product] | None = None,
                    buyer: User | None = None) -> Order:
    """Paid, accepted, ready for pickup and received by the buyer."""
    order = shipped_order(session, world, products or [world.product_a], buyer)
    orders.confirm_received(session, buyer or world.buyer, order.id)
    session.flush()
    return order
