"""Sourcing on a phone, with the demo's order takers and the Banggai chain: the soap exporter's dashboard
(a late week, a delivery to confirm, a KUBE's quote waiting) and accepting that quote; a KUBE recording the
joint products of one split of nuts; a delivered soap lot traced back to the three KUBEs that made it; and
the facilitator's revenue report and chain editor."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import fits, phone, screenshot, sign_in

pytestmark = pytest.mark.e2e

CHAIN = "kelapa-terpadu-banggai"


def test_the_order_taker_accepts_a_quote_and_traces_a_lot(live_server: str, browser: Any) -> None:
    context, page, errors = phone(browser)
    sign_in(page, live_server, "offtaker@pasarkube.test")
    page.goto(live_server + "/sourcing")
    html = page.content()
    assert "list-group-item-danger" in html  # the short week is late
    assert "KUBE Mutiara Kelapa" in html and "Minyak kelapa" in html  # the quote waiting
    fits(page)
    screenshot(page, "27-order-taker-dashboard")

    page.locator("form[action*='/accept'] button[type=submit]").first.click()
    page.wait_for_load_state()
    assert re.search(r"/sourcing/contracts/\d+", page.url), page.url
    assert "KUBE Mutiara Kelapa" in page.content()
    fits(page)
    screenshot(page, "28-new-contract")

    # The soap contract: its deliveries, and the lot of one traced back to every KUBE.
    page.goto(live_server + "/sourcing")
    page.locator("li", has_text="Sabun kelapa").locator("a[href*='/sourcing/contracts/']").first.click()
    page.wait_for_load_state()
    page.locator("a[href^='/lots/']").first.click()
    page.wait_for_load_state()
    html = page.content()
    for kube in ("KUBE Busa Nyiur", "KUBE Mutiara Kelapa", "KUBE Nyiur Melambai"):
        assert kube in html
    assert "PT Sabun Nusantara Ekspor" in html
    fits(page)
    screenshot(page, "29-lot-trace")
    assert errors == []
    context.close()


def test_a_kube_records_the_joint_products_of_a_split(live_server: str, browser: Any) -> None:
    context, page, errors = phone(browser)
    sign_in(page, live_server, "ketua@pasarkube.test")  # ketua of KUBE Nyiur Melambai, which splits nuts
    page.goto(live_server + "/my-kube/kube-nyiur-melambai/sourcing")
    form = page.locator("form[action$='/sourcing/lots#new-lot']")
    form.locator("input[name=item_name]").fill("Kelapa butir")
    form.locator("select[name=unit]").select_option("butir")
    form.locator("input[name=quantity]").fill("400")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    nuts = re.search(r"LOT-[A-Z0-9]{7}", page.locator(".alert-success").inner_text())
    assert nuts is not None

    form = page.locator("form[action$='/sourcing/lots#new-lot']")
    form.locator("select[name=output]").select_option(f"{CHAIN}/kupas-belah/daging-kelapa")
    form.locator("input[name=quantity]").fill("140")
    for row, (item, made) in enumerate((("tempurung", "60"), ("air-kelapa", "125"), ("sabut", "175"))):
        form.locator(f"select[name=joint-{row}-output]").select_option(f"{CHAIN}/kupas-belah/{item}")
        form.locator(f"input[name=joint-{row}-quantity]").fill(made)
    form.locator("input[name=sources-0-lot_code]").fill(nuts.group(0))
    form.locator("input[name=sources-0-quantity]").fill("400")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    codes = re.findall(r"LOT-[A-Z0-9]{7}", page.locator(".alert-success").inner_text())
    assert len(codes) == 4
    # The meat goes to the oil KUBE: handed over, so that KUBE may make its oil from it.
    handover = page.locator(f"form[action$='/lots/{codes[0]}/handover']")
    handover.locator("select[name=kube]").select_option(label="KUBE Mutiara Kelapa")
    handover.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert codes[0] in page.locator(".alert-success").inner_text()
    fits(page)
    screenshot(page, "30-kube-sourcing")
    page.goto(live_server + f"/lots/{codes[0]}")
    assert nuts.group(0) in page.content()
    assert errors == []
    context.close()


def test_the_facilitator_reads_the_revenue_and_edits_the_chain(live_server: str, browser: Any) -> None:
    context, page, errors = phone(browser)
    sign_in(page, live_server, "pendamping@pasarkube.test")
    page.goto(live_server + f"/chains/{CHAIN}/revenue")
    html = page.content()
    for kube in ("KUBE Busa Nyiur", "KUBE Mutiara Kelapa", "KUBE Nyiur Melambai", "KUBE Sinar Tempurung"):
        assert kube in html
    fits(page)
    screenshot(page, "31-chain-revenue")
    page.goto(live_server + f"/chains/{CHAIN}/edit")
    assert "Kupas &amp; belah kelapa" in page.content() or "Kupas & belah kelapa" in page.content()
    fits(page)
    screenshot(page, "32-chain-edit", full_page=False)
    assert errors == []
    context.close()
