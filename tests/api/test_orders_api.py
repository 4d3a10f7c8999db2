"""POST /api/v1/orders and reading orders with a bearer token."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.orders.models import Order
from tests import factories

API = "/api/v1"


def token(client: FlaskClient, who: str) -> dict[str, str]:
    body = {"email": factories.email_of(who), "password": factories.PASSWORD}
    return {"Authorization": "Bearer " + client.post(f"{API}/auth/token", json=body).get_json()["token"]}


def test_place_and_read_an_order(client: FlaskClient, session: Session, world: factories.World) -> None:
    buyer = token(client, "buyer")
    response = client.post(f"{API}/orders", headers=buyer, json={
        "items": [{"product_id": world.product_a.id, "quantity": 2}, {"product_id": world.product_b.id,
                                                                      "quantity": 1}],
        "delivery": {"method": "pickup"}, "payment_method": "manual"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert len(body["orders"]) == 2 and body["total"] == 45_000
    assert body["bank_transfer"]["amount"] == 45_000 + body["bank_transfer"]["unique_code"]
    order_id = body["orders"][0]["id"]
    assert response.headers["Location"].endswith(f"/api/v1/orders/{order_id}")
    mine = client.get(f"{API}/orders", headers=buyer).get_json()
    assert mine["total"] == 2 and mine["items"][0]["history"][0]["to"] == "pending_payment"
    assert client.get(f"{API}/orders/{order_id}", headers=buyer).get_json()["status"] == "pending_payment"
    # The KUBE's members see their orders; others do not.
    kube_orders = client.get(f"{API}/kubes/{world.kube_a.slug}/orders", headers=token(client, "ketua_a"))
    assert kube_orders.status_code == 200 and kube_orders.get_json()["total"] == 1
    assert client.get(f"{API}/kubes/{world.kube_a.slug}/orders", headers=token(client, "ketua_b")).status_code == 403
    other = client.get(f"{API}/orders/{order_id}", headers=token(client, "order_taker"))
    assert other.status_code == 404


def test_out_of_stock_is_409_and_nothing_is_reserved(client: FlaskClient, session: Session,
                                                    world: factories.World) -> None:
    response = client.post(f"{API}/orders", headers=token(client, "buyer"), json={
        "items": [{"product_id": world.product_a.id, "quantity": 1}, {"product_id": world.product_b.id,
                                                                      "quantity": 99}],
        "payment_method": "manual"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "out_of_stock"
    session.expire_all()
    assert world.product_a.stock == 10 and session.scalars(select(Order)).all() == []


def test_bad_order_bodies_are_400(client: FlaskClient, world: factories.World) -> None:
    buyer = token(client, "buyer")
    for body in ({}, {"items": "x", "payment_method": "manual"}, {"items": [], "payment_method": "manual"},
                 {"items": [1], "payment_method": "manual"},
                 {"items": [{"product_id": world.product_a.id, "quantity": 1.5}], "payment_method": "manual"},
                 {"items": [{"product_id": world.product_a.id, "quantity": 1}], "payment_method": "stripe"},
                 {"items": [{"product_id": world.product_a.id, "quantity": 1}], "payment_method": "manual",
                  "total": 1},
                 {"items": [{"product_id": world.product_a.id, "quantity": 1}], "payment_method": "manual",
                  "delivery": {"method": "courier"}}):
        response = client.post(f"{API}/orders", headers=buyer, json=body)
        assert response.status_code == 400, (body, response.get_json())
        assert response.get_json()["error"]["message"]
    assert client.post(f"{API}/orders", json={"items": []}).status_code == 401
