"""The CRM import API: upload summary, refusals, history, raw file, rejected rows, roles."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.crm.locks import import_lock
from linktracker.crm.models import CrmImport, CrmRecord
from linktracker.crm.services import store_upload
from tests.services.crm_exports import ROWS, export
from tests.services.crm_runs import kill_import_after_first_batch, wait_until_interrupted
from tests.support import TEST_DATA

Headers = Callable[..., dict[str, str]]
CRM = TEST_DATA / "crm"


def upload(
    client: FlaskClient,
    headers: dict[str, str],
    data: bytes,
    name: str = "export.csv",
    **fields: str,
):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/crm/imports",
        data={"file": (io.BytesIO(data), name), **fields},
        content_type="multipart/form-data",
        headers=headers,
    )


@pytest.mark.parametrize(
    ("name", "rows", "inserted", "rejected", "fmt", "encoding", "delimiter"),
    [
        ("salesforce_leads_report.csv", 40, 40, 0, "salesforce", "utf-8", ","),
        ("salesforce_opportunities_de.csv", 25, 25, 0, "salesforce", "utf-8", ";"),
        ("hubspot_deals_export.csv", 30, 30, 0, "hubspot", "utf-8-sig", ","),
        ("pipedrive_deals.csv", 20, 20, 0, "pipedrive", "utf-8", ";"),
        ("hubspot_with_bad_rows.csv", 7, 2, 5, "hubspot", "utf-8", ","),
    ],
)
def test_upload_returns_the_import_summary(
    client: FlaskClient,
    api_headers: Headers,
    name: str,
    rows: int,
    inserted: int,
    rejected: int,
    fmt: str,
    encoding: str,
    delimiter: str,
) -> None:
    response = upload(client, api_headers("sales_ops"), (CRM / name).read_bytes(), name)
    assert response.status_code == 201, response.json
    body = response.json
    assert {
        "id",
        "format",
        "encoding",
        "delimiter",
        "rows",
        "inserted",
        "updated",
        "unchanged",
        "rejected",
        "errors",
    } <= set(body)
    assert (body["format"], body["encoding"], body["delimiter"]) == (fmt, encoding, delimiter)
    assert (body["rows"], body["inserted"], body["updated"], body["unchanged"]) == (
        rows,
        inserted,
        0,
        0,
    )
    assert body["rejected"] == rejected == len(body["errors"])
    assert all(set(e) == {"line", "column", "reason"} for e in body["errors"])
    assert body["state"] == "done" and body["filename"] == name


def test_bad_rows_are_listed_and_downloadable_as_csv(
    client: FlaskClient, api_headers: Headers
) -> None:
    headers = api_headers("sales_ops")
    body = upload(client, headers, (CRM / "hubspot_with_bad_rows.csv").read_bytes()).json
    assert [e["line"] for e in body["errors"]] == [2, 3, 4, 5, 8]
    assert body["errors"][2] == {
        "line": 4,
        "column": "Create Date",
        "reason": "unparseable date 'yesterday'",
    }
    response = client.get(f"/api/v1/crm/imports/{body['id']}/rejected.csv", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="export-rejected.csv"' in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert lines[0][-1] == "error" and len(lines) == 6
    fixed = [lines[0][:5]] + [[c or "9", *rest] for c, *rest in (row[:5] for row in lines[1:])]
    fixed[3][1] = "2026-10-02"
    fixed[4][3] = "12"
    fixed[5][2] = "Closed lost"
    buffer = io.StringIO()
    csv.writer(buffer).writerows(fixed)
    again = upload(client, headers, buffer.getvalue().encode(), "fixed.csv").json
    assert (again["inserted"], again["unchanged"], again["rejected"]) == (4, 1, 0)


def test_reupload_is_idempotent_and_a_newer_export_updates(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    headers = api_headers("admin")
    data = (CRM / "pipedrive_deals.csv").read_bytes()
    upload(client, headers, data)
    again = upload(client, headers, data).json
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 20)
    newer = data.replace(
        b"3;Deal 00003;;USD;Tom Berg;Negotiations Started;open;",
        b"3;Deal 00003;5000;USD;Tom Berg;Negotiations Started;open;",
    )
    assert newer != data
    third = upload(client, headers, newer).json
    assert (third["inserted"], third["updated"], third["unchanged"]) == (0, 1, 19)
    assert session.scalar(select(func.count()).select_from(CrmRecord)) == 20


def test_mapping_json_dayfirst_source_and_dry_run_fields(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    data = b"Ref,Created On,Stage\nR1,01/02/2026,won\nR2,03/04/2026,open\n"
    mapping = json.dumps({"Ref": "external_id", "Created On": "created_at"})
    body = upload(
        client,
        api_headers("sales_ops"),
        data,
        mapping=mapping,
        dayfirst="true",
        source="Zoho",
        dry_run="true",
    ).json
    assert (body["state"], body["dry_run"], body["source"], body["inserted"]) == (
        "dry_run",
        True,
        "zoho",
        2,
    )
    assert body["dayfirst"] is True and body["dayfirst_reason"] == "explicit"
    assert body["mapping"]["Ref"] == "external_id"
    assert session.scalar(select(func.count()).select_from(CrmRecord)) == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"mapping": "{not json"}, "'mapping' must be a JSON object"),
        ({"mapping": '["a"]'}, "'mapping' must be a JSON object"),
        ({"mapping": '{"a": "nope"}'}, "unknown field 'nope'"),
        ({"dayfirst": "maybe"}, "'dayfirst' must be true or false"),
        ({"source": "no spaces please"}, "not a valid source name"),
    ],
)
def test_invalid_fields_are_422_and_store_nothing(
    client: FlaskClient,
    api_headers: Headers,
    session: Session,
    fields: dict[str, str],
    message: str,
) -> None:
    response = upload(client, api_headers("sales_ops"), b"id,created_at\n1,2026-01-01\n", **fields)
    assert response.status_code == 422
    assert message in response.json["error"]
    assert session.scalar(select(func.count()).select_from(CrmImport)) == 0


def test_missing_file_is_422(client: FlaskClient, api_headers: Headers) -> None:
    response = client.post(
        "/api/v1/crm/imports",
        data={},
        content_type="multipart/form-data",
        headers=api_headers("sales_ops"),
    )
    assert response.status_code == 422 and "'file'" in response.json["error"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("broken_not_a_csv.csv", "The file is not a CSV text file"),
        ("employees.csv", "No id column and no creation-date column found"),
    ],
)
def test_a_refused_file_is_422_recorded_and_its_raw_bytes_downloadable(
    client: FlaskClient, api_headers: Headers, name: str, message: str
) -> None:
    headers = api_headers("sales_ops")
    raw = (CRM / name).read_bytes()
    response = upload(client, headers, raw, name)
    assert response.status_code == 422
    body = response.json
    assert body["error"].startswith(message) and body["state"] == "refused"
    assert body["rows"] == 0 and body["fields"] == {"file": body["error"]}
    stored = client.get(f"/api/v1/crm/imports/{body['id']}", headers=headers).json
    assert (stored["state"], stored["message"]) == ("refused", body["error"])
    download = client.get(f"/api/v1/crm/imports/{body['id']}/raw", headers=headers)
    assert download.status_code == 200 and download.data == raw
    assert f"filename={name}" in download.headers["Content-Disposition"]


def test_history_and_detail(client: FlaskClient, api_headers: Headers) -> None:
    headers = api_headers("sales_ops")
    first = upload(client, headers, (CRM / "pipedrive_deals.csv").read_bytes(), "a.csv").json
    second = upload(client, headers, (CRM / "hubspot_deals_export.csv").read_bytes(), "b.csv").json
    listed = client.get("/api/v1/crm/imports", headers=api_headers("marketer")).json["imports"]
    assert [i["id"] for i in listed] == [second["id"], first["id"]]
    detail = client.get(f"/api/v1/crm/imports/{first['id']}", headers=headers).json
    assert detail["rows"] == 20 and detail["filename"] == "a.csv"
    assert client.get("/api/v1/crm/imports/9999", headers=headers).status_code == 404


def test_raw_download_is_byte_for_byte(client: FlaskClient, api_headers: Headers) -> None:
    raw = (CRM / "salesforce_opportunities_de.csv").read_bytes()
    body = upload(client, api_headers("sales_ops"), raw, "opps.csv").json
    response = client.get(f"/api/v1/crm/imports/{body['id']}/raw", headers=api_headers("admin"))
    assert response.data == raw
    assert "attachment" in response.headers["Content-Disposition"]


@pytest.mark.parametrize(
    ("role", "post", "get", "raw"),
    [
        ("sales_ops", 201, 200, 200),
        ("admin", 201, 200, 200),
        ("marketer", 403, 200, 403),  # the raw file holds customer emails in clear
        ("employee", 403, 403, 403),
        (None, 401, 401, 401),
    ],
)
def test_roles(
    client: FlaskClient, api_headers: Headers, role: str | None, post: int, get: int, raw: int
) -> None:
    headers = api_headers(role) if role else {}
    data = (CRM / "pipedrive_deals.csv").read_bytes()
    assert upload(client, headers, data).status_code == post
    existing = upload(client, api_headers("admin"), data).json["id"]
    for path in ("", f"/{existing}", f"/{existing}/rejected.csv"):
        assert client.get(f"/api/v1/crm/imports{path}", headers=headers).status_code == get
    assert client.get(f"/api/v1/crm/imports/{existing}/raw", headers=headers).status_code == raw


def test_an_upload_over_the_limit_is_413_json(
    app: Flask, client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    headers = api_headers("sales_ops")
    app.config.update(MAX_UPLOAD_MB=1, MAX_CONTENT_LENGTH=1024 * 1024)
    response = upload(client, headers, b"id,created_at\n" + b"1,2026-01-01\n" * 90_000)
    assert response.status_code == 413
    assert response.json["error"] == "The upload is larger than the limit of 1 MB (MAX_UPLOAD_MB)."
    assert session.scalar(select(func.count()).select_from(CrmImport)) == 0


def test_an_upload_over_the_threshold_is_parsed_in_a_process_of_its_own(
    client: FlaskClient,
    api_headers: Headers,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from linktracker.crm import services
    from tests.services.crm_runs import watch_jobs

    started = watch_jobs(monkeypatch)
    monkeypatch.setattr(services, "PARSER_PROCESS_BYTES", 100)
    monkeypatch.setattr(services, "PARSER_PROCESSES", 2)
    data = (CRM / "hubspot_with_bad_rows.csv").read_bytes()
    response = upload(client, api_headers("sales_ops"), data, "bad.csv")
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["rows"], body["inserted"], body["rejected"]) == (7, 2, 5)
    assert len(body["errors"]) == 5 and len(started) == 2
    assert session.scalar(select(func.count()).select_from(CrmRecord)) == 2


# --- at the same time, and after a killed import ----------------------------------------


def _at_once(app: Flask, *requests: Callable[[FlaskClient], Any]) -> list[Any]:
    """Each request from a thread and a client of its own, released together."""
    start = threading.Barrier(len(requests))
    results: list[Any] = [None] * len(requests)

    def run(index: int) -> None:
        client = app.test_client()
        start.wait()
        results[index] = requests[index](client)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_the_same_file_uploaded_twice_at_once_reports_each_record_inserted_once(
    app: Flask, api_headers: Headers, session: Session
) -> None:
    headers, data = api_headers("sales_ops"), export()
    first, second = _at_once(app, *[lambda c: upload(c, headers, data, "leads.csv")] * 2)
    assert (first.status_code, second.status_code) == (201, 201), (first.json, second.json)
    counts = sorted((r.json["inserted"], r.json["unchanged"]) for r in (first, second))
    assert counts == [(0, ROWS), (ROWS, 0)]
    assert session.scalar(select(func.count()).select_from(CrmRecord)) == ROWS


def test_one_import_run_twice_at_once_answers_its_one_result_or_409_never_500(
    app: Flask, api_headers: Headers, session: Session
) -> None:
    headers = api_headers("sales_ops")
    stored = store_upload(
        session,
        io.BytesIO(export()),
        filename="leads.csv",
        upload_folder=app.config["UPLOAD_FOLDER"],
    )
    path = f"/api/v1/crm/imports/{stored.id}/run"
    answers = _at_once(app, *[lambda c: c.post(path, headers=headers)] * 2)
    assert sorted(a.status_code for a in answers) == [200, 200]  # the second waited
    assert {(a.json["state"], a.json["rows"], a.json["inserted"]) for a in answers} == {
        ("done", ROWS, ROWS)
    }
    assert session.scalar(select(func.count()).select_from(CrmRecord)) == ROWS


def test_running_an_import_while_another_runs_is_409_with_a_message_and_changes_nothing(
    app: Flask, api_headers: Headers, session: Session
) -> None:
    headers = api_headers("sales_ops")
    app.config["CRM_IMPORT_WAIT_SECONDS"] = 0.2
    folder = app.config["UPLOAD_FOLDER"]
    running = store_upload(session, io.BytesIO(export()), filename="a.csv", upload_folder=folder)
    with import_lock(session, running.id, None):
        answer = app.test_client().post(f"/api/v1/crm/imports/{running.id}/run", headers=headers)
        uploaded = upload(app.test_client(), headers, export(10), "b.csv")
    assert answer.status_code == 409
    assert answer.json["error"] == (
        f"Import {running.id} is already running (started by another request); "
        "its page shows the result when it ends."
    )
    assert uploaded.status_code == 409
    assert uploaded.json["error"].startswith(f"Import {running.id} is still running")
    assert (uploaded.json["state"], uploaded.json["rows"]) == ("pending", 0)
    assert session.scalar(select(func.count()).select_from(CrmRecord)) == 0
    again = app.test_client().post(
        f"/api/v1/crm/imports/{uploaded.json['id']}/run", headers=headers
    )
    assert (again.status_code, again.json["state"], again.json["inserted"]) == (200, "done", 10)


def test_a_killed_import_offers_a_run_url_that_completes_it(
    app: Flask, api_headers: Headers, session: Session
) -> None:
    headers = api_headers("sales_ops")
    folder = Path(app.config["UPLOAD_FOLDER"])
    stored = store_upload(session, io.BytesIO(export()), filename="a.csv", upload_folder=folder)
    kill_import_after_first_batch(app, stored.id, folder)
    wait_until_interrupted(session, stored.id)
    shown = app.test_client().get(f"/api/v1/crm/imports/{stored.id}", headers=headers).json
    assert (shown["state"], shown["resumable"], shown["rows"]) == ("failed", True, 500)
    assert shown["run_url"] == f"/api/v1/crm/imports/{stored.id}/run"
    assert "Run the import again" in shown["message"]
    done = app.test_client().post(shown["run_url"], headers=headers)
    assert done.status_code == 200, done.json
    body = done.json
    assert (body["state"], body["rows"], body["inserted"], body["resumable"]) == (
        "done",
        ROWS,
        ROWS,
        False,
    )
    assert body["run_url"] is None
    assert (
        app.test_client().post(shown["run_url"], headers=api_headers("marketer")).status_code == 403
    )


def test_a_raw_file_deleted_by_retention_is_410_and_the_import_stays(
    app: Flask, client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    app.config["CRM_RAW_RETENTION_DAYS"] = 0
    headers = api_headers("sales_ops")
    body = upload(client, headers, (CRM / "pipedrive_deals.csv").read_bytes()).json
    assert (body["state"], body["inserted"]) == ("done", 20)
    assert body["raw_deleted_at"] is not None
    gone = client.get(f"/api/v1/crm/imports/{body['id']}/raw", headers=headers)
    assert gone.status_code == 410
    assert gone.json["error"].startswith(f"The raw file of import {body['id']} was deleted on ")
    shown = client.get(f"/api/v1/crm/imports/{body['id']}", headers=headers).json
    assert (shown["rows"], shown["inserted"], shown["raw_deleted_at"]) == (
        20,
        20,
        body["raw_deleted_at"],
    )
    assert session.scalar(select(func.count()).select_from(CrmRecord)) == 20
