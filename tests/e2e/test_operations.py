"""Running the platform, on a phone: a buyer resets a forgotten password from the e-mailed link and downloads
their data; an operator reads the audit log and adds a partner's webhook endpoint."""

from __future__ import annotations

import json
import re
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import fits, phone, screenshot, sign_in

pytestmark = pytest.mark.e2e

BUYER = "pembeli@pasarkube.test"


def _reset_link(mail_dir: Path) -> str:
    """The link in the newest e-mail written for the buyer (without SMTP, mail is kept as .eml files)."""
    messages = sorted(mail_dir.glob("*.eml"), key=lambda path: path.stat().st_mtime)
    assert messages, "no e-mail was written"
    message = message_from_bytes(messages[-1].read_bytes(), policy=policy.default)
    assert message["To"] == BUYER
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(r"https?://\S+/auth/reset/\S+", body.get_content())
    assert found, body.get_content()
    return found.group(0)


def test_a_buyer_resets_the_password_and_downloads_their_data(live_server: str, browser: Any,
                                                               tmp_path: Path) -> None:
    context, page, errors = phone(browser, accept_downloads=True)
    page.goto(live_server + "/auth/login")
    page.locator("a[href$='/auth/reset']").click()
    page.wait_for_load_state()
    page.fill("input[name=email]", BUYER)
    fits(page)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()

    page.goto(_reset_link(tmp_path / "mail"))
    page.fill("input[name=password]", "kata-sandi-baru-123")
    page.fill("input[name=confirm]", "kata-sandi-baru-123")
    fits(page)
    screenshot(page, "40-reset-password")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()

    assert page.url.rstrip("/") == live_server  # signed in with the new password, on the home page
    assert errors == []
    context.close()

    context, page, errors = phone(browser, accept_downloads=True)  # another device: the new password works
    sign_in(page, live_server, BUYER, "kata-sandi-baru-123")
    page.goto(live_server + "/account/privacy")
    assert "UU PDP" in page.content()
    fits(page)
    screenshot(page, "41-my-data")
    with page.expect_download() as download_info:
        page.locator("a[href$='/account/privacy/download']").click()
    data = json.loads(Path(download_info.value.path()).read_text(encoding="utf-8"))
    assert BUYER in json.dumps(data)
    assert errors == []
    context.close()


def test_an_operator_reads_the_audit_log_and_adds_a_webhook(live_server: str, browser: Any) -> None:
    context, page, errors = phone(browser)
    sign_in(page, live_server, "admin@pasarkube.test")
    page.goto(live_server + "/admin/audit/?action=order.status_changed")
    html = page.content()
    assert "audit" in html.lower() and "Pesanan #" in html  # the demo's orders went through the services
    fits(page)
    screenshot(page, "42-audit-log", full_page=False)

    page.goto(live_server + "/admin/webhooks/new")
    page.fill("input[name=url]", "http://127.0.0.1:8999/pasarkube/webhook")  # private: allowed outside production
    page.fill("input[name=description]", "PT Sabun Nusantara Ekspor: sistem pesanan")
    page.check("input[name=events][value='order.paid']")
    page.check("input[name=events][value='contract.delivery_confirmed']")
    fits(page)
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()
    html = page.content()
    assert "127.0.0.1:8999/pasarkube/webhook" in html
    assert page.locator("#webhook-secret").inner_text().startswith("whsec_")
    fits(page)
    screenshot(page, "43-webhook-secret")
    assert errors == []
    context.close()
