"""axe-core in Chromium: the main pages have no serious or critical accessibility violations."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

PUBLIC = ["/", "/products", "/products?q=kelapa", "/search?q=minyak+kelapa", "/search?q=kelpa", "/kube", "/auth/login",
          "/auth/register"]
SIGNED_IN = {
    "ketua@pasarkube.test": ["/my-kube/", "/auth/profile"],
    "pendamping@pasarkube.test": ["/facilitator/"],
    "admin@pasarkube.test": ["/admin/", "/admin/categories", "/admin/users"],
}


def _serious(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]



def test_main_pages_have_no_serious_violations(live_server: str, browser: Any) -> None:
    pytest.importorskip("axe_playwright_python")
    problems: dict[str, list[str]] = {}
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    for path in PUBLIC:
        page.goto(live_server + path)
        problems[path] = _serious(page)
    # A KUBE storefront and a product page, reached as a buyer would.
    page.goto(live_server + "/kube?province=72")
    page.locator(".kube-card a").first.click()
    page.wait_for_load_state()
    problems[page.url] = _serious(page)
    page.locator(".product-card a").first.click()
    page.wait_for_load_state()
    problems[page.url] = _serious(page)
    context.close()
    for email, paths in SIGNED_IN.items():
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        sign_in(page, live_server, email)
        for path in paths:
            page.goto(live_server + path)
            problems[f"{email} {path}"] = _serious(page)
        context.close()
    failing = [f"{page_}: {issue}" for page_, issues in problems.items() for issue in issues]
    assert not failing, "\n".join(failing)
