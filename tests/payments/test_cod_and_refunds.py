"""Cash on delivery (the bendahara records the cash), refunds of bank transfers an operator sends back, and
the prices-changed check at checkout. No card provider here: the manual provider only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marketplace.catalog.models import KubeMember, MemberRole, Product
from marketplace.common import ConflictError, PermissionDenied, ValidationError, utcnow
from marketplace.ledger import services as ledger
from marketplace.ledger.models import EntryKind, LedgerEntry
from marketplace.orders import services
from marketplace.orders.models import Checkout, Order, OrderStatus
from marketplace.payments.models import Refund
from tests import factories
from tests.api.test_orders_api import API, token
from tests.factories import World

Login = Callable[[str], FlaskClient]
pytestmark = pytest.mark.usefixtures("english")


def _stock(session: Session, product: Product) -> int:
    session.expire(product, ["stock"])
    return product.stock


def _cod(session: Session, world: World, quantity: int = 2) -> Order:
    checkout = services.place_checkout(session, world.buyer, [(world.product_a.id, quantity)],
                                       payment_method="cod", fee_bps=250)
    session.commit()
    return checkout.orders[0]


def test_cash_on_delivery_from_order_to_cash_in_the_bendahara_hands(session: Session, world: World) -> None:
    bendahara = factories.make_user(session, "bendahara_a")
    session.add(KubeMember(kube_id=world.kube_a.id, user_id=bendahara.id, role=MemberRole.BENDAHARA))
    session.commit()
    order = _cod(session, world)
    # The KUBE has 3 days to accept; once accepted, a cash order waits for its handover however long it takes.
    assert order.expires_at == order.created_at + timedelta(days=3) and order.checkout.unique_code == 0
    services.accept_order(session, world.anggota_a, order.id)  # no payment needed before packing
    assert services.expire_due(session, utcnow() + timedelta(days=30)) == 0
    services.ship_order(session, world.anggota_a, order.id)
    with pytest.raises(PermissionDenied):  # an anggota does not hold the KUBE's cash
        services.confirm_cash(session, world.anggota_a, order.id)
    with pytest.raises(PermissionDenied):
        services.confirm_cash(session, world.buyer, order.id)
    services.confirm_cash(session, bendahara, order.id)
    session.commit()
    session.expire_all()
    assert order.status == OrderStatus.DELIVERED and order.paid_at is not None
    assert order.events[-1].note == services.CASH_RECEIVED
    fee = order.goods_total * 250 // 10_000
    assert order.platform_fee == fee
    # The KUBE holds the cash: its account with the platform owes just the fee.
    assert ledger.balance(session, world.kube_a.id) == -fee
    with pytest.raises(ConflictError):
        services.confirm_cash(session, bendahara, order.id)
    assert session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.kind == EntryKind.CASH)) == 1


def test_cash_recorded_after_the_buyer_confirmed_receipt(session: Session, world: World) -> None:
    order = _cod(session, world)
    services.accept_order(session, world.ketua_a, order.id)
    services.ship_order(session, world.ketua_a, order.id)
    services.confirm_received(session, world.buyer, order.id)
    with pytest.raises(ConflictError):  # not before the handover
        services.confirm_cash(session, world.ketua_a, _cod(session, world, 1).id)
    services.confirm_cash(session, world.ketua_a, order.id)
    session.commit()
    session.expire_all()
    assert order.status == OrderStatus.DELIVERED and order.paid_at is not None


def test_unpaid_cash_orders_are_cancelled_not_refunded(session: Session, world: World) -> None:
    start = _stock(session, world.product_a)
    first, second = _cod(session, world), _cod(session, world, 1)
    services.cancel_order(session, world.buyer, first.id, "salah pesan")  # the buyer, before the KUBE accepts
    services.accept_order(session, world.ketua_a, second.id)
    with pytest.raises(ConflictError):  # once accepted, the buyer asks the KUBE
        services.cancel_order(session, world.buyer, second.id, "batal")
    services.cancel_order(session, world.ketua_a, second.id, "bahan habis")
    session.commit()
    session.expire_all()
    assert first.status == second.status == OrderStatus.CANCELLED
    assert _stock(session, world.product_a) == start
    assert session.scalar(select(func.count(Refund.id))) == 0
    assert ledger.balance(session, world.kube_a.id) == 0


def test_the_kube_page_offers_cash_received_to_the_ketua_only(session: Session, world: World,
                                                               login_as: Login) -> None:
    order = _cod(session, world)
    services.accept_order(session, world.ketua_a, order.id)
    services.ship_order(session, world.ketua_a, order.id)
    session.commit()
    url = f"/my-kube/{world.kube_a.slug}/orders/{order.id}"
    assert "Cash received" not in login_as("anggota_a").get(url).get_data(as_text=True)
    ketua = login_as("ketua_a")
    assert "Cash received" in ketua.get(url).get_data(as_text=True)
    assert login_as("anggota_a").post(url + "/cash").status_code in (302, 403)
    session.expire_all()
    assert order.paid_at is None
    assert ketua.post(url + "/cash").status_code == 302
    session.expire_all()
    assert order.paid_at is not None and order.status == OrderStatus.DELIVERED


def test_a_refunded_bank_transfer_waits_for_the_operator(session: Session, world: World, login_as: Login) -> None:
    checkout = services.place_checkout(session, world.buyer, [(world.product_a.id, 2)], payment_method="manual")
    services.confirm_payment(session, world.operator, checkout.id)
    order = checkout.orders[0]
    services.cancel_order(session, world.ketua_a, order.id, "Stok rusak")
    session.commit()
    refund = session.scalars(select(Refund)).one()
    assert (refund.status, refund.amount, refund.provider, refund.order_id) == ("pending", order.total, "manual",
                                                                                order.id)
    assert ledger.balance(session, world.kube_a.id) == 0
    operator = login_as("operator")
    page = operator.get("/admin/refunds").get_data(as_text=True)
    assert world.buyer.email in page and f"#{order.id}" in page
    assert login_as("ketua_a").get("/admin/refunds").status_code == 403
    # A missing reference is a form error; nothing is saved.
    response = operator.post("/admin/refunds", data={"refund_id": str(refund.id), "reference": ""})
    assert response.status_code == 200 and "required" in response.get_data(as_text=True).lower()
    assert operator.post("/admin/refunds", data={"refund_id": "abc", "reference": "x"}).status_code in (200, 404)
    response = operator.post("/admin/refunds", data={"refund_id": str(refund.id), "reference": "BRI 778"})
    assert response.status_code == 302
    session.expire_all()
    assert refund.status == "succeeded" and refund.external_id == "BRI 778" and refund.completed_at
    assert "No refund is waiting" in operator.get("/admin/refunds").get_data(as_text=True)
    response = operator.post("/admin/refunds", data={"refund_id": str(refund.id), "reference": "again"})
    assert "already recorded" in response.get_data(as_text=True)


def test_a_price_change_since_the_page_was_shown_places_nothing(session: Session, world: World,
                                                                login_as: Login) -> None:
    seen = world.product_a.price
    start = _stock(session, world.product_a)
    session.execute(update(Product).where(Product.id == world.product_a.id).values(price=seen + 1000))
    session.commit()
    with pytest.raises(services.PricesChanged):
        services.place_checkout(session, world.buyer, [(world.product_a.id, 1)], payment_method="manual",
                                seen_prices={world.product_a.id: seen})
    session.rollback()
    buyer = login_as("buyer")
    buyer.post("/cart/add", data={"product_id": str(world.product_a.id), "quantity": "1"})
    response = buyer.post("/checkout", data={f"delivery-{world.kube_a.id}": "pickup", "payment_method": "manual",
                                             f"price-{world.product_a.id}": str(seen)})
    assert response.status_code == 200 and "changed to" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Checkout.id))) == 0 and _stock(session, world.product_a) == start
    # The page now shows the new price: placing it goes through.
    response = buyer.post("/checkout", data={f"delivery-{world.kube_a.id}": "pickup", "payment_method": "manual",
                                             f"price-{world.product_a.id}": str(seen + 1000)})
    assert response.status_code == 302
    assert _stock(session, world.product_a) == start - 1


def test_api_payment_methods(client: FlaskClient, session: Session, world: World) -> None:
    buyer = token(client, "buyer")
    body = {"items": [{"product_id": world.product_a.id, "quantity": 1}], "payment_method": "stripe"}
    response = client.post(f"{API}/orders", headers=buyer, json=body)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "payment_method"
    body["payment_method"] = "cod"
    response = client.post(f"{API}/orders", headers=buyer, json=body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["expires_at"] and "bank_transfer" not in response.get_json()
    body["items"] = [{"product_id": world.product_a.id, "quantity": 1, "unit_price": 1}]
    response = client.post(f"{API}/orders", headers=buyer, json=body)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "prices_changed"
    body["items"] = [{"product_id": world.product_a.id, "quantity": 1, "unit_price": world.product_a.price}]
    assert client.post(f"{API}/orders", headers=buyer, json=body).status_code == 201


def test_fee_rate_is_checked(session: Session, world: World) -> None:
    assert ledger.platform_fee(123_457, 200) == 2_469  # rounded down, in the KUBE's favour
    with pytest.raises(ValidationError):
        services.place_checkout(session, world.buyer, [(world.product_a.id, 1)], payment_method="bitcoin")


def test_payment_windows_are_settings(session: Session, world: World) -> None:
    from marketplace.orders.models import PaymentMethod

    checkout = services.place_checkout(session, world.buyer, [(world.product_a.id, 1)], payment_method="manual",
                                       payment_windows={PaymentMethod.MANUAL: timedelta(hours=2)})
    assert checkout.expires_at == checkout.created_at + timedelta(hours=2)
    assert services.expire_due(session, checkout.created_at + timedelta(minutes=119)) == 0
    assert services.expire_due(session, checkout.created_at + timedelta(minutes=121)) == 1


def test_a_cash_order_the_kube_never_accepts_expires(session: Session, world: World) -> None:
    start = _stock(session, world.product_a)
    order = _cod(session, world)
    assert services.expire_due(session, utcnow() + timedelta(days=3, minutes=1)) == 1
    session.commit()
    session.expire_all()
    assert order.status == OrderStatus.EXPIRED and _stock(session, world.product_a) == start


def test_only_bank_transfers_are_confirmed_by_an_operator(session: Session, world: World) -> None:
    order = _cod(session, world)
    with pytest.raises(ConflictError):
        services.confirm_payment(session, world.operator, order.checkout_id)
    session.rollback()
    session.expire_all()
    assert order.status == OrderStatus.PENDING_PAYMENT and order.paid_at is None
    assert ledger.balance(session, world.kube_a.id) == 0


def test_members_do_not_review_their_own_kube_and_unpaid_cash_is_not_reviewable(session: Session,
                                                                                 world: World) -> None:
    from marketplace.reviews import services as reviews

    own = services.place_checkout(session, world.anggota_a, [(world.product_a.id, 1)], payment_method="manual")
    services.confirm_payment(session, world.operator, own.id)
    services.accept_order(session, world.ketua_a, own.orders[0].id)
    services.ship_order(session, world.ketua_a, own.orders[0].id)
    services.confirm_received(session, world.anggota_a, own.orders[0].id)
    with pytest.raises(ConflictError):
        reviews.reviewable(session, world.anggota_a, own.orders[0].id)
    cash = _cod(session, world)
    services.accept_order(session, world.ketua_a, cash.id)
    services.ship_order(session, world.ketua_a, cash.id)
    services.confirm_received(session, world.buyer, cash.id)
    with pytest.raises(ConflictError):  # delivered, but its cash is not recorded yet
        reviews.reviewable(session, world.buyer, cash.id)
    services.confirm_cash(session, world.ketua_a, cash.id)
    assert reviews.reviewable(session, world.buyer, cash.id).anything_left
