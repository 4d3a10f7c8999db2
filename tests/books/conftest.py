"""API fixtures: bearer tokens obtained through the real token endpoint."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests import factories


@pytest.fixture
def token_for(client: FlaskClient) -> Callable[[str], str]:
    """token_for("ketua_a") -> a fresh bearer token from POST /api/v1/auth/token."""

    def _token(who: str) -> str:
        response = client.post(
            "/api/v1/auth/token", json={"email": factories.email_of(who), "password": factories.PASSWORD}
        )
        assert response.status_code == 201, response.get_json()
        return str(response.get_json()["token"])

    return _token


@pytest.fixture
def bearer(token_for: Callable[[str], str]) -> Callable[[str], dict[str, str]]:
    """bearer("ketua_a") -> the Authorization header of a fresh token of that user."""
    return lambda who: {"Authorization": f"Bearer {token_for(who)}"}
