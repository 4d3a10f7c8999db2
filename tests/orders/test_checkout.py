"""Cart, checkout and the life of an order: server-side totals, atomic stock, legal moves only."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from marketplace.catalog.models import Product
from marketplace.common import ConflictError, NotFoundError, PermissionDenied, ValidationError, utcnow
from marketplace.orders import services
from marketplace.orders.models import Order, OrderStatus
from marketplace.orders.services import CartOwner, Delivery, OutOfStock
from marketplace.search.models import SearchOutbox
from tests import factories


def stock(session: Session, product: Product) -> int:
    session.expire(product)
    return product.stock


def test_one_checkout_with_one_order_per_kube(session: Session, world: factories.World) -> None:
    a, b = world.product_a, world.product_b  # Rp15.000 each, 500 g, KUBE A and KUBE B
    courier = Delivery("courier", "Budi", "0812000111", "Jl. Kenanga 5, Luwuk")
    checkout = services.place_checkout(session, world.buyer, [(a.id, 2), (b.id, 1), (a.id, 1)],
                                       payment_method="manual", delivery={world.kube_a.id: courier})
    session.commit()
    orders = {o.kube_id: o for o in checkout.orders}
    assert set(orders) == {world.kube_a.id, world.kube_b.id}
    order_a, order_b = orders[world.kube_a.id], orders[world.kube_b.id]
    assert [(line.product_name, line.quantity, line.line_total) for line in order_a.lines] == [
        ("Minyak Kelapa A", 3, 45_000)]
    # Courier: the KUBE's base fee + a fee per started kilogram (1.5 kg -> 2 kg).
    assert order_a.delivery_fee == world.kube_a.courier_base_fee + 2 * world.kube_a.courier_fee_per_kg
    assert order_b.delivery_fee == 0 and order_b.delivery_method == "pickup"
    assert checkout.total == 45_000 + 15_000 + order_a.delivery_fee
    assert 1 <= checkout.unique_code <= 999 and checkout.amount_due == checkout.total + checkout.unique_code
    assert stock(session, a) == 7 and stock(session, b) == 9
    assert [e.to_status for e in order_a.events] == ["pending_payment"]
    assert checkout.expires_at is not None and checkout.expires_at - checkout.created_at == timedelta(hours=24)
    # Stock changes reach search through the outbox.
    assert {r for r, in session.execute(select(SearchOutbox.ref_id).where(SearchOutbox.kind == "product"))} >= {
        a.id, b.id}


def test_out_of_stock_fails_whole_checkout_and_reserves_nothing(session: Session, world: factories.World) -> None:
    with pytest.raises(OutOfStock) as caught:
        services.place_checkout(session, world.buyer, [(world.product_a.id, 1), (world.product_b.id, 11)],
                                payment_method="manual")
    session.rollback()
    assert caught.value.code == "out_of_stock" and "Tas Anyaman B" in str(caught.value)
    assert stock(session, world.product_a) == 10 and stock(session, world.product_b) == 10
    assert session.scalars(select(Order)).all() == []


@pytest.mark.parametrize("items, field", [
    ([], "items"),
    ([(1, 0)], "quantity"),
    ([(1, -3)], "quantity"),
    ([(1, "dua")], "quantity"),
    ([("x", 1)], "product_id"),
])
def test_bad_items_are_refused(session: Session, world: factories.World, items: list, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        services.place_checkout(session, world.buyer, items, payment_method="manual")
    assert caught.value.field == field


def test_drafts_and_unknown_products_cannot_be_bought(session: Session, world: factories.World) -> None:
    with pytest.raises(NotFoundError):
        services.place_checkout(session, world.buyer, [(world.draft_b.id, 1)], payment_method="manual")
    with pytest.raises(ValidationError):
        services.place_checkout(session, world.buyer, [(world.product_a.id, 1)], payment_method="bitcoin")


def test_minimum_order_and_delivery_options(session: Session, world: factories.World) -> None:
    world.product_a.min_order_qty = 5
    world.kube_b.courier_enabled = False
    session.commit()
    with pytest.raises(ValidationError) as caught:
        services.place_checkout(session, world.buyer, [(world.product_a.id, 2)], payment_method="manual")
    assert "5" in str(caught.value)
    session.rollback()
    with pytest.raises(ValidationError) as caught:
        services.place_checkout(session, world.buyer, [(world.product_b.id, 1)], payment_method="manual",
                                delivery=Delivery("courier", "Budi", "0812", "Jl. Mawar"))
    assert caught.value.field == "delivery"
    session.rollback()
    with pytest.raises(ValidationError) as caught:  # a courier needs an address
        services.place_checkout(session, world.buyer, [(world.product_a.id, 5)], payment_method="manual",
                                delivery=Delivery("courier", "Budi", "0812", ""))
    assert caught.value.field == "address"


def test_who_may_move_an_order(session: Session, world: factories.World) -> None:
    checkout = services.place_checkout(session, world.buyer, [(world.product_a.id, 2)], payment_method="manual")
    session.commit()
    order_id = checkout.orders[0].id
    with pytest.raises(PermissionDenied):
        services.confirm_payment(session, world.buyer, checkout.id)  # only an operator sees the bank account
    services.confirm_payment(session, world.operator, checkout.id)
    with pytest.raises(NotFoundError):
        services.accept_order(session, world.ketua_b, order_id)  # another KUBE's member
    with pytest.raises(PermissionDenied):
        services.accept_order(session, world.buyer, order_id)  # the buyer cannot accept for the KUBE
    services.accept_order(session, world.anggota_a, order_id)
    services.ship_order(session, world.ketua_a, order_id)  # pickup: ready at the KUBE
    session.commit()
    order = services.get_order(session, world.operator, order_id)
    assert order.status == OrderStatus.SHIPPED and order.events[-1].note == "ready for pickup"


def test_legal_moves_only_and_history(session: Session, world: factories.World) -> None:
    courier = Delivery("courier", "Budi", "0812000111", "Jl. Kenanga 5")
    checkout = services.place_checkout(session, world.buyer, [(world.product_a.id, 2)], payment_method="manual",
                                       delivery=courier)
    session.commit()
    order_id = checkout.orders[0].id
    with pytest.raises(ConflictError):
        services.accept_order(session, world.ketua_a, order_id)  # not paid yet
    services.confirm_payment(session, world.operator, checkout.id)
    services.accept_order(session, world.ketua_a, order_id)
    with pytest.raises(ValidationError):
        services.ship_order(session, world.ketua_a, order_id)  # a courier order needs the courier
    services.ship_order(session, world.ketua_a, order_id, courier="JNE", tracking_number="JN123")
    with pytest.raises(PermissionDenied):
        services.confirm_received(session, world.ketua_a, order_id)
    with pytest.raises(ConflictError):
        services.cancel_order(session, world.buyer, order_id, "changed my mind")  # shipped: too late
    services.confirm_received(session, world.buyer, order_id)
    session.commit()
    order = services.get_order(session, world.buyer, order_id)
    assert order.status == OrderStatus.DELIVERED
    assert [(e.from_status, e.to_status) for e in order.events] == [
        (None, "pending_payment"), ("pending_payment", "paid"), ("paid", "processing"),
        ("processing", "shipped"), ("shipped", "delivered")]
    assert order.events[3].note == "JNE JN123" and order.events[3].actor_id == world.ketua_a.id
    with pytest.raises(NotFoundError):
        services.get_order(session, world.ketua_b, order_id)  # not their KUBE, not their order


def test_cancel_releases_stock_exactly_once(session: Session, world: factories.World) -> None:
    checkout = services.place_checkout(session, world.buyer, [(world.product_a.id, 4)], payment_method="manual")
    session.commit()
    order = checkout.orders[0]
    assert stock(session, world.product_a) == 6
    services.cancel_order(session, world.buyer, order.id, "salah pesan")
    session.commit()
    assert stock(session, world.product_a) == 10
    with pytest.raises(ConflictError):
        services.cancel_order(session, world.buyer, order.id, "again")
    session.rollback()
    assert services.expire_due(session, utcnow() + timedelta(days=2)) == 0
    assert stock(session, world.product_a) == 10


def test_unpaid_orders_expire_and_give_stock_back(session: Session, world: factories.World) -> None:
    now = utcnow()
    services.place_checkout(session, world.buyer, [(world.product_a.id, 3)], payment_method="manual", now=now)
    services.place_checkout(session, world.buyer, [(world.product_b.id, 1)], payment_method="manual",
                            now=now + timedelta(hours=2))
    session.commit()
    assert services.expire_due(session, now + timedelta(hours=23)) == 0
    assert services.expire_due(session, now + timedelta(hours=25)) == 1  # the first one
    session.commit()
    assert stock(session, world.product_a) == 10 and stock(session, world.product_b) == 9
    # Lazily too: the buyer's order list settles what is due.
    orders = services.buyer_orders(session, world.buyer, now + timedelta(hours=27))
    session.commit()
    assert sorted(o.status.value for o in orders) == ["expired", "expired"]
    assert stock(session, world.product_b) == 10
    result = None
    from flask import current_app

    result = current_app.test_cli_runner().invoke(args=["orders", "expire"])
    assert result.exit_code == 0 and "Expired 0" in result.output


def test_cart_survives_sign_in(session: Session, world: factories.World) -> None:
    guest = CartOwner(guest_token=services.new_guest_token())
    mine = CartOwner(user_id=world.buyer.id)
    services.add_to_cart(session, guest, world.product_a.id, 2)
    services.add_to_cart(session, guest, world.product_b.id, 1)
    services.add_to_cart(session, mine, world.product_a.id, 1)
    assert services.merge_guest_cart(session, guest.guest_token or "", world.buyer) == 2
    groups = services.cart(session, mine)
    assert {(p.name, i.quantity) for g in groups for i, p in g.items} == {("Minyak Kelapa A", 3), ("Tas Anyaman B", 1)}
    assert services.cart(session, guest) == []
    with pytest.raises(NotFoundError):
        services.add_to_cart(session, mine, world.draft_b.id, 1)
    services.remove_from_cart(session, mine, world.product_b.id)
    assert len(services.cart(session, mine)) == 1


BUYERS = 50


def test_fifty_concurrent_buyers_never_oversell(app: Flask, session: Session, world: factories.World,
                                                database_url: str) -> None:
    """50 threads, each with its own database connection and transaction, try to buy 1 of a product with
    stock 5: exactly 5 succeed, stock ends at 0, never below."""
    world.product_a.stock = 5
    buyer_ids = [factories.make_user(session).id for _ in range(BUYERS)]
    session.commit()
    engine = create_engine(database_url, poolclass=NullPool)  # a real connection per buyer, all at once
    product_id = world.product_a.id
    results: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(BUYERS)

    def buy(buyer_id: int) -> None:
        with app.app_context():
            own = Session(engine)
            try:
                buyer = own.get(type(world.buyer), buyer_id)
                start.wait(timeout=30)
                services.place_checkout(own, buyer, [(product_id, 1)], payment_method="manual")
                own.commit()
                outcome = "sold"
            except OutOfStock:
                own.rollback()
                outcome = "out"
            except Exception as exc:
                own.rollback()
                outcome = f"error: {exc!r}"
            finally:
                own.close()
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=buy, args=(buyer_id,)) for buyer_id in buyer_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    engine.dispose()
    assert sorted(set(results)) == ["out", "sold"], [r for r in results if r.startswith("error")][:3]
    assert results.count("sold") == 5 and results.count("out") == BUYERS - 5
    assert stock(session, world.product_a) == 0
    assert len(session.scalars(select(Order)).all()) == 5


def test_unpaid_checkouts_per_buyer_are_capped(session: Session, world: factories.World) -> None:
    for _ in range(services.MAX_PENDING_CHECKOUTS):
        services.place_checkout(session, world.buyer, [(world.product_a.id, 1)], payment_method="manual")
    with pytest.raises(ConflictError):
        services.place_checkout(session, world.buyer, [(world.product_a.id, 1)], payment_method="manual")
    with pytest.raises(ValidationError):  # no card provider configured
        services.place_checkout(session, world.anggota_a, [(world.product_a.id, 1)], payment_method="stripe")


def test_bank_transfer_amounts_never_collide_and_follow_cancellations(session: Session,
                                                                      world: factories.World) -> None:
    first = services.place_checkout(session, world.buyer, [(world.product_a.id, 1), (world.product_b.id, 1)],
                                    payment_method="manual")
    second = services.place_checkout(session, world.anggota_a, [(world.product_a.id, 1), (world.product_b.id, 1)],
                                     payment_method="manual")
    session.commit()
    assert first.amount_due != second.amount_due
    order_b = next(o for o in first.orders if o.kube_id == world.kube_b.id)
    services.cancel_order(session, world.ketua_b, order_b.id, "stok rusak")
    session.commit()
    session.refresh(first)
    assert first.amount_due == 15_000 + first.unique_code  # only KUBE A's order is still to pay


def test_a_buyer_cannot_refund_a_paid_order(session: Session, world: factories.World) -> None:
    placed = services.place_checkout(session, world.buyer, [(world.product_a.id, 1)], payment_method="manual")
    services.confirm_payment(session, world.operator, placed.id)
    with pytest.raises(ConflictError):
        services.cancel_order(session, world.buyer, placed.orders[0].id, "tidak jadi")


def test_a_member_saving_stale_stock_does_not_undo_sales(session: Session, world: factories.World) -> None:
    from marketplace.catalog import services as catalog

    shown = world.product_a.stock  # 10 on the member's page
    services.place_checkout(session, world.buyer, [(world.product_a.id, 4)], payment_method="manual")
    session.commit()
    catalog.set_stock(session, world.ketua_a, world.product_a.id, shown, shown_stock=shown)  # unchanged field
    assert stock(session, world.product_a) == 6
    catalog.set_stock(session, world.ketua_a, world.product_a.id, shown + 5, shown_stock=shown)  # +5 restocked
    assert stock(session, world.product_a) == 11
    with pytest.raises(ConflictError):
        catalog.set_stock(session, world.ketua_a, world.product_a.id, 0, shown_stock=20)  # would go below 0
