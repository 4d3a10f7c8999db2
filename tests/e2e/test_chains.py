"""An order taker's view of the coconut chain on a phone: the diagram, then a week's demand planned."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "locale": "id-ID"}


def test_the_coconut_chain_on_a_phone(live_server: str, browser: Any) -> None:
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server + "/chains")
    page.get_by_role("link", name="Kelapa Terpadu Banggai").click()
    page.wait_for_load_state()
    box = page.locator("svg.chain-diagram").bounding_box()
    assert box is not None and box["width"] <= 390  # fits the phone, no sideways scrolling
    screenshot(page, "25-chain-phone")
    page.fill("#d-sabun-kelapa", "1000")
    page.fill("#d-air-kelapa-kemasan", "2000")
    page.fill("#d-arang-tempurung", "500")
    page.get_by_role("button", name="Hitung rencana").click()
    page.wait_for_load_state()
    assert "11.112" in page.content()
    screenshot(page, "26-chain-plan-phone")
    assert errors == []
    context.close()
