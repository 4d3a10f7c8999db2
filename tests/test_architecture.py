"""Rules of the layout: services never import flask; models and migrations agree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from marketplace import create_app
from marketplace.extensions import db
from tests.conftest import TEST_DATABASE_URL

PACKAGE = Path(__file__).resolve().parent.parent / "marketplace"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_services_never_import_flask() -> None:
    services = sorted(PACKAGE.rglob("services.py"))
    assert len(services) >= 2
    for path in services:
        bad = {name for name in _imports(path) if name == "flask" or name.startswith(("flask.", "flask_"))}
        assert not bad, f"{path.relative_to(PACKAGE.parent)} imports {bad}"


def test_service_helpers_never_import_flask() -> None:
    """The plain-Python helpers that services use must stay flask-free too."""
    for name in ("common.py", "media.py", "regions.py", "catalog/permissions.py"):
        imported = _imports(PACKAGE / name)
        assert not {n for n in imported if n.split(".")[0] in {"flask", "flask_login", "flask_babel"}}, name


@pytest.fixture
def empty_database_url(tmp_path: Path) -> str:
    """A brand-new empty database: a file for SQLite, a scratch database on the PostgreSQL server."""
    if not TEST_DATABASE_URL:
        return f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
    url = make_url(TEST_DATABASE_URL)
    scratch = f"{url.database}_migrations"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    admin.dispose()
    return url.set(database=scratch).render_as_string(hide_password=False)


def test_migrations_reach_head_and_match_models(empty_database_url: str, tmp_path: Path) -> None:
    app: Flask = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database_url,
                             "MEDIA_ROOT": str(tmp_path)})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        db.engine.dispose()
    assert diff == [], f"models and migrations disagree; run `flask db migrate`: {diff}"
    assert version
