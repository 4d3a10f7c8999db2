"""Webhook test helpers: a real HTTP receiver on a loopback port, endpoints, and the documented verifier."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from marketplace.common import utcnow
from marketplace.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from marketplace.webhooks.services import Settings, new_secret

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
# Small numbers so that tests walk the whole schedule: 3 attempts, waits of 30 s and 2 min.
SETTINGS = Settings(allow_private=True, allow_http=True, max_attempts=3, timeout_seconds=2, lease_seconds=30,
                    backoff=(30, 120))


def documented_verifier() -> Callable[..., bool]:
    """The verification snippet of docs/webhooks.md, run as a partner would copy it."""
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    code = next(block for block in blocks if "def verify_pasarkube_signature" in block)
    namespace: dict[str, Any] = {}
    exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 - our own documentation
    verifier: Callable[..., bool] = namespace["verify_pasarkube_signature"]
    return verifier


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool


@dataclass
class Receiver:
    """A partner's server: answers each POST with the next scripted answer (an int status, ("redirect", path)
    or ("sleep", seconds, status)), checks every signature with the documented snippet, and records requests."""

    secret: str = ""
    script: list[Any] = field(default_factory=list)
    default: Any = 200
    delay: float = 0.0  # seconds each answer takes (to make concurrent deliveries overlap)
    received: list[Received] = field(default_factory=list)
    in_flight: dict[str, int] = field(default_factory=dict)
    overlaps: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/pasarkube"

    def answer(self) -> Any:
        with self.lock:
            return self.script.pop(0) if self.script else self.default


def _handler(receiver: Receiver, verify: Callable[..., bool]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            delivery = self.headers.get("X-PasarKube-Delivery", "")
            with receiver.lock:
                if receiver.in_flight.get(delivery):
                    receiver.overlaps.append(delivery)
                receiver.in_flight[delivery] = receiver.in_flight.get(delivery, 0) + 1
                headers = {k.lower(): v for k, v in self.headers.items()}
                ok = verify(receiver.secret, headers.get("x-pasarkube-signature", ""), body)
                receiver.received.append(Received(self.path, headers, body, ok))
            try:
                answer = receiver.answer()
                if receiver.delay:
                    time.sleep(receiver.delay)
                if isinstance(answer, tuple) and answer[0] == "sleep":
                    time.sleep(answer[1])
                    answer = answer[2]
                if isinstance(answer, tuple) and answer[0] == "redirect":
                    self.send_response(302)
                    self.send_header("Location", answer[1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(int(answer))
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up waiting (a timeout test)
            finally:
                with receiver.lock:
                    receiver.in_flight[delivery] -= 1

    return Handler


def serve(receiver: Receiver) -> Iterator[Receiver]:
    """Run `receiver` on a free loopback port for the duration of a fixture."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver, documented_verifier()))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def make_endpoint(session: Session, url: str = "http://127.0.0.1:9/hook", events: tuple[str, ...] = (
        "order.placed", "order.paid", "order.status_changed", "order.cancelled", "order.refunded",
        "contract.created", "contract.delivery_recorded", "contract.delivery_confirmed", "contract.delivery_paid"),
                  *, active: bool = True, secret: str | None = None) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(url=url, description="Mitra logistik", events=list(events),
                               secret=secret or new_secret(), is_active=active)
    session.add(endpoint)
    session.flush()
    return endpoint


def make_delivery(session: Session, endpoint: WebhookEndpoint, *, status: DeliveryStatus = DeliveryStatus.PENDING,
                  attempts: int = 0, event_type: str = "order.paid", n: int = 0) -> WebhookDelivery:
    now = utcnow()
    delivery = WebhookDelivery(endpoint_id=endpoint.id, event_type=event_type,
                               event_id=f"00000000-0000-4000-8000-{n:012d}", status=status, attempts=attempts,
                               payload=f'{{"data":{{"order_id":{n}}},"id":"{n}","type":"{event_type}"}}',
                               next_attempt_at=now - timedelta(seconds=1), created_at=now,
                               last_status_code=500 if status != DeliveryStatus.PENDING else None,
                               last_error="HTTP 500" if status != DeliveryStatus.PENDING else None)
    session.add(delivery)
    session.flush()
    return delivery


def failed_delivery(session: Session) -> WebhookDelivery:
    return make_delivery(session, make_endpoint(session), status=DeliveryStatus.FAILED, attempts=1)
