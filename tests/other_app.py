"""A second app inside a test (other settings than the `app` fixture's), closed properly afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask

from marketplace.extensions import db
from tests.conftest import make_app


@contextmanager
def other_app(database_url: str, tmp_path: Path, **config: Any) -> Iterator[Flask]:
    """with other_app(database_url, tmp_path, SMTP_HOST=...) as app: ... (its database connections are closed
    at the end: an open PostgreSQL connection left to the garbage collector is a ResourceWarning)."""
    app = make_app(database_url, tmp_path, **config)
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
