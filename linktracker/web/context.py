"""Per-request plumbing: the database session, the runtime and who is asking."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, current_app, g, request, session
from sqlalchemy.orm import Session

from linktracker.auth.models import User
from linktracker.auth.services import identify_token
from linktracker.errors import DomainError, Forbidden
from linktracker.runtime import Runtime
from linktracker.settings.services import ProgramSettings

F = TypeVar("F", bound=Callable[..., Any])


class Unauthenticated(DomainError):
    status = 401


def runtime() -> Runtime:
    """The app's Runtime."""
    return cast(Runtime, current_app.extensions["linktracker"])


def db() -> Session:
    """The request's database session, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = runtime().sessions()
    return cast(Session, g.db)


def settings() -> ProgramSettings:
    """The effective program settings."""
    return runtime().settings()


def close_db(_exc: BaseException | None = None) -> None:
    """Teardown: roll back anything uncommitted and close the session."""
    session_ = g.pop("db", None)
    if session_ is not None:
        session_.close()


@dataclass(frozen=True)
class Identity:
    user_id: int
    role: str
    employee_id: int | None
    email: str
    via_token: bool


def identity() -> Identity | None:
    """Who sends this request: a bearer token on the API, the signed-in session elsewhere."""
    if "identity" in g:
        return cast(Identity | None, g.identity)
    found: Identity | None = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        token = identify_token(db(), header[7:].strip())
        if token is None:
            raise Unauthenticated("The API token is missing, unknown or revoked.")
        user = db().get(User, token.user_id)
        email = user.email if user else ""
        found = Identity(token.user_id, token.role, token.employee_id, email, True)
    elif "user_id" in session:
        user = db().get(User, session["user_id"])
        if user and user.active and session.get("version") == user.session_version:
            found = Identity(user.id, user.role, user.employee_id, user.email, False)
        else:
            session.clear()
    g.identity = found
    return found


def require_roles(*roles: str) -> Callable[[F], F]:
    """Let only these roles through: 401 when anonymous, 403 for another role."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = identity()
            if who is None:
                raise Unauthenticated("Sign in or send an API token to use this.")
            if who.role not in roles:
                raise Forbidden(f"Your role ({who.role}) may not do this.")
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def register_context(app: Flask) -> None:
    """Close the session after every request."""
    app.teardown_appcontext(close_db)
