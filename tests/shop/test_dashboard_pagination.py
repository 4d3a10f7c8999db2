"""The KUBE dashboard lists its products a page at a time (24 a page), with the status counts of all of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.catalog import services
from marketplace.catalog.models import Product, ProductPhoto, ProductStatus
from tests import factories
from tests.factories import World

Login = Callable[[str], FlaskClient]

pytestmark = pytest.mark.usefixtures("english")
A = "/my-kube/kube-kelapa-a"


def _products(session: Session, world: World, count: int, status: ProductStatus = ProductStatus.PUBLISHED,
              first: int = 0) -> list[Product]:
    made = [factories.make_product(session, world.kube_a, world.category, f"Produk Halaman {n}", status=status)
            for n in range(first, first + count)]
    session.commit()
    return made


def _rows(html: str) -> int:
    return html.count('class="stock-form')


def test_service_pages_the_products(session: Session, world: World) -> None:
    _products(session, world, 29)  # 30 with the world's product
    first = services.kube_products(session, world.ketua_a, world.kube_a.id)
    assert (len(first.items), first.total, first.pages, first.has_next) == (24, 30, 2, True)
    second = services.kube_products(session, world.ketua_a, world.kube_a.id, page=2)
    assert len(second.items) == 6 and not second.has_next
    assert not {p.id for p in first.items} & {p.id for p in second.items}


def test_dashboard_shows_a_page_with_links(world: World, session: Session, login_as: Login) -> None:
    _products(session, world, 29)
    client = login_as("ketua_a")
    html = client.get(A).get_data(as_text=True)
    assert _rows(html) == 24
    assert "Page 1 of 2" in html and f'href="{A}?page=2"' in html
    assert "All <span class=\"small\">30</span>" in html  # the status counts cover every page
    html = client.get(f"{A}?page=2").get_data(as_text=True)
    assert _rows(html) == 6 and "Page 2 of 2" in html and f'href="{A}?page=1"' in html


def test_small_kube_has_no_pagination(world: World, login_as: Login) -> None:
    html = login_as("ketua_a").get(A).get_data(as_text=True)
    assert _rows(html) == 1 and "Page 1 of" not in html


def test_page_past_the_end_goes_to_the_last(world: World, session: Session, login_as: Login) -> None:
    _products(session, world, 29)
    response = login_as("ketua_a").get(f"{A}?page=9")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{A}?page=2")
    assert login_as("ketua_a").get(f"{A}?page=abc").status_code == 200  # junk is page 1


def test_status_filter_is_paged_and_kept_in_links(world: World, session: Session, login_as: Login) -> None:
    _products(session, world, 25, status=ProductStatus.DRAFT)
    html = login_as("ketua_a").get(f"{A}?status=draft").get_data(as_text=True)
    assert _rows(html) == 24 and "Page 1 of 2" in html and "status=draft&amp;page=2" in html
    html = login_as("ketua_a").get(f"{A}?status=draft&page=2").get_data(as_text=True)
    assert _rows(html) == 1


def test_stock_change_returns_to_the_same_page(world: World, session: Session, login_as: Login) -> None:
    _products(session, world, 29)
    client = login_as("ketua_a")
    html = client.get(f"{A}?page=2").get_data(as_text=True)
    on_page_two = services.kube_products(session, world.ketua_a, world.kube_a.id, page=2).items[0]
    action = f"{A}/products/{on_page_two.id}/stock?page=2"
    assert f'action="{action}"' in html
    response = client.post(action, data={"stock": "7"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{A}?page=2")


def test_queries_do_not_grow_past_a_page(world: World, session: Session, login_as: Login,
                                         count_queries: Callable[[], Any]) -> None:
    client = login_as("ketua_a")
    for product in _products(session, world, 3):
        session.add(ProductPhoto(product_id=product.id, key=f"p{product.id:031d}", width=10, height=10))
    session.commit()
    session.expire_all()
    with count_queries() as few:
        assert client.get(A).status_code == 200
    for product in _products(session, world, 40, first=3):
        session.add(ProductPhoto(product_id=product.id, key=f"p{product.id:031d}", width=10, height=10))
    session.commit()
    session.expire_all()
    with count_queries() as many:
        assert client.get(f"{A}?page=2").status_code == 200
    assert many.count == few.count, "\n".join(many.statements)
