"""Hostile and oversized input: field errors (422) or a 4xx with a message, never a 500.

Column lengths come from the models, so the tests follow the schema instead of repeating it.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.auth.models import ApiToken, User
from linktracker.campaigns.models import Campaign
from linktracker.crm.models import CrmImport
from linktracker.employees.models import Employee
from linktracker.links.models import Link
from linktracker.models import Base
from linktracker.settings.models import Setting
from tests.factories import make_campaign, make_employee, make_link
from tests.web.clients import SignIn

Headers = Callable[..., dict[str, str]]
NUL = "a\x00b"


def length(model: type[Base], column: str) -> int:
    size = model.__table__.c[column].type.length  # type: ignore[attr-defined]
    assert isinstance(size, int)
    return size


def over(model: type[Base], column: str) -> str:
    return "x" * (length(model, column) + 1)


def count(session: Session, model: type[Base]) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def body_of(response: Any) -> str:
    return str(response.get_data(as_text=True))


# ---------------------------------------------------------------- API: text lengths and NUL

EMPLOYEE = {"name": "Rep A", "email": "a@example.com"}
CAMPAIGN = {"name": "Spring", "destination_url": "https://www.example.com/spring"}


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"name": over(Employee, "name")}, "name", "200 characters"),
        ({"email": "a" * 310 + "@example.com"}, "email", "320 characters"),
        ({"team": over(Employee, "team")}, "team", "120 characters"),
        ({"name": NUL}, "name", "NUL"),
        ({"team": NUL}, "team", "NUL"),
        ({"email": "a\x00@example.com"}, "email", "NUL"),
        ({"connections": 10**30}, "connections", "2147483647"),
    ],
)
def test_api_employee_with_overlong_or_nul_text_gets_field_errors(
    client: FlaskClient,
    api_headers: Headers,
    session: Session,
    payload: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = client.post("/api/v1/employees", json=EMPLOYEE | payload, headers=api_headers())
    assert response.status_code == 422, body_of(response)
    assert message in response.json["fields"][field]
    assert count(session, Employee) == 0


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"name": over(Campaign, "name")}, "name", "200 characters"),
        ({"utm": {"id": over(Campaign, "utm_id")}}, "utm_id", "100 characters"),
        ({"utm": {"term": over(Campaign, "utm_term")}}, "utm_term", "200 characters"),
        ({"utm": {"medium": over(Campaign, "utm_medium")}}, "utm_medium", "100 characters"),
        ({"name": NUL}, "name", "NUL"),
        ({"utm": {"term": NUL}}, "utm_term", "NUL"),
        ({"goal": NUL}, "goal", "NUL"),
        ({"destination_url": "https://www.example.com/\x00"}, "destination_url", "NUL"),
    ],
)
def test_api_campaign_with_overlong_or_nul_text_gets_field_errors(
    client: FlaskClient,
    api_headers: Headers,
    session: Session,
    payload: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = client.post("/api/v1/campaigns", json=CAMPAIGN | payload, headers=api_headers())
    assert response.status_code == 422, body_of(response)
    assert message in response.json["fields"][field]
    assert count(session, Campaign) == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"campaign": NUL}, "campaign"),
        ({"employee": NUL}, "employee"),
        ({"channel": NUL}, "channel"),
        ({"code": "abc\x00def"}, "code"),
    ],
)
def test_api_link_lookups_with_nul_get_field_errors(
    client: FlaskClient,
    api_headers: Headers,
    session: Session,
    payload: dict[str, Any],
    field: str,
) -> None:
    link = make_link(session)
    campaign = session.get(Campaign, link.campaign_id)
    employee = session.get(Employee, link.employee_id)
    assert campaign is not None and employee is not None
    body = {"campaign": campaign.slug, "employee": employee.handle, "channel": "x"} | payload
    response = client.post("/api/v1/links", json=body, headers=api_headers())
    assert response.status_code == 422, body_of(response)
    assert "NUL" in response.json["fields"][field]
    assert count(session, Link) == 1


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/links/ab%00cd",
        "/api/v1/reports/reps?team=%00",
        "/api/v1/reports/reps?employee=a%00",
        "/api/v1/reports/campaigns?campaign=%00",
        "/api/v1/reports/reps/rep%00a",
    ],
)
def test_api_nul_in_the_path_or_query_is_a_400(
    client: FlaskClient, api_headers: Headers, url: str
) -> None:
    response = client.get(url, headers=api_headers())
    assert response.status_code == 400, body_of(response)
    assert "NUL" in response.json["error"]


def test_deeply_nested_json_is_a_400(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    depth = 100_000
    body = '{"name":' + "[" * depth + "]" * depth + ', "email": "a@example.com"}'
    response = client.post(
        "/api/v1/employees", data=body, content_type="application/json", headers=api_headers()
    )
    assert response.status_code == 400
    assert "nested" in response.json["error"]
    assert count(session, Employee) == 0


# ---------------------------------------------------------------- API: numbers and dates

REPORTS = [
    "/api/v1/reports/reps",
    "/api/v1/reports/reps/rep-a",
    "/api/v1/reports/campaigns",
    "/api/v1/reports/channels",
    "/api/v1/reports/program",
]


@pytest.mark.parametrize("path", REPORTS)
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("to=9999-12-31", "to"),
        ("from=9999-12-01&to=9999-12-31", "to"),
        ("from=0001-01-01&to=0001-01-31", "from"),
    ],
)
def test_report_api_dates_out_of_range_are_refused(
    client: FlaskClient, api_headers: Headers, session: Session, path: str, query: str, field: str
) -> None:
    make_employee(session, handle="rep-a")
    response = client.get(f"{path}?{query}", headers=api_headers())
    assert response.status_code == 422, body_of(response)
    assert "between" in response.json["fields"][field]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("offset=99999999999999999999", "offset"),
        ("limit=99999999999999999999", "limit"),
        ("offset=-1", "offset"),
        ("limit=ten", "limit"),
    ],
)
def test_crm_import_list_paging_out_of_range_is_refused(
    client: FlaskClient, api_headers: Headers, query: str, field: str
) -> None:
    response = client.get(f"/api/v1/crm/imports?{query}", headers=api_headers())
    assert response.status_code == 422, body_of(response)
    assert response.json["fields"][field]


def test_crm_import_list_paging_in_range_still_works(
    client: FlaskClient, api_headers: Headers
) -> None:
    response = client.get("/api/v1/crm/imports?offset=5&limit=10", headers=api_headers())
    assert response.status_code == 200


# ---------------------------------------------------------------- pages

REPORT_PAGES = [
    "/app/reports/",
    "/app/reports/leaderboard",
    "/app/reports/reps/rep-a",
    "/app/reports/campaigns",
    "/app/reports/channels",
]


@pytest.mark.parametrize("path", REPORT_PAGES)
@pytest.mark.parametrize("query", ["to=9999-12-31", "from=0001-01-01&to=0001-01-31"])
def test_report_pages_with_dates_out_of_range_say_so_with_a_422(
    sign_in: SignIn, session: Session, path: str, query: str
) -> None:
    make_employee(session, handle="rep-a")
    response = sign_in("marketer").get(f"{path}?{query}")
    assert response.status_code == 422
    assert "Use a date between 1970-01-01 and 2999-12-31." in body_of(response)


def test_an_employee_s_own_report_with_a_far_date_says_so(
    sign_in: SignIn, session: Session
) -> None:
    employee = make_employee(session, handle="rep-a", email="rep-a@example.com")
    client = sign_in("employee", email=employee.email)
    response = client.get("/api/v1/reports/reps/rep-a?to=9999-12-31")
    assert response.status_code == 422
    assert "between" in response.json["fields"]["to"]


@pytest.mark.parametrize(
    "url",
    ["/app/employees/?q=%00", "/app/reports/leaderboard?team=%00", "/app/links/ab%00c/qr.png"],
)
def test_pages_with_nul_in_the_path_or_query_are_a_400(sign_in: SignIn, url: str) -> None:
    response = sign_in("admin").get(url)
    assert response.status_code == 400
    assert "NUL" in body_of(response)


def _error_beside(body: str, field: str, message: str) -> bool:
    return re.search(rf'id="{field}-error">[^<]*{re.escape(message)}', body) is not None


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"utm_id": over(Campaign, "utm_id")}, "utm_id", "100 characters"),
        ({"utm_term": over(Campaign, "utm_term")}, "utm_term", "200 characters"),
        ({"utm_medium": over(Campaign, "utm_medium")}, "utm_medium", "100 characters"),
        ({"name": NUL}, "name", "NUL"),
        ({"utm_id": NUL}, "utm_id", "NUL"),
    ],
)
def test_campaign_form_refuses_overlong_or_nul_text_beside_the_field(
    sign_in: SignIn, session: Session, data: dict[str, str], field: str, message: str
) -> None:
    form = {"name": "Spring", "destination_url": "https://www.example.com/", "goal": "leads",
            "channels": ["linkedin"]} | data  # fmt: skip
    response = sign_in("marketer").post("/app/campaigns/new", data=form)
    assert response.status_code == 422
    assert _error_beside(body_of(response), field, message), body_of(response)
    assert count(session, Campaign) == 0


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"team": over(Employee, "team")}, "team", "120 characters"),
        ({"email": "a" * 310 + "@example.com"}, "email", "320 characters"),
        ({"name": NUL}, "name", "NUL"),
        ({"connections": "1" + "0" * 30}, "connections", "2147483647"),
    ],
)
def test_employee_form_refuses_overlong_or_nul_text_beside_the_field(
    sign_in: SignIn, session: Session, data: dict[str, str], field: str, message: str
) -> None:
    form = {"name": "Rep A", "email": "a@example.com"} | data
    response = sign_in("marketer").post("/app/employees/new", data=form)
    assert response.status_code == 422
    assert _error_beside(body_of(response), field, message), body_of(response)
    assert count(session, Employee) == 0


@pytest.mark.parametrize(
    ("email", "message"),
    [("a" * 310 + "@example.com", "320 characters"), ("new\x00@example.com", "NUL")],
)
def test_user_form_refuses_overlong_or_nul_email(
    sign_in: SignIn, session: Session, email: str, message: str
) -> None:
    client = sign_in("admin")
    before = count(session, User)
    response = client.post("/app/users/", data={"email": email, "role": "employee"})
    assert response.status_code == 422
    assert _error_beside(body_of(response), "email", message), body_of(response)
    assert count(session, User) == before


SETTINGS = {
    "allowed_domains": "example.com",
    "utm_medium": "social",
    "click_id_param": "lt_cid",
    "attribution_window_days": "30",
    "cpm": "10",
    "cost_per_lead": "50",
    "reporting_timezone": "UTC",
}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"cpm": "nan"}, "cpm", "Enter a number"),
        ({"cpm": "inf"}, "cpm", "Enter a number"),
        ({"cost_per_lead": "-inf"}, "cost_per_lead", "Enter a number"),
        ({"click_id_param": "clïck"}, "click_id_param", "letters"),
        ({"attribution_window_days": "9" * 5000}, "attribution_window_days", "whole number"),
        ({"attribution_window_days": "٣٠"}, "attribution_window_days", "whole number"),
        ({"click_id_param": "cid²"}, "click_id_param", "letters"),
        ({"utm_medium": NUL}, "utm_medium", "NUL"),
        ({"allowed_domains": "example.com\x00"}, "allowed_domains", "NUL"),
        ({"click_id_param": "c" * 65}, "click_id_param", "at most 64"),
        ({"utm_medium": over(Campaign, "utm_medium")}, "utm_medium", "100 characters"),
    ],
)
def test_settings_refuse_non_finite_money_odd_parameters_and_nul(
    sign_in: SignIn, session: Session, data: dict[str, str], field: str, message: str
) -> None:
    response = sign_in("admin").post("/app/settings/", data=SETTINGS | data)
    assert response.status_code == 422
    assert _error_beside(body_of(response), field, message), body_of(response)
    assert count(session, Setting) == 0


def test_sign_in_with_a_nul_in_the_email_is_refused_plainly(app: Flask, session: Session) -> None:
    response = app.test_client().post(
        "/app/login", data={"email": "a\x00@example.com", "password": "x" * 12}
    )
    assert 400 <= response.status_code < 500
    assert "Wrong email or password" in body_of(response) or "NUL" in body_of(response)


@pytest.mark.parametrize(
    "target",
    ["/%0d%0aSet-Cookie:%20x=1", "/app/%0aLocation:%20http://evil.test", "/app%09/x", "/a%7fb"],
)
def test_sign_in_with_control_characters_in_next_redirects_home(
    app: Flask, session: Session, target: str
) -> None:
    from linktracker.auth.services import create_user

    create_user(session, "m@users.test", "marketer", "correct horse battery")
    response = app.test_client().post(
        f"/app/login?next={target}",
        data={"email": "m@users.test", "password": "correct horse battery"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/app/"


def test_sign_in_still_follows_a_plain_next(app: Flask, session: Session) -> None:
    from linktracker.auth.services import create_user

    create_user(session, "m@users.test", "marketer", "correct horse battery")
    response = app.test_client().post(
        "/app/login?next=/app/reports/%3Fteam%3DSales",
        data={"email": "m@users.test", "password": "correct horse battery"},
    )
    assert response.headers["Location"] == "/app/reports/?team=Sales"


# ---------------------------------------------------------------- employee CSV import

IMPORT = (
    "name,email,handle,team,connections\n"
    "Good One,good1@example.com,,Sales,10\n"
    "Long Team,long@example.com,,{long_team},10\n"
    "Nul Name,nul@example.com,,Sa\x00les,10\n"
    "Huge,huge@example.com,,Sales,{huge}\n"
    "Good Two,good2@example.com,,Marketing,20\n"
    "Long Mail,{long_email},,Sales,1\n"
    "{huge_name},huge-name@example.com,,Sales,1\n"
)


def _import_text() -> str:
    return IMPORT.format(
        long_team=over(Employee, "team"),
        huge="9" * 30,
        long_email="m" * 320 + "@example.com",
        huge_name="n" * 200_000,
    )


def _assert_good_lines_saved(session: Session) -> None:
    session.expire_all()
    emails = sorted(session.scalars(select(Employee.email)))
    assert emails == ["good1@example.com", "good2@example.com"]


def test_employee_import_on_the_web_keeps_good_lines_and_lists_bad_ones(
    sign_in: SignIn, session: Session
) -> None:
    response = sign_in("marketer").post(
        "/app/employees/import",
        data={"file": (io.BytesIO(_import_text().encode()), "people.csv")},
        content_type="multipart/form-data",
    )
    body = body_of(response)
    assert response.status_code == 200, body[:3000]
    assert re.search(r'Created</p>\s*<p class="stat-value">2<', body)
    assert re.search(r'Rejected</p>\s*<p class="stat-value">5<', body)
    assert "120 characters" in body and "NUL" in body and "320 characters" in body
    _assert_good_lines_saved(session)


def test_employee_import_on_the_cli_keeps_good_lines_and_lists_bad_ones(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(_import_text(), encoding="utf-8")
    result = runner.invoke(args=["import-employees", str(path)])
    assert result.exit_code == 1, result.output
    for line in (3, 4, 5, 7, 8):
        assert f"line {line}" in result.output
    assert "line 2:" not in result.output and "line 6:" not in result.output
    assert "120 characters" in result.output and "NUL" in result.output
    assert "unreadable line" in result.output
    _assert_good_lines_saved(session)


def test_employee_import_updating_a_team_to_an_overlong_one_is_a_bad_line(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    make_employee(session, email="known@example.com", team="Sales")
    path = tmp_path / "people.csv"
    path.write_text(f"name,email,team\nKnown,known@example.com,{over(Employee, 'team')}\n")
    result = runner.invoke(args=["import-employees", str(path)])
    assert "line 2" in result.output and "120 characters" in result.output
    session.expire_all()
    assert session.scalar(select(Employee.team)) == "Sales"


def test_employee_import_on_the_cli_refuses_a_file_that_is_not_utf8(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes("name,email\nJosé,jose@example.com\n".encode("cp1252"))
    result = runner.invoke(args=["import-employees", str(path)])
    assert result.exit_code == 1
    assert "not UTF-8" in result.output
    assert count(session, Employee) == 0


# ---------------------------------------------------------------- CLI


def test_cli_token_with_an_overlong_name_is_refused(
    runner: FlaskCliRunner, session: Session
) -> None:
    from linktracker.auth.services import create_user

    create_user(session, "t@users.test", "admin", "correct horse battery")
    result = runner.invoke(args=["create-token", "t@users.test", "--name", over(ApiToken, "name")])
    assert result.exit_code != 0
    assert "120 characters" in result.output
    assert count(session, ApiToken) == 0


def test_cli_user_with_an_overlong_email_is_refused(
    runner: FlaskCliRunner, session: Session
) -> None:
    result = runner.invoke(args=["create-user", "u" * 320 + "@example.com", "--role", "admin"])
    assert result.exit_code != 0
    assert "320 characters" in result.output
    assert count(session, User) == 0


def test_crm_upload_source_with_nul_is_refused(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    data = {"file": (io.BytesIO(b"id,created\n1,2026-01-01\n"), "x.csv"), "source": "sf\x00"}
    response = client.post(
        "/api/v1/crm/imports",
        data=data,
        content_type="multipart/form-data",
        headers=api_headers("sales_ops"),
    )
    assert 400 <= response.status_code < 500, body_of(response)
    assert count(session, CrmImport) == 0


def test_a_non_finite_cpm_saved_earlier_falls_back_and_the_api_stays_valid_json(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    session.add(Setting(key="cpm", value="nan"))
    session.commit()
    response = client.get("/api/v1/reports/program", headers=api_headers())
    assert response.status_code == 200
    assert "NaN" not in body_of(response)
    assert json.loads(body_of(response))["cpm"] == 10.0


def test_vanity_code_with_a_trailing_newline_is_refused(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    campaign = make_campaign(session)
    employee = make_employee(session)
    body = {"campaign": campaign.slug, "employee": employee.handle, "channel": "x",
            "code": "spring\n"}  # fmt: skip
    response = client.post("/api/v1/links", json=body, headers=api_headers())
    assert response.status_code == 422
    assert count(session, Link) == 0


BIG = "99999999999999999999"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", f"/app/campaigns/{BIG}"),
        ("GET", f"/app/campaigns/{BIG}/edit"),
        ("GET", f"/app/crm/{BIG}"),
        ("GET", f"/app/crm/{BIG}/preview"),
        ("GET", f"/app/users/{BIG}/password"),
        ("GET", f"/api/v1/crm/imports/{BIG}"),
        ("GET", f"/api/v1/crm/imports/{BIG}/raw"),
        ("POST", f"/app/employees/{BIG}/active"),
        ("POST", f"/app/users/{BIG}/active"),
        ("POST", f"/app/campaigns/{BIG}/active"),
        ("POST", f"/app/campaigns/{BIG}/links"),
        ("POST", f"/app/crm/{BIG}/run"),
    ],
)
def test_ids_too_large_for_the_database_are_a_404(sign_in: SignIn, method: str, url: str) -> None:
    response = sign_in("admin").open(url, method=method, data={"active": "0"})
    assert response.status_code == 404
    assert "not found" in body_of(response).lower()


def test_crm_import_mapping_nested_too_deeply_is_refused(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    data = {"file": (io.BytesIO(b"id,created\n1,2026-01-01\n"), "x.csv"), "mapping": "[" * 100_000}
    response = client.post(
        "/api/v1/crm/imports",
        data=data,
        content_type="multipart/form-data",
        headers=api_headers("sales_ops"),
    )
    assert response.status_code == 422
    assert response.json["fields"]["mapping"] == "Invalid JSON."
    assert count(session, CrmImport) == 0


def test_cli_revoking_a_token_id_too_large_for_the_database_says_not_found(
    runner: FlaskCliRunner,
) -> None:
    result = runner.invoke(args=["revoke-token", BIG])
    assert result.exit_code == 1
    assert f"No token with id {BIG}." in result.output
