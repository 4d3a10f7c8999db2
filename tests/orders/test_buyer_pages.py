"""A buyer's way through the pages: cart as a guest, sign in, checkout, pay, follow the order."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.orders import services
from marketplace.orders.models import CartItem, Checkout, Order, OrderStatus
from tests import factories
from tests.conftest import login


def test_guest_cart_then_checkout(app: Flask, session: Session, world: factories.World) -> None:
    client = app.test_client()
    page = client.get(f"/product/{world.product_a.id}", follow_redirects=True).get_data(as_text=True)
    assert 'action="/cart/add"' in page
    response = client.post("/cart/add", data={"product_id": world.product_a.id, "quantity": "2",
                                               "next": f"/product/{world.product_a.id}"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/product/{world.product_a.id}")
    client.post("/cart/add", data={"product_id": world.product_b.id, "quantity": "1"})
    cart = client.get("/cart").get_data(as_text=True)
    assert "Minyak Kelapa A" in cart and "Tas Anyaman B" in cart and "Rp45.000" in cart
    assert client.get("/checkout").status_code == 302  # sign in first

    login(client, factories.email_of("buyer"))
    checkout_page = client.get("/checkout").get_data(as_text=True)  # the guest cart joined the account
    assert "Minyak Kelapa A" in checkout_page
    assert session.scalars(select(CartItem.user_id)).all() == [world.buyer.id, world.buyer.id]
    response = client.post("/checkout", data={
        f"delivery-{world.kube_a.id}": "courier", f"delivery-{world.kube_b.id}": "pickup",
        "recipient_name": "Budi", "recipient_phone": "0812000111", "address": "Jl. Kenanga 5, Luwuk",
        "payment_method": "manual",
        "total": "1",  # whatever the client sends about money is ignored
    })
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    placed = session.scalars(select(Checkout)).one()
    assert response.headers["Location"].endswith(f"/orders/checkout/{placed.id}")
    assert placed.total == 2 * 15_000 + 15_000 + world.kube_a.courier_base_fee + world.kube_a.courier_fee_per_kg
    page = client.get(f"/orders/checkout/{placed.id}").get_data(as_text=True)
    assert f"Rp{placed.amount_due:,}".replace(",", ".") in page
    assert session.scalars(select(CartItem)).all() == []
    orders = client.get("/orders").get_data(as_text=True)
    assert "KUBE Kelapa A" in orders and "Menunggu pembayaran" in orders


def test_checkout_errors_keep_the_cart(app: Flask, session: Session, world: factories.World,
                                       login_as: Callable[[str], FlaskClient]) -> None:
    client = login_as("buyer")
    client.post("/cart/add", data={"product_id": world.product_a.id, "quantity": "3"})
    world.product_a.stock = 2
    session.commit()
    response = client.post("/checkout", data={f"delivery-{world.kube_a.id}": "courier", "recipient_name": "",
                                              "payment_method": "manual"})
    assert response.status_code == 200
    assert session.scalars(select(Order)).all() == []
    response = client.post("/checkout", data={f"delivery-{world.kube_a.id}": "pickup", "payment_method": "manual"})
    assert "Stok Minyak Kelapa A tidak cukup." in response.get_data(as_text=True) or response.status_code == 200
    assert session.scalars(select(Order)).all() == []
    assert len(session.scalars(select(CartItem)).all()) == 1


def test_bad_cart_input_is_refused_politely(app: Flask, world: factories.World) -> None:
    client = app.test_client()
    for data in ({"product_id": "abc"}, {"product_id": world.draft_b.id}, {"product_id": world.product_a.id,
                                                                          "quantity": "-1"}, {}):
        response = client.post("/cart/add", data=data)
        assert response.status_code == 302
    assert "Keranjang Anda kosong." in client.get("/cart").get_data(as_text=True)


def test_buyer_follows_and_cancels(app: Flask, session: Session, world: factories.World,
                                   login_as: Callable[[str], FlaskClient]) -> None:
    from marketplace.orders import services

    placed = services.place_checkout(session, world.buyer, [(world.product_a.id, 2)], payment_method="manual")
    session.commit()
    order_id = placed.orders[0].id
    client = login_as("buyer")
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "Batalkan pesanan ini" in page
    assert login_as("ketua_b").get(f"/orders/{order_id}").status_code == 404
    client.post(f"/orders/{order_id}/cancel", data={"reason": "salah pesan"})
    session.expire_all()
    assert session.get(Order, order_id).status == OrderStatus.CANCELLED  # type: ignore[union-attr]
    assert world.product_a.stock == 10


def test_one_cart_never_touches_another(app: Flask, session: Session, world: factories.World,
                                        login_as: Callable[[str], FlaskClient]) -> None:
    guest, buyer = app.test_client(), login_as("buyer")
    guest.post("/cart/add", data={"product_id": world.product_a.id, "quantity": "2"})
    buyer.post("/cart/add", data={"product_id": world.product_a.id, "quantity": "1"})
    buyer.post(f"/cart/{world.product_a.id}/quantity", data={"quantity": "5"})
    buyer.post(f"/cart/{world.product_a.id}/remove")
    assert "Rp30.000" in guest.get("/cart").get_data(as_text=True)  # the guest's 2 are untouched
    assert "Keranjang Anda kosong." in buyer.get("/cart").get_data(as_text=True)
    assert [(i.guest_token is not None, i.quantity) for i in session.scalars(select(CartItem))] == [(True, 2)]


def test_each_side_is_notified(app: Flask, session: Session, world: factories.World,
                               login_as: Callable[[str], FlaskClient]) -> None:
    from marketplace.orders import services
    from marketplace.orders.models import Notification

    placed = services.place_checkout(session, world.buyer, [(world.product_a.id, 2)], payment_method="manual")
    session.commit()
    order_id = placed.orders[0].id
    ketua = login_as("ketua_a")
    page = ketua.get("/notifications").get_data(as_text=True)
    assert f"Pesanan baru #{order_id} senilai Rp30.000" in page
    services.confirm_payment(session, world.operator, placed.id)
    session.commit()
    buyer = login_as("buyer")
    assert '<span class="badge text-bg-warning">1</span>' in buyer.get("/").get_data(as_text=True)
    assert f"Pembayaran Anda untuk pesanan #{order_id} sudah masuk." in buyer.get("/notifications").get_data(
        as_text=True)
    assert 'badge text-bg-warning' not in buyer.get("/").get_data(as_text=True)  # read now
    # The buyer's own move is not announced to the buyer; the KUBE hears of it.
    services.accept_order(session, world.ketua_a, order_id)
    services.ship_order(session, world.ketua_a, order_id)
    services.confirm_received(session, world.buyer, order_id)
    session.commit()
    messages = [(n.user_id, n.message) for n in session.scalars(select(Notification).order_by(Notification.id))]
    assert (world.buyer.id, services.BUYER_NEWS[OrderStatus.SHIPPED]) in messages
    assert (world.ketua_a.id, services.KUBE_NEWS[OrderStatus.DELIVERED]) in messages
    assert login_as("ketua_b").get("/notifications").get_data(as_text=True).count("list-group-item") == 0


def test_messages_between_the_buyer_and_the_kube(app: Flask, session: Session, world: factories.World,
                                                 login_as: Callable[[str], FlaskClient]) -> None:
    from marketplace.common import PermissionDenied
    from marketplace.orders import services
    from marketplace.orders.models import Notification

    placed = services.place_checkout(session, world.buyer, [(world.product_a.id, 1)], payment_method="manual")
    session.commit()
    order_id = placed.orders[0].id
    buyer = login_as("buyer")
    buyer.post(f"/orders/{order_id}/messages", data={"body": "Bisa diambil <b>besok</b>?"})
    page = login_as("ketua_a").get(f"/my-kube/{world.kube_a.slug}/orders/{order_id}").get_data(as_text=True)
    assert "Bisa diambil &lt;b&gt;besok&lt;/b&gt;?" in page
    login_as("anggota_a").post(f"/orders/{order_id}/messages", data={
        "body": "Bisa, jam 9.", "next": f"/my-kube/{world.kube_a.slug}/orders/{order_id}"})
    assert "Bisa, jam 9." in buyer.get(f"/orders/{order_id}").get_data(as_text=True)
    notified = {n.user_id for n in session.scalars(select(Notification).where(
        Notification.message == services.NEW_MESSAGE))}
    assert notified == {world.ketua_a.id, world.anggota_a.id, world.buyer.id}
    # Outsiders cannot read or write; an operator reads but does not write.
    assert login_as("ketua_b").get(f"/orders/{order_id}").status_code == 404
    assert len(services.order_messages(session, world.operator, order_id)) == 2
    import pytest

    with pytest.raises(PermissionDenied):
        services.post_message(session, world.operator, order_id, "hai")
    response = buyer.post(f"/orders/{order_id}/messages", data={"body": ""})
    assert response.status_code == 302 and len(services.order_messages(session, world.buyer, order_id)) == 2


def test_order_lists_come_a_page_at_a_time(session: Session, world: factories.World,
                                          login_as: Callable[[str], FlaskClient]) -> None:
    for _ in range(3):
        checkout = services.place_checkout(session, world.buyer, [(world.product_a.id, 1)], payment_method="cod")
        services.cancel_order(session, world.buyer, checkout.orders[0].id, "coba lagi")
    session.commit()
    first = services.buyer_orders(session, world.buyer, per_page=2)
    second = services.buyer_orders(session, world.buyer, page=2, per_page=2)
    assert (first.total, len(first.items), len(second.items), first.pages) == (3, 2, 1, 2)
    assert {o.id for o in first}.isdisjoint(o.id for o in second)
    kube_page = services.kube_orders(session, world.ketua_a, world.kube_a.id, page=2, per_page=2)
    assert [o.id for o in kube_page] == [o.id for o in second]
    buyer = login_as("buyer")
    assert buyer.get("/orders?page=1").status_code == 200
    response = buyer.get("/orders?page=9")  # past the end: back to the last page
    assert response.status_code == 302 and response.headers["Location"].endswith("/orders?page=1")
    ketua = login_as("ketua_a")
    response = ketua.get(f"/my-kube/{world.kube_a.slug}/orders?page=5")
    assert response.status_code == 302
