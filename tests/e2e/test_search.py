"""A buyer searches on a phone: completions while typing, highlighted results, facets, a typo corrected."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "locale": "id-ID"}


def wait_for_index(base: str) -> None:
    """The live app's indexer thread builds the index after the first request; wait for it."""
    deadline = time.monotonic() + 30
    while True:
        with urllib.request.urlopen(base + "/api/v1/search?q=kelapa") as response:  # noqa: S310 - loopback
            if not json.load(response)["degraded"]:
                return
        assert time.monotonic() < deadline, "the search index was not built"
        time.sleep(0.2)


def test_search_on_a_phone(live_server: str, browser: Any) -> None:
    wait_for_index(live_server)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(live_server + "/")

    # Completions as you type come from product and category names.
    page.fill("#site-search", "miny")
    page.locator("#site-search-suggestions option").first.wait_for(state="attached")
    options = page.eval_on_selector_all("#site-search-suggestions option", "els => els.map(e => e.value)")
    assert "minyak" in options

    page.fill("#site-search", "minyak kelapa")
    page.press("#site-search", "Enter")
    page.wait_for_load_state()
    assert "/search?q=minyak+kelapa" in page.url
    first = page.locator(".product-card").first
    assert first.locator("mark").count() >= 1
    total = int(page.locator("#result-count").inner_text().split()[0])
    assert total >= 3
    screenshot(page, "12-search-results-phone")

    # Filters fold away on a phone; pick a category, then sort by price.
    page.get_by_role("button", name="Filter").click()
    page.locator("#facets").wait_for(state="visible")
    screenshot(page, "13-search-filters-phone", full_page=False)
    page.locator("#facets a.facet-link", has_text="Sabun").first.click()
    page.wait_for_load_state()
    assert "category=soap-care" in page.url
    assert int(page.locator("#result-count").inner_text().split()[0]) < total
    with page.expect_navigation():
        page.select_option("#sort", "price_asc")  # the menu applies at once (static/js/search.js)
    assert "sort=price_asc" in page.url

    # A typo: no results, and a suggestion that finds them.
    page.fill("#site-search", "kelpa")
    page.press("#site-search", "Enter")
    page.wait_for_load_state()
    assert "Mungkin maksud Anda" in page.content()
    screenshot(page, "14-search-typo-phone")
    page.locator(".suggestion a").click()
    page.wait_for_load_state()
    assert "q=kelapa" in page.url and page.locator(".product-card").count() > 0
    assert errors == []
    context.close()


def test_search_on_a_desktop_in_english(live_server: str, browser: Any) -> None:
    wait_for_index(live_server)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.goto(live_server + "/search?q=kelapa&lang=en")
    assert page.locator("#facets").is_visible()
    assert "Did you mean" not in page.content()
    screenshot(page, "15-search-desktop-en")
    context.close()
