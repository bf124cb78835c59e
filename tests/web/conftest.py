"""Fixtures for the web tests: clients signed in as a role, an app with CSRF on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from linktracker import create_app
from linktracker.auth.services import create_user
from tests.web import clients
from tests.web.clients import PASSWORD, SignIn, SignInWithCookie, page_token


@pytest.fixture(name="sign_in")
def sign_in_fixture(app: Flask, session: Session) -> SignIn:
    """``sign_in(role, email=None)``: a client signed in as a user of that role, made on first use.

    ``app=`` gives a client of another app on the same database (one built with other settings).
    """
    default = app

    def sign_in(role: str, email: str | None = None, *, app: Flask | None = None) -> FlaskClient:
        return clients.sign_in(app or default, session, role, email)

    return sign_in


@pytest.fixture
def csrf_app(config: dict[str, object]) -> Iterator[Flask]:
    """The app with CSRF protection on, as it runs outside the tests."""
    app = create_app(config | {"WTF_CSRF_ENABLED": True})
    yield app
    app.extensions["linktracker"].dispose()


@pytest.fixture(name="sign_in_with_cookie")
def sign_in_with_cookie_fixture(session: Session) -> SignInWithCookie:
    """``sign_in_with_cookie(client, role)``: sign in through the form (CSRF on) like a browser."""

    def sign_in_with_cookie(client: FlaskClient, role: str) -> str:
        create_user(session, f"{role}@example.com", role, PASSWORD)
        token = page_token(client.get("/app/login").get_data(as_text=True))
        response = client.post(
            "/app/login",
            data={"email": f"{role}@example.com", "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302
        return page_token(client.get("/app/links/").get_data(as_text=True))

    return sign_in_with_cookie
