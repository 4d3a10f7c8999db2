"""List endpoints issue a constant number of SQL statements, whatever the page size (no N+1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.catalog.models import MemberRole, ProductPhoto
from tests import factories


def _add_products(session: Session, n: int) -> None:
    """n published products, each of its own KUBE (with a ketua) and with two photos."""
    category = factories.make_category(session)
    for i in range(n):
        owner = factories.make_user(session)
        kube = factories.make_kube(session, members=[(owner, MemberRole.KETUA)])
        product = factories.make_product(session, kube, category, price=1000 + i)
        for position in range(2):
            session.add(ProductPhoto(product_id=product.id, key=f"{product.id:04d}{position}{'0' * 27}",
                                     width=10, height=10, position=position))
    session.commit()


def _statements(client: FlaskClient, count_queries: Callable[[], Any], url: str) -> int:
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200, response.get_json()
    return int(counter.count)


def test_product_list_constant_queries(
    client: FlaskClient, session: Session, count_queries: Callable[[], Any]
) -> None:
    _add_products(session, 3)
    few = _statements(client, count_queries, "/api/v1/products?per_page=100")
    _add_products(session, 27)
    data = client.get("/api/v1/products?per_page=100").get_json()
    assert data["total"] == 30 and len(data["items"]) == 30
    assert all(len(p["photos"]) == 2 for p in data["items"])
    many = _statements(client, count_queries, "/api/v1/products?per_page=100")
    assert few == many <= 4


def test_kube_list_constant_queries(
    client: FlaskClient, session: Session, count_queries: Callable[[], Any]
) -> None:
    _add_products(session, 3)
    few = _statements(client, count_queries, "/api/v1/kubes?per_page=100")
    _add_products(session, 27)
    assert client.get("/api/v1/kubes?per_page=100").get_json()["total"] == 30
    many = _statements(client, count_queries, "/api/v1/kubes?per_page=100")
    assert few == many <= 4
