"""Every HTML form POST without its CSRF token is refused with 400 and changes nothing."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.extensions import db
from tests import factories


def _snapshot(session: Session) -> dict[str, int]:
    return {t.name: session.scalar(select(func.count()).select_from(t)) or 0 for t in db.metadata.sorted_tables}


def _login_with_token(client: FlaskClient, email: str) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "the sign-in form carries a CSRF token"
    response = client.post("/auth/login", data={"email": email, "password": factories.PASSWORD,
                                                "csrf_token": token.group(1)})
    assert response.status_code == 302


def _post_routes(app: Flask) -> list[str]:
    """Every POST URL outside the bearer-token API, with made-up ids filled in."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()) or rule.rule.startswith("/api/"):
            continue
        values = {arg: "1" for arg in rule.arguments}
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(r"<(?:[^:<>]+:)?" + arg + r">", values[arg], url)
        url = re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", url)
        urls.append(url)
    return sorted(set(urls))


def test_there_are_forms_to_protect(csrf_app: Flask) -> None:
    assert len(_post_routes(csrf_app)) >= 10


def test_posts_without_csrf_token_are_refused(csrf_app: Flask, session: Session) -> None:
    world = factories.build_world(session)
    session.commit()
    client = csrf_app.test_client()
    _login_with_token(client, world.operator.email)
    before = _snapshot(session)
    for url in _post_routes(csrf_app):
        if url in ("/auth/login", "/payments/stripe/webhook"):
            continue  # the webhook is signed by Stripe instead (tests/payments/test_stripe.py)
        response = client.post(url.replace("/1/", f"/{world.product_a.id}/"),
                               data={"name": "Hacked", "price": "1", "role": "ketua", "email": "x@y.z"})
        assert response.status_code == 400, url
    session.expire_all()
    assert _snapshot(session) == before
    # Still signed in: the refused POSTs (including sign-out) did nothing.
    assert client.get("/auth/profile").status_code == 200


@pytest.mark.parametrize("path", ["/auth/register", "/auth/login"])
def test_public_forms_need_the_token(csrf_app: Flask, session: Session, path: str) -> None:
    client = csrf_app.test_client()
    response = client.post(path, data={"name": "A", "email": "a@example.com", "password": "long-enough-1",
                                       "confirm": "long-enough-1"})
    assert response.status_code == 400
    assert _snapshot(session)["users"] == 0
