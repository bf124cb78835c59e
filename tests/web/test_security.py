"""Security headers, the session cookie, CSRF on the app pages and on cookie-signed API writes."""

from __future__ import annotations

import io
import re

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker import create_app
from linktracker.auth.services import create_token, create_user
from linktracker.crm.models import CrmImport
from linktracker.employees.models import Employee
from linktracker.settings.models import Setting
from tests.factories import make_click, make_link
from tests.web.clients import PASSWORD, SignInWithCookie, text


def test_app_pages_carry_security_headers(sign_in):
    response = sign_in("marketer").get("/app/campaigns/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "no-store" in response.headers["Cache-Control"]


def test_the_sign_in_page_has_headers_but_short_links_stay_minimal(client, session):
    assert "Content-Security-Policy" in client.get("/app/login").headers
    link = make_link(session)
    redirect = client.get(f"/{link.code}")
    assert redirect.status_code == 302
    assert "Content-Security-Policy" not in redirect.headers
    missing = client.get("/nosuchcode")
    assert missing.status_code == 404
    assert "Content-Security-Policy" not in missing.headers
    assert "linktracker" not in text(missing)  # brand-neutral


def test_pages_contain_no_inline_script_or_style(session, sign_in):
    client = sign_in("admin")
    make_click(session, make_link(session))
    for url in ("/app/links/", "/app/campaigns/", "/app/reports/", "/app/users/", "/app/settings/"):
        body = text(client.get(url))
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), url
        assert " style=" not in body and "<style" not in body, url
        assert " on" + "click=" not in body, url


def test_session_cookie_is_httponly_lax_and_secure_when_configured(config):
    app = create_app({**config, "SESSION_COOKIE_SECURE": True})
    try:
        with app.extensions["linktracker"].sessions() as session:
            create_user(session, "secure@users.test", "admin", PASSWORD)
        response = app.test_client().post(
            "/app/login", data={"email": "secure@users.test", "password": PASSWORD}
        )
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    finally:
        app.extensions["linktracker"].dispose()


def test_forms_refuse_posts_without_a_csrf_token(config, session, sign_in):
    app = create_app({**config, "WTF_CSRF_ENABLED": True})
    try:
        client = sign_in("admin", app=app)
        response = client.post("/app/settings/", data={"cpm": "99"})
        assert response.status_code == 400
        assert "CSRF" in text(response)
        assert session.scalar(select(func.count()).select_from(Setting)) == 0
    finally:
        app.extensions["linktracker"].dispose()


# --- CSRF on the API: cookie-signed writes carry the token, bearer requests do not need it ---


def test_a_cookie_signed_api_write_without_the_csrf_token_is_refused(
    sign_in_with_cookie: SignInWithCookie, csrf_app: Flask, session: Session
) -> None:
    client = csrf_app.test_client()
    sign_in_with_cookie(client, "admin")
    response = client.post("/api/v1/employees", json={"name": "A", "email": "a@example.com"})
    assert response.status_code == 400
    assert "CSRF token" in response.json["error"]
    assert "X-CSRFToken" in response.json["error"]
    assert session.scalar(select(func.count()).select_from(Employee)) == 0


def test_a_cookie_signed_api_write_with_the_csrf_token_works(
    sign_in_with_cookie: SignInWithCookie, csrf_app: Flask, session: Session
) -> None:
    client = csrf_app.test_client()
    token = sign_in_with_cookie(client, "admin")
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


def test_cookie_signed_api_reads_need_no_csrf_token(
    sign_in_with_cookie: SignInWithCookie, csrf_app: Flask
) -> None:
    client = csrf_app.test_client()
    sign_in_with_cookie(client, "admin")
    assert client.get("/api/v1/reports/program").status_code == 200


def test_every_api_write_route_wants_the_csrf_token_from_a_cookie(
    sign_in_with_cookie: SignInWithCookie, csrf_app: Flask, session: Session
) -> None:
    client = csrf_app.test_client()
    sign_in_with_cookie(client, "admin")
    writes = [
        (rule, method)
        for rule in csrf_app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH", "DELETE"})
    ]
    assert writes, "the API has write routes"
    for rule, method in writes:
        url = re.sub(r"<[^>]+>", "1", rule.rule)
        response = client.open(url, method=method, data={"file": (io.BytesIO(b"id\n1\n"), "x.csv")})
        assert response.status_code == 400, (method, url)
        assert "CSRF token" in response.json["error"]
    assert session.scalar(select(func.count()).select_from(CrmImport)) == 0
