"""The review form, the prompt on the order page, and reviews on product pages, storefronts and lists."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.catalog.models import Product, ProductPhoto
from marketplace.orders.models import Order
from marketplace.reviews import services
from marketplace.reviews.models import KubeReview, ProductReview
from tests import factories
from tests.factories import World
from tests.reviews.support import delivered_order, shipped_order

pytestmark = pytest.mark.usefixtures("english")

LoginAs = Callable[[str], FlaskClient]


def _count(session: Session, model: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def _delivered(session: Session, world: World, products: list[Product] | None = None) -> Order:
    order = delivered_order(session, world, products)
    session.commit()
    return order


def test_the_order_page_invites_the_buyer_to_rate(session: Session, world: World, login_as: LoginAs) -> None:
    order = _delivered(session, world)
    buyer = login_as("buyer")
    html = buyer.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Rate this order" in html and f'href="/orders/{order.id}/review"' in html
    # The KUBE's member sees the order, but it is not theirs to rate.
    member = login_as("ketua_a").get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Rate this order" not in member


def test_no_invitation_before_the_order_arrives(session: Session, world: World, login_as: LoginAs) -> None:
    order = shipped_order(session, world, [world.product_a])
    session.commit()
    buyer = login_as("buyer")
    assert "Rate this order" not in buyer.get(f"/orders/{order.id}").get_data(as_text=True)
    response = buyer.get(f"/orders/{order.id}/review")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/orders/{order.id}")
    page = buyer.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "once you have received it" in page
    assert buyer.post(f"/orders/{order.id}/review", data={"kube_rating": "5"}).status_code == 302
    assert _count(session, KubeReview) == 0


def test_the_buyer_rates_products_and_the_kube(session: Session, world: World, login_as: LoginAs) -> None:
    second = factories.make_product(session, world.kube_a, world.category, "Sabun Kelapa A")
    order = _delivered(session, world, [world.product_a, second])
    lines = {line.product_id: line.id for line in order.lines}
    buyer = login_as("buyer")

    form = buyer.get(f"/orders/{order.id}/review").get_data(as_text=True)
    for line_id in lines.values():
        for n in range(1, 6):
            assert f'id="rating-{line_id}-{n}" name="rating-{line_id}" value="{n}"' in form
    assert 'name="kube_rating"' in form and "<legend" in form and "5 stars" in form and "1 star<" in form

    response = buyer.post(f"/orders/{order.id}/review", data={
        "kube_rating": "5", "kube_body": "Dikemas rapi",
        f"rating-{lines[world.product_a.id]}": "4", f"body-{lines[world.product_a.id]}": "Harum",
        f"rating-{lines[second.id]}": "", f"body-{lines[second.id]}": "",
    })
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/orders/{order.id}")
    assert _count(session, KubeReview) == 1 and _count(session, ProductReview) == 1

    page = buyer.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Thank you for your review" in page
    assert "Your review" in page and "Dikemas rapi" in page and "Harum" in page
    assert "Rate the rest of this order" in page  # the soap is still open

    # The rest, later: the form now only asks for the soap.
    form = buyer.get(f"/orders/{order.id}/review").get_data(as_text=True)
    assert f'name="rating-{lines[second.id]}"' in form
    assert f'name="rating-{lines[world.product_a.id]}"' not in form and 'name="kube_rating"' not in form
    buyer.post(f"/orders/{order.id}/review", data={f"rating-{lines[second.id]}": "3"})
    page = buyer.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Rate the rest" not in page and "Rate this order" not in page
    # Everything is rated: the form sends the buyer back to the order.
    done = buyer.get(f"/orders/{order.id}/review")
    assert done.status_code == 302


def test_errors_show_on_the_form_and_keep_what_was_typed(session: Session, world: World, login_as: LoginAs) -> None:
    order = _delivered(session, world)
    line_id = order.lines[0].id
    buyer = login_as("buyer")
    response = buyer.post(f"/orders/{order.id}/review", data={
        "kube_rating": "6", "kube_body": "Sangat <ramah>", f"rating-{line_id}": "4", f"body-{line_id}": "Enak sekali",
    })
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="kube_rating-error"' in html and "at most 5" in html
    assert "Sangat &lt;ramah&gt;" in html and "Enak sekali" in html
    assert f'id="rating-{line_id}-4" name="rating-{line_id}" value="4" checked' in html
    assert _count(session, KubeReview) == _count(session, ProductReview) == 0

    nothing = buyer.post(f"/orders/{order.id}/review", data={"kube_body": "", f"body-{line_id}": ""})
    assert nothing.status_code == 200 and "at least one" in nothing.get_data(as_text=True)


def test_someone_elses_order_is_404(session: Session, world: World, login_as: LoginAs) -> None:
    order = _delivered(session, world)
    for who in ("order_taker", "ketua_a", "operator"):
        client = login_as(who)
        assert client.get(f"/orders/{order.id}/review").status_code == 404, who
        assert client.post(f"/orders/{order.id}/review", data={"kube_rating": "1"}).status_code == 404, who
    assert login_as("buyer").get(f"/orders/{order.id + 99}/review").status_code == 404
    assert _count(session, KubeReview) == 0


def test_a_double_submit_is_refused_cleanly(session: Session, world: World, login_as: LoginAs) -> None:
    order = _delivered(session, world)
    data = {"kube_rating": "4", f"rating-{order.lines[0].id}": "5"}
    buyer = login_as("buyer")
    assert buyer.post(f"/orders/{order.id}/review", data=data).status_code == 302
    again = buyer.post(f"/orders/{order.id}/review", data=data)
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/orders/{order.id}")
    assert _count(session, KubeReview) == _count(session, ProductReview) == 1


def test_a_submit_racing_another_is_refused_cleanly(
    session: Session, world: World, login_as: LoginAs, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = _delivered(session, world)
    data = {"kube_rating": "4", f"rating-{order.lines[0].id}": "5"}
    buyer = login_as("buyer")
    assert buyer.post(f"/orders/{order.id}/review", data=data).status_code == 302
    monkeypatch.setattr(services, "_state", lambda s, o: services.ReviewState(o, {}, None))
    raced = buyer.post(f"/orders/{order.id}/review", data=data)
    assert raced.status_code == 302
    assert "reviewed meanwhile" in buyer.get(f"/orders/{order.id}").get_data(as_text=True)
    assert _count(session, KubeReview) == 1


def _review(session: Session, world: World, rating: int, text: str, product: Product | None = None) -> None:
    order = delivered_order(session, world, [product or world.product_a])
    services.submit_review(session, world.buyer, order.id, rating, f"KUBE: {text}",
                           {order.lines[0].id: (rating, text)})


def test_reviews_show_on_the_product_page_and_the_storefront(
    client: FlaskClient, session: Session, world: World
) -> None:
    world.buyer.name = "Siti Rahmawati"
    _review(session, world, 5, "Wangi kelapa asli")
    _review(session, world, 4, "Pengiriman cepat <b>mantap</b>")
    session.commit()

    html = client.get(f"/product/{world.product_a.id}/{world.product_a.slug}").get_data(as_text=True)
    assert 'id="reviews"' in html and "Wangi kelapa asli" in html
    assert "&lt;b&gt;mantap&lt;/b&gt;" in html  # texts are escaped
    assert "Siti R." in html and "Rahmawati" not in html
    assert "4.5" in html and "2 reviews" in html and 'aria-label="4.5 of 5 stars"' in html
    assert "stars-9" in html  # 4.5 stars drawn

    store = client.get(f"/kube/{world.kube_a.slug}").get_data(as_text=True)
    assert "KUBE: Wangi kelapa asli" in store and "What buyers say" in store and "2 reviews" in store
    assert "Rated 4.5 of 5 by 2 buyers" in store  # the product card
    other = client.get(f"/kube/{world.kube_b.slug}").get_data(as_text=True)
    assert "No reviews yet" in other

    listing = client.get("/products").get_data(as_text=True)
    assert "★</span> 4.5 (2)" in listing
    assert listing.count('class="card-rating"') == 1  # product B has none
    assert "★</span> 4.5 (2)" in client.get("/").get_data(as_text=True)


def test_indonesian_pages_write_averages_with_a_comma(session: Session, world: World, app: Any) -> None:
    _review(session, world, 5, "Bagus")
    _review(session, world, 4, "Oke")
    session.commit()
    client = app.test_client()
    html = client.get(f"/product/{world.product_a.id}/{world.product_a.slug}",
                      headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert "4,5" in html


def test_all_reviews_pages_paginate(client: FlaskClient, session: Session, world: World) -> None:
    for n in range(7):
        _review(session, world, 1 + n % 5, f"Ulasan nomor {n}")
    session.commit()
    product_page = client.get(f"/product/{world.product_a.id}/{world.product_a.slug}").get_data(as_text=True)
    assert f'href="/products/{world.product_a.id}/reviews"' in product_page and "All 7 reviews" in product_page
    assert "Ulasan nomor 6" in product_page and "Ulasan nomor 1" not in product_page  # the latest 5

    first = client.get(f"/products/{world.product_a.id}/reviews").get_data(as_text=True)
    assert "Ulasan nomor 6" in first and "Page 1 of 1" not in first
    assert len(re.findall(r"Ulasan nomor \d", first)) == 7  # 10 per page
    store = client.get(f"/kube/{world.kube_a.slug}").get_data(as_text=True)
    assert f'href="/kube/{world.kube_a.slug}/reviews"' in store
    kube_page = client.get(f"/kube/{world.kube_a.slug}/reviews").get_data(as_text=True)
    assert "KUBE: Ulasan nomor 0" in kube_page
    assert client.get(f"/kube/{world.kube_a.slug}/reviews?page=9").status_code == 302
    assert client.get(f"/products/{world.draft_b.id}/reviews").status_code == 404
    assert client.get("/kube/no-such-kube/reviews").status_code == 404


def test_list_pages_run_a_constant_number_of_queries(
    client: FlaskClient, session: Session, world: World, count_queries: Any
) -> None:
    """Ratings on product cards come in one query, whether 2 or 20 products have reviews."""
    pages = ["/", "/products", f"/kube/{world.kube_a.slug}", f"/product/{world.product_a.id}/{world.product_a.slug}"]

    def measure() -> dict[str, int]:
        counts = {}
        for url in pages:
            with count_queries() as counter:
                assert client.get(url).status_code == 200
            counts[url] = counter.count
        return counts

    def reviewed_products(count: int) -> None:
        products = [factories.make_product(session, world.kube_a, world.category) for _ in range(count)]
        for product in products:
            session.add(ProductPhoto(product_id=product.id, key=f"{product.id:02d}photo", width=8, height=6))
        order = delivered_order(session, world, products)
        services.submit_review(session, world.buyer, order.id, 5, "", {line.id: (4, "Oke") for line in order.lines})
        session.commit()

    reviewed_products(2)
    before = measure()
    reviewed_products(18)
    assert _count(session, ProductReview) == 20
    assert measure() == before
