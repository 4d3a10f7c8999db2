"""Search documents read from the database: only published products of public KUBEs are searchable."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from marketplace import regions
from marketplace.catalog.models import PUBLIC_KUBE_STATUSES, Category, Kube, Product, ProductStatus
from marketplace.search.backend import SearchDoc

_Parent = aliased(Category)


def _stmt() -> Any:  # a Select of many labelled columns
    return (
        select(
            Product.id, Product.name, Product.description, Product.price, Product.stock, Product.status,
            Product.published_at, Product.created_at, Product.category_id,
            Kube.id.label("kube_id"), Kube.name.label("kube_name"), Kube.status.label("kube_status"),
            Kube.province_code, Kube.regency_code, Kube.district_code, Kube.village_code,
            Category.name_id, Category.name_en, Category.parent_id,
            _Parent.name_id.label("parent_name_id"), _Parent.name_en.label("parent_name_en"),
        )
        .join(Kube, Product.kube_id == Kube.id)
        .join(Category, Product.category_id == Category.id)
        .outerjoin(_Parent, Category.parent_id == _Parent.id)
    )


@lru_cache(maxsize=65536)
def region_names(village_code: str, district_code: str, regency_code: str, province_code: str) -> str:
    return " ".join(regions.name(c) for c in (province_code, regency_code, district_code, village_code) if c)


def _doc(row: Any) -> SearchDoc:
    published = row.published_at or row.created_at
    return SearchDoc(
        product_id=row.id,
        name=row.name,
        description=row.description or "",
        kube_id=row.kube_id,
        kube_name=row.kube_name,
        category_id=row.category_id,
        category_parent_id=row.parent_id or row.category_id,
        category_names=" ".join(
            n for n in (row.name_id, row.name_en, row.parent_name_id, row.parent_name_en) if n
        ),
        province_code=row.province_code,
        region_names=region_names(row.village_code, row.district_code, row.regency_code, row.province_code),
        price=int(row.price),
        in_stock=row.stock > 0,
        published_ts=int(published.timestamp()) if published else 0,
        category_label=" ".join(n for n in (row.name_id, row.parent_name_id) if n),
    )


def _searchable(row: Any) -> bool:
    return row.status == ProductStatus.PUBLISHED and row.kube_status in PUBLIC_KUBE_STATUSES


def load(session: Session, product_ids: Iterable[int]) -> tuple[list[SearchDoc], list[int]]:
    """Documents for the searchable ones among `product_ids`, and the ids that must leave the index."""
    wanted = sorted(set(product_ids))
    docs: list[SearchDoc] = []
    found: set[int] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for row in session.execute(_stmt().where(Product.id.in_(chunk))):
            if _searchable(row):
                docs.append(_doc(row))
                found.add(row.id)
    return docs, [i for i in wanted if i not in found]


def all_docs(session: Session, batch: int = 2000) -> Iterator[SearchDoc]:
    """Every searchable product, read in batches by id (a full rebuild)."""
    stmt = _stmt().where(Product.status == ProductStatus.PUBLISHED, Kube.status.in_(PUBLIC_KUBE_STATUSES))
    last = 0
    while True:
        rows = list(session.execute(stmt.where(Product.id > last).order_by(Product.id).limit(batch)))
        if not rows:
            return
        for row in rows:
            yield _doc(row)
        last = rows[-1].id


def product_ids_of(session: Session, kube_ids: Iterable[int] = (), category_ids: Iterable[int] = ()) -> set[int]:
    """Products whose documents change with these KUBEs or categories (a category brings its children)."""
    ids: set[int] = set()
    kubes = sorted(set(kube_ids))
    if kubes:
        ids.update(session.scalars(select(Product.id).where(Product.kube_id.in_(kubes))))
    categories = set(category_ids)
    if categories:
        categories.update(session.scalars(select(Category.id).where(Category.parent_id.in_(sorted(categories)))))
        ids.update(session.scalars(select(Product.id).where(Product.category_id.in_(sorted(categories)))))
    return ids
