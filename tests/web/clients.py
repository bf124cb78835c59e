"""Test clients of the web app: a client signed in as a role, and a response's text."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from linktracker.auth.services import create_user, find_user_by_email

PASSWORD = "correct horse battery"


class SignIn(Protocol):
    """The ``sign_in`` fixture: a client signed in as a user of ``role``."""

    def __call__(
        self, role: str, email: str | None = None, *, app: Flask | None = None
    ) -> FlaskClient: ...


def sign_in(app: Flask, session: Session, role: str, email: str | None = None) -> FlaskClient:
    """A client with a signed-in session of a new user of this role."""
    email = email or f"{role}@users.test"
    user = find_user_by_email(session, email) or create_user(session, email, role, PASSWORD)
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["user_id"] = user.id
        cookie["version"] = user.session_version
    return client


# ``sign_in_with_cookie(client, role)``: signs in through the form, returns the CSRF token.
SignInWithCookie = Callable[[FlaskClient, str], str]


def page_token(html: str) -> str:
    """The CSRF token a page carries in its form or meta tag."""
    match = re.search(r'name="csrf[-_]token" (?:content|value)="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def text(response: Any) -> str:
    return response.get_data(as_text=True)
