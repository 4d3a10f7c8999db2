"""The insights' figures on the hand-built dataset (tests/insights/support.py), filters and permissions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from marketplace.common import PermissionDenied, ValidationError
from marketplace.insights import services
from marketplace.insights.services import Filters, clean_filters
from marketplace.orders.models import OrderStatus
from tests import factories
from tests.factories import World
from tests.insights.support import ON, PERIOD, Dataset, at, grow, order


def _read(session: Session, world: World, filters: Filters = PERIOD) -> services.Insights:
    return services.insights(session, world.operator, filters, on=ON)


def test_national_rows_per_province(session: Session, world: World, data: Dataset) -> None:
    result = _read(session, world)
    rows = {r.code: r for r in result.rows}
    assert [r.code for r in result.rows] == ["72", "32"]  # biggest sales first
    assert rows["72"].name == "Sulawesi Tengah"
    assert (rows["72"].active_kubes, rows["72"].orders, rows["72"].sales, rows["72"].contract_sales,
            rows["72"].open_requests) == (2, 3, 105_000, 500_000, 2)
    assert (rows["32"].active_kubes, rows["32"].orders, rows["32"].sales, rows["32"].contract_sales,
            rows["32"].open_requests) == (1, 1, 200_000, 0, 1)
    assert (result.total.orders, result.total.sales, result.total.contract_sales, result.total.active_kubes,
            result.total.open_requests) == (4, 305_000, 500_000, 3, 3)
    assert result.total.total_sales == 805_000


def test_top_products_and_categories(session: Session, world: World, data: Dataset) -> None:
    result = _read(session, world)
    products = [(p.name, p.unit, p.quantity, p.orders, p.kubes, p.sales) for p in result.top_products]
    # "Minyak Kelapa A" and "minyak kelapa a" are one product kind, sold by two KUBEs.
    assert products == [("Tas Anyaman B", "botol", 4, 1, 1, 200_000),
                        ("Minyak Kelapa A", "botol", 6, 3, 2, 105_000)]
    assert [(c.slug, c.orders, c.sales) for c in result.top_categories] == [("crafts", 1, 200_000),
                                                                          ("coconut", 3, 105_000)]


def test_months_searches_and_requests(session: Session, world: World, data: Dataset) -> None:
    result = _read(session, world)
    assert [(m.month.month, m.orders, m.sales, m.contract_sales) for m in result.months] == [
        (1, 0, 0, 0), (2, 0, 0, 500_000), (3, 1, 30_000, 0), (4, 1, 60_000, 0), (5, 1, 200_000, 0),
        (6, 1, 15_000, 0)]
    assert result.searches == 5  # first pages in the period
    assert [(s.query, s.searches, s.results) for s in result.top_searches] == [("keripik pisang", 3, 5),
                                                                                ("Sabun Sereh", 2, 0)]
    assert [(s.query, s.searches) for s in result.unmet_searches] == [("Sabun Sereh", 2)]
    assert [(q.item, q.requests, q.quantity, q.unit) for q in result.open_requests] == [
        ("arang-tempurung", 2, Decimal("150.5"), "kg"), ("sabut", 1, Decimal("10"), "kg")]


def test_province_drill_down_gives_kabupaten(session: Session, world: World, data: Dataset) -> None:
    result = _read(session, world, Filters(PERIOD.first, PERIOD.last, province="72"))
    rows = {r.code: r for r in result.rows}
    assert set(rows) == {"72.01", "72.03"}
    assert rows["72.01"].name == "Kabupaten Banggai"
    assert (rows["72.01"].active_kubes, rows["72.01"].orders, rows["72.01"].sales, rows["72.01"].contract_sales,
            rows["72.01"].open_requests) == (1, 2, 45_000, 500_000, 1)
    assert (rows["72.03"].active_kubes, rows["72.03"].orders, rows["72.03"].sales) == (1, 1, 60_000)
    # The province-wide request is in no kabupaten's row, but in the province's total and item list.
    assert result.total.open_requests == 2
    assert [p.name for p in result.top_products] == ["Minyak Kelapa A"]
    assert [(q.item, q.requests) for q in result.open_requests] == [("arang-tempurung", 2)]
    assert result.searches == 5  # national, whatever the region


def test_kabupaten_shows_that_kabupaten_only(session: Session, world: World, data: Dataset) -> None:
    result = _read(session, world, Filters(PERIOD.first, PERIOD.last, province="72", kabupaten="72.01"))
    assert [(r.code, r.orders, r.sales, r.open_requests) for r in result.rows] == [("72.01", 2, 45_000, 1)]
    assert [(p.name, p.quantity, p.kubes, p.sales) for p in result.top_products] == [("Minyak Kelapa A", 3, 1,
                                                                                       45_000)]
    assert result.total.open_requests == 2  # its own request and the province-wide one
    assert [m.sales for m in result.months] == [0, 0, 30_000, 0, 0, 15_000]


def test_empty_region_has_no_rows(session: Session, world: World, data: Dataset) -> None:
    result = _read(session, world, Filters(PERIOD.first, PERIOD.last, province="11"))
    assert result.rows == [] and result.top_products == [] and result.total.total_sales == 0
    assert len(result.months) == 6


@pytest.mark.parametrize("who", ["buyer", "ketua_a", "anggota_a", "facilitator_a", "order_taker"])
def test_only_operators_and_ministry_may_read(session: Session, world: World, who: str) -> None:
    with pytest.raises(PermissionDenied):
        services.insights(session, getattr(world, who), PERIOD)


def test_ministry_user_may_read(session: Session, world: World) -> None:
    staff = factories.make_user(session, "dinsos", is_ministry=True)
    assert services.insights(session, staff, PERIOD).total.active_kubes == 2
    staff.is_disabled = True
    with pytest.raises(PermissionDenied):
        services.insights(session, staff, PERIOD)


def test_clean_filters() -> None:
    today = date(2026, 11, 15)
    assert clean_filters(None, None, on=today) == Filters(date(2025, 12, 1), today)
    assert clean_filters("2025-03", "2025-04", on=today) == Filters(date(2025, 3, 1), date(2025, 4, 30))
    assert clean_filters("2025-03-05", "2025-03-05", "72", on=today) == Filters(date(2025, 3, 5), date(2025, 3, 5),
                                                                                "72")
    assert clean_filters(None, "2024-02", on=today) == Filters(date(2023, 3, 1), date(2024, 2, 29))
    assert clean_filters("", "", "", "72.01", on=today).province == "72"
    assert clean_filters("", "", "72.01", on=today).kabupaten == "72.01"  # a kabupaten given as the province


@pytest.mark.parametrize(("args", "field"), [
    (("2025-13-01", None), "from"),
    (("yesterday", None), "from"),
    ((None, "2025-02-30"), "to"),
    (("1999-01", None), "from"),
    (("2025-06-01", "2025-05-31"), "from"),
    (("2019-01", "2025-06"), "from"),  # more than 60 months
    ((None, None, "99"), "province"),
    ((None, None, "72.01.01"), "province"),
    ((None, None, "x" * 500), "province"),
    ((None, None, None, "72.99"), "kabupaten"),
    ((None, None, "32", "72.01"), "kabupaten"),
])
def test_clean_filters_refuses(args: tuple[Any, ...], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        clean_filters(*args, on=date(2026, 11, 15))
    assert caught.value.field == field


def test_csv_rows_have_every_section(session: Session, world: World, data: Dataset) -> None:
    rows = services.csv_rows(_read(session, world), "en")
    sections = [r[0] for r in rows]
    assert sections.count("region") == 2 and sections.count("total") == 1 and sections.count("month") == 6
    assert {"product", "category", "search", "search_no_results", "open_request"} <= set(sections)
    assert all(len(r) == len(services.CSV_COLUMNS) for r in rows)


def test_csv_cells_never_start_a_formula(session: Session, world: World, data: Dataset) -> None:
    world.product_b.name = "=HYPERLINK(1)"
    session.flush()
    order(session, world, world.kube_b, world.product_b, 1, OrderStatus.PAID, paid_at=at(2025, 5, 2))
    rows = services.csv_rows(_read(session, world))
    assert any(r[5] == "'=HYPERLINK(1)" for r in rows)


def test_constant_queries_whatever_the_rows(session: Session, world: World, data: Dataset,
                                            count_queries: Callable[[], Any]) -> None:
    session.commit()
    with count_queries() as few:
        _read(session, world)
    grow(session, world, data, 8)
    session.commit()
    with count_queries() as many:
        result = _read(session, world)
    assert len(result.rows) == 10
    assert many.count == few.count <= 14  # 13 grouped queries, and the actor re-read after the commit
