"""The facilitator's workspace (every KUBE at a glance) and one KUBE's facilitator page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.books.models import Direction
from marketplace.books.services import add_months, this_month
from marketplace.catalog.models import KubeStatus, ProductStatus
from marketplace.common import PermissionDenied, utcnow
from marketplace.facilitator import services
from marketplace.orders.models import OrderStatus
from tests import factories
from tests.facilitator.support import at, cash, order, sale, visit
from tests.factories import World

pytestmark = pytest.mark.usefixtures("english")
Login = Callable[[str], FlaskClient]
NOW = at(2026, 6, 15, 3)


def _busy_kube_a(session: Session, world: World, now: datetime = NOW) -> None:
    """KUBE A: 2 products waiting for review, 2 paid orders waiting over 2 days (one fresh, one shipped do not
    count), profits rising over Dec 2025 .. May 2026, visits on 1 and 20 May."""
    factories.make_product(session, world.kube_a, world.category, "Sabun A", status=ProductStatus.PENDING_REVIEW)
    factories.make_product(session, world.kube_a, world.category, "VCO A", status=ProductStatus.PENDING_REVIEW)
    for status, days in ((OrderStatus.PAID, 5), (OrderStatus.PROCESSING, 4), (OrderStatus.PAID, 1),
                         (OrderStatus.SHIPPED, 14)):
        when = now - timedelta(days=days)
        order(session, world, world.kube_a, status, paid_at=when, created_at=when)
    for i, month in enumerate(range(1, 6)):
        sale(session, world.kube_a, 10_000 * (i + 1), at(2026, month, 10))
    visit(session, world, date(2026, 5, 1))
    visit(session, world, date(2026, 5, 20))
    session.commit()


def test_glances(world: World, session: Session) -> None:
    _busy_kube_a(session, world)
    cash(session, world.kube_b, Direction.EXPENSE, 5_000, date(2026, 5, 2))
    session.commit()
    glance_a, glance_b = services.glances(session, [world.kube_a, world.kube_b], NOW)
    assert (glance_a.pending_products, glance_a.late_orders, glance_a.last_visit) == (2, 2, date(2026, 5, 20))
    assert glance_a.months == [date(2025, 12, 1), *(date(2026, m, 1) for m in range(1, 6))]
    assert glance_a.profits == [0, 10_000, 20_000, 30_000, 40_000, 50_000] and glance_a.trend == "up"
    assert glance_a.needs_attention and glance_a.last_activity is not None
    assert glance_a.last_activity >= at(2026, 6, 14)
    assert (glance_b.pending_products, glance_b.late_orders, glance_b.last_visit) == (0, 0, None)
    assert glance_b.profits[-1] == -5_000 and glance_b.trend == "down" and not glance_b.needs_attention
    assert glance_b.last_activity is not None  # its products were made, its cash entry written


def test_last_visit_follows_the_latest_version(world: World, session: Session) -> None:
    report = visit(session, world, date(2026, 5, 20))
    services.revise_visit(session, world.facilitator_a, report.id,
                          services.VisitInput(visited_on=date(2026, 5, 2), notes="Tanggal salah"), now=NOW)
    session.commit()
    (glance,) = services.glances(session, [world.kube_a], NOW)
    assert glance.last_visit == date(2026, 5, 2)


@pytest.mark.parametrize(("profits", "trend"), [
    ([], "flat"), ([0] * 6, "flat"), ([5, 5, 5, 5, 5, 5], "flat"), ([100, 100, 100, 101, 100, 100], "flat"),
    ([1, 2, 3, 4, 5, 6], "up"), ([6, 5, 4, 3, 2, 1], "down"), ([-10, -10, -10, -5, -5, -5], "up"),
])
def test_profit_trend(profits: list[int], trend: str) -> None:
    assert services.profit_trend(profits) == trend


def test_spark_points() -> None:
    assert services.spark_points([]) == ""
    assert services.spark_points([0, 10], width=80, height=24, pad=2) == "2.0,22.0 78.0,2.0"
    assert services.spark_points([3, 3, 3]).split()[1] == "40.0,12.0"


def test_workspace_page(world: World, session: Session, login_as: Login) -> None:
    _busy_kube_a(session, world, utcnow())
    html = login_as("facilitator_a").get("/facilitator/kubes").get_data(as_text=True)
    assert "KUBE Kelapa A" in html and "KUBE Anyaman B" not in html
    assert "2 products" in html and "2 orders" in html and "Paid orders waiting over 2 days" in html
    assert 'class="spark"' in html and "<polyline" in html
    assert "/facilitator/kubes/kube-kelapa-a" in html and "/facilitator/kubes/kube-kelapa-a/visits/new" in html
    assert "/facilitator/report.csv" in html and "/facilitator/report.pdf" in html
    assert "<script>" not in html and 'style="' not in html


def test_operator_sees_every_kube(world: World, login_as: Login) -> None:
    html = login_as("operator").get("/facilitator/kubes").get_data(as_text=True)
    assert "KUBE Kelapa A" in html and "KUBE Anyaman B" in html and "All KUBEs" in html
    assert "/visits/new" not in html  # operators read reports, they do not write them


def test_queue_links_to_the_workspace(world: World, login_as: Login) -> None:
    html = login_as("facilitator_a").get("/facilitator/").get_data(as_text=True)
    assert 'href="/facilitator/kubes"' in html and 'href="/facilitator/kubes/kube-kelapa-a"' in html


@pytest.mark.parametrize("who", ["buyer", "ketua_a", "anggota_a", "order_taker"])
def test_workspace_forbidden_to_others(world: World, login_as: Login, who: str) -> None:
    assert login_as(who).get("/facilitator/kubes").status_code == 403


def test_workspace_service_refuses_others(world: World, session: Session) -> None:
    with pytest.raises(PermissionDenied):
        services.workspace(session, world.ketua_a)


def test_workspace_needs_sign_in(world: World, client: FlaskClient) -> None:
    response = client.get("/facilitator/kubes")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def _another_kube(session: Session, world: World, n: int) -> None:
    """A KUBE of facilitator A with something of every kind on it."""
    kube = factories.make_kube(session, f"KUBE Tambahan {n}", facilitators=[world.facilitator_a],
                               status=KubeStatus.ACTIVE)
    factories.make_product(session, kube, world.category, f"Produk {n}", status=ProductStatus.PENDING_REVIEW)
    now = utcnow()
    order(session, world, kube, OrderStatus.PAID, paid_at=now - timedelta(days=5), created_at=now - timedelta(days=5))
    sale(session, kube, 10_000, now - timedelta(days=40))
    cash(session, kube, Direction.INCOME, 5_000, add_months(this_month(), -1))
    services.create_visit(session, world.facilitator_a, kube.id,
                          services.VisitInput(visited_on=now.date() - timedelta(days=3), notes="Kunjungan"))
    session.commit()


def test_workspace_queries_do_not_grow(world: World, session: Session, login_as: Login,
                                       count_queries: Callable[[], Any]) -> None:
    client = login_as("facilitator_a")
    _another_kube(session, world, 0)
    session.expire_all()
    with count_queries() as few:
        assert client.get("/facilitator/kubes").status_code == 200
    for n in range(1, 6):
        _another_kube(session, world, n)
    session.expire_all()
    with count_queries() as many:
        html = client.get("/facilitator/kubes").get_data(as_text=True)
    assert "KUBE Tambahan 5" in html
    assert many.count == few.count, many.statements


# --- One KUBE's page --------------------------------------------------------------------------------


def test_kube_page(world: World, session: Session, login_as: Login) -> None:
    _busy_kube_a(session, world)
    html = login_as("facilitator_a").get(f"/facilitator/kubes/{world.kube_a.slug}").get_data(as_text=True)
    assert "KUBE Kelapa A" in html and 'class="month-chart"' in html
    assert "Income, expenses and profit of the last 12 months" in html
    assert html.count("Visit on ") == 2 and "Report a visit" in html
    assert f"/facilitator/kubes/{world.kube_a.slug}/report.pdf" in html
    assert 'style="' not in html


def test_kube_page_for_members_reads_only(world: World, session: Session, login_as: Login) -> None:
    visit(session, world, date(2026, 5, 20))
    session.commit()
    html = login_as("anggota_a").get(f"/facilitator/kubes/{world.kube_a.slug}").get_data(as_text=True)
    assert "Visit on " in html and "/visits/new" not in html


def test_kube_page_queries_do_not_grow(world: World, session: Session, login_as: Login,
                                       count_queries: Callable[[], Any]) -> None:
    client = login_as("facilitator_a")
    visit(session, world, date(2026, 5, 1))
    session.commit()
    session.expire_all()
    with count_queries() as few:
        assert client.get(f"/facilitator/kubes/{world.kube_a.slug}").status_code == 200
    for day in range(2, 12):
        visit(session, world, date(2026, 5, day))
    session.commit()
    session.expire_all()
    with count_queries() as many:
        assert client.get(f"/facilitator/kubes/{world.kube_a.slug}").status_code == 200
    assert many.count == few.count
