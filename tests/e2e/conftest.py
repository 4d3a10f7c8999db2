"""A live Pasar KUBE on a loopback port with the demo data, and headless Chromium (Debian's) to drive it."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from marketplace.extensions import db
from tests.conftest import make_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = pytest.mark.e2e


@pytest.fixture
def live_server(app: Flask, database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """Serve the app (same database and media as `app`) with the demo data loaded; yields the base URL.

    The demo's 18 months of history orders are loaded only for tests marked `demo_history` (they take most
    of a demo load's time)."""
    from marketplace.demo.loader import load_demo

    load_demo(db.session, app.config["MEDIA_ROOT"],
              history=request.node.get_closest_marker("demo_history") is not None)
    db.session.commit()
    served = make_app(database_url, tmp_path, MEDIA_ROOT=app.config["MEDIA_ROOT"], WTF_CSRF_ENABLED=True,
                      SEARCH_INDEXER="thread", SEARCH_INTERVAL=0.2)
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        served.extensions["search"].indexer.stop()
        with served.app_context():
            db.engine.dispose()


@pytest.fixture
def browser() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page: Any, name: str, *, full_page: bool = True) -> None:
    """A PNG in docs/screenshots/, after scrolling once so that lazy images have loaded.

    Pages with a sticky bottom bar read better as one screen (full_page=False)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate("document.body.scrollHeight")
    for y in range(0, height + 800, 800):
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(50)
    page.wait_for_load_state("networkidle")
    page.wait_for_function("Array.from(document.images).every(img => img.complete)", timeout=10_000)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def sign_in(page: Any, base: str, email: str, password: str = "pasarkube-demo") -> None:
    """Sign in through the real form (the demo accounts share one password)."""
    page.goto(base + "/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A browser that moves on to the next page drops the downloads still running (a thumbnail half sent);
    the development server then leaves that file to the garbage collector, which warns. That is the browser
    being a browser, not a leak of ours: ignore exactly that warning in browser tests."""
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning"))
            item.add_marker(pytest.mark.filterwarnings(
                "ignore:Exception ignored in. <_io.FileIO:pytest.PytestUnraisableExceptionWarning"))


PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "locale": "id-ID"}


def phone(browser: Any, **options: Any) -> tuple[Any, Any, list[str]]:
    """A phone-sized page (Indonesian) that accepts confirmation dialogs and collects script errors."""
    context = browser.new_context(**PHONE, **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())
    return context, page, errors


def fits(page: Any) -> None:
    """No sideways scrolling on the phone."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["viewport"]["width"], width  # type: ignore[index]
