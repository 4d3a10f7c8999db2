"""What both local backends do on numpy arrays once they know which documents match: filters, facet counts,
sorting and paging. A backend supplies column arrays (`cols.pid`, `.category`, `.province`, `.kube`,
`.price`, `.stock`, `.published`, indexed by its own document positions) and, for relevance, a ranker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from marketplace.search.backend import PRICE_BUCKETS, Facets, SearchHits, SearchQuery

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

# (selected positions, start, per_page) -> product ids of the page, best first
Ranker = Callable[[np.ndarray, int, int], list[int]]


def clamp(value: int) -> int:
    """A filter value numpy can compare (an absurd number must not raise OverflowError)."""
    return min(max(value, _INT64_MIN), _INT64_MAX)


def filter_masks(cols: Any, matched: np.ndarray, q: SearchQuery) -> dict[str, np.ndarray]:
    """One boolean mask per filter in use, over the matched positions."""
    masks: dict[str, np.ndarray] = {}
    if q.category_ids:
        masks["category"] = np.isin(cols.category[matched], np.array([clamp(i) for i in q.category_ids]))
    if q.province:
        masks["province"] = cols.province[matched] == (clamp(int(q.province)) if q.province.isdigit() else -1)
    if q.kube_id is not None:
        masks["kube"] = cols.kube[matched] == clamp(q.kube_id)
    if q.min_price is not None or q.max_price is not None:
        prices = cols.price[matched]
        mask = np.ones(matched.size, dtype=bool)
        if q.min_price is not None:
            mask &= prices >= clamp(q.min_price)
        if q.max_price is not None:
            mask &= prices <= clamp(q.max_price)
        masks["price"] = mask
    if q.in_stock:
        masks["in_stock"] = cols.stock[matched] == 1
    return masks


def page(cols: Any, matched: np.ndarray, q: SearchQuery, terms: list[str], ranker: Ranker | None) -> SearchHits:
    """Filters, facets (each with every other filter applied), the total and one page of product ids.

    Relevance needs `ranker` (and terms); without words, relevance means newest. A page past the end, or
    a page number below 1, is empty: never a repeat of the last page."""
    masks = filter_masks(cols, matched, q)

    def others(skip: str | None) -> np.ndarray:
        mask = np.ones(matched.size, dtype=bool)
        for key, value in masks.items():
            if key != skip:
                mask &= value
        return mask

    found = facets(cols, matched, others)
    selected = matched[others(None)]
    total = int(selected.size)
    start = (q.page - 1) * q.per_page
    if start < 0 or q.per_page <= 0 or start >= total:
        ids: list[int] = []
    elif q.sort == "relevance" and terms and ranker is not None:
        ids = ranker(selected, start, q.per_page)
    else:
        ids = sorted_page(cols, selected, "newest" if q.sort == "relevance" else q.sort, start, q.per_page)
    return SearchHits(product_ids=ids, total=total, page=q.page, per_page=q.per_page, terms=terms, facets=found)


def facets(cols: Any, matched: np.ndarray, others: Callable[[str | None], np.ndarray]) -> Facets:
    """Counts per value; `others(name)` is the mask of every filter but `name`."""
    out = Facets()

    def counts(column: np.ndarray, skip: str) -> dict[int, int]:
        base = matched[others(skip)]
        if not base.size:
            return {}
        values, n = np.unique(column[base], return_counts=True)
        return {int(v): int(c) for v, c in zip(values, n, strict=True)}

    out.category = counts(cols.category, "category")
    out.province = {f"{code:02d}": n for code, n in counts(cols.province, "province").items()}
    out.kube = counts(cols.kube, "kube")
    base = matched[others("price")]
    if base.size:
        bounds = np.array([low for low, _ in PRICE_BUCKETS[1:]], dtype=np.int64)
        buckets = np.bincount(np.searchsorted(bounds, cols.price[base], side="right"), minlength=len(PRICE_BUCKETS))
        out.price = {i: int(c) for i, c in enumerate(buckets) if c}
    base = matched[others("in_stock")]
    out.in_stock = int(np.count_nonzero(cols.stock[base] == 1)) if base.size else 0
    return out


def sorted_page(cols: Any, selected: np.ndarray, sort: str, start: int, per_page: int) -> list[int]:
    """A page of `selected` sorted by price or date, ties broken by product id so pages never overlap."""
    pids = cols.pid[selected]
    if sort == "price_asc":
        order = np.lexsort((pids, cols.price[selected]))
    elif sort == "price_desc":
        order = np.lexsort((-pids, -cols.price[selected]))
    else:  # newest
        order = np.lexsort((-pids, -cols.published[selected]))
    return [int(p) for p in pids[order[start:start + per_page]]]


def top_page(scores: np.ndarray, pids: np.ndarray, start: int, per_page: int) -> list[int]:
    """The page of product ids by score, best first, equal scores by product id (pages never overlap).

    Only the best need sorting (a partition is linear), but every product scoring the same as the last one
    wanted stays in, so that the product id, not the partition, decides among equals."""
    wanted = start + per_page
    if wanted < scores.size:
        cutoff = np.partition(-scores, wanted - 1)[wanted - 1]
        top = np.flatnonzero(-scores <= cutoff)
    else:
        top = np.arange(scores.size)
    order = np.lexsort((pids[top], -scores[top]))
    return [int(p) for p in pids[top][order][start:start + per_page]]


def levenshtein(a: str, b: str, limit: int) -> int:
    """The edit distance of `a` and `b`, or `limit + 1` as soon as it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]
