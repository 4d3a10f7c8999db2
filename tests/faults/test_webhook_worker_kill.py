"""Webhook delivery workers die or stall mid-delivery: every delivery still arrives (at least once, always under
its own delivery id) and its result is recorded once, by the worker that holds the delivery.

Worker A (`flask webhooks deliver --once`, a real process) is SIGKILLed while the partner's server holds its
first request; worker B is frozen (SIGSTOP) at the same point. Once their leases have run out another worker
sends everything that is left; then B wakes up, gets its answer and must not record anything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.common import utcnow
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.webhooks.models import DeliveryStatus, WebhookDelivery
from marketplace.webhooks.services import Settings
from marketplace.webhooks.worker import deliver_due
from tests import factories
from tests.webhooks.support import make_endpoint

FLASK = Path(sys.executable).with_name("flask")
TIMEOUT, LEASE = 4, 10
SETTINGS = Settings(allow_private=True, allow_http=True, timeout_seconds=TIMEOUT, lease_seconds=LEASE)


@dataclass
class Partner:
    """The partner's server: answers 200, except that it can hold the next request until released."""

    port: int = 0
    received: dict[str, list[bytes]] = field(default_factory=lambda: defaultdict(list))
    hold_next: bool = False
    holding: threading.Event = field(default_factory=threading.Event)
    held: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(partner: Partner) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            delivery = self.headers.get("X-PasarKube-Delivery", "")
            with partner.lock:
                partner.received[delivery].append(body)
                hold, partner.hold_next = partner.hold_next, False
                if hold:
                    partner.held.append(delivery)
            if hold:
                partner.holding.set()
                partner.release.wait(60)
            try:
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the worker was killed meanwhile

    return Handler


@pytest.fixture
def partner() -> Iterator[Partner]:
    partner = Partner()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(partner))
    server.daemon_threads = True
    partner.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield partner
    finally:
        partner.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _worker(database_url: str, tmp_path: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "MARKETPLACE_ENV": "development",  # plain http to a loopback partner is allowed
        "MARKETPLACE_DATABASE_URL": database_url,
        "MARKETPLACE_MEDIA_ROOT": str(tmp_path / "media"),
        "MARKETPLACE_PRIVATE_MEDIA_ROOT": str(tmp_path / "private-media"),
        "MARKETPLACE_SEARCH_DIR": str(tmp_path / "search"),
        "MARKETPLACE_SEARCH_INDEXER": "off",
        "MARKETPLACE_WEBHOOKS_TIMEOUT_SECONDS": str(TIMEOUT),
        "MARKETPLACE_WEBHOOKS_LEASE_SECONDS": str(LEASE),
        "PYTHONWARNINGS": "ignore",
    }
    return subprocess.Popen([str(FLASK), "--app", "marketplace:create_app()", "webhooks", "deliver", "--once",
                             "--limit", "3"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _held_by(worker: subprocess.Popen[str], partner: Partner) -> str:
    """Start holding the worker's first request; wait until it is in the partner's hands."""
    if not partner.holding.wait(60):
        worker.kill()
        output, _ = worker.communicate()
        raise AssertionError(f"the worker sent nothing:\n{output}")
    partner.holding.clear()
    return partner.held[-1]


def _deliveries(session: Session) -> list[WebhookDelivery]:
    session.expire_all()
    return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_killed_and_stalled_workers_deliver_at_least_once_and_record_once(
    app: Flask, session: Session, database_url: str, tmp_path: Path, partner: Partner
) -> None:
    if not FLASK.exists():
        pytest.skip(f"the flask command is not installed next to {sys.executable}")
    world = factories.build_world(session)
    make_endpoint(session, url=f"http://127.0.0.1:{partner.port}/hooks", events=("order.placed",))
    for n in range(4):  # 4 checkouts of 2 KUBEs: 8 order.placed deliveries
        buyer = factories.make_user(session, f"hook_buyer_{n}")
        orders.place_checkout(session, buyer, [(world.product_a.id, 1), (world.product_b.id, 1)],
                              payment_method="manual")
    session.commit()
    everything = {str(d.id) for d in _deliveries(session)}
    assert len(everything) == 8

    # Worker A is killed while its first request is held.
    partner.hold_next = True
    worker_a = _worker(database_url, tmp_path)
    held_a = _held_by(worker_a, partner)
    worker_a.send_signal(signal.SIGKILL)
    worker_a.communicate(timeout=30)
    leased_a = {str(d.id) for d in _deliveries(session) if d.lock_token is not None}
    assert held_a in leased_a and len(leased_a) == 3  # its batch stays leased until the lease runs out

    # Worker B claims other deliveries, and freezes while its first request is held.
    partner.hold_next = True
    worker_b = _worker(database_url, tmp_path)
    try:
        held_b = _held_by(worker_b, partner)
        worker_b.send_signal(signal.SIGSTOP)
        leased_b = {str(d.id) for d in _deliveries(session) if d.lock_token is not None} - leased_a
        assert held_b in leased_b and len(leased_b) == 3

        # After the leases run out, another worker sends what A and B left (and the rest).
        later = utcnow() + timedelta(seconds=LEASE + 1)
        rounds = [deliver_due(db.engine, now=later, limit=50, settings=SETTINGS) for _ in range(2)]
        assert {str(i) for i in rounds[0].ids} == everything and rounds[0].succeeded == 8
        assert rounds[1].claimed == 0
    finally:
        partner.release.set()
        worker_b.send_signal(signal.SIGCONT)
    output_b, _ = worker_b.communicate(timeout=60)
    assert worker_b.returncode == 0, output_b
    # B's answer came too late: it held the delivery no more, so it recorded nothing; and it did not send the
    # other two of its batch, whose leases had run out while it was frozen (another worker sent them).
    assert "1 sent, 0 succeeded, 0 failed, 0 dead, 1 lost their lease, 2 left unsent" in output_b

    deliveries = _deliveries(session)
    assert all(d.status == DeliveryStatus.SUCCEEDED for d in deliveries)
    assert all(d.last_status_code == 200 and d.lock_token is None and d.last_error is None for d in deliveries)
    # Recorded once, by the worker that held them: the time is that worker's, not B's later, lost result.
    assert all(d.delivered_at == later for d in deliveries)
    # At least once: every delivery arrived; the partner de-duplicates on the delivery id, whose body is the
    # same at every attempt.
    assert set(partner.received) == everything
    assert len(partner.received[held_a]) >= 2 and len(partner.received[held_b]) >= 2
    # Only the two held requests were sent twice: no worker sends a delivery after its lease ran out.
    assert all(len(partner.received[i]) == 1 for i in everything - {held_a, held_b})
    assert all(len(set(bodies)) == 1 for bodies in partner.received.values())
    attempts = {str(d.id): d.attempts for d in deliveries}
    assert {attempts[i] for i in leased_a | leased_b} == {2}
    assert {attempts[i] for i in everything - leased_a - leased_b} == {1}
