"""Sign-in with OpenID Connect against a real provider: the code flow with PKCE, end to end."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.auth.models import User
from linktracker.auth.services import create_user, find_user_by_email, set_user_active
from linktracker.employees.services import set_employee_active
from linktracker.settings.services import save_settings
from tests.factories import make_employee
from tests.identity.provider import callback_path, sign_in_at_provider
from tests.web.clients import PASSWORD, text


def _sso(client: FlaskClient, account: str, next_page: str | None = None) -> tuple[int, str, str]:
    """Run the whole flow; the callback's status, its Location and its page."""
    start = client.get("/app/login/sso" + (f"?next={next_page}" if next_page else ""))
    assert start.status_code == 302, text(start)
    back = sign_in_at_provider(start.headers["Location"], account)
    response = client.get(callback_path(back))
    return response.status_code, response.headers.get("Location", ""), text(response)


def _users(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(User)) or 0


def test_login_page_offers_the_provider_only_when_configured(app: Flask, sso_app: Flask) -> None:
    assert "Sign in with" not in text(app.test_client().get("/app/login"))
    page = text(sso_app.test_client().get("/app/login"))
    assert "Sign in with Test IdP" in page
    assert 'href="/app/login/sso"' in page
    refused = app.test_client().get("/app/login/sso")
    assert refused.status_code == 404
    assert "Single sign-on is not set up on this server." in text(refused)


def test_authorization_request_carries_state_nonce_and_pkce(sso_app: Flask) -> None:
    start = sso_app.test_client().get("/app/login/sso")
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"] == ["openid email profile"]
    for key in ("state", "nonce", "code_challenge"):
        assert len(query[key][0]) >= 32


def test_new_employee_gets_an_employee_account_on_first_sign_in(
    sso_app: Flask, session: Session
) -> None:
    employee = make_employee(session, name="New Person", email="new.person@example.com")
    client = sso_app.test_client()
    status, location, _ = _sso(client, "new", next_page="/app/links/")
    assert (status, location) == (302, "/app/links/")
    user = find_user_by_email(session, "new.person@example.com")
    assert user is not None
    assert (user.role, user.employee_id, user.password_hash) == ("employee", employee.id, None)
    session.refresh(employee)
    assert employee.joined_at is not None
    assert client.get("/app/links/").status_code == 200
    # The same person again: signed in, no second account.
    again = sso_app.test_client()
    assert _sso(again, "new")[0] == 302
    assert _users(session) == 1


def test_existing_user_is_signed_in_with_their_role(sso_app: Flask, session: Session) -> None:
    make_employee(session, name="Existing", email="existing@example.com")
    user = create_user(session, "existing@example.com", "marketer", PASSWORD)
    client = sso_app.test_client()
    status, location, _ = _sso(client, "existing")
    assert (status, location) == (302, "/app/")
    assert _users(session) == 1
    with client.session_transaction() as cookie:
        assert cookie["user_id"] == user.id
    assert client.get("/app/campaigns/").status_code == 200  # a marketer's page


def test_unverified_email_is_refused(sso_app: Flask, session: Session) -> None:
    make_employee(session, name="Unverified", email="unverified@example.com")
    client = sso_app.test_client()
    status, _, page = _sso(client, "unverified")
    assert status == 403
    assert "has not verified the email address unverified@example.com" in page
    assert "Sign in with Test IdP" in page
    assert _users(session) == 0
    assert client.get("/app/links/").status_code == 302


def test_unknown_email_is_refused(sso_app: Flask, session: Session) -> None:
    status, _, page = _sso(sso_app.test_client(), "unknown")
    assert status == 403
    assert "No employee has the email stranger@example.com" in page
    assert _users(session) == 0


def test_deactivated_employee_is_refused(sso_app: Flask, session: Session) -> None:
    employee = make_employee(session, name="Former", email="former@example.com")
    set_employee_active(session, employee.id, False)
    status, _, page = _sso(sso_app.test_client(), "former")
    assert status == 403
    assert "The employee former@example.com is deactivated" in page
    assert _users(session) == 0


def test_deactivated_user_is_refused(sso_app: Flask, session: Session) -> None:
    make_employee(session, name="Existing", email="existing@example.com")
    user = create_user(session, "existing@example.com", "employee", PASSWORD)
    set_user_active(session, user.id, False)
    status, _, page = _sso(sso_app.test_client(), "existing")
    assert status == 403
    assert "The account existing@example.com is deactivated" in page


def test_a_callback_without_its_sign_in_or_with_a_forged_state_is_refused(
    sso_app: Flask, session: Session
) -> None:
    make_employee(session, name="New Person", email="new.person@example.com")
    client = sso_app.test_client()
    start = client.get("/app/login/sso")
    back = sign_in_at_provider(start.headers["Location"], "new")
    forged = callback_path(back).replace("state=", "state=x")
    response = client.get(forged)
    assert response.status_code == 400
    assert "does not belong to this browser" in text(response)
    # The pending sign-in is used up: replaying the real answer finds none.
    replay = client.get(callback_path(back))
    assert replay.status_code == 400
    assert "This sign-in has expired or was started elsewhere" in text(replay)
    assert _users(session) == 0
    # Another browser cannot use the code either.
    assert sso_app.test_client().get(callback_path(back)).status_code == 400


def test_provider_error_is_shown(sso_app: Flask) -> None:
    client = sso_app.test_client()
    start = client.get("/app/login/sso")
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    response = client.get(
        f"/app/login/sso/callback?error=access_denied&error_description=Denied+by+policy&state={state}"
    )
    assert response.status_code == 400
    assert "did not sign you in: Denied by policy" in text(response)


def test_sign_out_ends_the_local_session(sso_app: Flask, session: Session) -> None:
    make_employee(session, name="New Person", email="new.person@example.com")
    client = sso_app.test_client()
    assert _sso(client, "new")[0] == 302
    with client.session_transaction() as cookie:
        copied = dict(cookie)
    assert client.post("/app/logout").status_code == 302
    assert client.get("/app/links/").status_code == 302
    stolen = sso_app.test_client()
    with stolen.session_transaction() as cookie:
        cookie.update(copied)
    assert stolen.get("/app/links/").status_code == 302


def test_sso_required_refuses_passwords_but_for_the_break_glass_admin(
    sso_app: Flask, session: Session
) -> None:
    create_user(session, "root@example.com", "admin", PASSWORD)
    create_user(session, "marketer@example.com", "marketer", PASSWORD)
    save_settings(session, {"sso_required": "true", "sso_break_glass_admin": "Root@Example.com"})
    sso_app.extensions["linktracker"].settings_changed()
    client = sso_app.test_client()
    refused = client.post(
        "/app/login", data={"email": "marketer@example.com", "password": PASSWORD}
    )
    assert refused.status_code == 403
    assert "Password sign-in is turned off for your account. Sign in with Test IdP" in text(refused)
    assert client.get("/app/links/").status_code == 302
    wrong = client.post("/app/login", data={"email": "marketer@example.com", "password": "x"})
    assert wrong.status_code == 401
    admin = client.post("/app/login", data={"email": "root@example.com", "password": PASSWORD})
    assert admin.status_code == 302
    # Single sign-on still works for everyone.
    make_employee(session, name="New Person", email="new.person@example.com")
    assert _sso(sso_app.test_client(), "new")[0] == 302
