"""Searching the catalogue: validate the request, ask the backend, load the page's products, label the
facets, offer a correction, and log the search. No flask here: the backend and locale come as arguments."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from markupsafe import Markup
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from marketplace import regions
from marketplace.auth.models import User
from marketplace.catalog import services as catalog
from marketplace.catalog.models import PUBLIC_KUBE_STATUSES, Category, Kube, Product
from marketplace.common import N_, Page, PermissionDenied, ValidationError, utcnow
from marketplace.search.analysis import query_terms
from marketplace.search.backend import (
    PRICE_BUCKETS,
    SORTS,
    Facets,
    IndexUnavailable,
    SearchBackend,
    SearchHits,
    SearchQuery,
)
from marketplace.search.highlight import highlight, snippet
from marketplace.search.models import SearchLog

log = logging.getLogger(__name__)

MAX_QUERY = 200  # characters kept of what was typed; longer input is cut, not refused
MAX_PAGE = 1000
MAX_PER_PAGE = 50
FEW_RESULTS = 3  # below this many results, look for a better spelling
FACET_LIMIT = 12  # values shown per facet (the selected one always stays)
MAX_PRICE = 1_000_000_000
LOG_DAYS = 400  # search log rows older than this are deleted (`flask search purge-log`): 13 months of demand

# What a buyer might type that identifies a person: e-mail addresses and phone/NIK-like digit runs (8+ digits,
# spaces, dots or dashes allowed). The log keeps "[email]" / "[number]" in their place.
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
_LONG_NUMBER = re.compile(r"\+?\d(?:[\s.-]?\d){7,}")


def loggable(query: str) -> str:
    """The query with e-mail addresses and long numbers (phones, NIK, account numbers) masked."""
    return _LONG_NUMBER.sub("[number]", _EMAIL.sub("[email]", query))


@dataclass(frozen=True)
class SearchParams:
    """A search as asked for, before validation (filters by slug/code as they appear in URLs)."""

    q: str = ""
    category: str | None = None
    province: str | None = None
    kube: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool = False
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20

    def filters(self) -> dict[str, Any]:
        """The filters in use, for the log and for links."""
        values = {"category": self.category, "province": self.province, "kube": self.kube,
                  "min_price": self.min_price, "max_price": self.max_price,
                  "in_stock": True if self.in_stock else None}
        return {k: v for k, v in values.items() if v is not None}


@dataclass
class FacetValue:
    value: str  # what goes into the URL (slug, code, "min-max", "1")
    label: str
    count: int
    selected: bool = False


@dataclass
class ResultItem:
    product: Product
    name_html: Markup
    snippet_html: Markup


@dataclass(frozen=True)
class SearchResults(Page[ResultItem]):
    """One page of results (items, total, page, per_page and the page links of Page), and the rest."""

    params: SearchParams = field(default_factory=SearchParams)
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    suggestion: str | None = None
    fallback: bool = False  # the index could not answer; a plain database search did
    terms: list[str] = field(default_factory=list)

    @property
    def past_end(self) -> bool:
        """A page after the last one was asked for: it is shown empty, never as a repeat of the last."""
        return self.total > 0 and self.page > self.pages


def clean_params(params: SearchParams) -> SearchParams:
    """Cut what is too long and refuse what cannot be searched, with a message naming the field."""
    if params.sort not in SORTS:
        raise ValidationError(N_("Unknown sort order."), field="sort")
    for name in ("min_price", "max_price"):
        value = getattr(params, name)
        if value is not None and not 0 <= value <= MAX_PRICE:
            raise ValidationError(N_("Enter a price between 0 and 1,000,000,000 rupiah."), field=name)
    if params.min_price is not None and params.max_price is not None and params.min_price > params.max_price:
        raise ValidationError(N_("The lowest price is above the highest price."), field="min_price")
    if not 1 <= params.page <= MAX_PAGE:
        raise ValidationError(N_("Choose a page between 1 and %(max)s."), field="page", max=MAX_PAGE)
    if not 1 <= params.per_page <= MAX_PER_PAGE:
        raise ValidationError(N_("Choose between 1 and %(max)s results per page."), field="per_page",
                              max=MAX_PER_PAGE)
    if params.province is not None and (len(params.province) != 2 or regions.region(params.province) is None):
        raise ValidationError(N_("Unknown province."), field="province")
    q = " ".join((params.q or "").split())[:MAX_QUERY]
    return SearchParams(**{**params.__dict__, "q": q})


def _to_query(session: Session, params: SearchParams) -> SearchQuery:
    category_ids: tuple[int, ...] = ()
    if params.category:
        category = catalog.category_by_slug(session, params.category)
        if category is None:
            raise ValidationError(N_("Unknown category."), field="category")
        category_ids = tuple(catalog.category_ids(session, category))
    kube_id = None
    if params.kube:
        kube_id = session.scalar(
            select(Kube.id).where(Kube.slug == params.kube, Kube.status.in_(PUBLIC_KUBE_STATUSES))
        )
        if kube_id is None:
            raise ValidationError(N_("Unknown KUBE."), field="kube")
    return SearchQuery(
        text=params.q, category_ids=category_ids, province=params.province, kube_id=kube_id,
        min_price=params.min_price, max_price=params.max_price, in_stock=params.in_stock,
        sort=params.sort, page=params.page, per_page=params.per_page,
    )


def search(
    session: Session,
    backend: SearchBackend,
    params: SearchParams,
    *,
    locale: str = "id",
    source: str = "web",
    on_broken: Callable[[], None] | None = None,
) -> SearchResults:
    """Run a search and log it (the caller commits). Falls back to a database query when the index fails."""
    params = clean_params(params)
    query = _to_query(session, params)
    started = time.perf_counter()
    suggestion = None
    fallback = False
    try:
        hits = backend.search(query)
    except Exception as exc:  # a missing or broken index must not cost the buyer an answer
        if isinstance(exc, IndexUnavailable):  # expected until the first build, and after disk trouble
            log.warning("%s; answering from the database and asking for a rebuild", exc)
        else:
            log.exception("search failed; answering from the database and asking for a rebuild")
        if on_broken is not None:
            on_broken()
        hits = _database_search(session, params, query)
        fallback = True
    if params.q and hits.total < FEW_RESULTS and not fallback:
        try:
            suggestion = _suggestion(backend, query, hits.total)
        except Exception:  # typing help is optional: the results found stand
            log.exception("search suggestion failed")
    took_ms = int((time.perf_counter() - started) * 1000)
    masked = loggable(params.q)
    session.add(SearchLog(
        query=masked, terms=" ".join(query_terms(masked))[:200], filters=params.filters(),
        sort=params.sort, page=params.page, result_count=hits.total, took_ms=took_ms, source=source,
        backend="database" if fallback else backend.name,
    ))
    products = _load_products(session, hits.product_ids)
    items = [
        ResultItem(p, highlight(p.name, hits.terms), snippet(p.description or "", hits.terms))
        for p in products
    ]
    return SearchResults(
        params=params, items=items, total=hits.total, page=params.page, per_page=params.per_page,
        facets={} if fallback else _label_facets(session, hits, params, locale),
        suggestion=suggestion, fallback=fallback, terms=hits.terms,
    )


def _suggestion(backend: SearchBackend, query: SearchQuery, total: int) -> str | None:
    """A corrected query, offered only when it finds more than what was typed."""
    corrected = backend.correct(query.text)
    if not corrected or corrected.lower() == query.text.lower():
        return None
    better = backend.search(SearchQuery(**{**query.__dict__, "text": corrected, "page": 1, "per_page": 1}))
    return corrected if better.total > total else None


def _database_search(session: Session, params: SearchParams, query: SearchQuery) -> SearchHits:
    """Substring matching in the database: no stemming or facets, but an answer while the index is rebuilt."""
    filters = catalog.ProductFilters(
        kube=params.kube, category=params.category, province=params.province,
        min_price=params.min_price, max_price=params.max_price, q=params.q or None,
        sort="newest" if params.sort == "relevance" else params.sort, in_stock=params.in_stock,
    )
    page = catalog.public_products(session, filters, page=params.page, per_page=params.per_page)
    return SearchHits([p.id for p in page.items], page.total, params.page, params.per_page,
                      query_terms(params.q), Facets())


def _load_products(session: Session, ids: list[int]) -> list[Product]:
    """The page's products in the order given, with what the cards show (three queries in all)."""
    if not ids:
        return []
    rows = session.scalars(
        select(Product)
        .where(Product.id.in_(ids))
        .options(joinedload(Product.kube), joinedload(Product.category), selectinload(Product.photos))
    ).unique()
    by_id = {p.id: p for p in rows}
    return [by_id[i] for i in ids if i in by_id and by_id[i].is_public]


def _label_facets(session: Session, hits: SearchHits, params: SearchParams, locale: str) -> dict[str, list[FacetValue]]:
    facets: dict[str, list[FacetValue]] = {}
    counts = hits.facets

    def top(values: list[FacetValue]) -> list[FacetValue]:
        values.sort(key=lambda v: (-v.count, v.label.lower()))
        shown = values[:FACET_LIMIT]
        shown += [v for v in values[FACET_LIMIT:] if v.selected]
        return shown

    if counts.category:
        categories = session.scalars(
            select(Category).where(Category.id.in_(list(counts.category))).options(joinedload(Category.parent))
        ).all()
        selected = params.category
        values = []
        for c in categories:
            label = c.name_for(locale)
            if c.parent is not None:
                label = f"{c.parent.name_for(locale)} › {label}"
            values.append(FacetValue(c.slug, label, counts.category[c.id], selected == c.slug))
        facets["category"] = top(values)
    if counts.province:
        facets["province"] = top([
            FacetValue(code, regions.name(code), n, code == params.province) for code, n in counts.province.items()
        ])
    if counts.kube:
        kubes = session.execute(select(Kube.id, Kube.slug, Kube.name).where(Kube.id.in_(list(counts.kube)))).all()
        facets["kube"] = top([FacetValue(k.slug, k.name, counts.kube[k.id], k.slug == params.kube) for k in kubes])
    if counts.price:
        values = []
        for index, n in sorted(counts.price.items()):
            low, high = PRICE_BUCKETS[index]
            selected_range = params.min_price == low and params.max_price == (high - 1 if high else None)
            values.append(FacetValue(f"{low}-{high - 1 if high else ''}", "", n, selected_range))
        facets["price"] = values  # in price order, labelled by the page (they are numbers)
    facets["in_stock"] = [FacetValue("1", "", counts.in_stock, params.in_stock)]
    return facets


def suggest(backend: SearchBackend, prefix: str, limit: int = 8) -> list[str]:
    """Completions as you type; an unreadable index gives none rather than an error."""
    try:
        return backend.suggest(prefix[:MAX_QUERY], limit)
    except Exception:
        log.exception("search suggestions failed")
        return []


@dataclass(frozen=True)
class QueryCount:
    query: str  # one way it was typed
    searches: int
    results: int  # the most results any of these searches had


@dataclass(frozen=True)
class SearchDemand:
    days: int
    searches: int
    top: list[QueryCount]
    unmet: list[QueryCount]  # searches that found nothing: products buyers want and nobody lists


def search_demand(session: Session, actor: User, *, days: int = 30, limit: int = 10) -> SearchDemand:
    """What buyers searched for in the last `days`, grouped by analysed terms (operators only)."""
    if not actor.is_operator:
        raise PermissionDenied(N_("Only operators can do this."))
    since = utcnow() - timedelta(days=days)
    recent = (SearchLog.created_at >= since, SearchLog.terms != "", SearchLog.page == 1)
    searches = func.count(SearchLog.id)
    stmt = (
        select(func.min(SearchLog.query), searches, func.max(SearchLog.result_count))
        .where(*recent)
        .group_by(SearchLog.terms)
        .order_by(searches.desc(), func.min(SearchLog.query))
        .limit(limit)
    )
    top = [QueryCount(q, n, r) for q, n, r in session.execute(stmt)]
    unmet = [QueryCount(q, n, r) for q, n, r in session.execute(stmt.having(func.max(SearchLog.result_count) == 0))]
    total = session.scalar(select(func.count(SearchLog.id)).where(SearchLog.created_at >= since)) or 0
    return SearchDemand(days, total, top, unmet)


def purge_log(session: Session, days: int = LOG_DAYS) -> int:
    """Delete search log rows older than `days`; returns how many."""
    result = session.execute(delete(SearchLog).where(SearchLog.created_at < utcnow() - timedelta(days=days)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
