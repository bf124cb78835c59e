"""Recruiting pages: ATS upload, mapping preview, summary, history, and the recruiting report."""

from __future__ import annotations

import io
import re

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.crm.models import CrmImport
from linktracker.recruiting.models import Application
from tests.factories import make_campaign, make_click, make_employee, make_link
from tests.services.crm_exports import csv_rows, workbook_bytes
from tests.support import TEST_DATA
from tests.web.clients import SignIn, text

ATS = TEST_DATA / "ats"


def _upload(client, data: bytes, name: str = "export.csv"):  # type: ignore[no-untyped-def]
    return client.post(
        "/app/recruiting/",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Application)) or 0


def test_upload_preview_import_and_history(app: Flask, session: Session, sign_in: SignIn) -> None:
    make_employee(session, name="Alex Kim", email="a1@example.com")
    make_employee(session, name="Alex Kim", email="a2@example.com")
    client = sign_in("sales_ops")
    raw = (ATS / "teamtailor_candidates.tsv").read_bytes()
    uploaded = _upload(client, raw, "teamtailor_candidates.tsv")
    assert uploaded.status_code == 302
    preview = client.get(uploaded.headers["Location"])
    body = text(preview)
    assert preview.status_code == 200
    assert "teamtailor" in body and "Hired when" in body
    assert re.search(r'<label for="map-0" class="mono">Candidate ID</label>', body)
    assert '<option value="referrer" selected>' in body
    assert "bea@example.com" not in body  # the preview shows no candidate email
    assert count(session) == 0
    run = client.post(uploaded.headers["Location"].replace("/preview", "/run"))
    assert run.status_code == 302
    detail = client.get(run.headers["Location"])
    page = text(detail)
    assert "Imported 4 rows: 4 new, 0 updated, 0 unchanged, 0 rejected." in page
    assert "Referrer &#39;Alex Kim&#39; is the name of 2 employees" in page
    assert count(session) == 4
    history = text(client.get("/app/recruiting/"))
    assert "teamtailor_candidates.tsv" in history
    assert "ATS imports" in history
    raw_file = client.get(run.headers["Location"] + "/raw")
    assert raw_file.data == raw
    # The CRM pages do not list ATS imports.
    assert "teamtailor_candidates.tsv" not in text(client.get("/app/crm/"))


def test_a_refused_file_can_be_mapped_by_hand(
    app: Flask, session: Session, sign_in: SignIn
) -> None:
    client = sign_in("admin")
    uploaded = _upload(client, b"Ref,Eingang,Stelle\nR1,02.03.2026,Engineer\n", "sheet.csv")
    preview_url = uploaded.headers["Location"]
    refused = client.get(preview_url)
    assert refused.status_code == 422
    assert "No application id column and no application-date column found" in text(refused)
    fields = {"map-0": "external_id", "map-1": "applied_at", "map-2": "job", "dayfirst": ""}
    mapped = client.post(preview_url, data=fields)
    assert mapped.status_code == 200, text(mapped)
    assert "2026-03-02T00:00:00+00:00" in text(mapped)
    bad = client.post(preview_url, data={**fields, "map-2": "amount"})
    assert bad.status_code == 422 and "Unknown field" in text(bad)
    run = client.post(preview_url.replace("/preview", "/run"), data=fields)
    assert run.status_code == 302
    assert count(session) == 1


def test_the_recruiting_tab_shows_reps_jobs_tiles_chart_and_exports(
    app: Flask, session: Session, sign_in: SignIn
) -> None:
    rep = make_employee(session, name="Ada Stone", email="ada@example.com", team="Eng")
    link = make_link(session, make_campaign(session, goal="recruiting"), rep)
    click = make_click(session, link)
    client = sign_in("admin")
    data = (
        "Application ID,Applied At,Stage,Job,Click ID\n"
        f"A1,{click['created_at']:%Y-%m-%d %H:%M},Hired,Engineer,{click['click_id']}\n"
        f"A2,{click['created_at']:%Y-%m-%d %H:%M},New,Designer,\n"
    ).encode()
    preview = _upload(client, data).headers["Location"]
    client.post(preview.replace("/preview", "/run"))
    marketer = sign_in("marketer")
    page = marketer.get("/app/reports/recruiting")
    body = text(page)
    assert page.status_code == 200
    assert 'aria-current="page">Recruiting</a>' in body
    assert "Ada Stone" in body and "Engineer" in body and "Designer" in body
    assert "data-chart=" in body and "Job-link clicks" in body
    assert "/api/v1/reports/recruiting?" in body and "table=jobs" in body
    narrowed = text(marketer.get("/app/reports/recruiting?job=Designer"))
    assert '<option value="Designer" selected>' in narrowed
    assert "Ada Stone" in narrowed  # she has job-link clicks in the range
    tabs = text(marketer.get("/app/reports/leaderboard"))
    assert "/app/reports/recruiting?" in tabs
    assert sign_in("employee").get("/app/reports/recruiting").status_code == 403


def test_a_workbook_upload_reads_the_sheet_chosen(
    app: Flask, session: Session, sign_in: SignIn
) -> None:
    rows = csv_rows((ATS / "greenhouse_candidates.csv").read_bytes())
    book = workbook_bytes(
        rows, typed=False, sheets=("Notes", "Applications"), data_sheet="Applications"
    )
    client = sign_in("sales_ops")
    uploaded = client.post(
        "/app/recruiting/",
        data={"file": (io.BytesIO(book), "greenhouse.xlsx"), "sheet": "Applications"},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    assert "sheet=Applications" in uploaded.headers["Location"]
    preview = client.get(uploaded.headers["Location"])
    body = text(preview)
    assert preview.status_code == 200, body
    assert "Workbook sheet" in body and "2 sheets: Notes, Applications" in body
    assert '<option value="Applications" selected>Applications</option>' in body
    assert count(session) == 0
    run = client.post(
        uploaded.headers["Location"].split("?")[0].replace("/preview", "/run"),
        data={"sheet": "Applications"},
    )
    assert run.status_code == 302
    page = text(client.get(run.headers["Location"]))
    assert f"Imported {len(rows) - 1} rows" in page
    assert count(session) > 0
    record = session.scalars(select(CrmImport)).one()
    assert (record.pipeline, record.encoding, record.options["sheet"]) == (
        "ats",
        "xlsx",
        "Applications",
    )


def test_the_preview_form_switches_to_another_sheet(
    app: Flask, session: Session, sign_in: SignIn
) -> None:
    rows = csv_rows((ATS / "greenhouse_candidates.csv").read_bytes())
    book = workbook_bytes(
        rows, typed=False, sheets=("Applications", "Old"), data_sheet="Applications"
    )
    client = sign_in("sales_ops")
    uploaded = _upload(client, book, "greenhouse.xlsx")
    location = uploaded.headers["Location"]
    first = text(client.get(location))
    assert "2 sheets: Applications, Old" in first
    # Another sheet chosen in the preview form: the mapping made for the first one is dropped.
    other = client.post(
        location, data={"sheet": "Old", "mapped_sheet": "Applications", "map-0": "external_id"}
    )
    assert other.status_code == 422
    assert "Notes" in text(other)  # the other sheet's columns are offered for mapping
