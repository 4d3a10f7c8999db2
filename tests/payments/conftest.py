"""A real fake Stripe: localstripe, started once per test run on a loopback port, and an app wired to it
(served over HTTP on loopback too, so that localstripe can deliver signed webhooks to it)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from marketplace.extensions import db
from tests import factories
from tests.conftest import _empty_all_tables, make_app

WEBHOOK_SECRET = "whsec_test_pasarkube"
# localstripe keeps its objects in memory only here (by default it pickles them to a fixed file, which two
# runs at once would share).
LOCALSTRIPE = (
    "import sys; from aiohttp import web; import localstripe.resources as r; "
    "r.Store.dump_to_disk = lambda self: None; r.Store.try_load_from_disk = lambda self: None; "
    "from localstripe.server import app; web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), print=None)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def localstripe() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-c", LOCALSTRIPE, str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/js.stripe.com/v3/", timeout=2):  # noqa: S310 - loopback
                break
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("localstripe did not start")
            time.sleep(0.1)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class StripeWorld:
    app: Flask
    url: str  # where the app is served
    stripe_base: str

    def register_webhook(self) -> None:
        """Tell localstripe to send its payment events to this app (replacing an earlier test's app)."""
        data = (f"url={self.url}/payments/stripe/webhook&secret={WEBHOOK_SECRET}"
                "&events[]=payment_intent.succeeded&events[]=payment_intent.payment_failed").encode()
        request = urllib.request.Request(f"{self.stripe_base}/_config/webhooks/pasarkube", data=data,  # noqa: S310 - loopback
                                         method="POST")
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - loopback
            pass


def stripe_config(base: str) -> dict[str, object]:
    return {
        "STRIPE_SECRET_KEY": "sk_test_pasarkube",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_pasarkube",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": base,
        "STRIPE_JS_URL": f"{base}/js.stripe.com/v3/",
    }


@pytest.fixture
def stripe_world(localstripe: str, database_url: str, tmp_path: Path) -> Iterator[StripeWorld]:
    """The app with card payments on (against localstripe), served on a loopback port in a thread."""
    app = make_app(database_url, tmp_path, **stripe_config(localstripe))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with app.app_context():
        try:
            yield StripeWorld(app, f"http://127.0.0.1:{server.server_port}", localstripe)
        finally:
            server.shutdown()
            db.session.rollback()
            _empty_all_tables()
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def card_world(stripe_world: StripeWorld) -> factories.World:
    """The usual two KUBEs, buyer and operator, in the card-payments app's database."""
    world = factories.build_world(db.session)  # type: ignore[arg-type]
    db.session.commit()
    return world
