"""`flask webhooks deliver` (in this process and as a separate one) and the MARKETPLACE_WEBHOOKS_* settings."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.config import ConfigError, load_config
from marketplace.webhooks import services
from marketplace.webhooks.models import DeliveryStatus, WebhookDelivery
from tests.webhooks.support import Receiver, make_endpoint, serve

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from serve(Receiver())


def _queue(session: Session, receiver: Receiver, count: int = 2) -> None:
    receiver.secret = make_endpoint(session, receiver.url).secret
    for n in range(count):
        services.emit(session, "order.placed", {"order_id": n})
    session.commit()


def _statuses(session: Session) -> list[DeliveryStatus]:
    session.expire_all()
    return list(session.scalars(select(WebhookDelivery.status).order_by(WebhookDelivery.id)))


def test_deliver_once_command(app: Flask, session: Session, receiver: Receiver) -> None:
    receiver.script = [500]
    _queue(session, receiver)
    result = app.test_cli_runner().invoke(args=["webhooks", "deliver", "--once"])
    assert result.exit_code == 0, result.output
    assert "2 sent, 1 succeeded, 1 failed, 0 dead" in result.output
    assert _statuses(session) == [DeliveryStatus.FAILED, DeliveryStatus.SUCCEEDED]
    assert all(r.signature_ok for r in receiver.received)


def test_deliver_once_from_a_separate_process(app: Flask, session: Session, receiver: Receiver,
                                              tmp_path: Path) -> None:
    _queue(session, receiver, count=3)
    env = {**os.environ, "MARKETPLACE_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "MARKETPLACE_MEDIA_ROOT": str(tmp_path / "media"),
           "MARKETPLACE_PRIVATE_MEDIA_ROOT": str(tmp_path / "private"),
           "MARKETPLACE_SEARCH_DIR": str(tmp_path / "search"), "MARKETPLACE_SEARCH_INDEXER": "off",
           "MARKETPLACE_ENV": "development"}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "marketplace", "webhooks", "deliver", "--once"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "3 sent, 3 succeeded" in done.stdout
    assert _statuses(session) == [DeliveryStatus.SUCCEEDED] * 3
    assert len(receiver.received) == 3


def test_default_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [n for n in os.environ if n.startswith("MARKETPLACE_WEBHOOKS_")] + ["MARKETPLACE_ENV"]:
        monkeypatch.delenv(name, raising=False)
    config = load_config(str(tmp_path))["WEBHOOKS"]
    assert config["ALLOW_PRIVATE"] and config["ALLOW_HTTP"]  # development: a receiver on this computer works
    assert config["BACKOFF"] == (30, 120, 600, 3600, 21600) and config["MAX_ATTEMPTS"] == 8
    assert config["TIMEOUT_SECONDS"] == 10 and config["LEASE_SECONDS"] == 120


@pytest.mark.parametrize(("name", "value"), [
    ("MARKETPLACE_WEBHOOKS_BACKOFF", "30,soon"),
    ("MARKETPLACE_WEBHOOKS_BACKOFF", ""),
    ("MARKETPLACE_WEBHOOKS_BACKOFF", "0,30"),
    ("MARKETPLACE_WEBHOOKS_MAX_ATTEMPTS", "0"),
    ("MARKETPLACE_WEBHOOKS_LEASE_SECONDS", "15"),  # not more than twice the 10 s timeout
    ("MARKETPLACE_WEBHOOKS_ALLOW_PRIVATE", "maybe"),
])
def test_unusable_settings_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str,
                                       value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError):
        load_config(str(tmp_path))


def test_production_refuses_private_addresses_and_plain_http(monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    monkeypatch.setenv("MARKETPLACE_ENV", "production")
    monkeypatch.delenv("MARKETPLACE_WEBHOOKS_ALLOW_PRIVATE", raising=False)
    monkeypatch.delenv("MARKETPLACE_WEBHOOKS_ALLOW_HTTP", raising=False)
    config = load_config(str(tmp_path))["WEBHOOKS"]
    assert not config["ALLOW_PRIVATE"] and not config["ALLOW_HTTP"]
    monkeypatch.setenv("MARKETPLACE_WEBHOOKS_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("MARKETPLACE_WEBHOOKS_BACKOFF", "10, 60")
    config = load_config(str(tmp_path))["WEBHOOKS"]
    assert config["ALLOW_PRIVATE"] and config["BACKOFF"] == (10, 60)
