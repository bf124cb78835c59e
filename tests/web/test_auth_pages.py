"""Signing in and out: neutral messages, lockout, rate limit, fresh sessions; signing out ends
the session on the server."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker import create_app
from linktracker.auth.models import LoginAttempt
from linktracker.auth.services import create_user, find_user_by_email, set_password, set_user_active
from linktracker.employees.models import Employee
from tests.support import clear_database
from tests.web.clients import PASSWORD, SignInWithCookie


def _login(client: FlaskClient, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/app/login", data={"email": email, "password": password})


def test_wrong_password_and_unknown_account_read_the_same(
    client: FlaskClient, session: Session
) -> None:
    create_user(session, "ops@example.com", "sales_ops", PASSWORD)
    wrong = _login(client, "ops@example.com", "not the password")
    unknown = _login(client, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert b"Wrong email or password." in wrong.data
    assert b"Wrong email or password." in unknown.data


# --- Throttling: per address and per account from an address, shared by every worker ---


@pytest.fixture
def limited(config: dict[str, object]) -> Iterator[Flask]:
    app = create_app(config | {"RATELIMIT_ENABLED": True})
    clear_database(app.extensions["linktracker"].engine)
    yield app
    app.extensions["linktracker"].dispose()


def _login_from(client: FlaskClient, address: str, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/app/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_a_stranger_cannot_lock_the_owner_out(limited: Flask, session: Session) -> None:
    create_user(session, "boss@example.com", "admin", PASSWORD)
    stranger, owner = limited.test_client(), limited.test_client()
    failures = [
        _login_from(stranger, "203.0.113.9", "boss@example.com", f"guess number {n}").status_code
        for n in range(5)
    ]
    assert failures == [401] * 5
    blocked = _login_from(stranger, "203.0.113.9", "boss@example.com", PASSWORD)
    assert blocked.status_code == 429
    assert 14 * 60 < int(blocked.headers["Retry-After"]) <= 15 * 60
    assert "Too many sign-in attempts. Try again in 15 minutes." in blocked.get_data(as_text=True)
    assert "user_id" not in (blocked.headers.get("Set-Cookie") or "")
    # The owner, from their own address, signs in as usual.
    assert _login_from(owner, "198.51.100.7", "boss@example.com", PASSWORD).status_code == 302


def test_sign_in_attempts_keep_no_client_address(limited: Flask, session: Session) -> None:
    _login_from(limited.test_client(), "203.0.113.9", "boss@example.com", "a wrong guess")
    kept = session.execute(select(LoginAttempt.email, LoginAttempt.address)).all()
    assert len(kept) == 1
    assert "203.0.113" not in repr(kept)
    assert len(kept[0].address) == 64


def test_an_address_is_limited_across_accounts(config: dict[str, object]) -> None:
    app = create_app(config | {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"})
    clear_database(app.extensions["linktracker"].engine)
    client = app.test_client()
    statuses = [
        _login_from(client, "203.0.113.9", f"x{n}@example.com", "whatever").status_code
        for n in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]
    refused = _login_from(client, "203.0.113.9", "y@example.com", "whatever")
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert _login_from(client, "198.51.100.7", "y@example.com", "whatever").status_code == 401
    app.extensions["linktracker"].dispose()


def test_the_address_limit_holds_across_workers(config: dict[str, object]) -> None:
    # Two app instances stand for two gunicorn workers sharing the database.
    workers = [create_app(config | {"RATELIMIT_ENABLED": True}) for _ in range(2)]
    clear_database(workers[0].extensions["linktracker"].engine)

    def attempt(n: int) -> int:
        client = workers[n % 2].test_client()
        response = _login_from(client, "203.0.113.9", f"x{n}@example.com", "whatever")
        return int(response.status_code)

    one_by_one = [attempt(n) for n in range(20)]
    assert one_by_one == [401] * 10 + [429] * 10
    clear_database(workers[0].extensions["linktracker"].engine)
    # Eight at a time: an attempt is stored before it is counted, so none slips through.
    with ThreadPoolExecutor(max_workers=8) as pool:
        at_once = list(pool.map(attempt, range(40)))
    for worker in workers:
        worker.extensions["linktracker"].dispose()
    assert 1 <= at_once.count(401) <= 10, at_once
    assert at_once.count(401) + at_once.count(429) == 40


def test_signing_in_clears_the_owner_s_own_failures(limited: Flask, session: Session) -> None:
    create_user(session, "ana@example.com", "marketer", PASSWORD)
    client = limited.test_client()
    for n in range(4):
        assert (
            _login_from(client, "198.51.100.7", "ana@example.com", f"typo {n}").status_code == 401
        )
    assert _login_from(client, "198.51.100.7", "ana@example.com", PASSWORD).status_code == 302
    client.post("/app/logout")
    assert _login_from(client, "198.51.100.7", "ana@example.com", "typo 5").status_code == 401
    assert _login_from(client, "198.51.100.7", "ana@example.com", PASSWORD).status_code == 302


def test_sign_in_starts_a_fresh_session(client: FlaskClient, session: Session) -> None:
    create_user(session, "ops@example.com", "sales_ops", PASSWORD)
    with client.session_transaction() as before:
        before["planted"] = "by an attacker"
    response = _login(client, "ops@example.com", PASSWORD)
    assert response.status_code == 302
    with client.session_transaction() as after:
        assert "planted" not in after
        assert "user_id" in after
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_sign_in_never_redirects_off_site(client: FlaskClient, session: Session) -> None:
    create_user(session, "ops@example.com", "sales_ops", PASSWORD)
    response = client.post(
        "/app/login?next=//evil.example.net/x",
        data={"email": "ops@example.com", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert "evil" not in response.headers["Location"]


# --- Sign-out ends the session on the server ---


def _signed_in_cookie(client: FlaskClient, session: Session, email: str) -> str:
    create_user(session, email, "marketer", PASSWORD)
    assert _login(client, email, PASSWORD).status_code == 302
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _with_cookie(app: Flask, value: str) -> FlaskClient:
    copy = app.test_client()
    copy.set_cookie("session", value)
    return copy


def test_a_cookie_copied_before_sign_out_stops_working(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    copied = _signed_in_cookie(client, session, "m@example.com")
    assert _with_cookie(app, copied).get("/app/campaigns/").status_code == 200
    response = client.post("/app/logout")
    assert response.status_code == 302 and "/app/login" in response.headers["Location"]
    after = _with_cookie(app, copied).get("/app/campaigns/")
    assert after.status_code == 302 and "/app/login" in after.headers["Location"]
    # Signing in again works, with a new cookie.
    assert _login(client, "m@example.com", PASSWORD).status_code == 302
    assert client.get("/app/campaigns/").status_code == 200


@pytest.mark.parametrize("change", ["password", "deactivate"])
def test_a_password_change_or_deactivation_ends_copied_sessions(
    app: Flask, client: FlaskClient, session: Session, change: str
) -> None:
    copied = _signed_in_cookie(client, session, "m@example.com")
    user = find_user_by_email(session, "m@example.com")
    assert user is not None
    if change == "password":
        set_password(session, user.id, "a different long passphrase")
    else:
        set_user_active(session, user.id, False)
    after = _with_cookie(app, copied).get("/app/campaigns/")
    assert after.status_code == 302 and "/app/login" in after.headers["Location"]


def test_an_api_write_with_a_signed_out_cookie_is_unauthenticated(
    sign_in_with_cookie: SignInWithCookie, csrf_app: Flask, session: Session
) -> None:
    client = csrf_app.test_client()
    token = sign_in_with_cookie(client, "admin")
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert client.post("/app/logout", data={"csrf_token": token}).status_code == 302
    copy = _with_cookie(csrf_app, cookie.value)
    response = copy.post(
        "/api/v1/employees",
        json={"name": "A", "email": "a@example.com"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 401
    assert session.scalar(select(func.count()).select_from(Employee)) == 0
