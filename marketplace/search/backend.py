"""What every search backend does, in plain values. The contract tests (tests/search/test_contract.py) hold
each backend to it, so another one (PostgreSQL full-text for several app hosts) can take Whoosh's place."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


class IndexUnavailable(RuntimeError):
    """The index is missing or cannot be read; the caller falls back to the database and asks for a rebuild."""


SORTS = ("relevance", "price_asc", "price_desc", "newest")

# Price-range facet: upper bounds in whole Rupiah (the last bucket is open). KUBE goods are mostly cheap
# food and household goods; the ranges split the demo and benchmark catalogues into similar-sized groups.
PRICE_BUCKETS: tuple[tuple[int, int | None], ...] = (
    (0, 25_000),
    (25_000, 50_000),
    (50_000, 100_000),
    (100_000, 250_000),
    (250_000, None),
)


def price_bucket(price: int) -> int:
    """The index in PRICE_BUCKETS of a price (lower bound included, upper bound excluded)."""
    for i, (_low, high) in enumerate(PRICE_BUCKETS):
        if high is None or price < high:
            return i
    return len(PRICE_BUCKETS) - 1


@dataclass(frozen=True)
class SearchDoc:
    """One searchable product, as the indexer builds it from the database."""

    product_id: int
    name: str
    description: str
    kube_id: int
    kube_name: str
    category_id: int
    category_parent_id: int  # the top-level category (the category itself when it is top-level)
    category_names: str  # names of the category and its parent, in every language
    province_code: str
    region_names: str  # province, kabupaten/kota, kecamatan and desa names
    price: int
    in_stock: bool
    published_ts: int  # seconds since the epoch, for "newest"
    category_label: str = ""  # Indonesian names of the category and its parent (corrections, completions)


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    category_ids: tuple[int, ...] = ()  # any of these (a top-level category brings its children)
    province: str | None = None
    kube_id: int | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool = False
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20


@dataclass
class Facets:
    """Counts per value, each over the results with every *other* filter applied (so a buyer can widen
    a choice: after picking a province, the province facet still lists the others)."""

    category: dict[int, int] = field(default_factory=dict)  # leaf category id -> count
    province: dict[str, int] = field(default_factory=dict)
    kube: dict[int, int] = field(default_factory=dict)
    price: dict[int, int] = field(default_factory=dict)  # index in PRICE_BUCKETS -> count
    in_stock: int = 0


@dataclass
class SearchHits:
    product_ids: list[int]  # this page, in order
    total: int
    page: int  # as asked; a page past the last one has no product ids (never a repeat of the last page)
    per_page: int
    terms: list[str]  # the analysed query terms, for highlighting
    facets: Facets


class Generations:
    """An index kept in `root` as generations: `<root>/CURRENT` names the live one. A rebuild writes a new
    generation beside it and swaps the pointer atomically, so searches keep answering meanwhile."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    @property
    def pointer(self) -> Path:
        return self.root / "CURRENT"

    def current(self) -> str | None:
        try:
            name = self.pointer.read_text().strip()
        except FileNotFoundError:
            return None
        return name or None

    def swap(self, generation: str) -> str | None:
        """Make `generation` the live one; returns the one it replaced (still readable by other processes)."""
        previous = self.current()
        tmp = self.root / f"CURRENT.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(generation)
        os.replace(tmp, self.pointer)
        return previous


class SearchBackend(Protocol):
    """A search index of public products."""

    name: str

    def search(self, query: SearchQuery) -> SearchHits: ...

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        """Completions of the last word typed, from product and category names, most frequent first."""
        ...

    def correct(self, text: str) -> str | None:
        """The query with misspelt words replaced by the nearest name or category word, or None."""
        ...

    def apply(self, docs: Iterable[SearchDoc], removed: Iterable[int]) -> None:
        """Add or replace `docs` and drop the products `removed` (idempotent), in one commit."""
        ...

    def rebuild(self, docs: Iterable[SearchDoc]) -> int:
        """Build a fresh index from `docs` and swap it in; returns the number of documents."""
        ...

    def doc_count(self) -> int: ...

    def check(self) -> None:
        """Raise if the index cannot be read (missing, corrupted)."""
        ...
