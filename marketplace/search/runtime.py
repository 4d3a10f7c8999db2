"""The search backend and indexer of one app process (the Flask side; services get them as arguments)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from flask import Flask, current_app
from sqlalchemy.orm import Session

from marketplace.search.backend import SearchBackend
from marketplace.search.indexer import Indexer

BACKENDS = ("whoosh", "fts5")


@dataclass
class SearchRuntime:
    backend: SearchBackend
    indexer: Indexer


def make_backend(name: str, root: str | Path, build_procs: int = 1) -> SearchBackend:
    if name == "whoosh":
        from marketplace.search.whoosh_backend import WhooshBackend

        return WhooshBackend(root, build_procs=build_procs)
    if name == "fts5":
        from marketplace.search.fts5_backend import Fts5Backend

        return Fts5Backend(root)
    raise ValueError(f"MARKETPLACE_SEARCH_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}")


def index_root(config: Mapping[str, Any]) -> Path:
    """Where the configured backend keeps its index: a folder per backend under SEARCH_DIR."""
    return Path(config["SEARCH_DIR"]) / config["SEARCH_BACKEND"]


def init_app(app: Flask) -> None:
    root = Path(app.config["SEARCH_DIR"])
    backend = make_backend(app.config["SEARCH_BACKEND"], index_root(app.config), build_procs=1)

    @contextmanager
    def session_scope() -> Iterator[Session]:
        from marketplace.extensions import db

        with app.app_context():
            try:
                yield cast(Session, db.session)
            finally:
                db.session.remove()

    indexer = Indexer(backend, session_scope, root / "indexer.lock", app.config["SEARCH_INTERVAL"])
    app.extensions["search"] = SearchRuntime(backend, indexer)
    if app.config["SEARCH_INDEXER"] == "thread":
        # Started by the first request of each process (not at import: CLI commands and a gunicorn master
        # that forks must not carry a thread along).
        app.before_request(indexer.start)


def runtime() -> SearchRuntime:
    return cast(SearchRuntime, current_app.extensions["search"])
