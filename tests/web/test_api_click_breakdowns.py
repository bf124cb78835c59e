"""GET /api/v1/reports/clicks: the contract's fields, CSV, roles, and every refusal."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.reports.audience_queries import DIMENSIONS
from linktracker.reports.models import AudienceDay
from tests import audience_data as data

Headers = Callable[..., dict[str, str]]
RANGE = "from=2026-03-02&to=2026-03-04"
ALLOWED = ", ".join(DIMENSIONS)


@pytest.fixture
def config(config: dict[str, object]) -> dict[str, object]:
    return config | {"REPORTING_TIMEZONE": data.TIMEZONE}


@pytest.fixture
def program(session: Session) -> data.Program:
    return data.build(session)


@pytest.mark.parametrize("by", DIMENSIONS)
def test_each_breakdown_answers_the_contract(
    client: FlaskClient, api_headers: Headers, program: data.Program, by: str
) -> None:
    response = client.get(f"/api/v1/reports/clicks?by={by}&{RANGE}", headers=api_headers())
    assert response.status_code == 200, response.json
    body = response.json
    assert {"from", "to", "by", "rows", "total", "bots", "previews"} <= set(body)
    assert (body["from"], body["to"], body["by"]) == ("2026-03-02", "2026-03-04", by)
    assert [(r["key"], r["clicks"], r["unique_visitors"]) for r in body["rows"]] == (
        data.EXPECTED[by]
    )
    assert body["total"] == (data.BOT_TOTAL if by == "bot_name" else data.TOTAL)
    assert (body["bots"], body["previews"]) == (data.BOTS, data.PREVIEWS)


def test_filters_and_csv(client: FlaskClient, api_headers: Headers, program: data.Program) -> None:
    url = f"/api/v1/reports/clicks?by=country&{RANGE}&campaign=spring&format=csv"
    response = client.get(url, headers=api_headers("marketer"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "clicks-by-country-2026-03-02-2026-03-04.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows == [
        ["country", "clicks", "unique_visitors"],
        ["DE", "2", "1"],
        ["FR", "1", "1"],
        ["US", "1", "1"],
        ["", "1", "1"],
        ["total", "5", "4"],
    ]


def test_an_employee_reads_only_their_own_clicks(
    client: FlaskClient, api_headers: Headers, program: data.Program, session: Session
) -> None:
    from linktracker.auth.models import User

    own = api_headers("employee", email=program.ann.email)
    user = session.scalar(select(User).where(User.email == program.ann.email))
    assert user is not None and user.employee_id == program.ann.id
    mine = client.get(f"/api/v1/reports/clicks?by=os&{RANGE}&employee=ann", headers=own)
    assert mine.status_code == 200
    assert [(r["key"], r["clicks"]) for r in mine.json["rows"]] == [("Windows", 3), ("iOS", 1)]
    other = client.get(f"/api/v1/reports/clicks?by=os&{RANGE}&employee=bob", headers=own)
    assert other.status_code == 404
    assert other.json["error"] == "No employee with handle 'bob'."
    everyone = client.get(f"/api/v1/reports/clicks?by=os&{RANGE}", headers=own)
    assert everyone.status_code == 403
    assert everyone.json["error"] == (
        "Employees see only their own clicks: add employee=<your handle>."
    )
    assert everyone.json["fields"] == {"employee": "Required: your own handle."}


@pytest.mark.parametrize(
    ("query", "status", "error", "fields"),
    [
        (f"{RANGE}", 400, f"'by' is required: one of {ALLOWED}.", {"by": f"Use one of {ALLOWED}."}),
        (f"by=city&{RANGE}", 400, f"Unknown breakdown 'city': use one of {ALLOWED}.",
         {"by": f"Use one of {ALLOWED}."}),
        ("by=hour&from=2026-13-01", 400, "The date range is invalid.", None),
        ("by=hour&from=2026-03-05&to=2026-03-01", 400, "The date range is invalid.",
         {"from": "Must not be after 'to'."}),
        (f"by=hour&{RANGE}&format=xml", 400, "Unknown format.", {"format": "Use json or csv."}),
        (f"by=hour&{RANGE}&campaign=nope", 422, "Unknown filter value.",
         {"campaign": "No campaign with slug 'nope'."}),
    ],
)  # fmt: skip
def test_bad_requests_are_refused_with_a_message(
    client: FlaskClient,
    api_headers: Headers,
    program: data.Program,
    session: Session,
    query: str,
    status: int,
    error: str,
    fields: dict[str, str] | None,
) -> None:
    response = client.get(f"/api/v1/reports/clicks?{query}", headers=api_headers())
    assert response.status_code == status
    assert response.json["error"] == error
    if fields is not None:
        assert response.json["fields"] == fields
    else:
        assert set(response.json["fields"]) == {"from"}
    if status == 400:  # refused before anything was counted or rolled up
        assert session.scalar(select(func.count()).select_from(AudienceDay)) == 0


def test_sales_ops_and_anonymous_are_refused(client: FlaskClient, api_headers: Headers) -> None:
    assert client.get(f"/api/v1/reports/clicks?by=os&{RANGE}").status_code == 401
    refused = client.get(f"/api/v1/reports/clicks?by=os&{RANGE}", headers=api_headers("sales_ops"))
    assert refused.status_code == 403
