"""Fixtures: app -> database -> factories. PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session

from linktracker import create_app
from linktracker.auth.services import create_token, create_user
from linktracker.db import make_engine
from linktracker.migrate import upgrade_database
from tests.routing_cache import reuse_compiled_builders
from tests.support import PASSWORD, clear_database

# Every test builds an app; compiling its routes' URL builders again each time was most of it.
reuse_compiled_builders()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-screenshots",
        action="store_true",
        help="Rewrite docs/screenshots/ from the browser tests (else they go to a temp folder).",
    )


def pytest_report_header() -> str:
    return f"linktracker database: {_backend()}"


def _backend() -> str:
    return "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    engine = make_engine(database_url)
    upgrade_database(engine)
    engine.dispose()
    return database_url


@pytest.fixture
def config(migrated: str, tmp_path: Path) -> dict[str, object]:
    return {
        "TESTING": True,
        "DATABASE_URL": migrated,
        "SECRET_KEY": "test-secret",
        "BASE_URL": "http://lt.test",
        "ALLOWED_DOMAINS": "example.com, *.example.com, shop.example.org",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "SPOOL_FOLDER": str(tmp_path / "spool"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "LINK_CACHE_SECONDS": 0.0,
    }


@pytest.fixture
def app(config: dict[str, object]) -> Iterator[Flask]:
    app = create_app(config)
    clear_database(app.extensions["linktracker"].engine)
    yield app
    app.extensions["linktracker"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with app.extensions["linktracker"].sessions() as session:
        yield session


@pytest.fixture
def settings(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["linktracker"].settings()


@pytest.fixture
def api_headers(app: Flask) -> Callable[..., dict[str, str]]:
    """Headers carrying a fresh token for a new user of the given role."""
    made: dict[str, dict[str, str]] = {}

    def headers(role: str = "admin", email: str | None = None) -> dict[str, str]:
        key = email or f"{role}@users.test"
        if key not in made:
            with app.extensions["linktracker"].sessions() as session:
                create_user(session, key, role, PASSWORD)
                token = create_token(session, key).token
            made[key] = {"Authorization": f"Bearer {token}"}
        return made[key]

    return headers
