"""The outbox and the single writer: changes reach the index after commit, never before, never lost."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.catalog import services as catalog
from marketplace.catalog.models import KubeStatus, Product, ProductStatus
from marketplace.search import indexer, outbox
from marketplace.search.backend import SearchQuery
from marketplace.search.models import SearchOutbox
from marketplace.search.runtime import SearchRuntime
from tests import factories


def found(rt: SearchRuntime, text: str) -> list[int]:
    return rt.backend.search(SearchQuery(text=text, per_page=50)).product_ids


def outbox_rows(session: Session) -> list[tuple[str, int]]:
    return [(r.kind, r.ref_id) for r in session.execute(select(SearchOutbox.kind, SearchOutbox.ref_id))]


def test_new_products_are_found_after_indexing(session: Session, world: factories.World, search_rt: SearchRuntime,
                                               index_now: Callable[[], int]) -> None:
    index_now()
    assert found(search_rt, "minyak") == [world.product_a.id]
    assert found(search_rt, "draft") == []  # drafts are never searchable
    assert outbox_rows(session) == []


def test_changes_are_recorded_in_the_same_transaction(session: Session, world: factories.World,
                                                      search_rt: SearchRuntime,
                                                      index_now: Callable[[], int]) -> None:
    index_now()
    world.product_a.name = "Minyak Kelapa Kampung"  # (editing through the catalogue sends it back to review)
    session.flush()
    assert ("product", world.product_a.id) in outbox_rows(session)
    session.rollback()  # the change is undone: so is its outbox row, and the index never sees it
    assert outbox_rows(session) == []
    index_now()
    assert found(search_rt, "kampung") == []

    world.product_a.name = "Minyak Kelapa Kampung"
    session.commit()
    assert found(search_rt, "kampung") == []  # committed, not yet applied
    assert index_now() == 1
    assert found(search_rt, "kampung") == [world.product_a.id]


def test_stock_price_and_status_changes_reach_the_index(session: Session, world: factories.World,
                                                         search_rt: SearchRuntime,
                                                         index_now: Callable[[], int]) -> None:
    index_now()
    catalog.set_stock(session, world.ketua_a, world.product_a.id, 0)
    session.commit()
    index_now()
    assert search_rt.backend.search(SearchQuery(text="minyak", in_stock=True)).total == 0
    catalog.update_product(session, world.ketua_a, world.product_a.id, {"price": 99_000})
    session.commit()
    index_now()
    assert search_rt.backend.search(SearchQuery(text="minyak", min_price=90_000)).total == 1
    catalog.archive_product(session, world.ketua_a, world.product_a.id)
    session.commit()
    index_now()
    assert found(search_rt, "minyak") == []


def test_bulk_sql_changes_are_enqueued_explicitly(session: Session, world: factories.World,
                                                   search_rt: SearchRuntime, index_now: Callable[[], int]) -> None:
    index_now()
    # What a stock reservation with a conditional UPDATE does: the ORM does not see it, so it enqueues.
    session.execute(Product.__table__.update().where(Product.id == world.product_a.id).values(stock=0))
    outbox.enqueue(session, "product", [world.product_a.id, world.product_a.id])
    session.commit()
    index_now()
    assert search_rt.backend.search(SearchQuery(text="minyak", in_stock=True)).total == 0


def test_kube_changes_reindex_its_products(session: Session, world: factories.World, search_rt: SearchRuntime,
                                            index_now: Callable[[], int]) -> None:
    index_now()
    world.kube_a.name = "KUBE Nyiur Melambai"
    session.commit()
    assert ("kube", world.kube_a.id) in outbox_rows(session)
    index_now()
    assert found(search_rt, "nyiur") == [world.product_a.id]
    world.kube_a.status = KubeStatus.SUSPENDED  # a suspended KUBE's products leave search
    session.commit()
    index_now()
    assert found(search_rt, "minyak") == []
    world.kube_a.status = KubeStatus.ACTIVE
    session.commit()
    index_now()
    assert found(search_rt, "minyak") == [world.product_a.id]


def test_deleted_product_leaves_the_index(session: Session, world: factories.World, search_rt: SearchRuntime,
                                         index_now: Callable[[], int]) -> None:
    index_now()
    assert found(search_rt, "anyaman") == [world.product_b.id]
    session.delete(world.product_b)
    session.commit()
    index_now()
    assert found(search_rt, "anyaman") == []


def test_category_rename_reindexes(session: Session, world: factories.World, search_rt: SearchRuntime,
                                   index_now: Callable[[], int]) -> None:
    index_now()
    catalog.save_category(session, world.operator, name_id="Olahan Nira", name_en="Palm sap",
                          category_id=world.category.id)
    session.commit()
    index_now()
    assert set(found(search_rt, "nira")) == {world.product_a.id, world.product_b.id}


def test_missing_index_falls_back_and_is_rebuilt(app: Flask, session: Session, world: factories.World,
                                                 search_rt: SearchRuntime, index_now: Callable[[], int]) -> None:
    client = app.test_client()
    # No index at all yet: the page still answers, from the database.
    response = client.get("/api/v1/search?q=minyak")
    assert response.status_code == 200
    assert response.get_json()["degraded"] is True
    assert [i["id"] for i in response.get_json()["items"]] == [world.product_a.id]
    index_now()
    response = client.get("/api/v1/search?q=minyak")
    assert response.get_json()["degraded"] is False
    assert [i["id"] for i in response.get_json()["items"]] == [world.product_a.id]


def test_corrupted_index_falls_back_and_is_rebuilt(app: Flask, session: Session, world: factories.World,
                                                   search_rt: SearchRuntime,
                                                   index_now: Callable[[], int]) -> None:
    index_now()
    backend = search_rt.backend
    generation = Path(backend.root) / backend.current_generation()  # type: ignore[attr-defined]
    backend.close()  # type: ignore[attr-defined]
    for path in generation.iterdir():
        if path.suffix in (".seg", ".toc"):
            path.write_bytes(b"\x00garbage" * 10)
    client = app.test_client()
    response = client.get("/search?q=minyak")
    assert response.status_code == 200
    assert "<mark>Minyak</mark> Kelapa A" in response.get_data(as_text=True)
    assert client.get("/api/v1/search?q=minyak").get_json()["degraded"] is True
    index_now()  # the indexer sees the index is broken and rebuilds it
    data = client.get("/api/v1/search?q=minyak").get_json()
    assert data["degraded"] is False and data["total"] == 1


def test_reindex_command(app: Flask, session: Session, world: factories.World, search_rt: SearchRuntime) -> None:
    result = app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 2 products" in result.output
    assert search_rt.backend.doc_count() == 2
    assert session.scalar(select(func.count()).select_from(SearchOutbox)) == 0
    status = app.test_cli_runner().invoke(args=["search", "status"])
    assert "indexed products: 2" in status.output and "pending changes: 0" in status.output


def _writer_process(database_url: str, search_dir: str, kube_id: int, category_id: int, start: int,
                    results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """One 'gunicorn worker': writes products and runs the indexer after each commit."""
    from tests.conftest import make_app

    app = make_app(database_url, Path(search_dir).parent, SEARCH_DIR=search_dir)
    errors = 0
    with app.app_context():
        from marketplace.extensions import db

        rt = app.extensions["search"]
        for i in range(start, start + 10):
            db.session.add(Product(kube_id=kube_id, category_id=category_id, name=f"Kopi Robusta {i}",
                                   slug=f"kopi-{i}", unit="kg", price=50_000, stock=5,
                                   status=ProductStatus.PUBLISHED))
            db.session.commit()
            try:
                rt.indexer.run_once()
            except Exception:
                errors += 1
        db.engine.dispose()
    results.put(errors)


def test_several_processes_never_hit_a_writer_lock(app: Flask, session: Session, world: factories.World,
                                                   database_url: str, search_rt: SearchRuntime,
                                                   index_now: Callable[[], int]) -> None:
    index_now()
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    search_dir = app.config["SEARCH_DIR"]
    procs = [ctx.Process(target=_writer_process,
                         args=(database_url, search_dir, world.kube_a.id, world.category.id, n * 100, results))
             for n in range(4)]
    for p in procs:
        p.start()
    errors = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert errors == [0, 0, 0, 0]
    index_now()  # whatever a process skipped because another held the lock
    assert search_rt.backend.search(SearchQuery(text="kopi robusta")).total == 40


def test_indexer_thread_makes_changes_searchable_quickly(database_url: str, tmp_path: Path) -> None:
    """The running app: each process's indexer thread polls the outbox (every 0.5 s by default)."""
    from marketplace.extensions import db
    from tests.conftest import make_app

    app = make_app(database_url, tmp_path, SEARCH_INDEXER="thread", SEARCH_INTERVAL=0.5)
    with app.app_context():
        world = factories.build_world(db.session)
        db.session.commit()
        client = app.test_client()
        client.get("/")  # the first request starts the thread
        rt = app.extensions["search"]
        try:
            deadline = time.monotonic() + 10
            while not (_ready(rt) and rt.backend.search(SearchQuery(text="minyak")).total):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            world.product_a.name = "Minyak Klentik"
            db.session.commit()
            committed = time.monotonic()
            while client.get("/api/v1/search?q=klentik").get_json()["total"] == 0:
                assert time.monotonic() - committed < 10
                time.sleep(0.05)
            # Measured here ~0.5 s (one polling interval); the promise is 2 s (see docs/search.md).
            assert time.monotonic() - committed < 2.0 + 3.0  # slack for a loaded CI machine
        finally:
            rt.indexer.stop()
            db.session.rollback()
            from tests.conftest import _empty_all_tables

            _empty_all_tables()
            db.session.remove()
            db.engine.dispose()


def _ready(rt: SearchRuntime) -> bool:
    try:
        rt.backend.check()
    except Exception:
        return False
    return True


@pytest.mark.parametrize("kind", ["product", "kube", "category"])
def test_drain_tolerates_rows_that_no_longer_exist(session: Session, search_rt: SearchRuntime, kind: str,
                                                   index_now: Callable[[], int]) -> None:
    index_now()
    outbox.enqueue(session, kind, [123456])
    session.commit()
    assert indexer.drain(session, search_rt.backend) == 1
    assert outbox_rows(session) == []


def test_a_failed_search_asks_the_writing_process_to_rebuild(session: Session, world: factories.World,
                                                             search_rt: SearchRuntime,
                                                             index_now: Callable[[], int]) -> None:
    index_now()
    generation = search_rt.backend.current_generation()  # type: ignore[attr-defined]
    search_rt.indexer.mark_broken()  # what a search that raised does, in whichever process
    assert search_rt.indexer.marker.exists()
    index_now()
    assert not search_rt.indexer.marker.exists()
    assert search_rt.backend.current_generation() != generation  # type: ignore[attr-defined]
    assert found(search_rt, "minyak") == [world.product_a.id]


def test_an_index_that_cannot_take_changes_is_rebuilt(session: Session, world: factories.World,
                                                      search_rt: SearchRuntime, monkeypatch: pytest.MonkeyPatch,
                                                      index_now: Callable[[], int]) -> None:
    from marketplace.search.backend import IndexUnavailable

    index_now()
    world.product_a.name = "Minyak Klentik"
    session.commit()

    def broken(*args: object) -> None:
        raise IndexUnavailable("search index cannot take changes: garbled")

    with monkeypatch.context() as patched:
        patched.setattr(search_rt.backend, "apply", broken)
        with pytest.raises(IndexUnavailable):
            index_now()
    assert search_rt.indexer.marker.exists() and outbox_rows(session)  # nothing lost
    search_rt.indexer._last_rebuild = -search_rt.indexer.REBUILD_PAUSE  # (no pause in a test)
    index_now()
    assert found(search_rt, "klentik") == [world.product_a.id]


def test_rebuild_keeps_changes_committed_while_it_ran(app: Flask, session: Session, world: factories.World,
                                                      search_rt: SearchRuntime, database_url: str) -> None:
    """On PostgreSQL an open transaction can hold a lower outbox id than one committed before the rebuild
    looked; its row must survive the rebuild (it is drained after)."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: the case cannot happen")
    from marketplace.extensions import db

    late = db.engine.connect()
    late_tx = late.begin()
    late.execute(SearchOutbox.__table__.insert().values(kind="product", ref_id=world.product_a.id,
                                                        created_at=datetime.now(UTC)))
    outbox.enqueue(session, "product", [world.product_b.id])  # a later id, committed first
    session.commit()

    class CommitsMidway:
        name = "midway"

        def rebuild(self, docs: object) -> int:
            late_tx.commit()  # the open transaction commits while the index is being built
            return search_rt.backend.rebuild(docs)  # type: ignore[arg-type]

    indexer.rebuild(session, CommitsMidway())  # type: ignore[arg-type]
    late.close()
    assert outbox_rows(session) == [("product", world.product_a.id)]
