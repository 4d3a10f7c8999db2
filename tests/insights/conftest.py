"""Insights fixtures: the hand-built dataset, a ministry user and bearer tokens."""

from __future__ import annotations

import pytest
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
