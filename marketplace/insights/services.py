"""Demand insights by province and kabupaten (no flask here): which products have the biggest market, where.

For Dinas Sosial and ministry staff (`User.is_ministry`) and operators. Everything is an aggregate: counts and
sums per region, product name, category, search terms or sourcing item. No member, buyer or order taker is
named anywhere, and no figure is given per person.

Where a figure belongs:
- a KUBE's sales fall in the KUBE's region (orders carry no region for the buyer: their address is free text);
- an order counts as sold when it is paid or beyond (paid, processing, shipped, delivered, completed; not
  cancelled, expired or refunded). It falls on the day it was paid, or the day it was placed when it is not
  paid yet (cash on delivery that is on its way). Sales are the goods total, without the courier fee;
- contract sales are the KUBEs' paid deliveries against supply contracts (ledger CONTRACT entries);
- active KUBEs are the KUBEs verified or active now (the public ones), whatever the period;
- open sourcing requests are those open now that still want deliveries (until today or later), in the region
  where they want the goods delivered; a request for a whole province counts in that province's row and total,
  but in no kabupaten's row (it names none), and its item is listed when one of the province's kabupaten is chosen;
- searches have no region (the search log keeps no user and no place): they are national figures.

Days are local days (Asia/Jakarta). Each figure is one grouped query: a page costs the same number of queries
whatever the number of regions, orders or products.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, distinct, func, or_, select
from sqlalchemy.orm import Session

from marketplace import regions
from marketplace.auth.models import User
from marketplace.books.services import LOCAL_TZ, add_months, month_end, month_start, months_between
from marketplace.catalog.models import PUBLIC_KUBE_STATUSES, Category, Kube, Product
from marketplace.common import N_, PermissionDenied, ValidationError, csv_cell, utcnow
from marketplace.ledger.models import EntryKind, LedgerEntry
from marketplace.orders.models import SOLD_STATUSES, Order, OrderLine
from marketplace.search.models import SearchLog
from marketplace.sourcing.models import RequestStatus, SourcingRequest

# Paid, and what follows payment; cancelled, expired and refunded orders are not sales.
DEFAULT_MONTHS = 12
MAX_MONTHS = 60  # the longest period one request reads (five years)
TOP = 10  # products, categories, searches and sourcing items listed
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"\d{4}-\d{2}")


# --- Who may read ------------------------------------------------------------------------------------


def may_view(actor: User | None) -> bool:
    """Operators and ministry / Dinas Sosial staff (facilitators, members and buyers may not)."""
    return bool(actor is not None and actor.is_authenticated and not actor.is_disabled
                and (actor.is_operator or actor.is_ministry))


def require_viewer(actor: User | None) -> None:
    if not may_view(actor):
        raise PermissionDenied(N_("Only operators and ministry or Dinas Sosial staff see the demand insights."))


# --- Filters -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """A checked period (local days, both included) and region: a province, a kabupaten, or the whole country."""

    first: date
    last: date
    province: str | None = None
    kabupaten: str | None = None

    @property
    def level(self) -> int:
        """The level of the rows: 1 (provinces) for the country, 2 (kabupaten/kota) within a province."""
        return 1 if self.province is None else 2

    @property
    def region_code(self) -> str | None:
        return self.kabupaten or self.province


def today(now: datetime | None = None, tz: ZoneInfo = LOCAL_TZ) -> date:
    return (now or utcnow()).astimezone(tz).date()


def parse_day(value: str | None, *, field: str, end: bool = False) -> date | None:
    """'2026-11-30', or a month '2026-11' (its first day, or its last when `end`); empty: None."""
    text = (value or "").strip()
    if not text:
        return None
    message = N_("Give a date as YYYY-MM-DD or a month as YYYY-MM, e.g. 2026-11.")
    try:
        if _DAY.fullmatch(text):
            day = date.fromisoformat(text)
        elif _MONTH.fullmatch(text):
            day = datetime.strptime(text, "%Y-%m").date()
            day = month_end(day) if end else day
        else:
            raise ValidationError(message, field=field)
    except ValueError:
        raise ValidationError(message, field=field) from None
    if not 2000 <= day.year <= 2100:
        raise ValidationError(message, field=field)
    return day


def _region(code: str | None, *, level: int, field: str, message: str) -> str | None:
    text = (code or "").strip()
    if not text:
        return None
    found = regions.region(text) if len(text) <= 13 else None
    if found is None or found.level != level:
        raise ValidationError(message, field=field)
    return found.code


def clean_filters(first: str | None, last: str | None, province: str | None = None,
                  kabupaten: str | None = None, *, on: date | None = None) -> Filters:
    """Check the period and region as typed. Default: the last 12 months up to today (`on`). A kabupaten code
    given as the province ("72.01") is read as that kabupaten."""
    on = on or today()
    first_day = parse_day(first, field="from")
    last_day = parse_day(last, field="to", end=True)
    if (province or "").strip().count(".") == 1 and not (kabupaten or "").strip():
        province, kabupaten = None, province
    province_code = _region(province, level=1, field="province", message=N_("Unknown province code."))
    kabupaten_code = _region(kabupaten, level=2, field="kabupaten", message=N_("Unknown kabupaten/kota code."))
    if kabupaten_code is not None:
        parent = kabupaten_code.split(".")[0]
        if province_code is not None and province_code != parent:
            raise ValidationError(N_("This kabupaten/kota is not in the chosen province."), field="kabupaten")
        province_code = parent
    last_day = last_day or max(on, first_day or on)
    first_day = first_day or add_months(month_start(last_day), -(DEFAULT_MONTHS - 1))
    if first_day > last_day:
        raise ValidationError(N_("The start of the period comes after its end."), field="from")
    if len(months_between(first_day, last_day)) > MAX_MONTHS:
        raise ValidationError(N_("Ask for at most %(count)d months at a time."), field="from", count=MAX_MONTHS)
    return Filters(first_day, last_day, province_code, kabupaten_code)


# --- Figures -------------------------------------------------------------------------------------------


@dataclass
class RegionRow:
    """One province (or kabupaten/kota) of the table."""

    code: str
    name: str
    active_kubes: int = 0
    orders: int = 0
    sales: int = 0  # goods total of the orders sold in the period, whole Rupiah
    contract_sales: int = 0  # paid contract deliveries in the period, whole Rupiah
    open_requests: int = 0

    @property
    def total_sales(self) -> int:
        return self.sales + self.contract_sales


@dataclass(frozen=True)
class ProductFigure:
    """A product as buyers bought it, by name and unit across every KUBE that sells it."""

    name: str
    unit: str
    quantity: int
    orders: int
    kubes: int
    sales: int


@dataclass(frozen=True)
class CategoryFigure:
    slug: str
    name_id: str
    name_en: str
    orders: int
    sales: int

    def name_for(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_id


@dataclass(frozen=True)
class SearchFigure:
    query: str  # one way it was typed (personal-looking parts were masked when it was logged)
    searches: int
    results: int  # the most results any of these searches had


@dataclass(frozen=True)
class RequestFigure:
    """Open sourcing requests for one item in one unit."""

    item: str
    item_name: str
    unit: str
    requests: int
    quantity: Decimal  # the sum of the quantities wanted per delivery


@dataclass(frozen=True)
class MonthSales:
    month: date  # its first day
    orders: int = 0
    sales: int = 0
    contract_sales: int = 0


@dataclass(frozen=True)
class Insights:
    filters: Filters
    rows: list[RegionRow]  # biggest sales first
    total: RegionRow
    months: list[MonthSales]
    top_products: list[ProductFigure]
    top_categories: list[CategoryFigure]
    searches: int  # searches in the period (first pages only), national
    top_searches: list[SearchFigure]
    unmet_searches: list[SearchFigure]  # searches that found nothing: wanted, and nobody lists it
    open_requests: list[RequestFigure]
    today: date  # open requests are those still wanting goods on this day


def _utc_bounds(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """From the local start of `first` to the local start of the day after `last`, in UTC."""
    start = datetime.combine(first, time(), tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), tz).astimezone(UTC)
    return start, end


def _month_of(session: Session, column: SQLColumnExpression[datetime], tz: ZoneInfo) -> ColumnElement[str]:
    """'YYYY-MM' of a UTC timestamp in local time, in the database (SQLite or PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(str(tz.key), column), "YYYY-MM")
    # SQLite keeps UTC without a zone; Indonesia's zones have no daylight saving, so a fixed offset holds.
    offset = datetime.now(tz).utcoffset() or timedelta()
    return func.strftime("%Y-%m", column, f"{int(offset.total_seconds() // 60):+d} minutes")


def _kube_scope(filters: Filters) -> tuple[SQLColumnExpression[str], list[ColumnElement[bool]]]:
    """The KUBE column the rows group by, and the conditions that keep the chosen region's KUBEs."""
    if filters.kabupaten is not None:
        return Kube.regency_code, [Kube.regency_code == filters.kabupaten]
    if filters.province is not None:
        return Kube.regency_code, [Kube.province_code == filters.province]
    return Kube.province_code, []


def _request_scope(filters: Filters, on: date) -> list[ColumnElement[bool]]:
    """Open requests that still want goods, delivered in the chosen region (a province-wide request counts
    for each of its kabupaten)."""
    conditions: list[ColumnElement[bool]] = [SourcingRequest.status == RequestStatus.OPEN,
                                             SourcingRequest.until >= on]
    if filters.province is not None:
        conditions.append(SourcingRequest.province_code == filters.province)
    if filters.kabupaten is not None:
        conditions.append(or_(SourcingRequest.regency_code == filters.kabupaten,
                              SourcingRequest.regency_code.is_(None)))
    return conditions


def insights(session: Session, actor: User, filters: Filters, *, on: date | None = None,
             tz: ZoneInfo = LOCAL_TZ, limit: int = TOP) -> Insights:
    """Every figure of the insights page for a period and region (a constant number of grouped queries)."""
    require_viewer(actor)
    on = on or today(tz=tz)
    start, end = _utc_bounds(filters.first, filters.last, tz)
    group, kube_where = _kube_scope(filters)
    rows: dict[str, RegionRow] = {}

    def row(code: str) -> RegionRow:
        if code not in rows:
            rows[code] = RegionRow(code, regions.name(code))
        return rows[code]

    # KUBEs that are public now.
    for code, number in session.execute(
        select(group, func.count(Kube.id)).where(Kube.status.in_(PUBLIC_KUBE_STATUSES), *kube_where)
        .group_by(group)
    ):
        row(code).active_kubes = int(number)

    # Orders sold in the period, by the selling KUBE's region.
    sold_at = func.coalesce(Order.paid_at, Order.created_at)
    sold = (Order.status.in_(SOLD_STATUSES), sold_at >= start, sold_at < end, *kube_where)
    for code, number, amount in session.execute(
        select(group, func.count(Order.id), func.coalesce(func.sum(Order.goods_total), 0))
        .select_from(Order).join(Kube, Kube.id == Order.kube_id).where(*sold).group_by(group)
    ):
        row(code).orders, row(code).sales = int(number), int(amount)

    # Paid contract deliveries in the period.
    contract = (LedgerEntry.kind == EntryKind.CONTRACT, LedgerEntry.created_at >= start,
                LedgerEntry.created_at < end, *kube_where)
    for code, amount in session.execute(
        select(group, func.coalesce(func.sum(LedgerEntry.amount), 0))
        .select_from(LedgerEntry).join(Kube, Kube.id == LedgerEntry.kube_id).where(*contract).group_by(group)
    ):
        row(code).contract_sales = int(amount)

    # Open requests per row (those for a whole province are in no kabupaten's row, but in the item list).
    request_group: SQLColumnExpression[str | None] = (
        SourcingRequest.province_code if filters.level == 1 else SourcingRequest.regency_code)
    request_where = _request_scope(filters, on)
    for request_code, number in session.execute(
        select(request_group, func.count(SourcingRequest.id))
        .where(*request_where, request_group.is_not(None)).group_by(request_group)
    ):
        if request_code is not None and (filters.kabupaten is None or request_code == filters.kabupaten):
            row(request_code).open_requests = int(number)

    ordered = sorted(rows.values(), key=lambda r: (-r.total_sales, -r.active_kubes, r.name))
    scope_code = filters.region_code
    total = RegionRow(scope_code or "", regions.name(scope_code) if scope_code else "Indonesia",
                      active_kubes=sum(r.active_kubes for r in ordered), orders=sum(r.orders for r in ordered),
                      sales=sum(r.sales for r in ordered), contract_sales=sum(r.contract_sales for r in ordered),
                      open_requests=session.scalar(select(func.count(SourcingRequest.id))
                                                   .where(*request_where)) or 0)

    return Insights(
        filters=filters,
        rows=ordered,
        total=total,
        months=_months(session, filters, sold, contract, tz),
        top_products=_top_products(session, sold, limit),
        top_categories=_top_categories(session, sold, limit),
        searches=session.scalar(select(func.count(SearchLog.id)).where(*_search_scope(start, end))) or 0,
        top_searches=_searches(session, _search_stmt(start, end, limit)),
        unmet_searches=_searches(session, _search_stmt(start, end, limit)
                                 .having(func.max(SearchLog.result_count) == 0)),
        open_requests=_open_requests(session, request_where, limit),
        today=on,
    )


def _months(session: Session, filters: Filters, sold: Sequence[ColumnElement[bool]],
            contract: Sequence[ColumnElement[bool]], tz: ZoneInfo) -> list[MonthSales]:
    """Sales of each month of the period in the chosen region (months without sales as zeros)."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    order_month = _month_of(session, func.coalesce(Order.paid_at, Order.created_at), tz)
    for month, number, amount in session.execute(
        select(order_month, func.count(Order.id), func.coalesce(func.sum(Order.goods_total), 0))
        .select_from(Order).join(Kube, Kube.id == Order.kube_id).where(*sold).group_by(order_month)
    ):
        totals[month]["orders"] += int(number)
        totals[month]["sales"] += int(amount)
    entry_month = _month_of(session, LedgerEntry.created_at, tz)
    for month, amount in session.execute(
        select(entry_month, func.coalesce(func.sum(LedgerEntry.amount), 0))
        .select_from(LedgerEntry).join(Kube, Kube.id == LedgerEntry.kube_id).where(*contract).group_by(entry_month)
    ):
        totals[month]["contract_sales"] += int(amount)
    return [MonthSales(month, **totals.get(month.strftime("%Y-%m"), {}))
            for month in months_between(filters.first, filters.last)]


def _top_products(session: Session, sold: Sequence[ColumnElement[bool]], limit: int) -> list[ProductFigure]:
    """The products that sold most, by name (any case) and unit, across KUBEs: a product kind's market."""
    sales = func.sum(OrderLine.line_total)
    name = func.min(OrderLine.product_name)
    stmt = (
        select(name, OrderLine.unit, func.sum(OrderLine.quantity), func.count(distinct(Order.id)),
               func.count(distinct(Order.kube_id)), sales)
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id).join(Kube, Kube.id == Order.kube_id)
        .where(*sold)
        .group_by(func.lower(OrderLine.product_name), OrderLine.unit)
        .order_by(sales.desc(), name)
        .limit(limit)
    )
    return [ProductFigure(n, u, int(q), int(o), int(k), int(s)) for n, u, q, o, k, s in session.execute(stmt)]


def _top_categories(session: Session, sold: Sequence[ColumnElement[bool]], limit: int) -> list[CategoryFigure]:
    """Sales by the category of the product sold (lines of deleted products are left out)."""
    sales = func.sum(OrderLine.line_total)
    stmt = (
        select(Category.slug, Category.name_id, Category.name_en, func.count(distinct(Order.id)), sales)
        .select_from(OrderLine)
        .join(Order, Order.id == OrderLine.order_id).join(Kube, Kube.id == Order.kube_id)
        .join(Product, Product.id == OrderLine.product_id).join(Category, Category.id == Product.category_id)
        .where(*sold)
        .group_by(Category.id, Category.slug, Category.name_id, Category.name_en)
        .order_by(sales.desc(), Category.slug)
        .limit(limit)
    )
    return [CategoryFigure(slug, name_id, name_en, int(o), int(s))
            for slug, name_id, name_en, o, s in session.execute(stmt)]


def _search_scope(start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
    # First pages only: turning to page 2 is the same search, not more demand.
    return (SearchLog.created_at >= start, SearchLog.created_at < end, SearchLog.terms != "", SearchLog.page == 1)


def _search_stmt(start: datetime, end: datetime, limit: int) -> Select[str, int, int]:
    searches = func.count(SearchLog.id)
    return (
        select(func.min(SearchLog.query), searches, func.max(SearchLog.result_count))
        .where(*_search_scope(start, end))
        .group_by(SearchLog.terms)
        .order_by(searches.desc(), func.min(SearchLog.query))
        .limit(limit)
    )


def _searches(session: Session, stmt: Select[str, int, int]) -> list[SearchFigure]:
    return [SearchFigure(q, int(n), int(r or 0)) for q, n, r in session.execute(stmt)]


def _open_requests(session: Session, where: Sequence[ColumnElement[bool]], limit: int) -> list[RequestFigure]:
    count = func.count(SourcingRequest.id)
    stmt = (
        select(SourcingRequest.item, func.min(SourcingRequest.item_name), SourcingRequest.unit, count,
               func.coalesce(func.sum(SourcingRequest.quantity), 0))
        .where(and_(*where))
        .group_by(SourcingRequest.item, SourcingRequest.unit)
        .order_by(count.desc(), SourcingRequest.item)
        .limit(limit)
    )
    return [RequestFigure(item, name, unit, int(n), Decimal(quantity)) for item, name, unit, n, quantity
            in session.execute(stmt)]


# --- Export --------------------------------------------------------------------------------------------

CSV_COLUMNS = ("section", "period_from", "period_to", "region_code", "region_name", "item", "unit",
               "active_kubes", "orders", "kubes", "quantity", "sales", "contract_sales", "open_requests",
               "searches", "max_results")



def csv_rows(data: Insights, locale: str = "id") -> list[list[object]]:
    """The whole page as one table: a `section` column says what each row is (region, total, month, product,
    category, search, search_no_results, open_request); the columns that do not apply to a section are empty."""
    period = (data.filters.first.isoformat(), data.filters.last.isoformat())
    rows: list[list[object]] = []

    def add(section: str, **values: object) -> None:
        record: dict[str, object] = {"section": section, "period_from": period[0], "period_to": period[1],
                                     **values}
        rows.append([csv_cell(record.get(name, "")) for name in CSV_COLUMNS])

    for r in [*data.rows, data.total]:
        add("region" if r is not data.total else "total", region_code=r.code, region_name=r.name,
            active_kubes=r.active_kubes, orders=r.orders, sales=r.sales, contract_sales=r.contract_sales,
            open_requests=r.open_requests)
    region = {"region_code": data.total.code, "region_name": data.total.name}
    for m in data.months:
        add("month", item=m.month.strftime("%Y-%m"), orders=m.orders, sales=m.sales,
            contract_sales=m.contract_sales, **region)
    for p in data.top_products:
        add("product", item=p.name, unit=p.unit, orders=p.orders, kubes=p.kubes, quantity=p.quantity,
            sales=p.sales, **region)
    for c in data.top_categories:
        add("category", item=c.name_for(locale), orders=c.orders, sales=c.sales, **region)
    for s in data.top_searches:
        add("search", item=s.query, searches=s.searches, max_results=s.results)
    for s in data.unmet_searches:
        add("search_no_results", item=s.query, searches=s.searches, max_results=s.results)
    for q in data.open_requests:
        add("open_request", item=q.item_name, unit=q.unit, open_requests=q.requests,
            quantity=format(q.quantity.normalize(), "f"), **region)
    return rows
