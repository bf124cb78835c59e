"""`linktracker import-crm` and `crm`: summary table, options, refusals, run again, purge-raw."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from linktracker.crm.models import CrmImport, CrmRecord
from linktracker.crm.services import store_upload
from linktracker.db import utcnow
from tests.services.crm_exports import ROWS, export
from tests.services.crm_runs import kill_import_after_first_batch, wait_until_interrupted
from tests.support import TEST_DATA

CRM = TEST_DATA / "crm"


def records(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(CrmRecord)) or 0


def test_import_crm_prints_a_summary_table(runner: FlaskCliRunner, session: Session) -> None:
    result = runner.invoke(args=["import-crm", str(CRM / "hubspot_deals_export.csv")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "format     hubspot, deal records, source hubspot" in lines
    assert "encoding   utf-8-sig, delimiter ','" in lines
    assert "inserted   30" in lines and "rejected   0" in lines
    again = runner.invoke(args=["import-crm", str(CRM / "hubspot_deals_export.csv")])
    assert "unchanged  30" in again.output.splitlines()
    assert records(session) == 30


def test_import_crm_lists_row_errors_and_exits_zero(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["import-crm", str(CRM / "hubspot_with_bad_rows.csv"), "--errors", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "rejected   5" in result.output
    assert "  line 3, Record ID: missing id" in result.output
    assert "line 8" not in result.output
    assert "and 2 more" in result.output and "rejected.csv" in result.output


def test_import_crm_with_source_mapping_and_dayfirst(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text("Ref,Created On,Notes\nR1,01/02/2026,x\nR2,03/04/2026,y\n")
    result = runner.invoke(
        args=[
            "import-crm",
            str(path),
            "--source",
            "zoho",
            "--map",
            "Ref=external_id",
            "--map",
            "Created On=created_at",
            "--map",
            "Notes=",
            "--dayfirst",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "dates      day first (explicit)" in result.output
    assert "Ref -> external_id, Created On -> created_at" in result.output
    record = session.scalars(select(CrmRecord).where(CrmRecord.external_id == "R1")).one()
    assert (record.source, record.created_at.month, record.created_at.day) == ("zoho", 2, 1)


def test_import_crm_dry_run_writes_no_records(runner: FlaskCliRunner, session: Session) -> None:
    result = runner.invoke(args=["import-crm", str(CRM / "pipedrive_deals.csv"), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "(dry_run, dry run)" in result.output and "inserted   20" in result.output
    assert records(session) == 0


def test_import_crm_refused_file_exits_non_zero(runner: FlaskCliRunner, session: Session) -> None:
    result = runner.invoke(args=["import-crm", str(CRM / "broken_not_a_csv.csv")])
    assert result.exit_code == 1
    assert "broken_not_a_csv.csv was refused (import" in result.output
    assert "not a CSV text file" in result.output
    assert session.scalars(select(CrmImport.state)).all() == ["refused"]


def test_import_crm_bad_map_option(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,created_at\n1,2026-01-01\n")
    result = runner.invoke(args=["import-crm", str(path), "--map", "no equals sign"])
    assert result.exit_code != 0 and "write COLUMN=FIELD" in result.output
    result = runner.invoke(args=["import-crm", str(path), "--map", "id=identifier"])
    assert result.exit_code != 0 and "unknown field 'identifier'" in result.output


def test_import_crm_shows_a_progress_bar_for_large_files(
    runner: FlaskCliRunner, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from linktracker.crm import services

    monkeypatch.setattr(services, "PROGRESS_BAR_BYTES", 10)
    path = tmp_path / "x.csv"
    path.write_text("id,created_at\n" + "".join(f"{n},2026-01-01\n" for n in range(40)))
    result = runner.invoke(args=["import-crm", str(path)])
    assert result.exit_code == 0, result.output
    assert "Importing x.csv" in result.output and "inserted   40" in result.output


def test_crm_purge_raw_deletes_raw_files_past_retention_and_keeps_the_imports(
    app: Flask, runner: FlaskCliRunner, session: Session
) -> None:
    folder = Path(app.config["UPLOAD_FOLDER"])
    for name in ("pipedrive_deals.csv", "hubspot_deals_export.csv"):
        assert runner.invoke(args=["import-crm", str(CRM / name)]).exit_code == 0
    old, recent = session.scalars(select(CrmImport).order_by(CrmImport.id)).all()
    then = utcnow() - timedelta(days=31)
    session.execute(update(CrmImport).where(CrmImport.id == old.id).values(finished_at=then))
    session.commit()
    result = runner.invoke(args=["crm", "purge-raw"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Deleted the raw files of 1 import(s) older than 30 day(s) (1 file(s); imports "
        f"{old.id}); their records and summaries are kept.\n"
    )
    assert not (folder / old.storage_path).exists() and (folder / recent.storage_path).exists()
    result = runner.invoke(args=["crm", "purge-raw", "--days", "0"])
    assert f"(1 file(s); imports {recent.id})" in result.output
    assert [p for p in (folder / "crm").rglob("*") if p.is_file()] == []
    session.expire_all()
    assert [
        (i.state, i.rows) for i in session.scalars(select(CrmImport).order_by(CrmImport.id))
    ] == [
        ("done", 20),
        ("done", 30),
    ]
    assert records(session) == 50


def test_the_retention_setting_applies_after_every_cli_import(
    app: Flask, runner: FlaskCliRunner, session: Session
) -> None:
    app.config["CRM_RAW_RETENTION_DAYS"] = 0
    result = runner.invoke(args=["import-crm", str(CRM / "pipedrive_deals.csv")])
    assert result.exit_code == 0 and "inserted   20" in result.output
    assert f"raw file   deleted by retention on {utcnow():%Y-%m-%d}" in result.output
    assert [p for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file()] == []
    assert records(session) == 20


def test_crm_run_completes_an_interrupted_import(
    app: Flask, runner: FlaskCliRunner, session: Session
) -> None:
    folder = Path(app.config["UPLOAD_FOLDER"])
    stored = store_upload(session, io.BytesIO(export()), filename="a.csv", upload_folder=folder)
    kill_import_after_first_batch(app, stored.id, folder)
    wait_until_interrupted(session, stored.id)
    result = runner.invoke(args=["crm", "run", str(stored.id)])
    assert result.exit_code == 0, result.output
    assert f"import     {stored.id} (done)" in result.output
    assert f"inserted   {ROWS:,}" in result.output
    assert records(session) == ROWS
    missing = runner.invoke(args=["crm", "run", "999"])
    assert (missing.exit_code, missing.output) == (1, "Error: No CRM import with id 999.\n")
