"""Rate limits on sign-in, sign-up, password reset and the API, in memory and in Redis.

The other tests run with rate limits off (tests/conftest.py); these turn them on with small limits.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from marketplace.config import ConfigError, load_config
from marketplace.extensions import db, limiter
from tests import factories
from tests.conftest import _empty_all_tables, make_app

REDIS_URL = "redis://127.0.0.1:6379/0"
SMALL_LIMITS = {
    "RATELIMIT_SIGNIN": "3 per minute",
    "RATELIMIT_SIGNUP": "2 per minute",
    "RATELIMIT_PASSWORD_RESET": "2 per hour",
    "RATELIMIT_API": "6 per minute",
    "RATELIMIT_API_TOKEN": "2 per minute",
}
EN = {"Accept-Language": "en"}


def _redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


AppMaker = Callable[..., Flask]


@pytest.fixture
def limited_app(database_url: str, tmp_path: Path) -> Iterator[AppMaker]:
    """limited_app(**config) -> an app with rate limits on (small ones unless given), on this test's database."""
    made: list[Flask] = []
    contexts: list[Any] = []

    def _make(**overrides: Any) -> Flask:
        app = make_app(database_url, tmp_path, **{"RATELIMIT_ENABLED": True, **SMALL_LIMITS, **overrides})
        context = app.app_context()
        context.push()
        made.append(app)
        contexts.append(context)
        return app

    yield _make
    for context in reversed(contexts):
        db.session.rollback()
        _empty_all_tables()
        db.session.remove()
        db.engine.dispose()
        context.pop()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own in the shared Redis; its keys are deleted afterwards."""
    if not _redis_reachable():
        pytest.skip("Redis is not running on 127.0.0.1:6379 (CI starts one)")
    prefix = f"test-{uuid.uuid4().hex}"
    yield prefix
    storage = limiter.storage
    pool = getattr(getattr(storage, "storage", None), "connection_pool", None)
    if pool is not None:
        pool.disconnect()  # the limiter's own connections
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"*{prefix}*"))
        if keys:
            client.delete(*keys)
        assert not list(client.scan_iter(match=f"*{prefix}*"))
    finally:
        client.close()


def _sign_in(client: FlaskClient, password: str = "wrong-password", **kwargs: Any) -> Any:
    return client.post("/auth/login", data={"email": factories.email_of("buyer"), "password": password},
                       headers=EN, **kwargs)


def _assert_html_429(response: Any) -> None:
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert "Too many requests" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0


def _assert_json_429(response: Any) -> None:
    assert response.status_code == 429
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == "rate_limited" and error["message"]
    assert 0 < int(response.headers["Retry-After"]) <= 60


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_sign_in_is_limited_per_address(limited_app: AppMaker, request: pytest.FixtureRequest,
                                        storage: str) -> None:
    config: dict[str, Any] = {}
    if storage == "redis":
        config = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_KEY_PREFIX": request.getfixturevalue("redis_prefix")}
    app = limited_app(**config)
    factories.make_user(db.session, "buyer")  # type: ignore[arg-type]
    db.session.commit()
    client = app.test_client()
    # Reading the page costs nothing; each POST does.
    for _ in range(5):
        assert client.get("/auth/login").status_code == 200
    for _ in range(3):
        assert _sign_in(client).status_code == 200  # the form again, with "wrong e-mail or password"
    _assert_html_429(_sign_in(client))
    # Even the right password waits: the limit is on the address, not on the guess.
    _assert_html_429(_sign_in(client, factories.PASSWORD))
    # Another address has its own count.
    other = app.test_client()
    response = _sign_in(other, factories.PASSWORD, environ_overrides={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 302


def test_redis_counts_are_shared_between_app_processes(limited_app: AppMaker, redis_prefix: str) -> None:
    """Two apps (two server processes) on one Redis see one count; a memory store would give each its own."""
    first = limited_app(RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=redis_prefix)
    for _ in range(3):
        assert _sign_in(first.test_client()).status_code == 200
    second = limited_app(RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=redis_prefix)
    _assert_html_429(_sign_in(second.test_client()))
    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert list(client.scan_iter(match=f"*{redis_prefix}*auth.login*"))
    finally:
        client.close()


def test_sign_up_and_password_reset_are_limited(limited_app: AppMaker) -> None:
    app = limited_app()
    client = app.test_client()
    for n in range(2):
        response = client.post("/auth/register", headers=EN, data={
            "name": "Dewi", "email": f"dewi{n}@example.com", "password": "kelapa-muda-1",
            "confirm": "kelapa-muda-1"})
        assert response.status_code == 302
        client.post("/auth/logout")
    _assert_html_429(client.post("/auth/register", headers=EN, data={"name": "Dewi", "email": "x@example.com"}))
    for _ in range(2):
        assert client.post("/auth/reset", data={"email": "x@example.com"}).status_code == 302
    _assert_html_429(client.post("/auth/reset", headers=EN, data={"email": "x@example.com"}))
    for _ in range(2):
        assert client.post("/auth/reset/not-a-token", data={"password": "x"}).status_code == 400
    _assert_html_429(client.post("/auth/reset/not-a-token", headers=EN, data={"password": "x"}))
    # The pages themselves still open (a GET is not limited).
    assert client.get("/auth/reset").status_code == 200
    assert client.get("/auth/register").status_code == 200


def test_api_is_limited_as_a_whole_with_json_errors(limited_app: AppMaker) -> None:
    app = limited_app()
    client = app.test_client()
    # All API routes share one count per address: 6 per minute here.
    urls = ["/api/v1/products", "/api/v1/kubes", "/api/v1/products", "/api/v1/kubes", "/api/v1/products",
            "/api/v1/kubes"]
    for url in urls:
        assert client.get(url).status_code == 200
    _assert_json_429(client.get("/api/v1/products"))
    _assert_json_429(client.post("/api/v1/auth/token", json={"email": "a@example.com", "password": "x"}))
    # The web pages are not part of the API's count.
    assert client.get("/").status_code == 200


def test_token_endpoint_has_a_tighter_limit(limited_app: AppMaker) -> None:
    app = limited_app()
    factories.make_user(db.session, "buyer")  # type: ignore[arg-type]
    db.session.commit()
    client = app.test_client()
    body = {"email": factories.email_of("buyer"), "password": "wrong-password"}
    for _ in range(2):
        assert client.post("/api/v1/auth/token", json=body).status_code == 401
    _assert_json_429(client.post("/api/v1/auth/token", json=body))
    # Reads are still allowed (they count against the API's own, larger limit).
    assert client.get("/api/v1/products").status_code == 200


def test_off_switch(limited_app: AppMaker) -> None:
    app = limited_app(RATELIMIT_ENABLED=False)
    client = app.test_client()
    for _ in range(6):
        assert _sign_in(client).status_code == 200


def test_forwarded_for_is_ignored_without_a_proxy(limited_app: AppMaker) -> None:
    app = limited_app()
    client = app.test_client()
    for n in range(3):
        assert _sign_in_from(client, f"203.0.113.{n}") == 200
    # A client cannot pick a new address per request to dodge the limit.
    assert _sign_in_from(client, "203.0.113.99") == 429


def test_forwarded_for_counts_behind_a_proxy(limited_app: AppMaker) -> None:
    app = limited_app(PROXY_FIX=1)
    client = app.test_client()
    for _ in range(3):
        assert _sign_in_from(client, "203.0.113.7") == 200
    assert _sign_in_from(client, "203.0.113.7") == 429
    # Another client behind the same proxy has its own count.
    assert _sign_in_from(client, "203.0.113.8") == 200


def _sign_in_from(client: FlaskClient, address: str) -> int:
    response = client.post("/auth/login", headers={**EN, "X-Forwarded-For": address},
                           data={"email": factories.email_of("buyer"), "password": "wrong-password"})
    return response.status_code


@pytest.mark.parametrize("value", ["lots", "10 per fortnight", "ten per minute"])
def test_bad_limit_settings_stop_the_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str) -> None:
    monkeypatch.setenv("MARKETPLACE_RATELIMIT_SIGNIN", value)
    with pytest.raises(ConfigError, match="MARKETPLACE_RATELIMIT_SIGNIN"):
        load_config(str(tmp_path))


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = load_config(str(tmp_path))
    assert config["RATELIMIT_STORAGE_URI"] == "memory://" and config["PROXY_FIX"] == 0
    assert config["RATELIMIT_SIGNIN"] == "10 per minute;30 per hour"
    monkeypatch.setenv("MARKETPLACE_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("MARKETPLACE_PROXY_FIX", "1")
    monkeypatch.setenv("MARKETPLACE_RATELIMIT_API", "100 per minute")
    config = load_config(str(tmp_path))
    assert config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    assert config["PROXY_FIX"] == 1 and config["RATELIMIT_API"] == "100 per minute"


def test_a_storage_outage_does_not_lock_everyone_out(limited_app: AppMaker) -> None:
    """Redis down: the limits are counted in memory meanwhile; sign-in neither fails nor goes unlimited."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe is closed
    app = limited_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port}/0", RATELIMIT_KEY_PREFIX="outage")
    client = app.test_client()
    for _ in range(3):
        assert _sign_in(client).status_code == 200
    _assert_html_429(_sign_in(client))
