"""No query per row on the main pages: each runs the same number of statements with 2 and with 20 rows.

Guards that live with their features (not repeated here):
- home, product list, KUBE list and KUBE storefront (products, photos): tests/catalog/test_catalog_pages.py
  test_pages_run_a_constant_number_of_queries;
- the same pages with ratings on the cards, and the product page with reviewed products around it:
  tests/reviews/test_review_pages.py test_list_pages_run_a_constant_number_of_queries;
- search results: tests/search/test_pages.py test_result_pages_run_a_constant_number_of_queries;
- the KUBE dashboard /my-kube/<slug>/ with products and photos: tests/shop/test_shop_pages.py
  test_dashboard_queries_do_not_grow_with_products; with orders, and the KUBE's order list, tab, order page
  and the operator's payments page: tests/orders/test_kube_pages.py test_pages_run_a_fixed_number_of_queries;
  its supply-chain and sourcing sections: tests/chains/test_kube_dashboard.py, tests/sourcing/test_pages.py;
- facilitator queue and workspace, ledger, books, graduation, insights, stories, audit, users, API lists: the
  count_queries tests in their packages (grep count_queries tests).

Here: category listings, the product page (its own photos and reviews, more of the KUBE's products), the KUBE
storefront seen by its own ketua, the KUBE dashboard with reviews, and
the buyer's pages (orders list, an order, a checkout, notifications).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.auth.models import User
from marketplace.catalog.models import Category, Product, ProductPhoto
from marketplace.orders import services as orders
from marketplace.orders.models import Checkout, Order
from marketplace.reviews import services as reviews
from tests import factories
from tests.factories import World
from tests.reviews.support import delivered_order

Login = Callable[[str], FlaskClient]
_photos = iter(range(10**6))


def _photo(session: Session, product: Product) -> None:
    n = next(_photos)
    session.add(ProductPhoto(product_id=product.id, key=f"q{n:031d}", width=8, height=6, position=n))


def _statements(client: FlaskClient, count_queries: Callable[[], Any], url: str) -> int:
    with count_queries() as counter:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    return int(counter.count)


def _same_with_more(session: Session, count_queries: Callable[[], Any], pages: dict[str, tuple[FlaskClient, str]],
                    grow: Callable[[int], None]) -> None:
    """Measure every page with 2 rows, then with 20, and compare."""
    grow(2)
    session.commit()
    session.expire_all()
    before = {name: _statements(client, count_queries, url) for name, (client, url) in pages.items()}
    grow(18)
    session.commit()
    session.expire_all()
    after = {name: _statements(client, count_queries, url) for name, (client, url) in pages.items()}
    assert after == before


@pytest.fixture
def sub_category(session: Session, world: World) -> Iterator[Category]:
    yield factories.make_category(session, "virgin-oil", parent=world.category)


def test_category_listings(client: FlaskClient, session: Session, world: World, sub_category: Category,
                           login_as: Login, count_queries: Callable[[], Any]) -> None:
    kubes = [world.kube_a, world.kube_b]

    def grow(n: int) -> None:
        for i in range(n):
            product = factories.make_product(session, kubes[i % 2], sub_category if i % 3 else world.category)
            _photo(session, product)

    pages = {
        "category": (client, f"/products?category={world.category.slug}"),
        "sub-category": (client, f"/products?category={sub_category.slug}&sort=price_asc"),
        "kube category": (client, f"/kube/{world.kube_a.slug}?category={world.category.slug}"),
        "storefront for its ketua": (login_as("ketua_a"), f"/kube/{world.kube_a.slug}"),
    }
    _same_with_more(session, count_queries, pages, grow)


def test_product_page_with_its_photos_reviews_and_more_of_the_kube(
    client: FlaskClient, session: Session, world: World, login_as: Login, count_queries: Callable[[], Any]
) -> None:
    product = world.product_a
    product.stock = 1000

    def grow(n: int) -> None:
        for _ in range(n):
            _photo(session, product)
            _photo(session, factories.make_product(session, world.kube_a, world.category))
            buyer = factories.make_user(session)
            order = delivered_order(session, world, [product], buyer)
            reviews.submit_review(session, buyer, order.id, 5, "Mantap", {order.lines[0].id: (4, "Enak")})

    url = f"/product/{product.id}/{product.slug}"
    pages = {"anonymous": (client, url), "buyer": (login_as("buyer"), url), "ketua": (login_as("ketua_a"), url),
             "reviews": (client, f"/products/{product.id}/reviews")}
    _same_with_more(session, count_queries, pages, grow)


def test_kube_dashboard_with_reviews_and_photos(session: Session, world: World, login_as: Login,
                                               count_queries: Callable[[], Any]) -> None:
    world.product_a.stock = 1000

    def grow(n: int) -> None:
        for _ in range(n):
            product = factories.make_product(session, world.kube_a, world.category, stock=100)
            _photo(session, product)
            buyer = factories.make_user(session)
            order = delivered_order(session, world, [product, world.product_a], buyer)
            reviews.submit_review(session, buyer, order.id, 4, "Baik",
                                  {line.id: (5, "Bagus") for line in order.lines})

    ketua = login_as("ketua_a")
    pages = {"dashboard": (ketua, f"/my-kube/{world.kube_a.slug}"),
             "orders": (ketua, f"/my-kube/{world.kube_a.slug}/orders")}
    _same_with_more(session, count_queries, pages, grow)


def _orders_of(session: Session, buyer: User, world: World, n: int, products: list[Product]) -> None:
    """n checkouts of this buyer across both KUBEs: paid, cash on delivery being packed, or cancelled (none
    left waiting: a buyer may only have a few unpaid checkouts)."""
    ketua = {world.kube_a.id: world.ketua_a, world.kube_b.id: world.ketua_b}
    for i in range(n):
        checkout = orders.place_checkout(session, buyer, [(p.id, 1 + i % 2) for p in products],
                                         payment_method="cod" if i % 3 == 1 else "manual")
        for order in checkout.orders:
            if i % 3 == 1:
                orders.accept_order(session, ketua[order.kube_id], order.id)
            elif i % 3 == 2:
                orders.cancel_order(session, buyer, order.id, "Salah pesan")
        if i % 3 == 0:
            orders.confirm_payment(session, world.operator, checkout.id)
        session.flush()


def test_buyer_pages(session: Session, world: World, login_as: Login, count_queries: Callable[[], Any]) -> None:
    products = [world.product_a, world.product_b,
                factories.make_product(session, world.kube_a, world.category, "Gula Aren A"),
                factories.make_product(session, world.kube_b, world.category, "Tikar Pandan B")]
    for product in products:
        product.stock = 1000
    buyer = world.buyer
    session.commit()
    client = login_as("buyer")
    grown = 0

    def grow(n: int) -> None:
        nonlocal grown
        _orders_of(session, buyer, world, n, products)
        grown += n

    def pages() -> dict[str, tuple[FlaskClient, str]]:
        newest = session.scalar(select(Checkout.id).where(Checkout.buyer_id == buyer.id).order_by(Checkout.id.desc()))
        order = session.scalar(select(Order.id).where(Order.checkout_id == newest).order_by(Order.id))
        return {"orders": (client, "/orders"), "checkout": (client, f"/orders/checkout/{newest}"),
                "order": (client, f"/orders/{order}"), "notifications": (client, "/notifications")}

    grow(2)
    session.commit()
    before = {name: _statements(c, count_queries, url) for name, (c, url) in pages().items()}
    grow(18)
    session.commit()
    session.expire_all()
    after = {name: _statements(c, count_queries, url) for name, (c, url) in pages().items()}
    assert after == before
    assert grown == 20 and len(session.scalars(select(Order).where(Order.buyer_id == buyer.id)).all()) == 40
