"""Requiring single sign-on: the setting, its break-glass admin, and what it refuses."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker import create_app
from linktracker.auth.services import create_user, set_user_active
from linktracker.settings.models import Setting
from tests.web.clients import PASSWORD, sign_in, text


def _saved(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Setting)) or 0


def test_requiring_sso_names_an_active_admin_with_a_password(app: Flask, session: Session) -> None:
    client = sign_in(app, session, "admin", "root@example.com")
    create_user(session, "ops@example.com", "sales_ops", PASSWORD)
    retired = create_user(session, "retired@example.com", "admin", PASSWORD)
    set_user_active(session, retired.id, False)
    cases = {
        "": "Name the admin who may still sign in with a password",
        "ops@example.com": "ops@example.com is not an active admin with a password",
        "retired@example.com": "retired@example.com is not an active admin with a password",
        "nobody@example.com": "nobody@example.com is not an active admin with a password",
        "not-an-email": "is not an email address",
    }
    for email, message in cases.items():
        data = {"sso_required": "true", "sso_break_glass_admin": email}
        response = client.post("/app/settings/", data=data)
        assert response.status_code == 422, email
        assert message in text(response)
        assert _saved(session) == 0
    bad = client.post("/app/settings/", data={"sso_required": "sometimes"})
    assert bad.status_code == 422
    assert "Choose yes or no." in text(bad)
    data = {"sso_required": "true", "sso_break_glass_admin": "Root@Example.com"}
    assert client.post("/app/settings/", data=data).status_code == 302
    current = app.extensions["linktracker"].settings()
    assert (current.sso_required, current.sso_break_glass_admin) == (True, "root@example.com")
    page = text(client.get("/app/settings/"))
    assert '<option selected value="true">' in page or 'value="true" selected' in page


def test_password_sign_in_follows_the_setting_without_sso_configured(
    app: Flask, session: Session
) -> None:
    create_user(session, "root@example.com", "admin", PASSWORD)
    second = create_user(session, "second@example.com", "admin", PASSWORD)
    data = {"sso_required": "true", "sso_break_glass_admin": "root@example.com"}
    sign_in(app, session, "admin", "root@example.com").post("/app/settings/", data=data)
    refused = app.test_client().post(
        "/app/login", data={"email": "second@example.com", "password": PASSWORD}
    )
    assert refused.status_code == 403
    assert "Password sign-in is turned off for your account. Use single sign-on instead." in text(
        refused
    )
    session.refresh(second)
    assert second.last_login_at is None  # a refused sign-in changes nothing
    allowed = app.test_client().post(
        "/app/login", data={"email": "root@example.com", "password": PASSWORD}
    )
    assert allowed.status_code == 302


def test_environment_defaults(config: dict[str, object], session: Session) -> None:
    create_user(session, "root@example.com", "admin", PASSWORD)
    create_user(session, "other@example.com", "marketer", PASSWORD)
    strict = create_app(
        config | {"SSO_REQUIRED": True, "SSO_BREAK_GLASS_ADMIN": "root@example.com"}
    )
    try:
        client = strict.test_client()
        other = {"email": "other@example.com", "password": PASSWORD}
        assert client.post("/app/login", data=other).status_code == 403
        root = {"email": "root@example.com", "password": PASSWORD}
        assert client.post("/app/login", data=root).status_code == 302
    finally:
        strict.extensions["linktracker"].dispose()


def test_the_provider_unreachable_is_said_on_the_login_page(config: dict[str, object]) -> None:
    down = create_app(
        config
        | {
            "OIDC_ISSUER": "http://127.0.0.1:9",
            "OIDC_CLIENT_ID": "x",
            "OIDC_CLIENT_SECRET": "y",
            "OIDC_PROVIDER_NAME": "Okta",
        }
    )
    try:
        response = down.test_client().get("/app/login/sso")
        assert response.status_code == 502
        assert "Okta cannot be reached right now." in text(response)
        assert "Sign in with Okta" in text(response)
    finally:
        down.extensions["linktracker"].dispose()
