"""The ATS import API and the recruiting report API: fields, refusals, roles, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.crm.models import CrmImport
from linktracker.recruiting.models import Application
from tests.factories import make_campaign, make_click, make_employee, make_link
from tests.support import TEST_DATA

Headers = Callable[..., dict[str, str]]
ATS = TEST_DATA / "ats"
CRM_FIELDS = {
    "id", "format", "encoding", "delimiter", "rows", "inserted", "updated", "unchanged",
    "rejected", "errors",
}  # fmt: skip


def upload(client: FlaskClient, headers: dict[str, str], data: bytes, name: str, **fields: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/ats/imports",
        data={"file": (io.BytesIO(data), name), **fields},
        content_type="multipart/form-data",
        headers=headers,
    )


def test_post_ats_import_answers_like_a_crm_import(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    make_employee(session, name="Dana Reyes", email="dana.reyes@example.com")
    headers = api_headers("sales_ops")
    data = (ATS / "greenhouse_candidates.csv").read_bytes()
    response = upload(client, headers, data, "greenhouse_candidates.csv")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body.keys() >= CRM_FIELDS
    assert (body["format"], body["encoding"], body["delimiter"]) == ("greenhouse", "utf-8-sig", ",")
    assert (body["rows"], body["inserted"], body["updated"], body["unchanged"]) == (6, 5, 0, 0)
    assert body["rejected"] == 1
    assert body["errors"] == [
        {"line": 6, "column": "Applied On", "reason": "missing application date"}
    ]
    assert body["ambiguous_referrers"] == []
    again = upload(client, headers, data, "greenhouse_candidates.csv").get_json()
    assert (again["inserted"], again["unchanged"]) == (0, 5)
    listed = client.get("/api/v1/ats/imports", headers=api_headers("marketer")).get_json()
    assert [i["id"] for i in listed["imports"]] == [again["id"], body["id"]]
    one = client.get(f"/api/v1/ats/imports/{body['id']}", headers=headers).get_json()
    assert one["inserted"] == 5
    raw = client.get(f"/api/v1/ats/imports/{body['id']}/raw", headers=headers)
    assert raw.status_code == 200 and raw.data == data
    rejected = client.get(f"/api/v1/ats/imports/{body['id']}/rejected.csv", headers=headers)
    rows = list(csv.reader(io.StringIO(rejected.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][-1] == "error" and rows[1][0] == "48213005"
    assert "missing application date" in rows[1][-1]
    # A CRM import id is not an ATS import.
    crm = client.get("/api/v1/crm/imports", headers=headers).get_json()
    assert crm["imports"] == []


def test_post_ats_import_refusals_and_roles(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    headers = api_headers("admin")
    refused = upload(client, headers, b"Application ID,Job\n1,Engineer\n", "x.csv")
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["error"].startswith("No application-date column found.")
    assert body["state"] == "refused" and body["mapping"] == {
        "Application ID": "external_id",
        "Job": "job",
    }
    mapped = upload(
        client,
        headers,
        b"Ref,Eingang\nR1,01.02.2026\n",
        "x.csv",
        mapping='{"Ref": "external_id", "Eingang": "applied_at"}',
        dayfirst="true",
        source="sheet",
    )
    assert mapped.status_code == 201 and mapped.get_json()["source"] == "sheet"
    bad = upload(client, headers, b"a,b\n", "x.csv", mapping='{"a": "amount"}')
    assert bad.status_code == 422
    assert "unknown field 'amount'" in bad.get_json()["error"]
    missing = client.post("/api/v1/ats/imports", headers=headers)
    assert missing.status_code in (400, 422)
    assert missing.get_json()["fields"] == {"file": "Required."}
    forbidden = upload(client, api_headers("marketer"), b"x", "x.csv")
    assert forbidden.status_code == 403
    assert session.scalar(select(func.count()).select_from(Application)) == 1
    assert session.scalar(select(func.count()).select_from(CrmImport)) == 2
    assert client.get("/api/v1/ats/imports/999", headers=headers).status_code == 404


def test_recruiting_report_api_and_csv(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    rep = make_employee(session, name="=cmd|' /C calc'!A0", email="r@example.com", team="Eng")
    link = make_link(session, make_campaign(session, goal="recruiting"), rep)
    click = make_click(session, link)
    data = (
        "Application ID,Applied At,Stage,Job,Click ID\n"
        f"A1,{click['created_at']:%Y-%m-%d %H:%M},Hired,Engineer,{click['click_id']}\n"
    ).encode()
    assert upload(client, api_headers("admin"), data, "a.csv").status_code == 201
    headers = api_headers("marketer")
    body = client.get("/api/v1/reports/recruiting", headers=headers).get_json()
    assert set(body) >= {"from", "to", "reps", "baseline", "jobs", "program"}
    assert body["reps"][0]["clicks"] == 1 and body["reps"][0]["applications"] == 1
    assert body["program"]["job_link_clicks"] == 1
    assert body["jobs"] == [{"job": "Engineer", "applications": 1, "hires": 1}]
    table = client.get("/api/v1/reports/recruiting?format=csv", headers=headers)
    assert table.mimetype == "text/csv"
    text = table.get_data(as_text=True)
    assert "'=cmd" in text  # formula-safe
    assert "(baseline)" in text and "(program)" in text
    jobs = client.get("/api/v1/reports/recruiting?format=csv&table=jobs", headers=headers)
    assert jobs.get_data(as_text=True).splitlines()[1] == "Engineer,1,1"
    narrowed = client.get("/api/v1/reports/recruiting?team=Nobody", headers=headers).get_json()
    assert narrowed["reps"] == [] and narrowed["program"]["job_link_clicks"] == 0
    bad = client.get("/api/v1/reports/recruiting?from=2026-13-01", headers=headers)
    assert bad.status_code == 422 and "from" in bad.get_json()["fields"]
    unknown = client.get("/api/v1/reports/recruiting?table=x", headers=headers)
    assert unknown.status_code in (400, 422)
    assert (
        client.get("/api/v1/reports/recruiting", headers=api_headers("employee")).status_code == 403
    )


def test_post_ats_import_reads_the_chosen_sheet_of_a_workbook(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    from tests.services.crm_exports import workbook_bytes

    rows = [["Application ID", "Applied On", "Job"], ["A-1", "2026-10-01", "Engineer"]]
    book = workbook_bytes(rows, sheets=("Notes", "Applications"), data_sheet="Applications")
    headers = api_headers("sales_ops")
    response = upload(client, headers, book, "apps.xlsx", sheet="Applications")
    assert response.status_code == 201, (response.json["error"], response.json["sheet"])
    assert (response.json["sheet"], response.json["inserted"]) == ("Applications", 1)
    missing = upload(client, headers, book, "apps.xlsx", sheet="Nope")
    assert missing.status_code == 422
    assert "Applications" in str(missing.json)  # the sheets there are, named
    assert session.scalar(select(func.count()).select_from(Application)) == 1
