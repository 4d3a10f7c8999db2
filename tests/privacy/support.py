"""Privacy test data, made through the real services."""

from __future__ import annotations

from sqlalchemy.orm import Session

from marketplace.auth.models import User
from marketplace.orders import services as orders
from marketplace.orders.models import Order
from marketplace.orders.services import Delivery
from marketplace.reviews import services as reviews
from tests.factories import World

ADDRESS = "Jl. Kenanga 5, RT 02/RW 03, Batui"
PHONE = "0812000111"


def delivered_order(session: Session, world: World, buyer: User | None = None, *, review: bool = True,
                    message: bool = True) -> Order:
    """A courier order of KUBE A's product by `buyer` (the world's buyer), paid, sent, received, rated."""
    buyer = buyer or world.buyer
    delivery = Delivery("courier", buyer.name, PHONE, ADDRESS)
    checkout = orders.place_checkout(session, buyer, [(world.product_a.id, 2)], payment_method="manual",
                                     delivery=delivery)
    order = checkout.orders[0]
    if message:
        orders.post_message(session, buyer, order.id, "Tolong dibungkus rapi, rumah cat hijau.")
    orders.confirm_payment(session, world.operator, checkout.id)
    orders.accept_order(session, world.ketua_a, order.id)
    orders.ship_order(session, world.ketua_a, order.id, courier="JNE", tracking_number="JN0001")
    orders.confirm_received(session, buyer, order.id)
    if review:
        reviews.submit_review(session, buyer, order.id, 5, "Cepat dan rapi", {order.lines[0].id: (4, "Harum")})
    session.flush()
    return order


def open_order(session: Session, world: World, buyer: User | None = None) -> Order:
    """A bank-transfer order of KUBE A's product waiting for payment."""
    checkout = orders.place_checkout(session, buyer or world.buyer, [(world.product_a.id, 1)],
                                     payment_method="manual")
    return checkout.orders[0]
