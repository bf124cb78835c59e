"""Fixtures for the web tests: a test client signed in as a role."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.web import clients
from tests.web.clients import SignIn


@pytest.fixture(name="sign_in")
def sign_in_fixture(app: Flask, session: Session) -> SignIn:
    """``sign_in(role, email=None)``: a client signed in as a user of that role, made on first use.

    ``app=`` gives a client of another app on the same database (one built with other settings).
    """
    default = app

    def sign_in(role: str, email: str | None = None, *, app: Flask | None = None) -> FlaskClient:
        return clients.sign_in(app or default, session, role, email)

    return sign_in
