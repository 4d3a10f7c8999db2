"""The PostgreSQL search backend in the app: selected by setting, refused on another database, fed from the
outbox by one writer for every app host, its GIN index used. (The contract itself: test_contract.py.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session

from marketplace import create_app
from marketplace.catalog import services as catalog
from marketplace.catalog.models import ProductStatus
from marketplace.config import ConfigError
from marketplace.extensions import db
from marketplace.search.backend import SearchQuery
from marketplace.search.pg_backend import PostgresBackend, tsquery_literal, tsvector_literal
from marketplace.search.runtime import SearchRuntime
from tests import factories
from tests.conftest import _empty_all_tables, make_app
from tests.search.test_contract import doc


def test_the_app_refuses_the_postgres_backend_on_sqlite(tmp_path: Path) -> None:
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.sqlite3'}",
              "SEARCH_DIR": str(tmp_path / "search"), "SEARCH_BACKEND": "postgres"}
    with pytest.raises(ConfigError, match=r"must then be PostgreSQL .* not sqlite"):
        create_app(config)
    with pytest.raises(ConfigError, match="MARKETPLACE_SEARCH_BACKEND must be one of whoosh, fts5, postgres"):
        create_app({**config, "SEARCH_BACKEND": "elastic"})


def test_terms_are_written_as_they_are_analysed() -> None:
    """Lexemes are quoted, never parsed again: "oleh-oleh" stays one lexeme, and query syntax is a word."""
    assert tsvector_literal([(["minyak", "kelapa"], "A"), (["kelapa"], "B"), (["oleh-oleh"], "C")]) == (
        "'minyak':1A 'kelapa':2A,3B 'oleh-oleh':4C"
    )
    assert tsquery_literal(["kelapa", "it's", "a\\b"]) == "'kelapa' & 'it''s' & 'a\\\\b'"
    # At most 255 positions per lexeme, none past PostgreSQL's last position.
    many = tsvector_literal([(["kopi"] * 20_000, "C")])
    assert many.startswith("'kopi':1C,2C,") and many.endswith(",255C") and many.count(",") == 254
    far = tsvector_literal([([f"w{i}" for i in range(20_000)], "C")])
    assert "'w16381':16382C 'w16382':16383C 'w16383':16383C" in far and far.endswith("'w19999':16383C")


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("the postgres search backend runs when MARKETPLACE_TEST_DATABASE_URL is a PostgreSQL database")
    return database_url


@pytest.fixture
def pg_app(postgres_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app with MARKETPLACE_SEARCH_BACKEND=postgres (its index tables dropped afterwards)."""
    app = make_app(postgres_url, tmp_path, SEARCH_BACKEND="postgres")
    with app.app_context():
        yield app
        db.session.rollback()
        app.extensions["search"].backend.drop()
        _empty_all_tables()
        db.session.remove()
        db.engine.dispose()


def _runtime(app: Flask) -> SearchRuntime:
    return app.extensions["search"]  # type: ignore[no-any-return]


def test_a_published_product_reaches_search_through_the_outbox(pg_app: Flask) -> None:
    session: Session = db.session  # type: ignore[assignment]
    world = factories.build_world(session)
    draft = factories.make_product(session, world.kube_a, world.category, "Virgin Coconut Oil Pengolahan Dingin",
                                   status=ProductStatus.DRAFT)
    session.commit()
    rt = _runtime(pg_app)
    assert rt.backend.name == "postgres"
    client = pg_app.test_client()
    # No index yet: the page answers from the database, and the first indexer round creates the tables.
    assert client.get("/api/v1/search?q=minyak").get_json()["degraded"] is True
    assert rt.indexer.run_once(wait=True) == 0
    assert rt.backend.doc_count() == 2

    catalog.submit_product(session, world.ketua_a, draft.id)
    catalog.approve_product(session, world.facilitator_a, draft.id)
    session.commit()
    assert client.get("/api/v1/search?q=mengolah").get_json()["total"] == 0  # committed, not applied yet
    assert rt.indexer.run_once(wait=True) >= 1  # (one outbox row per flush: sent for review, approved)
    html = client.get("/search?q=mengolah").get_data(as_text=True)  # stemmed: "pengolahan" -> "olah"
    assert "Virgin Coconut Oil <mark>Pengolahan</mark> Dingin" in html
    data = client.get("/api/v1/search?q=olahan+coconut").get_json()
    assert data["degraded"] is False and [i["id"] for i in data["items"]] == [draft.id]
    assert client.get("/api/v1/search/suggest?q=virg").get_json()["suggestions"] == ["virgin"]
    assert session.scalar(text("SELECT backend FROM search_log ORDER BY id DESC LIMIT 1")) == "postgres"

    result = pg_app.test_cli_runner().invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 3 products" in result.output and "(postgres)" in result.output


def test_app_hosts_share_one_index_and_one_writer(pg_app: Flask, postgres_url: str, tmp_path: Path) -> None:
    """Two hosts (no local files in common): a change made on one is applied by the other's indexer and
    found on both; while one writes, the other's round skips; a failed search on one host asks the other
    to rebuild."""
    session: Session = db.session  # type: ignore[assignment]
    world = factories.build_world(session)
    session.commit()
    host_a = _runtime(pg_app)
    other = make_app(postgres_url, tmp_path / "other-host", SEARCH_BACKEND="postgres")
    host_b = _runtime(other)
    try:
        host_b.indexer.run_once(wait=True)
        world.product_a.name = "Minyak Klentik"
        session.commit()
        with host_b.indexer.coordination.writer() as mine:
            assert mine
            assert host_a.indexer.run_once() == 0  # host B writes: host A's round skips
        assert host_a.backend.search(SearchQuery(text="klentik")).total == 0
        assert host_b.indexer.run_once() == 1
        assert host_a.backend.search(SearchQuery(text="klentik")).product_ids == [world.product_a.id]

        def table_oid() -> int:
            return int(session.scalar(text("SELECT CAST(CAST('search_documents' AS regclass) AS oid)")) or 0)

        before = table_oid()
        session.rollback()
        host_a.indexer.mark_broken()  # what a failed search on host A does
        host_b.indexer.REBUILD_PAUSE = 0.0  # (no pause between rebuilds in a test)
        assert host_b.indexer.coordination.rebuild_asked(0.0)
        host_b.indexer.run_once()
        assert table_oid() != before  # rebuilt into fresh tables and swapped in
        session.rollback()
        assert not host_b.indexer.coordination.rebuild_asked(0.0)
        assert host_a.backend.search(SearchQuery(text="klentik")).product_ids == [world.product_a.id]
        # The shared pause: a rebuild asked for right after one waits (on every host).
        host_a.indexer.mark_broken()
        assert not host_a.indexer.coordination.rebuild_asked(60.0)
    finally:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture
def big_backend(postgres_url: str) -> Iterator[PostgresBackend]:
    engine = create_engine(postgres_url)
    backend = PostgresBackend(engine, prefix=f"search_test_{uuid.uuid4().hex[:12]}")
    words = ["kelapa", "minyak", "sabun", "keripik", "gula", "kopi", "madu", "tenun", "anyaman", "ikan"]
    docs = [doc(i, f"{words[i % 10].title()} {words[(i * 7) % 10]} nomor{i}", f"Diolah {words[(i * 3) % 10]}.",
                price=5_000 + i * 100, in_stock=i % 9 != 0) for i in range(1, 2_001)]
    backend.rebuild(docs)
    yield backend
    backend.drop()
    engine.dispose()


def test_the_gin_index_finds_the_documents(big_backend: PostgresBackend) -> None:
    with big_backend.engine.connect() as conn:
        definition = conn.scalar(text("SELECT indexdef FROM pg_indexes WHERE tablename = :t AND indexname = :i"),
                                 {"t": big_backend.documents, "i": f"{big_backend.documents}_tsv"})
    assert definition is not None and "USING gin (tsv)" in definition

    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if "@@" in statement:
            statements.append((statement, parameters))

    event.listen(big_backend.engine, "before_cursor_execute", capture)
    try:
        hits = big_backend.search(SearchQuery(text="nomor1234"))  # one product in 2,000
    finally:
        event.remove(big_backend.engine, "before_cursor_execute", capture)
    assert hits.product_ids == [1234] and hits.total == 1
    statement, parameters = statements[-1]
    with big_backend.engine.connect() as conn:
        # The planner picks the index by itself for a rare word (statistics from the rebuild's ANALYZE).
        plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))
        assert f"Bitmap Index Scan on {big_backend.documents}_tsv" in plan, plan
        conn.exec_driver_sql("SET enable_seqscan = off")  # and for a common one when scans are dearer
        event.listen(big_backend.engine, "before_cursor_execute", capture)
        try:
            assert big_backend.search(SearchQuery(text="kelapa")).total > 200
        finally:
            event.remove(big_backend.engine, "before_cursor_execute", capture)
        plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {statements[-1][0]}", statements[-1][1]))
        assert f"Bitmap Index Scan on {big_backend.documents}_tsv" in plan, plan
        conn.rollback()


def test_large_pages_facets_and_updates_agree_with_a_count(big_backend: PostgresBackend) -> None:
    """On 2,000 documents: the total and facets equal plain counts, pages cover every match once."""
    hits = big_backend.search(SearchQuery(text="kelapa", in_stock=True, per_page=50))
    with big_backend.engine.connect() as conn:
        expected = conn.scalar(text(f"SELECT count(*) FROM {big_backend.documents} "  # noqa: S608
                                    "WHERE tsv @@ CAST('''kelapa''' AS tsquery) AND in_stock"))
    assert hits.total == expected and hits.facets.in_stock == expected
    seen: list[int] = []
    for page in range(1, hits.total // 50 + 2):
        seen += big_backend.search(SearchQuery(text="kelapa", in_stock=True, per_page=50, page=page)).product_ids
    assert len(seen) == len(set(seen)) == hits.total
    big_backend.apply([doc(5_000, "Kelapa Kopyor", in_stock=True)], [seen[0]])
    again = big_backend.search(SearchQuery(text="kelapa", in_stock=True, per_page=50))
    assert again.total == hits.total and 5_000 in big_backend.search(SearchQuery(text="kopyor")).product_ids
