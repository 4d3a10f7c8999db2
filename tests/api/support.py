"""Helpers for API tests: reading what is committed, and the error shape."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from marketplace.catalog.models import Product
from marketplace.extensions import db

PRODUCTS = Product.__table__


def committed_product(product_id: int) -> dict[str, Any] | None:
    """The product row as committed, read on a connection of its own (not the test's session)."""
    with db.engine.connect() as conn:
        row = conn.execute(select(PRODUCTS).where(PRODUCTS.c.id == product_id)).mappings().first()
    return dict(row) if row else None


def committed_product_count() -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(PRODUCTS)).scalar_one())


def assert_error(response: Any, status: int, code: str | None = None, field: str | None = None) -> None:
    """The API's error shape: {"error": {"code", "message", "field"?}} with the right status."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.is_json
    error = response.get_json()["error"]
    assert set(error) <= {"code", "message", "field"}
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    if field is not None:
        assert error.get("field") == field
