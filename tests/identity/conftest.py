"""Fixtures for sign-in and provisioning: the OpenID Provider, and the app configured for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from linktracker import create_app
from tests.identity.provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider


@pytest.fixture(scope="session")
def provider() -> Iterator[Provider]:
    with running_provider() as started:
        yield started


@pytest.fixture
def sso_app(app: Flask, config: dict[str, object], provider: Provider) -> Iterator[Flask]:
    """The app with single sign-on set up against the test provider (same database as ``app``)."""
    sso = create_app(
        config
        | {
            "OIDC_ISSUER": provider.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_PROVIDER_NAME": "Test IdP",
        }
    )
    yield sso
    sso.extensions["linktracker"].dispose()
