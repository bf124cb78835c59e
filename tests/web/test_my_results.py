"""An employee's own space: My results (their per-rep page and rank) and GET /api/v1/me."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from linktracker.campaigns.models import Campaign
from linktracker.employees.models import Employee
from linktracker.links.models import Link
from tests.factories import make_campaign, make_click, make_crm_record, make_employee, make_link
from tests.web.clients import SignIn, text

Headers = Callable[..., dict[str, str]]
CUSTOMER = {"email": "buyer@customer.test", "owner": "Olga Owner",
            "landing_url": "https://www.example.com/?company=Acme+Corp"}  # fmt: skip


def _clicks(session: Session, link: Link, n: int, *, days_ago: float = 1) -> None:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    for i in range(n):
        make_click(session, link, at=at, ip=f"198.51.100.{i + 1}")


def _lead(session: Session, employee: Employee, *, days_ago: float = 2, won: bool = False) -> None:
    now = datetime.now(UTC)
    make_crm_record(
        session, employee_id=employee.id, attribution_method="utm", won=won,
        created_at=now - timedelta(days=days_ago), closed_at=now if won else None, **CUSTOMER,
    )  # fmt: skip


def _program(session: Session) -> tuple[Employee, Employee, Campaign]:
    """Me: 3 clicks and 2 leads (1 won) this month, plus older activity; a busier colleague."""
    campaign = make_campaign(session, name="Launch")
    me = make_employee(session, name="Me Myself", email="me@example.com", team="Sales")
    star = make_employee(session, name="Star Sharer", email="star@example.com")
    _clicks(session, make_link(session, campaign, me), 3)
    _clicks(session, make_link(session, campaign, me, channel="x"), 2, days_ago=60)
    _clicks(session, make_link(session, campaign, star), 5)
    _lead(session, me)
    _lead(session, me, won=True)
    _lead(session, me, days_ago=45)
    return me, star, campaign


def test_me_gives_the_employee_and_their_last_30_days(
    app: Flask, client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    _program(session)
    response = client.get("/api/v1/me", headers=api_headers("employee", "me@example.com"))
    assert response.status_code == 200
    me = session.query(Employee).filter_by(email="me@example.com").one()
    assert response.json == {
        "email": "me@example.com",
        "role": "employee",
        "employee": {"handle": me.handle, "name": "Me Myself", "team": "Sales"},
        "figures": {"clicks": 3, "unique_visitors": 3, "leads": 2, "won": 1},
        "days": 30,
    }


def test_me_without_an_employee_profile_has_no_employee_and_zero_figures(
    client: FlaskClient, api_headers: Headers
) -> None:
    response = client.get("/api/v1/me", headers=api_headers("marketer"))
    assert response.status_code == 200
    assert response.json["employee"] is None and response.json["role"] == "marketer"
    assert response.json["figures"] == {"clicks": 0, "unique_visitors": 0, "leads": 0, "won": 0}
    assert client.get("/api/v1/me").status_code == 401


def test_an_employee_sees_their_own_results_page_and_never_another_s(
    session: Session, sign_in: SignIn
) -> None:
    me, star, _campaign = _program(session)
    client = sign_in("employee", "me@example.com")
    for url in ("/app/reports/me", f"/app/reports/reps/{me.handle}"):
        response = client.get(url)
        assert response.status_code == 200, url
        body = text(response)
        assert "My results" in body and "Me Myself" in body and 'class="funnel"' in body
    assert client.get(f"/app/reports/reps/{star.handle}").status_code == 404
    assert client.get("/app/reports/reps/nobody").status_code == 404
    assert client.get(f"/api/v1/reports/reps/{star.handle}").status_code == 404


def test_my_results_shows_attributed_records_without_customer_personal_data(
    session: Session, sign_in: SignIn
) -> None:
    me, _star, _campaign = _program(session)
    client = sign_in("employee", "me@example.com")
    page = text(client.get("/app/reports/me"))
    records = text(client.get(f"/api/v1/reports/reps/{me.handle}?table=records&format=csv"))
    assert "Attributed records" in page and records.count("\n") == 3  # header and 2 leads
    for shown in (page, records):
        for value in ("buyer@customer.test", "customer.test", "Olga Owner", "Acme"):
            assert value not in shown


def test_my_results_search_cannot_probe_customer_names_companies_or_owners(
    session: Session, sign_in: SignIn
) -> None:
    """The employee's records search looks at what they can see: stage and record id."""
    me, _star, _campaign = _program(session)
    make_crm_record(
        session, employee_id=me.id, attribution_method="utm", name="Hidden Buyer",
        company="Secret Corp", stage="Qualified", external_id="OPP-77",
        created_at=datetime.now(UTC) - timedelta(days=1), **CUSTOMER,
    )  # fmt: skip
    client = sign_in("employee", "me@example.com")

    def found(query: str) -> bool:
        return "OPP-77" in text(client.get(f"/app/reports/me?q={query}"))

    assert found("OPP-77") and found("qualified")
    for probe in ("Hidden", "Secret", "Olga"):
        assert not found(probe), probe
    # A manager's search still covers names, companies and owners.
    manager = sign_in("marketer")
    assert "OPP-77" in text(manager.get(f"/app/reports/reps/{me.handle}?q=Secret"))


def test_my_results_shows_my_rank_and_the_top_10_by_clicks_and_leads(
    session: Session, sign_in: SignIn
) -> None:
    _program(session)
    body = text(sign_in("employee", "me@example.com").get("/app/reports/me"))
    assert "Where you stand" in body
    # Two active employees; the star has more clicks, I have the only leads.
    assert "#2</p>" in body and "of 2 active employees" in body
    assert "#1</p>" in body and "of 1 with leads" in body
    top_clicks = body.split("Top 10 by clicks")[1].split("Top 10 by leads")[0]
    assert top_clicks.index("Star Sharer") < top_clicks.index("Me Myself")
    assert 'aria-current="true">Me Myself' in top_clicks


def test_ranks_are_hidden_when_the_program_does_not_show_them(
    app: Flask, session: Session, sign_in: SignIn
) -> None:
    _program(session)
    admin = sign_in("admin")
    page = text(admin.get("/app/settings/"))
    checkbox = re.search(r'<input[^>]*name="show_ranks"[^>]*>', page)
    assert checkbox is not None and "checked" in checkbox.group(0)  # on by default
    values = {
        "allowed_domains": "example.com, *.example.com", "utm_medium": "social",
        "click_id_param": "lt_cid", "attribution_window_days": "30", "cpm": "10",
        "cost_per_lead": "50", "reporting_timezone": "UTC", "default_currency": "USD",
        "erased_links": "keep", "crm_record_retention_months": "0",
    }  # fmt: skip
    assert admin.post("/app/settings/", data=values).status_code == 302
    assert app.extensions["linktracker"].settings().show_ranks is False
    body = text(sign_in("employee", "me@example.com").get("/app/reports/me"))
    assert "Where you stand" not in body and "Star Sharer" not in body
    assert admin.post("/app/settings/", data={**values, "show_ranks": "y"}).status_code == 302
    assert app.extensions["linktracker"].settings().show_ranks is True


def test_managers_see_a_rep_page_without_the_rank_and_employees_get_my_results_in_the_nav(
    session: Session, sign_in: SignIn
) -> None:
    me, _star, _campaign = _program(session)
    manager_page = text(sign_in("marketer").get(f"/app/reports/reps/{me.handle}"))
    assert "Where you stand" not in manager_page and "← Leaderboard" in manager_page
    links_page = text(sign_in("employee", "me@example.com").get("/app/links/"))
    assert 'href="/app/reports/me"' in links_page and ">My results</a>" in links_page
    nobody = sign_in("sales_ops")
    response = nobody.get("/app/reports/me")
    assert response.status_code == 200 and "not linked to an employee profile" in text(response)
