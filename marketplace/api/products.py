"""Products: the public catalogue, and writing a KUBE's products with a bearer token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import jsonify, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from marketplace.api import bp
from marketplace.api.helpers import (
    bearer_user,
    check_fields,
    int_arg,
    json_object,
    page_args,
    page_json,
    province_arg,
    require_bearer,
    required,
    text_arg,
)
from marketplace.auth.models import User
from marketplace.catalog import services
from marketplace.catalog.models import Product
from marketplace.common import N_, NotFoundError, ValidationError
from marketplace.media import image_relpath
from marketplace.web import db_session, rupiah

# The product fields a client may send, with their JSON types (category is a slug).
PRODUCT_FIELDS: dict[str, type] = {
    "name": str,
    "description": str,
    "category": str,
    "unit": str,
    "price": int,
    "stock": int,
    "min_order_qty": int,
    "weight_grams": int,
}
CREATE_FIELDS: dict[str, type] = {**PRODUCT_FIELDS, "kube": str, "submit": bool}
PATCH_FIELDS: dict[str, type] = {**PRODUCT_FIELDS, "status": str}

Step = Callable[[Session, User, int], Product]
# PATCH {"status": ...}: the status changes a KUBE's people may ask for (approval is the reviewer's).
STATUS_CHANGES: dict[str, Step] = {
    "pending_review": services.submit_product,
    "archived": services.archive_product,
    "draft": services.restore_product,
}


def _media_url(key: str, *, thumb: bool) -> str:
    return url_for("media", path=image_relpath(key, thumb=thumb), _external=True)


def product_json(product: Product) -> dict[str, Any]:
    """A product as the API shows it (kube, category and photos must be loaded to avoid N+1)."""
    return {
        "id": product.id,
        "slug": product.slug,
        "name": product.name,
        "description": product.description,
        "kube": {"slug": product.kube.slug, "name": product.kube.name},
        "category": {
            "slug": product.category.slug,
            "name_id": product.category.name_id,
            "name_en": product.category.name_en,
        },
        "unit": product.unit.value,
        "price": product.price,
        "price_display": rupiah(product.price),
        "stock": product.stock,
        "min_order_qty": product.min_order_qty,
        "weight_grams": product.weight_grams,
        "status": product.status.value,
        "photos": [
            {
                "url": _media_url(photo.key, thumb=False),
                "thumb_url": _media_url(photo.key, thumb=True),
                "width": photo.width,
                "height": photo.height,
            }
            for photo in product.photos
        ],
        "url": url_for("catalog.product", product_id=product.id, slug=product.slug, _external=True),
    }


@bp.get("/products")
def products() -> Response:
    page, per_page = page_args()
    sort = text_arg("sort", max_length=20) or "newest"
    if sort not in services.SORTS:
        raise ValidationError(N_("Unknown sort order."), field="sort")
    filters = services.ProductFilters(
        kube=text_arg("kube", max_length=140),
        category=text_arg("category", max_length=80),
        province=province_arg(),
        min_price=int_arg("min_price", minimum=0, maximum=services.MAX_PRICE),
        max_price=int_arg("max_price", minimum=0, maximum=services.MAX_PRICE),
        q=text_arg("q", max_length=200),
        sort=sort,
    )
    result = services.public_products(db_session(), filters, page=page, per_page=per_page)
    return jsonify(page_json(result, product_json))


@bp.get("/products/<id:product_id>")
def product(product_id: int) -> Response:
    viewer = bearer_user()
    item = services.product_for_viewer(db_session(), product_id, viewer)
    body = product_json(item)
    if viewer is not None:
        db_session().commit()  # records the token's last use
    return jsonify(body)


@bp.post("/products")
def create_product() -> tuple[Response, int, dict[str, str]]:
    actor = require_bearer()
    body = json_object()
    check_fields(body, CREATE_FIELDS)
    required(body, "kube", "name", "category", "unit", "price")
    try:
        kube = services.kube_by_slug(db_session(), body["kube"], actor)
    except NotFoundError as error:
        raise NotFoundError(error.message, field="kube") from None
    fields = {key: value for key, value in body.items() if key in PRODUCT_FIELDS}
    item = services.create_product(db_session(), actor, kube.id, fields, submit=body.get("submit", False))
    db_session().commit()
    # Read back after the commit so the answer shows what is stored.
    item = services.product_for_viewer(db_session(), item.id, actor)
    location = url_for("api.product", product_id=item.id, _external=True)
    return jsonify(product_json(item)), 201, {"Location": location}


@bp.patch("/products/<id:product_id>")
def update_product(product_id: int) -> Response:
    actor = require_bearer()
    body = json_object()
    check_fields(body, PATCH_FIELDS)
    fields = {key: value for key, value in body.items() if key in PRODUCT_FIELDS}
    change: Step | None = None
    if "status" in body:
        change = STATUS_CHANGES.get(body["status"])
        if change is None:
            raise ValidationError(
                N_("Status can only become one of: %(values)s."), field="status",
                values=", ".join(STATUS_CHANGES),
            )

    def edit(session: Session, user: User, pid: int) -> Product:
        return services.update_product(session, user, pid, fields)

    steps: list[Step] = [edit] if fields or change is None else []
    if change is services.restore_product:
        steps.insert(0, change)  # an archived product is restored before it can be edited
    elif change is not None:
        steps.append(change)  # edit first, then send for review or archive
    for step in steps:
        step(db_session(), actor, product_id)
    db_session().commit()
    item = services.product_for_viewer(db_session(), product_id, actor)
    return jsonify(product_json(item))
