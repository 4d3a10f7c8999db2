"""The search backend and indexer of one app process (the Flask side; services get them as arguments)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from marketplace.config import ConfigError
from marketplace.search.backend import SearchBackend
from marketplace.search.indexer import Coordination, Indexer

BACKENDS = ("whoosh", "fts5", "postgres")


@dataclass
class SearchRuntime:
    backend: SearchBackend
    indexer: Indexer


def make_backend(name: str, root: str | Path, build_procs: int = 1, engine: Engine | None = None) -> SearchBackend:
    """The backend called `name`: Whoosh and FTS5 keep their index under `root`, PostgreSQL in the
    database of `engine` (the app's)."""
    if name == "whoosh":
        from marketplace.search.whoosh_backend import WhooshBackend

        return WhooshBackend(root, build_procs=build_procs)
    if name == "fts5":
        from marketplace.search.fts5_backend import Fts5Backend

        return Fts5Backend(root)
    if name == "postgres":
        from marketplace.search.pg_backend import PostgresBackend

        if engine is None:
            raise ValueError("the postgres search backend needs the app's database engine")
        return PostgresBackend(engine)
    raise ValueError(f"MARKETPLACE_SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}")


def index_root(config: Mapping[str, Any]) -> Path:
    """Where the configured backend keeps its index: a folder per backend under SEARCH_DIR."""
    return Path(config["SEARCH_DIR"]) / config["SEARCH_BACKEND"]


def database_engine(app: Flask) -> Engine:
    """The app's engine, for the PostgreSQL backend; refuses any other database."""
    from marketplace.extensions import db

    backend = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    if backend != "postgresql":
        raise ConfigError("MARKETPLACE_SEARCH_BACKEND=postgres keeps the search index in the app's database, "
                          f"which must then be PostgreSQL (MARKETPLACE_DATABASE_URL), not {backend}.")
    with app.app_context():
        return cast(Engine, db.engine)


def init_app(app: Flask) -> None:
    root = Path(app.config["SEARCH_DIR"])
    name = app.config["SEARCH_BACKEND"]
    if name not in BACKENDS:
        raise ConfigError(f"MARKETPLACE_SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}.")
    engine = database_engine(app) if name == "postgres" else None
    backend = make_backend(name, index_root(app.config), build_procs=1, engine=engine)
    # A backend shared by several app hosts coordinates its writer through the database, not local files.
    coordination = cast(Coordination | None, getattr(backend, "coordination", None))

    @contextmanager
    def session_scope() -> Iterator[Session]:
        from marketplace.extensions import db

        with app.app_context():
            try:
                yield cast(Session, db.session)
            finally:
                db.session.remove()

    indexer = Indexer(backend, session_scope, root / "indexer.lock", app.config["SEARCH_INTERVAL"], coordination)
    app.extensions["search"] = SearchRuntime(backend, indexer)
    if app.config["SEARCH_INDEXER"] == "thread":
        # Started by the first request of each process (not at import: CLI commands and a gunicorn master
        # that forks must not carry a thread along).
        app.before_request(indexer.start)


def runtime() -> SearchRuntime:
    return cast(SearchRuntime, current_app.extensions["search"])
