"""Fixtures: an app on an empty database per test (SQLite, or PostgreSQL when
MARKETPLACE_TEST_DATABASE_URL is set), a session, clients signed in as each role, and factories."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from marketplace import create_app
from marketplace.extensions import db
from tests import factories

TEST_DATABASE_URL = os.environ.get("MARKETPLACE_TEST_DATABASE_URL", "")


def _reset_postgres_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database per test run with every table created; each test empties it afterwards."""
    if TEST_DATABASE_URL:
        url = TEST_DATABASE_URL
        _reset_postgres_schema(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    yield url


def _empty_all_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


def make_app(database_url: str, tmp_path: Path, **overrides: Any) -> Flask:
    config: dict[str, Any] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PRIVATE_MEDIA_ROOT": str(tmp_path / "private-media"),
        "WTF_CSRF_ENABLED": False,
        # Each test has its own index; tests drain the outbox themselves (see tests/search/) unless they
        # start the indexer thread on purpose.
        "SEARCH_DIR": str(tmp_path / "search"),
        "SEARCH_INDEXER": "off",
        "SEARCH_BUILD_PROCS": 1,
        # Rate limits would trip tests that sign in many times; tests/auth/test_rate_limits.py turns them on.
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Mail without SMTP goes to .eml files: keep them in the test's own folder.
        "MAIL_DIR": str(tmp_path / "mail"),
        # Product totals counted on every request, so a test sees its own changes at once;
        # tests/catalog/test_totals_cache.py turns the cache on.
        "CATALOG_TOTALS_SECONDS": 0,
    }
    config.update(overrides)
    app = create_app(config)

    @app.teardown_request
    def _fresh_g_per_request(error: BaseException | None) -> None:
        # The fixtures keep one app context open, so Flask reuses it (and its `g`) for every test request.
        # In production each request has its own; emulate that so that Flask-Login's user and Flask-Babel's
        # locale, both cached in g, never leak from one request into the next.
        for name in list(vars(g)):
            delattr(g, name)
        # Like Flask-SQLAlchemy's teardown in production: what a request did not commit is gone.
        db.session.rollback()

    return app


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(database_url, tmp_path)
    with app.app_context():
        yield app
        db.session.rollback()
        _empty_all_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def csrf_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app with CSRF protection switched on, as in production."""
    app = make_app(database_url, tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app
        db.session.rollback()
        _empty_all_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def session(app: Flask) -> Session:
    return db.session  # type: ignore[return-value]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class EnglishClient(FlaskClient):
    """A test client whose requests ask for English pages (Accept-Language: en)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def english(app: Flask) -> None:
    """Test clients of `app` ask for English (Indonesian is the default; tests/test_translations.py checks it).

    For tests that check the English texts: `pytestmark = pytest.mark.usefixtures("english")`."""
    app.test_client_class = EnglishClient


@pytest.fixture
def world(session: Session) -> factories.World:
    """Two KUBEs (A with ketua/anggota/facilitator, B with its own), a buyer, an order taker, an operator."""
    world = factories.build_world(session)
    session.commit()
    return world


def login(client: FlaskClient, email: str, password: str = factories.PASSWORD) -> FlaskClient:
    response = client.post("/auth/login", data={"email": email, "password": password})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def login_as(app: Flask) -> Callable[[str], FlaskClient]:
    """login_as("ketua_a") -> a test client signed in as that user of the world."""

    def _login(who: str) -> FlaskClient:
        return login(app.test_client(), factories.email_of(who))

    return _login


class QueryCounter:
    """Counts the SQL statements run on the app's engine while active."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def bearer(client: FlaskClient) -> Callable[[str], dict[str, str]]:
    """bearer("ketua_a") -> the Authorization header of a fresh API token of that user (the real token endpoint)."""

    def _header(who: str) -> dict[str, str]:
        response = client.post("/api/v1/auth/token",
                               json={"email": factories.email_of(who), "password": factories.PASSWORD})
        assert response.status_code == 201, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return _header


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], Any]:
    """with count_queries() as counter: ...; counter.count is the number of statements."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def _counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)

    return _counting
