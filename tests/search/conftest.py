"""Helpers for the search tests: the app's backend and a way to run the indexer once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from marketplace.search.runtime import SearchRuntime


@pytest.fixture
def search_rt(app: Flask) -> SearchRuntime:
    return app.extensions["search"]  # type: ignore[no-any-return]


@pytest.fixture
def index_now(search_rt: SearchRuntime) -> Callable[[], int]:
    """Run the indexer once (builds the index when there is none, then drains the outbox)."""
    return lambda: search_rt.indexer.run_once(wait=True)
