"""The KUBE's incoming orders (list, detail, accept / ship / cancel) and the operator's bank-transfer page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.catalog.models import Kube, Product
from marketplace.common import ConflictError, NotFoundError, PermissionDenied
from marketplace.orders import services
from marketplace.orders.models import Checkout, Order, OrderEvent, OrderStatus
from marketplace.orders.services import Delivery
from tests import factories
from tests.factories import World

Login = Callable[[str], FlaskClient]

# These tests check the English texts; tests/test_translations.py checks the Indonesian ones.
pytestmark = pytest.mark.usefixtures("english")
A = "/my-kube/kube-kelapa-a"
B = "/my-kube/kube-anyaman-b"
COURIER = Delivery("courier", "Budi Santoso", "0812000111", "Jl. Kenanga 5\nLuwuk")


def _place(session: Session, world: World, *, product: Product | None = None, courier: bool = False,
           status: OrderStatus = OrderStatus.PENDING_PAYMENT) -> Order:
    """A committed bank-transfer checkout of one product (KUBE A's by default), moved on to `status`."""
    product = product or world.product_a
    checkout = services.place_checkout(session, world.buyer, [(product.id, 2)], payment_method="manual",
                                       delivery=COURIER if courier else Delivery())
    order = checkout.orders[0]
    if status != OrderStatus.PENDING_PAYMENT:
        services.confirm_payment(session, world.operator, checkout.id)
    if status == OrderStatus.PROCESSING:
        services.accept_order(session, world.ketua_a, order.id)
    session.commit()
    return order


def _order(session: Session, order_id: int) -> Order:
    session.expire_all()
    order = session.get(Order, order_id)
    assert order is not None
    return order


def _events(session: Session, order_id: int) -> list[tuple[str, int | None, str]]:
    session.expire_all()
    return [(e.to_status, e.actor_id, e.note) for e in session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))]


# --- List and detail --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["ketua_a", "anggota_a"])
def test_members_see_the_list_and_the_detail(session: Session, world: World, login_as: Login, who: str) -> None:
    paid = _place(session, world, courier=True, status=OrderStatus.PAID)
    pending = _place(session, world)
    client = login_as(who)

    page = client.get(f"{A}/orders").get_data(as_text=True)
    assert page.index(f"Order #{pending.id}") < page.index(f"Order #{paid.id}")  # newest first
    assert "Buyer" in page and "Minyak Kelapa A × 2" in page and "Rp30.000" in page
    assert "Courier" in page and "Pickup at the KUBE" in page
    assert "Paid" in page and "Waiting for payment" in page

    to_pay = client.get(f"{A}/orders?status=to_pay").get_data(as_text=True)
    assert f"Order #{pending.id}" in to_pay and f"Order #{paid.id}" not in to_pay
    to_pack = client.get(f"{A}/orders?status=to_pack").get_data(as_text=True)
    assert f"Order #{paid.id}" in to_pack and f"Order #{pending.id}" not in to_pack
    assert "No orders with this status." in client.get(f"{A}/orders?status=done").get_data(as_text=True)
    assert client.get(f"{A}/orders?status=junk").status_code == 200  # unknown tab: all

    detail = client.get(f"{A}/orders/{paid.id}").get_data(as_text=True)
    assert "Budi Santoso" in detail and "0812000111" in detail and "Jl. Kenanga 5<br>Luwuk" in detail
    assert "payment received" in detail and "Operator" in detail  # the timeline: what, who
    assert f"/orders/{paid.id}/accept" in detail and f"/orders/{paid.id}/cancel" in detail
    assert f"/orders/{paid.id}/ship" not in detail


def test_dashboard_links_to_orders_with_the_number_waiting(session: Session, world: World, login_as: Login) -> None:
    _place(session, world, status=OrderStatus.PAID)
    _place(session, world, status=OrderStatus.PAID)
    _place(session, world)
    page = login_as("anggota_a").get(A).get_data(as_text=True)
    assert "2 paid orders waiting to be accepted" in page and f"{A}/orders" in page
    # A facilitator manages the shop but does not handle its orders.
    facilitator_page = login_as("facilitator_a").get(A).get_data(as_text=True)
    assert f"{A}/orders" not in facilitator_page
    assert login_as("facilitator_a").get(f"{A}/orders").status_code == 403


def test_outsiders_cannot_see_a_kubes_orders(session: Session, world: World, login_as: Login) -> None:
    order = _place(session, world)
    order_b = _place(session, world, product=world.product_b)
    for who in ("ketua_b", "buyer", "order_taker"):
        client = login_as(who)
        assert client.get(f"{A}/orders").status_code in (403, 404)
        assert client.get(f"{A}/orders/{order.id}").status_code in (403, 404)
    # KUBE B's order under KUBE A's address is not found, even for a member of both sides' lists.
    assert login_as("ketua_a").get(f"{A}/orders/{order_b.id}").status_code == 404
    assert login_as("ketua_b").get(f"{B}/orders/{order.id}").status_code == 404
    assert login_as("ketua_b").get(f"{B}/orders/{order_b.id}").status_code == 200
    assert login_as("ketua_a").get(f"{A}/orders/999999").status_code == 404


# --- Accept, ship, cancel ---------------------------------------------------------------------------


def test_accept_then_ship_by_courier(session: Session, world: World, login_as: Login) -> None:
    order = _place(session, world, courier=True, status=OrderStatus.PAID)
    client = login_as("anggota_a")
    response = client.post(f"{A}/orders/{order.id}/accept", follow_redirects=True)
    assert "is accepted" in response.get_data(as_text=True)
    assert _order(session, order.id).status == OrderStatus.PROCESSING

    page = client.get(f"{A}/orders/{order.id}").get_data(as_text=True)
    assert "Tracking number" in page and f"/orders/{order.id}/accept" not in page
    response = client.post(f"{A}/orders/{order.id}/ship", data={"courier": "JNE", "tracking_number": "JN123"},
                           follow_redirects=True)
    assert "is marked as shipped" in response.get_data(as_text=True)
    shipped = _order(session, order.id)
    assert (shipped.status, shipped.courier, shipped.tracking_number) == (OrderStatus.SHIPPED, "JNE", "JN123")
    assert _events(session, order.id)[-2:] == [("processing", world.anggota_a.id, ""),
                                               ("shipped", world.anggota_a.id, "JNE JN123")]


def test_pickup_order_is_ready_for_pickup(session: Session, world: World, login_as: Login) -> None:
    order = _place(session, world, status=OrderStatus.PROCESSING)
    client = login_as("ketua_a")
    assert "Ready for pickup" in client.get(f"{A}/orders/{order.id}").get_data(as_text=True)
    response = client.post(f"{A}/orders/{order.id}/ship", data={}, follow_redirects=True)
    assert "is ready for pickup" in response.get_data(as_text=True)
    assert _order(session, order.id).status == OrderStatus.SHIPPED
    assert _events(session, order.id)[-1] == ("shipped", world.ketua_a.id, "ready for pickup")


def test_courier_order_without_courier_shows_the_error_and_changes_nothing(
        session: Session, world: World, login_as: Login) -> None:
    order = _place(session, world, courier=True, status=OrderStatus.PROCESSING)
    before = _events(session, order.id)
    response = login_as("ketua_a").post(f"{A}/orders/{order.id}/ship", data={"courier": " ", "tracking_number": "X1"})
    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)
    after = _order(session, order.id)
    assert (after.status, after.courier, after.tracking_number) == (OrderStatus.PROCESSING, None, None)
    assert _events(session, order.id) == before


def test_cancel_with_a_reason_gives_the_stock_back(session: Session, world: World, login_as: Login) -> None:
    order = _place(session, world)
    client = login_as("ketua_a")
    assert _stock(session, world.product_a) == 8
    response = client.post(f"{A}/orders/{order.id}/cancel", data={"reason": " "})
    assert response.status_code == 200 and "This field is required." in response.get_data(as_text=True)
    assert _order(session, order.id).status == OrderStatus.PENDING_PAYMENT

    response = client.post(f"{A}/orders/{order.id}/cancel", data={"reason": "Stok habis dimakan tikus"},
                           follow_redirects=True)
    assert "is cancelled" in response.get_data(as_text=True)
    assert _order(session, order.id).status == OrderStatus.CANCELLED
    assert _events(session, order.id)[-1] == ("cancelled", world.ketua_a.id, "Stok habis dimakan tikus")
    assert _stock(session, world.product_a) == 10
    page = client.get(f"{A}/orders/{order.id}").get_data(as_text=True)
    assert f"/orders/{order.id}/cancel" not in page  # nothing left to do


def test_paid_order_cancelled_by_the_kube_is_refunded(session: Session, world: World, login_as: Login) -> None:
    order = _place(session, world, status=OrderStatus.PROCESSING)
    login_as("anggota_a").post(f"{A}/orders/{order.id}/cancel", data={"reason": "Rusak"})
    assert _order(session, order.id).status == OrderStatus.REFUNDED


def test_an_illegal_move_is_refused_with_a_message(session: Session, world: World, login_as: Login) -> None:
    order = _place(session, world)  # not paid yet: cannot be accepted
    response = login_as("ketua_a").post(f"{A}/orders/{order.id}/accept", follow_redirects=True)
    assert response.status_code == 200 and "cannot become" in response.get_data(as_text=True)
    assert _order(session, order.id).status == OrderStatus.PENDING_PAYMENT


def _stock(session: Session, product: Product) -> int:
    session.expire_all()
    fresh = session.get(Product, product.id)
    assert fresh is not None
    return fresh.stock


def test_another_kubes_member_changes_nothing(session: Session, world: World, login_as: Login) -> None:
    order = _place(session, world, courier=True, status=OrderStatus.PAID)
    before = _events(session, order.id)
    for client in (login_as("ketua_b"), login_as("buyer")):
        for verb, data in [("accept", {}), ("ship", {"courier": "JNE", "tracking_number": "1"}),
                           ("cancel", {"reason": "iseng"})]:
            assert client.post(f"{A}/orders/{order.id}/{verb}", data=data).status_code in (403, 404)
            assert client.post(f"{B}/orders/{order.id}/{verb}", data=data).status_code in (403, 404)
    assert _order(session, order.id).status == OrderStatus.PAID and _events(session, order.id) == before


# --- Operator: bank transfers -----------------------------------------------------------------------


def test_operator_sees_and_confirms_bank_transfers(session: Session, world: World, login_as: Login) -> None:
    order = _place(session, world)
    checkout = order.checkout
    client = login_as("operator")
    page = client.get("/admin/payments").get_data(as_text=True)
    amount = f"Rp{checkout.amount_due:,}".replace(",", ".")
    assert amount in page and "Buyer" in page and world.buyer.email in page
    assert f"/admin/payments/{checkout.id}/confirm" in page

    response = client.post(f"/admin/payments/{checkout.id}/confirm", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "is confirmed" in text and "No bank transfer is waiting for confirmation." in text
    assert _order(session, order.id).status == OrderStatus.PAID
    assert _events(session, order.id)[-1] == ("paid", world.operator.id, "payment received")
    again = client.post(f"/admin/payments/{checkout.id}/confirm", follow_redirects=True)
    assert "Nothing to confirm" in again.get_data(as_text=True)
    assert client.post("/admin/payments/999999/confirm").status_code == 404


def test_only_operators_reach_the_payments_page(session: Session, world: World, login_as: Login) -> None:
    order = _place(session, world)
    for who in ("buyer", "ketua_a", "facilitator_a"):
        client = login_as(who)
        assert client.get("/admin/payments").status_code == 403
        assert client.post(f"/admin/payments/{order.checkout_id}/confirm").status_code == 403
    assert _order(session, order.id).status == OrderStatus.PENDING_PAYMENT


# --- No query per row -------------------------------------------------------------------------------


def test_pages_run_a_fixed_number_of_queries(session: Session, world: World, login_as: Login,
                                             count_queries: Any) -> None:
    """The same pages with 2 or 10 orders (several lines each, events by several people) issue the same
    number of statements."""
    second = factories.make_product(session, world.kube_a, world.category, "Gula Aren A", stock=100)
    world.product_a.stock = 100
    session.commit()

    def place(n: int) -> None:
        for i in range(n):
            buyer = factories.make_user(session)  # (unpaid checkouts per buyer are capped)
            checkout = services.place_checkout(
                session, buyer, [(world.product_a.id, 1), (second.id, 1)], payment_method="manual",
                delivery=COURIER if i % 2 else Delivery())
            if i % 3:
                services.confirm_payment(session, world.operator, checkout.id)
        session.commit()

    clients = {"ketua_a": login_as("ketua_a"), "operator": login_as("operator")}

    def measure() -> dict[str, int]:
        paid = session.scalar(select(Order.id).where(Order.status == OrderStatus.PAID).order_by(Order.id.desc()))
        pages = {"list": ("ketua_a", f"{A}/orders"), "tab": ("ketua_a", f"{A}/orders?status=to_pack"),
                 "detail": ("ketua_a", f"{A}/orders/{paid}"), "dashboard": ("ketua_a", A),
                 "payments": ("operator", "/admin/payments")}
        counts = {}
        for name, (who, url) in pages.items():
            with count_queries() as counter:
                assert clients[who].get(url).status_code == 200
            counts[name] = counter.count
        return counts

    place(2)
    before = measure()
    place(8)
    assert measure() == before
    assert len(session.scalars(select(Checkout)).all()) == 10


def test_kube_orders_service_filters_and_checks_membership(session: Session, world: World) -> None:
    paid = _place(session, world, status=OrderStatus.PAID)
    pending = _place(session, world)
    all_orders = services.kube_orders(session, world.anggota_a, world.kube_a.id)
    assert [o.id for o in all_orders] == [pending.id, paid.id]
    only_paid = services.kube_orders(session, world.ketua_a, world.kube_a.id, statuses={OrderStatus.PAID})
    assert [o.id for o in only_paid] == [paid.id]
    counts = services.kube_order_counts(session, world.ketua_a, world.kube_a.id)
    assert (counts[OrderStatus.PAID], counts[OrderStatus.PENDING_PAYMENT], counts[OrderStatus.SHIPPED]) == (1, 1, 0)
    with pytest.raises(PermissionDenied):
        services.kube_orders(session, world.ketua_b, world.kube_a.id)
    with pytest.raises(PermissionDenied):
        services.kube_orders(session, world.facilitator_a, world.kube_a.id)  # reviews, does not sell
    with pytest.raises(NotFoundError):
        services.kube_order(session, world.operator, world.kube_b.id, paid.id)
    with pytest.raises(PermissionDenied):
        services.awaiting_transfers(session, world.ketua_a)
    services.confirm_payment(session, world.operator, pending.checkout_id)
    with pytest.raises(ConflictError):  # twice: nothing is pending any more
        services.confirm_payment(session, world.operator, pending.checkout_id)


# --- Delivery options on the KUBE profile -----------------------------------------------------------


def _delivery(**fields: str) -> dict[str, str]:
    return {"action": "delivery", **{f"delivery-{k}": v for k, v in fields.items()}}


def test_officers_set_the_delivery_options(session: Session, world: World, login_as: Login) -> None:
    client = login_as("ketua_a")
    page = client.get(f"{A}/profile").get_data(as_text=True)
    assert "Courier base fee (Rp)" in page and 'value="10000"' in page
    response = client.post(f"{A}/profile", data=_delivery(courier_enabled="y", courier_base_fee="15.000",
                                                          courier_fee_per_kg="0"), follow_redirects=True)
    assert "The delivery options are saved." in response.get_data(as_text=True)
    session.expire_all()
    kube = session.get(Kube, world.kube_a.id)
    assert kube is not None
    assert (kube.pickup_enabled, kube.courier_enabled, kube.courier_base_fee, kube.courier_fee_per_kg) == (
        False, True, 15_000, 0)


@pytest.mark.parametrize(("fields", "message"), [
    ({"pickup_enabled": "y", "courier_base_fee": "-1", "courier_fee_per_kg": "0"}, "Must be at least 0."),
    ({"pickup_enabled": "y", "courier_base_fee": "10000001", "courier_fee_per_kg": "0"}, "Must be at most 10000000."),
    ({"pickup_enabled": "y", "courier_base_fee": "1000", "courier_fee_per_kg": "2,5"}, "Enter a whole number."),
    ({"courier_base_fee": "1000", "courier_fee_per_kg": "0"}, "Offer pickup, courier delivery or both."),
])
def test_bad_delivery_options_change_nothing(session: Session, world: World, login_as: Login,
                                             fields: dict[str, str], message: str) -> None:
    response = login_as("ketua_a").post(f"{A}/profile", data=_delivery(**fields))
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    session.expire_all()
    kube = session.get(Kube, world.kube_a.id)
    assert kube is not None
    assert (kube.pickup_enabled, kube.courier_enabled, kube.courier_base_fee, kube.courier_fee_per_kg) == (
        True, True, 10_000, 4_000)
    # An anggota cannot reach the profile page at all.
    assert login_as("anggota_a").post(f"{A}/profile", data=_delivery(**fields)).status_code == 403
