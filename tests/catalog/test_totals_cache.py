"""The public product total kept for a short while (TotalCache): the lists stay fresh, only the count lags."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.catalog import services
from marketplace.catalog.models import ProductStatus
from tests import factories
from tests.factories import World

pytestmark = pytest.mark.usefixtures("english")
ALL = services.ProductFilters(sort="newest")


def test_total_is_kept_for_its_life_then_counted_again(session: Session, world: World) -> None:
    totals = services.TotalCache(30)
    assert services.public_products(session, ALL, totals=totals, now=100.0).total == 2
    new = factories.make_product(session, world.kube_a, world.category, "Gula Kelapa Baru")
    session.flush()
    within = services.public_products(session, ALL, totals=totals, now=129.9)
    assert within.total == 2  # the staleness window: the total lags behind...
    assert new in within.items  # ...but the list itself is read fresh
    assert services.public_products(session, ALL, totals=totals, now=130.0).total == 3
    assert services.public_products(session, ALL, now=100.0).total == 3  # without the cache: always counted


def test_totals_are_kept_per_filter(session: Session, world: World) -> None:
    totals = services.TotalCache(30)
    of_a = services.ProductFilters(kube=world.kube_a.slug)
    assert services.public_products(session, ALL, totals=totals, now=0.0).total == 2
    assert services.public_products(session, of_a, totals=totals, now=0.0).total == 1
    factories.make_product(session, world.kube_b, world.category, "Tikar Pandan")
    session.flush()
    # A new filter is counted now; the ones already kept wait for their life to end.
    in_b = services.ProductFilters(kube=world.kube_b.slug)
    assert services.public_products(session, in_b, totals=totals, now=1.0).total == 2
    assert services.public_products(session, ALL, totals=totals, now=1.0).total == 2
    assert services.public_products(session, of_a, totals=totals, now=1.0).total == 1


def test_unpublished_product_leaves_the_total_after_the_window(session: Session, world: World) -> None:
    totals = services.TotalCache(10)
    home = services.home_page(session, totals, now=0.0)
    assert home.product_count == 2
    world.product_a.status = ProductStatus.ARCHIVED
    session.flush()
    assert services.home_page(session, totals, now=5.0).product_count == 2
    later = services.home_page(session, totals, now=10.0)
    assert later.product_count == 1 and world.product_a not in later.new_products


def test_a_kept_total_saves_the_count_query(
    session: Session, world: World, count_queries: Callable[[], Any]
) -> None:
    totals = services.TotalCache(30)
    session.expire_all()
    with count_queries() as first:
        services.public_products(session, ALL, totals=totals, now=0.0)
    session.expire_all()
    with count_queries() as second:
        services.public_products(session, ALL, totals=totals, now=1.0)
    assert second.count == first.count - 1
    assert not any("count(" in statement.lower() for statement in second.statements)


def test_cache_stays_small_with_many_filters() -> None:
    totals = services.TotalCache(30, max_entries=3)
    for n in range(10):
        totals.put(("search", n), n, now=0.0)
    assert len(totals._totals) <= 3
    assert totals.get(("search", 9), now=1.0) == 9
    assert totals.get(("search", 9), now=30.0) is None  # expired


def test_pages_use_the_cache_when_it_is_on(app: Flask, client: FlaskClient, session: Session, world: World,
                                           count_queries: Callable[[], Any]) -> None:
    app.config["CATALOG_TOTALS_SECONDS"] = 60
    assert "2 products" in client.get("/products").get_data(as_text=True)
    client.get("/").close()
    factories.make_product(session, world.kube_a, world.category, "Sabun Kelapa Baru")
    session.commit()
    with count_queries() as counter:
        html = client.get("/products").get_data(as_text=True)
    assert "Sabun Kelapa Baru" in html  # listed at once
    assert "2 products" in html  # counted again within a minute at most (CATALOG_TOTALS_SECONDS)
    assert not any("count(*)" in statement.lower() for statement in counter.statements)


def test_pages_count_every_time_when_the_cache_is_off(client: FlaskClient, session: Session,
                                                      world: World) -> None:
    assert "2 products" in client.get("/products").get_data(as_text=True)
    factories.make_product(session, world.kube_a, world.category, "Sabun Kelapa Baru")
    session.commit()
    assert "3 products" in client.get("/products").get_data(as_text=True)
