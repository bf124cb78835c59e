"""GET /api/v1/reports/*: the API's field names, CSV export, roles, bad input."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker.attribution.services import attribute_records
from linktracker.crm.models import CrmRecord
from linktracker.csvsafe import safe_cell, to_csv
from linktracker.employees.models import Employee
from tests.factories import make_campaign, make_click, make_crm_record, make_employee, make_link

Headers = Callable[..., dict[str, str]]
DAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
RANGE = "from=2026-03-01&to=2026-03-31"
ROW_FIELDS = {
    "employee", "clicks", "unique_visitors", "bot_clicks", "leads", "won", "click_to_lead_rate",
    "lead_to_won_rate", "median_days_to_close", "mean_days_to_close", "revenue",
}  # fmt: skip
PROGRAM_FIELDS = {
    "invited", "joined", "join_rate", "active", "participation_rate", "clicks", "leads", "won",
    "estimated_impressions", "earned_media_value", "lead_cost_savings", "top_contributors",
}  # fmt: skip


@pytest.fixture
def data(session: Session) -> None:
    rep = make_employee(session, handle="rep-a", name="=HYPERLINK(\"http://evil\")",
                        email="rep-a@example.com", team="+Sales", connections=1000)  # fmt: skip
    make_employee(session, handle="rep-b", email="rep-b@example.com")
    link = make_link(session, make_campaign(session, slug="spring"), rep)
    click = make_click(session, link, at=DAY)
    make_click(session, link, at=DAY + timedelta(hours=1), ip="192.0.2.9")
    make_crm_record(session, click_id=click["click_id"], created_at=DAY + timedelta(hours=2),
                    won=True, closed_at=DAY + timedelta(days=3), amount=Decimal("1234.50"),
                    currency="EUR")  # fmt: skip
    make_crm_record(session, created_at=DAY, won=True, closed_at=DAY + timedelta(days=1),
                    amount=Decimal("10"), currency="USD")  # fmt: skip
    attribute_records(session)


def test_reps_report_has_the_contract_fields(
    client: FlaskClient, api_headers: Headers, data: None
) -> None:
    response = client.get(f"/api/v1/reports/reps?{RANGE}", headers=api_headers("marketer"))
    assert response.status_code == 200
    body = response.json
    assert body["from"] == "2026-03-01" and body["to"] == "2026-03-31"
    (row,) = body["reps"]
    assert set(row) >= ROW_FIELDS
    assert row["employee"] == {"handle": "rep-a", "name": "=HYPERLINK(\"http://evil\")",
                               "team": "+Sales"}  # fmt: skip
    assert (row["clicks"], row["unique_visitors"], row["bot_clicks"], row["leads"], row["won"]) == (
        2, 2, 0, 1, 1
    )  # fmt: skip
    assert row["click_to_lead_rate"] == 0.5 and row["lead_to_won_rate"] == 1.0
    assert row["median_days_to_close"] == row["mean_days_to_close"] == pytest.approx(3 - 2 / 24)
    assert row["revenue"] == {"EUR": 1234.5}
    baseline = body["baseline"]
    assert set(baseline) >= ROW_FIELDS
    assert baseline["employee"] is None
    assert baseline["clicks"] is None and baseline["unique_visitors"] is None
    assert baseline["bot_clicks"] is None and baseline["click_to_lead_rate"] is None
    assert (baseline["leads"], baseline["won"], baseline["revenue"]) == (1, 1, {"USD": 10.0})


def test_program_report_has_the_contract_fields_and_formulas(
    client: FlaskClient, api_headers: Headers, data: None
) -> None:
    body = client.get(f"/api/v1/reports/program?{RANGE}", headers=api_headers()).json
    assert set(body) >= PROGRAM_FIELDS
    assert (body["invited"], body["joined"], body["active"], body["clicks"]) == (2, 1, 1, 2)
    assert body["estimated_impressions"] == 1000
    assert body["earned_media_value"] == 10.0  # default CPM 10
    assert body["lead_cost_savings"] == 50.0  # default cost per lead 50
    assert [r["metric"] for r in body["top_contributors"]] == [
        "clicks",
        "clicks_per_link",
        "leads",
        "approved_contributions",
    ]
    assert all(r["formula"] for r in body["top_contributors"])
    assert body["top_contributors"][0]["contributors"][0]["employee"]["handle"] == "rep-a"
    for name in ("join_rate", "participation_rate", "estimated_impressions",
                 "earned_media_value", "lead_cost_savings"):  # fmt: skip
        assert body["formulas"][name]


def test_campaign_channel_and_rep_detail_reports(
    client: FlaskClient, api_headers: Headers, data: None
) -> None:
    headers = api_headers()
    campaigns = client.get(f"/api/v1/reports/campaigns?{RANGE}", headers=headers).json
    assert [(c["campaign"]["slug"], c["clicks"], c["leads"]) for c in campaigns["campaigns"]] == [
        ("spring", 2, 1)
    ]
    channels = client.get(f"/api/v1/reports/channels?{RANGE}", headers=headers).json
    assert [(c["channel"], c["clicks"]) for c in channels["channels"]] == [("linkedin", 2)]
    detail = client.get(f"/api/v1/reports/reps/rep-a?{RANGE}&bucket=week", headers=headers).json
    assert detail["employee"]["handle"] == "rep-a" and detail["bucket"] == "week"
    assert [s["stage"] for s in detail["funnel"]] == ["clicks", "unique_visitors", "leads", "won"]
    assert sum(p["clicks"] for p in detail["series"]) == 2
    assert detail["links"][0]["clicks"] == 2
    assert detail["records"][0]["method"] == "click_id"


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_csv_export_round_trips_and_neutralises_formulas(
    client: FlaskClient, api_headers: Headers, data: None
) -> None:
    response = client.get(f"/api/v1/reports/reps?{RANGE}&format=csv", headers=api_headers())
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, rep, totals, baseline = _rows(response.get_data(as_text=True))
    record = dict(zip(header, rep, strict=True))
    assert record["handle"] == "rep-a"
    assert record["name"] == '\'=HYPERLINK("http://evil")'
    assert record["team"] == "'+Sales"
    assert (record["clicks"], record["leads"], record["won"]) == ("2", "1", "1")
    assert record["click_to_lead_rate"] == "0.5" and record["revenue_EUR"] == "1234.50"
    assert dict(zip(header, baseline, strict=True))["name"] == "All other sources"
    assert dict(zip(header, baseline, strict=True))["clicks"] == ""
    assert dict(zip(header, totals, strict=True))["name"] == "All advocacy"
    for path in ("program", "campaigns", "channels", "reps/rep-a",
                 "reps/rep-a?table=links", "reps/rep-a?table=records"):  # fmt: skip
        joiner = "&" if "?" in path else "?"
        response = client.get(f"/api/v1/reports/{path}{joiner}{RANGE}&format=csv",
                              headers=api_headers())  # fmt: skip
        assert response.status_code == 200, path
        assert len(_rows(response.get_data(as_text=True))) >= 2


def test_the_records_csv_holds_every_record_of_the_range_not_the_first_1000(
    client: FlaskClient, api_headers: Headers, data: None, session: Session
) -> None:
    rep = session.scalars(select(Employee).where(Employee.handle == "rep-a")).one()
    session.add_all(
        CrmRecord(source="bulk", external_id=f"B{n:04}", kind="lead", employee_id=rep.id,
                  attribution_method="utm", content_hash=f"bulk{n}",
                  created_at=DAY + timedelta(days=1, minutes=n))
        for n in range(1202)
    )  # fmt: skip
    session.commit()
    headers = api_headers()
    url = f"/api/v1/reports/reps/rep-a?{RANGE}&table=records"
    body = client.get(url, headers=headers).json
    assert len(body["records"]) == 1000 and body["records_total"] == 1203  # the JSON's cap
    response = client.get(f"{url}&format=csv", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert (
        'filename="rep-rep-a-records-2026-03-01-2026-03-31.csv"'
        in (response.headers["Content-Disposition"])
    )
    header, *rows = _rows(response.get_data(as_text=True))
    ids = [dict(zip(header, row, strict=True))["external_id"] for row in rows]
    assert len(ids) == len(set(ids)) == 1203  # each record once
    assert ids[:2] == ["B1201", "B1200"] and ids[-2:] == ["B0000", ids[-1]]  # newest first
    clicked = dict(zip(header, rows[-1], strict=True))
    assert clicked["method"] == "click_id" and clicked["seconds_from_click"] == "7200"
    assert clicked["amount"] == "1234.50" and clicked["campaign"] == "spring"
    missing = client.get(f"/api/v1/reports/reps/nobody?{RANGE}&table=records&format=csv",
                         headers=headers)  # fmt: skip
    assert missing.status_code == 404 and "No employee with handle 'nobody'" in missing.text
    bad = client.get(f"{url}&format=csv&campaign=none-such", headers=headers)
    assert bad.status_code == 422 and "Unknown filter value" in bad.text  # before any row


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"), ("\rx", "'\rx"), ("plain", "plain"), ("a=b", "a=b"),
        (-3, "-3"), (Decimal("-2.50"), "-2.50"), (None, ""), (True, "true"), (0.5, "0.5"),
    ],
)  # fmt: skip
def test_safe_cell_neutralises_formula_starters_only(value: object, cell: str) -> None:
    assert safe_cell(value) == cell
    assert _rows(to_csv(["h"], [[value]]))[1] == [cell]


def test_employee_may_read_only_their_own_detail(
    client: FlaskClient, api_headers: Headers, data: None
) -> None:
    own = api_headers("employee", email="rep-a@example.com")
    assert client.get(f"/api/v1/reports/reps/rep-a?{RANGE}", headers=own).status_code == 200
    other = client.get(f"/api/v1/reports/reps/rep-b?{RANGE}", headers=own)
    assert other.status_code == 404
    assert other.json["error"] == "No employee with handle 'rep-b'."
    for path in ("reps", "program", "campaigns", "channels"):
        response = client.get(f"/api/v1/reports/{path}?{RANGE}", headers=own)
        assert response.status_code == 403, path


def test_sales_ops_and_anonymous_are_refused(
    client: FlaskClient, api_headers: Headers, data: None
) -> None:
    assert client.get("/api/v1/reports/reps").status_code == 401
    response = client.get("/api/v1/reports/reps", headers=api_headers("sales_ops"))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("query", "status", "fields"),
    [
        ("from=2026-02-30&to=2026-03-01", 422, {"from": "Use a date as YYYY-MM-DD."}),
        ("from=2026-03-05&to=2026-03-01", 422, {"from": "Must not be after 'to'."}),
        ("from=2026-03-01&to=soon", 422, {"to": "Use a date as YYYY-MM-DD."}),
        (f"{RANGE}&campaign=nope", 422, {"campaign": "No campaign with slug 'nope'."}),
        (f"{RANGE}&format=xlsx", 400, {"format": "Use json or csv."}),
    ],
)
def test_bad_input_is_refused_with_field_errors(
    client: FlaskClient, api_headers: Headers, query: str, status: int, fields: dict[str, str]
) -> None:
    response = client.get(f"/api/v1/reports/reps?{query}", headers=api_headers())
    assert response.status_code == status
    assert response.json["fields"] == fields


def test_rep_detail_bad_bucket_and_unknown_rep(
    client: FlaskClient, api_headers: Headers, data: None
) -> None:
    response = client.get("/api/v1/reports/reps/rep-a?bucket=year", headers=api_headers())
    assert response.status_code == 422 and response.json["fields"] == {
        "bucket": "Use day, week or month."
    }
    response = client.get("/api/v1/reports/reps/rep-a?table=x", headers=api_headers())
    assert response.status_code == 422
    assert client.get("/api/v1/reports/reps/nobody", headers=api_headers()).status_code == 404


def test_cli_report_and_reattribute(runner: FlaskCliRunner, session: Session, data: None) -> None:
    result = runner.invoke(args=["reattribute"])
    assert result.exit_code == 0, result.output
    assert "click_id   1" in result.output and "none       1" in result.output
    result = runner.invoke(args=["report", "reps", "--from", "2026-03-01", "--to", "2026-03-31"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "reps 2026-03-01 .. 2026-03-31 (UTC)"
    assert lines[1].split()[:4] == ["handle", "name", "team", "clicks"]
    assert lines[3].startswith("rep-a") and "All other sources" in lines[-1]
    # Columns are aligned: every line has the same width up to its last column.
    assert lines[1].index("clicks") == lines[2].index("-" * 6, lines[1].index("clicks") - 1)
    result = runner.invoke(args=["report", "reps", "--from", "2026-03-01", "--to", "2026-03-31",
                                 "--csv"])  # fmt: skip
    assert _rows(result.output)[1][:2] == ["rep-a", '\'=HYPERLINK("http://evil")']
    result = runner.invoke(args=["report", "program", "--from", "2026-03-01", "--to",
                                 "2026-03-31"])  # fmt: skip
    assert result.exit_code == 0 and "estimated_impressions" in result.output
    result = runner.invoke(args=["report", "reps", "--from", "2026-03-31", "--to", "2026-03-01"])
    assert result.exit_code != 0 and "from: Must not be after 'to'." in result.output
