"""POST /api/v1/auth/token: trade an e-mail and password for a bearer token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.auth.models import ApiToken
from tests import factories
from tests.api.support import assert_error

URL = "/api/v1/auth/token"


def _credentials(who: str, password: str = factories.PASSWORD) -> dict[str, str]:
    return {"email": factories.email_of(who), "password": password}


def test_token_issued_for_good_credentials(
    app: Flask, client: FlaskClient, world: factories.World, session: Session
) -> None:
    app.config["API_TOKEN_DAYS"] = 7
    response = client.post(URL, json=_credentials("ketua_a"))
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert set(data) == {"token", "token_type", "expires_at"}
    assert data["token_type"] == "Bearer"
    expires_at = datetime.fromisoformat(data["expires_at"])
    assert abs(expires_at - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=1)
    stored = session.scalars(select(ApiToken)).one()
    assert stored.user_id == world.ketua_a.id
    assert data["token"] not in stored.token_hash  # only the hash is kept
    # The token works for a request that needs it.
    seen = client.get(f"/api/v1/products/{world.draft_b.id}",
                      headers={"Authorization": f"Bearer {data['token']}"})
    assert seen.status_code == 404  # ketua_a may not see KUBE B's draft, but the token was accepted


def test_email_is_case_insensitive(client: FlaskClient, world: factories.World) -> None:
    response = client.post(URL, json={"email": "  KETUA_A@test.pasarkube ", "password": factories.PASSWORD})
    assert response.status_code == 201


@pytest.mark.parametrize(
    "credentials",
    [
        _credentials("ketua_a", "wrong-password"),
        _credentials("ketua_a", factories.PASSWORD.upper()),
        _credentials("nobody"),
    ],
)
def test_wrong_credentials_401(
    client: FlaskClient, world: factories.World, session: Session, credentials: dict[str, str]
) -> None:
    response = client.post(URL, json=credentials)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert session.scalars(select(ApiToken)).first() is None


def test_disabled_user_gets_no_token(client: FlaskClient, world: factories.World, session: Session) -> None:
    world.ketua_a.is_disabled = True
    session.commit()
    assert_error(client.post(URL, json=_credentials("ketua_a")), 401, "unauthorized")


def test_token_of_a_user_disabled_later_stops_working(
    client: FlaskClient, world: factories.World, session: Session
) -> None:
    token = client.post(URL, json=_credentials("ketua_b")).get_json()["token"]
    world.ketua_b.is_disabled = True
    session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    response = client.get(f"/api/v1/products/{world.draft_b.id}", headers=headers)
    assert_error(response, 401, "unauthorized")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"data": {"email": "ketua_a@test.pasarkube", "password": factories.PASSWORD}}, None),  # a form
        ({"data": "not json", "content_type": "application/json"}, None),
        ({"json": ["ketua_a@test.pasarkube", factories.PASSWORD]}, None),
        ({"json": {"email": "ketua_a@test.pasarkube"}}, "password"),
        ({"json": {"password": factories.PASSWORD}}, "email"),
        ({"json": {"email": "", "password": factories.PASSWORD}}, "email"),
        ({"json": {"email": 5, "password": factories.PASSWORD}}, "email"),
        ({"json": {"email": "ketua_a@test.pasarkube", "password": factories.PASSWORD, "x": 1}}, "x"),
    ],
)
def test_bad_token_requests_400(
    client: FlaskClient, world: factories.World, kwargs: dict[str, object], field: str | None
) -> None:
    response = client.post(URL, **kwargs)  # type: ignore[arg-type]
    assert_error(response, 400, "invalid", field)
