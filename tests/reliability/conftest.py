"""Fixtures of the reliability tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from linktracker.db import make_engine


@pytest.fixture
def engine(config: dict[str, object]) -> Iterator[Engine]:
    """Our own engine on the real test database, whatever the app is pointed at."""
    engine = make_engine(str(config["DATABASE_URL"]))
    yield engine
    engine.dispose()
