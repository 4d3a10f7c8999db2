"""Recording search-relevant changes in the outbox, inside the transaction that makes them.

Every ORM flush that adds, changes or deletes a product, or changes what a KUBE or category contributes to
its products' documents (name, region, status), adds outbox rows through the same connection. Code that
changes products with bulk SQL the ORM does not see (such as a stock reservation done with a conditional
UPDATE) must call `enqueue` itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session, UOWTransaction

from marketplace.catalog.models import Category, Kube, Product
from marketplace.common import utcnow
from marketplace.search.models import SearchOutbox

KUBE_FIELDS = ("name", "status", "province_code", "regency_code", "district_code", "village_code")
CATEGORY_FIELDS = ("name_id", "name_en", "parent_id")


def enqueue(session: Session, kind: str, ids: Iterable[int]) -> None:
    """Ask the indexer to re-read these rows (call after bulk SQL that the ORM does not see)."""
    now = utcnow()
    rows = [{"kind": kind, "ref_id": int(i), "created_at": now} for i in dict.fromkeys(ids)]
    if rows:
        session.execute(insert(SearchOutbox), rows)


def _changed(obj: Any, fields: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[f].history.has_changes() for f in fields)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    # Dirty state and attribute history are only complete before the flush; ids of new rows only after.
    session.info["search_pending_new"] = [o for o in session.new if isinstance(o, Product)]
    session.info.setdefault("search_pending", []).extend(_changes(session))


def _changes(session: Session) -> list[tuple[str, int]]:
    found: dict[tuple[str, int], None] = {}
    for obj in session.dirty:
        if isinstance(obj, Product) and session.is_modified(obj, include_collections=False):
            found[("product", obj.id)] = None
        elif isinstance(obj, Kube) and _changed(obj, KUBE_FIELDS):
            found[("kube", obj.id)] = None
        elif isinstance(obj, Category) and _changed(obj, CATEGORY_FIELDS):
            found[("category", obj.id)] = None
    for obj in session.deleted:
        if isinstance(obj, Product):
            found[("product", obj.id)] = None
        elif isinstance(obj, Kube):
            # Its products go with it (ON DELETE CASCADE): name them now, later they cannot be found.
            with session.no_autoflush:
                for product_id in session.scalars(select(Product.id).where(Product.kube_id == obj.id)):
                    found[("product", product_id)] = None
    return list(found)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    pending: list[tuple[str, int]] = session.info.pop("search_pending", [])
    pending += [("product", p.id) for p in session.info.pop("search_pending_new", []) if p.id is not None]
    if not pending:
        return
    now = utcnow()
    rows = [{"kind": kind, "ref_id": ref, "created_at": now} for kind, ref in dict.fromkeys(pending)]
    session.connection().execute(insert(SearchOutbox), rows)
