"""A buyer's first visit on a phone: home -> KUBE page -> product page -> sign in, with screenshots."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import screenshot, sign_in

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "locale": "id-ID"}


def test_home_to_product_tosign_in(live_server: str, browser: Any) -> None:
    context = browser.new_context(**PHONE)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(live_server + "/")
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.locator(".product-card").count() >= 8
    screenshot(page, "01-home-phone")

    # Open a coconut KUBE in Banggai from the directory.
    page.goto(live_server + "/kube?province=72")
    screenshot(page, "02-kube-directory-phone")
    page.locator(".kube-card a").first.click()
    page.wait_for_load_state()
    assert "/kube/" in page.url
    assert "Banggai" in page.content()
    screenshot(page, "03-kube-storefront-phone")

    # Then one of its products.
    page.locator(".product-card a").first.click()
    page.wait_for_load_state()
    assert re.search(r"/product/\d+/", page.url)
    assert re.search(r"Rp\d{1,3}(\.\d{3})*", page.locator(".price-lg").inner_text())
    assert page.locator("img[alt]").count() >= 1
    screenshot(page, "04-product-phone")

    # Sign in as the ketua of the Banggai coconut KUBE (menu is collapsed on a phone).
    page.locator(".navbar-toggler").click()
    page.get_by_role("link", name=re.compile("Masuk|Sign in")).click()
    page.wait_for_load_state()
    page.fill("input[name=email]", "ketua@pasarkube.test")
    page.fill("input[name=password]", "pasarkube-demo")
    screenshot(page, "05-sign-in-phone")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(live_server + "/my-kube/")
    assert page.locator("table, .product-row, .card").count() > 0
    screenshot(page, "06-my-kube-phone")

    # Everything came from this server: no CDN, fonts or scripts from the internet.
    outside = [url for url in requests if not url.startswith(live_server) and not url.startswith("data:")]
    assert outside == []
    assert errors == []
    context.close()


def test_desktop_home_in_english(live_server: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.goto(live_server + "/?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    screenshot(page, "07-home-desktop-en")
    context.close()



def test_member_facilitator_and_operator_pages(live_server: str, browser: Any) -> None:
    """The working pages of the other roles, on a phone, in Indonesian."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    sign_in(page, live_server, "ketua@pasarkube.test")
    page.goto(live_server + "/my-kube/")
    page.get_by_role("link", name=re.compile("Tambah produk")).first.click()
    page.wait_for_load_state()
    assert page.locator("input[name=name]").count() == 1
    screenshot(page, "08-add-product-phone", full_page=False)
    page.goto(live_server + "/my-kube/kube-nyiur-melambai/profile")
    assert "Rekening" in page.content()  # the ketua sees the payout account
    screenshot(page, "09-kube-profile-phone")
    context.close()

    context = browser.new_context(**PHONE)
    page = context.new_page()
    sign_in(page, live_server, "pendamping@pasarkube.test")
    page.goto(live_server + "/facilitator/")
    assert page.locator("form[action*='/approve']").count() >= 1
    screenshot(page, "10-review-queue-phone")
    context.close()

    context = browser.new_context(**PHONE)
    page = context.new_page()
    sign_in(page, live_server, "admin@pasarkube.test")
    page.goto(live_server + "/admin/users")
    screenshot(page, "11-operator-users-phone")
    context.close()
