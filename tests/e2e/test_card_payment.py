"""A buyer pays by card on a phone: the checkout offers cards when Stripe keys are set, the payment page loads
Stripe.js from the configured address (here localstripe's fake Stripe.js on loopback), the card is charged at
the fake Stripe, and its signed webhook marks the orders paid."""

from __future__ import annotations

import re
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe
from flask import Flask
from werkzeug.serving import make_server

from marketplace.extensions import db
from tests.conftest import make_app
from tests.e2e.conftest import screenshot
from tests.payments.conftest import WEBHOOK_SECRET, localstripe, stripe_config  # noqa: F401 - a fixture

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "locale": "id-ID"}


@pytest.fixture
def card_server(app: Flask, database_url: str, tmp_path: Path, localstripe: str) -> Iterator[str]:  # noqa: F811
    from marketplace.demo.loader import load_demo

    load_demo(db.session, app.config["MEDIA_ROOT"], history=False)
    db.session.commit()
    served = make_app(database_url, tmp_path, MEDIA_ROOT=app.config["MEDIA_ROOT"], WTF_CSRF_ENABLED=True,
                      **stripe_config(localstripe))
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    data = (f"url={url}/payments/stripe/webhook&secret={WEBHOOK_SECRET}"
            "&events[]=payment_intent.succeeded").encode()
    request = urllib.request.Request(f"{localstripe}/_config/webhooks/pasarkube", data=data, method="POST")  # noqa: S310
    urllib.request.urlopen(request, timeout=5).close()  # noqa: S310 - loopback
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        with served.app_context():
            db.engine.dispose()


def test_card_checkout_on_a_phone(card_server: str, localstripe: str, browser: Any) -> None:  # noqa: F811
    errors: list[str] = []
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error} {error.stack}"))
    # localstripe's fake Stripe.js declares a global `class Element`, which hides the DOM's Element from every
    # script of the page; Bootstrap's event code then fails on the card page. The real Stripe.js does not.
    shadowed = "Cannot read properties of undefined (reading 'call')"
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(
        ("http://127.0.0.1", "data:")) else None)

    page.goto(card_server + "/auth/login")
    page.fill("input[name=email]", "pembeli@pasarkube.test")
    page.fill("input[name=password]", "pasarkube-demo")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(card_server + "/kube/kube-nyiur-melambai")
    page.locator(".product-card a").first.click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Masukkan keranjang").click()
    page.wait_for_load_state()
    page.goto(card_server + "/checkout")
    page.get_by_label("Kartu (Visa, Mastercard)").check()
    page.get_by_role("button", name="Buat pesanan").click()
    page.wait_for_load_state()
    assert re.search(r"/orders/checkout/\d+$", page.url)
    # The card field comes from the configured Stripe.js (localstripe draws its own fake inputs).
    page.wait_for_selector("#card-element input")
    assert "localstripe" in page.locator("#card-element").inner_text()
    screenshot(page, "24-card-payment-phone")

    # The card is charged at the (fake) Stripe; its signed webhook reaches the app and pays the order.
    secret = page.locator("#card-form").get_attribute("data-client-secret") or ""
    intent_id = secret.split("_secret_")[0]
    client = stripe.StripeClient("sk_test_pasarkube", base_addresses={"api": localstripe})
    client.v1.payment_intents.update(intent_id, params={"payment_method": "pm_card_visa"})
    client.v1.payment_intents.confirm(intent_id)
    for _ in range(60):
        page.reload()
        if "Tidak ada lagi yang perlu dibayar" in page.content():
            break
        page.wait_for_timeout(250)
    assert "Tidak ada lagi yang perlu dibayar" in page.content()
    page.locator(".list-group-item a").first.click()
    page.wait_for_load_state()
    assert "Dibayar" in page.content()
    assert [e for e in errors if not (shadowed in e and "bootstrap" in e)] == [] and outside == []
    context.close()
