"""Orders: POST /api/v1/orders places a checkout; buyers read their orders, a KUBE's members its orders."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, url_for
from werkzeug.wrappers import Response

from marketplace.api import bp
from marketplace.api.helpers import check_fields, json_object, page_args, page_json, require_bearer, required
from marketplace.catalog import services as catalog
from marketplace.common import N_, ValidationError
from marketplace.orders import services
from marketplace.orders.models import Checkout, Order, PaymentMethod
from marketplace.payments import services as payments
from marketplace.payments.views import checkout_settings, current_payments
from marketplace.web import db_session

ORDER_FIELDS: dict[str, type] = {"items": list, "delivery": dict, "payment_method": str}
# unit_price (optional): the price the client showed; a different current price gives 409 prices_changed.
ITEM_FIELDS: dict[str, type] = {"product_id": int, "quantity": int, "unit_price": int}
DELIVERY_FIELDS: dict[str, type] = {"method": str, "recipient_name": str, "recipient_phone": str, "address": str}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def order_json(order: Order) -> dict[str, Any]:
    """An order (lines, events and KUBE loaded by the service)."""
    return {
        "id": order.id,
        "checkout_id": order.checkout_id,
        "kube": {"slug": order.kube.slug, "name": order.kube.name},
        "status": order.status.value,
        "delivery": {"method": order.delivery_method.value, "fee": order.delivery_fee,
                     "courier": order.courier, "tracking_number": order.tracking_number},
        "goods_total": order.goods_total,
        "total": order.total,
        "lines": [{"product_id": line.product_id, "name": line.product_name, "unit": line.unit,
                   "unit_price": line.unit_price, "quantity": line.quantity, "line_total": line.line_total}
                  for line in order.lines],
        "history": [{"from": e.from_status, "to": e.to_status, "at": _iso(e.created_at), "note": e.note}
                    for e in order.events],
        "created_at": _iso(order.created_at),
        "expires_at": _iso(order.expires_at),
        "paid_at": _iso(order.paid_at),
    }


def checkout_json(checkout: Checkout) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": checkout.id,
        "payment_method": checkout.payment_method.value,
        "goods_total": checkout.goods_total,
        "delivery_total": checkout.delivery_total,
        "total": checkout.total,
        "expires_at": _iso(checkout.expires_at),
        "orders": [order_json(o) for o in checkout.orders],
    }
    if checkout.payment_method == PaymentMethod.MANUAL:
        body["bank_transfer"] = {"amount": checkout.amount_due, "unique_code": checkout.unique_code,
                                 "account": current_app.config["PLATFORM_BANK_ACCOUNT"]}
    return body


@bp.post("/orders")
def place_order() -> tuple[Response, int, dict[str, str]]:
    buyer = require_bearer()
    body = json_object()
    check_fields(body, ORDER_FIELDS)
    required(body, "items", "payment_method")
    methods = current_payments().methods
    if body["payment_method"] not in methods:
        raise ValidationError(N_("Payment method must be one of: %(values)s."), field="payment_method",
                              values=", ".join(methods))
    items, seen_prices = [], {}
    for item in body["items"]:
        if not isinstance(item, dict):
            raise ValidationError(N_("Each item is an object with product_id and quantity."), field="items")
        check_fields(item, ITEM_FIELDS)
        required(item, "product_id", "quantity")
        items.append((item["product_id"], item["quantity"]))
        if "unit_price" in item and isinstance(item["product_id"], int):
            seen_prices[item["product_id"]] = item["unit_price"]
    delivery = body.get("delivery", {})
    check_fields(delivery, DELIVERY_FIELDS)
    choice = services.Delivery(delivery.get("method", "pickup"), delivery.get("recipient_name", ""),
                               delivery.get("recipient_phone", ""), delivery.get("address", ""))
    placed = services.place_checkout(db_session(), buyer, items, payment_method=body["payment_method"],
                                     delivery=choice, seen_prices=seen_prices, **checkout_settings())
    db_session().commit()
    placed = services.buyer_checkout(db_session(), buyer, placed.id)
    body = checkout_json(placed)
    if placed.payment_method == PaymentMethod.STRIPE:
        card = payments.card_payment(db_session(), current_payments(), buyer, placed.id)
        body["card"] = {"payment_intent_id": placed.payment_intent_id,
                        "client_secret": card.client_secret if card else None,
                        "publishable_key": card.publishable_key if card else None}
    location = url_for("api.order", order_id=placed.orders[0].id, _external=True)
    return jsonify(body), 201, {"Location": location}


@bp.get("/orders")
def orders() -> Response:
    buyer = require_bearer()
    page, per_page = page_args()
    body = page_json(services.buyer_orders(db_session(), buyer, page=page, per_page=per_page), order_json)
    db_session().commit()  # orders that expired meanwhile
    return jsonify(body)


@bp.get("/orders/<id:order_id>")
def order(order_id: int) -> Response:
    return jsonify(order_json(services.get_order(db_session(), require_bearer(), order_id)))


@bp.get("/kubes/<slug>/orders")
def kube_orders(slug: str) -> Response:
    actor = require_bearer()
    kube = catalog.kube_by_slug(db_session(), slug, actor)
    page, per_page = page_args()
    body = page_json(services.kube_orders(db_session(), actor, kube.id, page=page, per_page=per_page), order_json)
    db_session().commit()
    return jsonify(body)
