"""The landing page and the navigation: each role is sent home and sees only what it may use."""

from __future__ import annotations

import pytest

from tests.web.clients import text


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        ("employee", "/app/links/"),
        ("marketer", "/app/reports/"),
        ("sales_ops", "/app/crm/"),
        ("admin", "/app/reports/"),
    ],
)
def test_home_sends_each_role_to_its_landing_page(sign_in, role, landing):
    response = sign_in(role).get("/app/")
    assert response.status_code == 302
    assert response.headers["Location"] == landing


def test_home_sends_the_anonymous_to_sign_in(client):
    assert client.get("/app/").headers["Location"] == "/app/login"


def test_navigation_shows_only_what_the_role_may_use(sign_in):
    employee_page = text(sign_in("employee").get("/app/links/"))
    assert "My links" in employee_page
    for hidden in ("Campaigns", "Employees", "Settings", "Users", "Dashboard"):
        assert f">{hidden}</a>" not in employee_page
    admin_page = text(sign_in("admin").get("/app/settings/"))
    for shown in ("Campaigns", "Employees", "Settings", "Users", "Dashboard", "Attribution"):
        assert f">{shown}</a>" in admin_page
