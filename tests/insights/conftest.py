"""Insights fixtures: the hand-built dataset, a ministry user and bearer tokens."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests import factories
from tests.factories import World
from tests.insights.support import Dataset, build_dataset


@pytest.fixture
def data(session: Session, world: World) -> Dataset:
    dataset = build_dataset(session, world)
    session.commit()
    return dataset


@pytest.fixture
def ministry(session: Session, world: World) -> str:
    """A Dinas Sosial user (is_ministry); returns its login name for login_as / bearer."""
    factories.make_user(session, "dinsos", is_ministry=True)
    session.commit()
    return "dinsos"


@pytest.fixture
def bearer(client: FlaskClient) -> Callable[[str], dict[str, str]]:
    """bearer("operator") -> the Authorization header of a fresh token of that user."""

    def _header(who: str) -> dict[str, str]:
        response = client.post("/api/v1/auth/token",
                               json={"email": factories.email_of(who), "password": factories.PASSWORD})
        assert response.status_code == 201, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    return _header
