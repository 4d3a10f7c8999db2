"""Security headers on every kind of response, cookie flags, and a fresh session cookie on sign-in."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.web import PERMISSIONS_POLICY, content_security_policy
from tests import factories
from tests.factories import World
from tests.other_app import other_app

RESPONSES = {
    "page": "/",
    "form": "/auth/login",
    "not found page": "/no-such-page",
    "api": "/api/v1/products",
    "api error": "/api/v1/products/999999",
    "static file": "/static/js/" + "card-payment.js",
    "health": "/healthz",
}


def _directives(policy: str) -> dict[str, list[str]]:
    parts = [p.split() for p in policy.split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


@pytest.mark.parametrize("path", RESPONSES.values(), ids=RESPONSES.keys())
def test_every_response_has_the_headers(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    response.close()
    headers = response.headers
    csp = _directives(headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no CDN
    assert csp["style-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Permissions-Policy"] == PERMISSIONS_POLICY
    permissions = dict(item.strip().split("=") for item in PERMISSIONS_POLICY.split(","))
    assert permissions == {"camera": "()", "microphone": "()", "geolocation": "()", "payment": "()", "usb": "()"}
    assert "Strict-Transport-Security" not in headers  # plain http in development: HSTS would be wrong


def test_hsts_in_production(app: Flask, client: FlaskClient) -> None:
    app.config["ENV_NAME"] = "production"
    assert client.get("/").headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_policy_with_card_payments_stays_strict() -> None:
    csp = _directives(content_security_policy({
        "STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_JS_URL": "https://js.stripe.com/v3/", "STRIPE_API_BASE": ""}))
    assert csp["script-src"] == ["'self'", "https://js.stripe.com"]
    assert csp["frame-src"] == ["https://js.stripe.com", "https://hooks.stripe.com"]
    assert csp["connect-src"] == ["'self'", "https://api.stripe.com", "https://js.stripe.com"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'self'"]
    # Card details go to Stripe through Stripe.js (fetch, not a form post), so forms still only post here.
    assert csp["form-action"] == ["'self'"] and csp["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value for values in csp.values() for value in values)


def _set_cookies(response: object, name: str) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]  # type: ignore[attr-defined]


def test_sign_in_cookies_are_http_only_and_same_site(client: FlaskClient, world: World) -> None:
    response = client.post("/auth/login", data={"email": world.buyer.email, "password": factories.PASSWORD,
                                                "remember": "y"})
    assert response.status_code == 302
    for name in ("session", "remember_token"):
        [cookie] = _set_cookies(response, name)
        flags = [part.strip().lower() for part in cookie.split(";")]
        assert "httponly" in flags and "samesite=lax" in flags, cookie
        assert "secure" not in flags  # development runs on plain http


def test_cookies_are_secure_in_production(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          world: World) -> None:
    monkeypatch.setenv("MARKETPLACE_ENV", "production")
    monkeypatch.setenv("MARKETPLACE_SECRET_KEY", "a-long-random-production-secret-0123456789")
    monkeypatch.setenv("MARKETPLACE_BASE_URL", "https://localhost")
    monkeypatch.setenv("MARKETPLACE_SMTP_HOST", "smtp.example.net")
    with other_app(database_url, tmp_path) as app:
        response = app.test_client().post("/auth/login", base_url="https://localhost", data={
            "email": world.buyer.email, "password": factories.PASSWORD, "remember": "y"})
    assert response.status_code == 302
    for name in ("session", "remember_token"):
        [cookie] = _set_cookies(response, name)
        flags = [part.strip().lower() for part in cookie.split(";")]
        assert {"secure", "httponly", "samesite=lax"} <= set(flags), cookie


def test_sign_in_starts_a_new_session(app: Flask, world: World) -> None:
    """Session fixation: a cookie from before the sign-in (one an attacker may have planted) never becomes a
    signed-in session; the browser gets a new one."""
    browser = app.test_client()
    browser.get("/?lang=en")  # an anonymous session with something in it
    before = browser.get_cookie("session")
    assert before is not None
    response = browser.post("/auth/login", data={"email": world.buyer.email, "password": factories.PASSWORD})
    assert response.status_code == 302
    after = browser.get_cookie("session")
    assert after is not None and after.value != before.value
    assert browser.get("/auth/profile").status_code == 200
    # Whoever kept the old cookie is still a stranger.
    attacker = app.test_client()
    attacker.set_cookie("session", before.value)
    assert attacker.get("/auth/profile").status_code == 302
    # The language chosen before signing in is kept (only that and a guest's cart carry over).
    assert 'lang="en"' in browser.get("/").get_data(as_text=True)
