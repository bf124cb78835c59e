"""Security headers, the session cookie and CSRF on the app pages."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from linktracker import create_app
from linktracker.auth.services import create_user
from linktracker.settings.models import Setting
from tests.factories import make_click, make_link
from tests.web.clients import PASSWORD, text


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
