"""A buyer orders on a phone (product page -> cart -> sign in -> checkout -> bank transfer), the operator
confirms the transfer, and a KUBE member packs the order and marks it ready; screenshots on the way."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import screenshot, sign_in

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "locale": "id-ID"}


def test_buyer_orders_and_the_kube_ships(live_server: str, browser: Any) -> None:
    errors: list[str] = []
    buyer = browser.new_context(**PHONE)
    page = buyer.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    # A guest finds a product of KUBE Nyiur Melambai and puts two in the cart.
    page.goto(live_server + "/kube/kube-nyiur-melambai")
    page.locator(".product-card a").first.click()
    page.wait_for_load_state()
    product = page.locator("h1").inner_text()
    page.fill("#qty", "2")
    page.get_by_role("button", name="Masukkan keranjang").click()
    page.wait_for_load_state()
    assert "Ditambahkan ke keranjang" in page.content()
    page.goto(live_server + "/cart")
    assert product in page.content()
    screenshot(page, "16-cart-phone")

    # Checking out asks to sign in; the guest cart follows into the account.
    page.get_by_role("link", name="Lanjut ke pembayaran").click()
    page.wait_for_load_state()
    assert "/auth/login" in page.url
    page.fill("input[name=email]", "pembeli@pasarkube.test")
    page.fill("input[name=password]", "pasarkube-demo")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    if "/checkout" not in page.url:
        page.goto(live_server + "/checkout")
    assert product in page.content()
    screenshot(page, "17-checkout-phone")
    page.get_by_role("button", name="Buat pesanan").click()
    page.wait_for_load_state()
    assert re.search(r"/orders/checkout/\d+$", page.url)
    amount = page.locator("#amount-due").inner_text()
    assert re.fullmatch(r"Rp\d{1,3}(\.\d{3})+", amount)
    screenshot(page, "18-order-placed-phone")

    # The operator sees the transfer arrive and confirms it.
    operator = browser.new_context(**PHONE)
    admin = operator.new_page()
    admin.on("dialog", lambda dialog: dialog.accept())
    sign_in(admin, live_server, "admin@pasarkube.test")
    admin.goto(live_server + "/admin/payments")
    assert amount in admin.content()
    admin.get_by_role("button", name=re.compile("Konfirmasi transfer")).first.click()
    admin.wait_for_load_state()
    assert "sudah dikonfirmasi" in admin.content()
    operator.close()

    # The ketua accepts, packs and marks the order ready for pickup.
    kube = browser.new_context(**PHONE)
    member = kube.new_page()
    sign_in(member, live_server, "ketua@pasarkube.test")
    member.goto(live_server + "/my-kube/kube-nyiur-melambai/orders")
    screenshot(member, "19-kube-orders-phone")
    member.locator("a[href*='/orders/']").filter(has_text="#").first.click()
    member.wait_for_load_state()
    member.get_by_role("button", name="Terima dan kemas").click()
    member.wait_for_load_state()
    member.get_by_role("button", name="Siap diambil").click()
    member.wait_for_load_state()
    assert "siap diambil" in member.content()
    screenshot(member, "20-kube-order-shipped-phone")
    kube.close()

    # The buyer sees the order's history.
    page.goto(live_server + "/orders")
    page.locator(".list-group-item a").first.click()
    page.wait_for_load_state()
    assert "Dikirim" in page.content() and "Pesanan sudah saya terima" in page.content()
    screenshot(page, "21-buyer-order-phone")

    # The buyer collects it, confirms receipt and rates the product and the KUBE.
    page.get_by_role("button", name="Pesanan sudah saya terima").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Nilai pesanan ini").click()
    page.wait_for_load_state()
    page.locator(".rating-input").first.locator("label").nth(4).click()  # five stars, as a thumb does
    page.locator("textarea").first.fill("Minyaknya jernih dan harum.")
    page.locator("label[for='kube_rating-4']").click()
    screenshot(page, "22-review-form-phone")
    page.get_by_role("button", name="Kirim ulasan").click()
    page.wait_for_load_state()
    assert "Terima kasih atas ulasan Anda" in page.content()
    page.goto(live_server + "/kube/kube-nyiur-melambai")
    assert "Minyaknya jernih dan harum." in page.content() or "Kata pembeli" in page.content()
    assert errors == []
    buyer.close()

    # The KUBE's ledger shows the sale, minus the platform's fee.
    kube = browser.new_context(**PHONE)
    member = kube.new_page()
    sign_in(member, live_server, "ketua@pasarkube.test")
    member.goto(live_server + "/my-kube/kube-nyiur-melambai/ledger")
    assert "Biaya platform" in member.content() and "Penjualan" in member.content()
    screenshot(member, "23-kube-ledger-phone")
    kube.close()
