"""The programme's side on a phone, with the demo's 18 months of history: a facilitator files a field visit
report with a photo and downloads the month's PDF; a ketua writes an expense into the cash book; the
ministry reads graduation readiness and the demand insights; a published success story."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests import factories
from tests.e2e.conftest import fits, phone, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.demo_history]

KUBE = "kube-nyiur-melambai"


def _today() -> datetime:
    return datetime.now(UTC).astimezone(ZoneInfo("Asia/Jakarta"))


def test_a_facilitator_files_a_visit_report_and_downloads_the_pdf(live_server: str, browser: Any,
                                                                  tmp_path: Path) -> None:
    context, page, errors = phone(browser, accept_downloads=True)
    sign_in(page, live_server, "pendamping@pasarkube.test")
    page.goto(live_server + "/facilitator/kubes")
    assert "KUBE Nyiur Melambai" in page.content()
    fits(page)
    screenshot(page, "33-facilitator-kubes")

    page.locator(f"a[href='/facilitator/kubes/{KUBE}']").first.click()
    page.wait_for_load_state()
    assert 'class="month-chart"' in page.content()
    fits(page)
    screenshot(page, "34-facilitator-kube")

    page.locator(f"a[href='/facilitator/kubes/{KUBE}/visits/new']").first.click()
    page.wait_for_load_state()
    photo = tmp_path / "kunjungan.png"
    photo.write_bytes(factories.png_bytes((800, 600), (40, 140, 90)))
    today = _today()
    page.fill("input[name=visited_on]", today.strftime("%Y-%m-%d"))
    page.fill("textarea[name=notes]", "Memeriksa pengeringan kopra dan buku kas bersama bendahara.")
    page.check("input[name=guidance_given]")
    page.check("input[name=business_monitored]")
    page.check("input[name=bookkeeping_checked]")
    page.check("input[name=problems_found]")
    page.fill("textarea[name=problems]", "Oven pengering bocor; kopra berjamur sebagian.")
    page.fill("textarea[name=follow_up]", "Ajukan perbaikan oven ke Dinas Sosial.")
    page.set_input_files("input[name=photos]", str(photo))
    fits(page)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    assert "/facilitator/visits/" in page.url, page.url
    html = page.content()
    assert "Oven pengering bocor" in html and "/facilitator/visit-photos/" in html
    fits(page)
    screenshot(page, "35-visit-report")

    page.goto(f"{live_server}/facilitator/kubes/{KUBE}")
    page.fill("input[name=month]", today.strftime("%Y-%m"))
    with page.expect_download() as download_info:
        page.locator("button[formaction$='report.pdf']").click()
    pdf = Path(download_info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    assert b"KUBE Nyiur Melambai" in pdf and b"Oven pengering bocor" in pdf
    assert errors == []
    context.close()


def test_a_ketua_keeps_the_cash_book(live_server: str, browser: Any) -> None:
    context, page, errors = phone(browser, accept_downloads=True)
    sign_in(page, live_server, "ketua@pasarkube.test")
    page.goto(f"{live_server}/my-kube/{KUBE}")
    assert 'class="month-chart"' in page.content()
    page.goto(f"{live_server}/my-kube/{KUBE}/books")
    form = page.locator("form[action*='/books/entries']")
    form.locator("select[name=category]").select_option("transport")
    form.locator("input[name=amount]").fill("35.000")
    form.locator("textarea[name=note]").fill("Sewa pikap ke Luwuk")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    html = page.content()
    assert "Sewa pikap ke Luwuk" in html and "Rp35.000" in html
    fits(page)
    screenshot(page, "36-cash-book")
    assert errors == []
    context.close()


def test_the_ministry_reads_readiness_and_insights(live_server: str, browser: Any) -> None:
    context, page, errors = phone(browser, accept_downloads=True)
    sign_in(page, live_server, "kemensos@pasarkube.test")
    page.goto(live_server + "/graduation")
    html = page.content()
    assert "KUBE" in html
    fits(page)
    screenshot(page, "37-graduation")
    page.goto(live_server + "/insights")
    html = page.content()
    assert "Sulawesi Tengah" in html
    fits(page)
    screenshot(page, "38-insights")
    page.goto(live_server + "/stories")
    page.locator("a[href^='/stories/']").first.click()
    page.wait_for_load_state()
    fits(page)
    screenshot(page, "39-success-story")
    assert errors == []
    context.close()
