"""Sign-in security: neutral messages, lockout, rate limit, fresh sessions, token lifecycle."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker import create_app
from linktracker.auth.models import ApiToken
from linktracker.auth.services import (
    create_token,
    create_user,
    find_user_by_email,
    set_password,
    set_user_active,
)
from linktracker.crm.models import CrmImport
from linktracker.employees.models import Employee
from tests.conftest import PASSWORD, _clear


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
    _clear(app.extensions["linktracker"].engine)
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


def test_an_address_is_limited_across_accounts(config: dict[str, object]) -> None:
    app = create_app(config | {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"})
    _clear(app.extensions["linktracker"].engine)
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
    _clear(workers[0].extensions["linktracker"].engine)

    def attempt(n: int) -> int:
        client = workers[n % 2].test_client()
        response = _login_from(client, "203.0.113.9", f"x{n}@example.com", "whatever")
        return int(response.status_code)

    one_by_one = [attempt(n) for n in range(20)]
    assert one_by_one == [401] * 10 + [429] * 10
    _clear(workers[0].extensions["linktracker"].engine)
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


def test_tokens_are_stored_hashed_listed_and_revocable(
    app: Flask, runner: FlaskCliRunner, client: FlaskClient, session: Session
) -> None:
    create_user(session, "ops@example.com", "admin", PASSWORD)
    token = runner.invoke(args=["create-token", "ops@example.com"]).output.strip().splitlines()[-1]
    record = session.query(ApiToken).one()
    assert token not in (record.token_hash, record.prefix) and len(record.token_hash) == 64
    headers = {"Authorization": f"Bearer {token}"}
    body = {"name": "A", "email": "a@example.com"}
    assert client.post("/api/v1/employees", json=body, headers=headers).status_code == 201
    listing = runner.invoke(args=["list-tokens", "ops@example.com"])
    assert record.prefix in listing.output and "active" in listing.output
    assert token not in listing.output
    revoked = runner.invoke(args=["revoke-token", str(record.id)])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    response = client.post("/api/v1/employees", json=body | {"email": "b@example.com"},
                           headers=headers)  # fmt: skip
    assert response.status_code == 401
    assert "revoked" in response.json["error"]


def test_revoking_an_unknown_token_fails_clearly(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["revoke-token", "999"])
    assert result.exit_code != 0
    assert "No token with id 999" in result.output


# --- CSRF on the API: cookie-signed writes carry the token, bearer requests do not need it ---


@pytest.fixture
def csrf_app(config: dict[str, object]) -> Iterator[Flask]:
    app = create_app(config | {"WTF_CSRF_ENABLED": True})
    yield app
    app.extensions["linktracker"].dispose()


def _sign_in_with_cookie(client: FlaskClient, session: Session, role: str) -> str:
    """Sign in through the form (CSRF on) and return the page's CSRF token."""
    create_user(session, f"{role}@example.com", role, PASSWORD)
    token = _page_token(client.get("/app/login").get_data(as_text=True))
    response = client.post(
        "/app/login",
        data={"email": f"{role}@example.com", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    return _page_token(client.get("/app/links/").get_data(as_text=True))


def _page_token(html: str) -> str:
    match = re.search(r'name="csrf[-_]token" (?:content|value)="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def test_a_cookie_signed_api_write_without_the_csrf_token_is_refused(
    csrf_app: Flask, session: Session
) -> None:
    client = csrf_app.test_client()
    _sign_in_with_cookie(client, session, "admin")
    response = client.post("/api/v1/employees", json={"name": "A", "email": "a@example.com"})
    assert response.status_code == 400
    assert "CSRF token" in response.json["error"]
    assert "X-CSRFToken" in response.json["error"]
    assert session.scalar(select(func.count()).select_from(Employee)) == 0


def test_a_cookie_signed_api_write_with_the_csrf_token_works(
    csrf_app: Flask, session: Session
) -> None:
    client = csrf_app.test_client()
    token = _sign_in_with_cookie(client, session, "admin")
    response = client.post(
        "/api/v1/employees",
        json={"name": "A", "email": "a@example.com"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201
    assert session.scalar(select(func.count()).select_from(Employee)) == 1


def test_a_bearer_api_write_needs_no_csrf_token(csrf_app: Flask, session: Session) -> None:
    create_user(session, "bot@example.com", "admin", PASSWORD)
    token = create_token(session, "bot@example.com").token
    response = csrf_app.test_client().post(
        "/api/v1/employees",
        json={"name": "A", "email": "a@example.com"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201


def test_cookie_signed_api_reads_need_no_csrf_token(csrf_app: Flask, session: Session) -> None:
    client = csrf_app.test_client()
    _sign_in_with_cookie(client, session, "admin")
    assert client.get("/api/v1/reports/program").status_code == 200


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
    csrf_app: Flask, session: Session
) -> None:
    client = csrf_app.test_client()
    token = _sign_in_with_cookie(client, session, "admin")
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


def test_every_api_write_route_wants_the_csrf_token_from_a_cookie(
    csrf_app: Flask, session: Session
) -> None:
    client = csrf_app.test_client()
    _sign_in_with_cookie(client, session, "admin")
    writes = [
        (rule, method)
        for rule in csrf_app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"})
    ]
    assert writes, "the API has write routes"
    for rule, method in writes:
        url = rule.rule.replace("<", "").replace(">", "").replace("int:", "1")
        response = client.open(url, method=method, data={"file": (io.BytesIO(b"id\n1\n"), "x.csv")})
        assert response.status_code == 400, (method, url)
        assert "CSRF token" in response.json["error"]
    assert session.scalar(select(func.count()).select_from(CrmImport)) == 0
