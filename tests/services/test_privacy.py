"""A customer asks: find, export and erase an address across CRM records and raw uploads;
CRM record retention deletes what the preview announced."""

from __future__ import annotations

import json
import os
import stat
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

import linktracker.serve
from linktracker import create_app
from linktracker.cli import main
from linktracker.cli.privacy import DailyRetention
from linktracker.crm.models import CrmImport, CrmImportError, CrmRecord
from linktracker.errors import InvalidInput
from linktracker.privacy import requests as privacy
from linktracker.privacy.models import PrivacyRequest
from linktracker.privacy.retention import delete_records_due, months_before, records_due
from linktracker.runtime import Runtime
from linktracker.settings.services import save_settings
from tests.factories import make_click, make_link
from tests.privacy_data import (
    FIRST,
    SECOND,
    external_ids,
    free_port,
    import_summaries,
    import_text,
    raw_texts,
)


@pytest.fixture
def two_imports(runner: FlaskCliRunner, tmp_path: Path) -> None:
    import_text(runner, tmp_path, "first.csv", FIRST)
    import_text(runner, tmp_path, "second.csv", SECOND)


def test_find_lists_records_and_raw_lines_of_both_imports(
    app: Flask, session: Session, two_imports: None
) -> None:
    with app.app_context():
        found = privacy.find(
            session,
            " ANA.souza@example.com ",
            secret=b"test-secret",
            upload_folder=app.config["UPLOAD_FOLDER"],
        )
    assert sorted(r.external_id for r in found.records) == ["A1", "A3", "B2"]
    # joana.souza@ holds ana.souza@ but is another address.
    assert [(r.import_id, r.line) for r in found.raw_lines] == [(1, 2), (1, 4), (2, 3)]
    assert found.raw_lines[0].text.startswith("A1,Ana.Souza@Example.com,")
    # Records keep a keyed hash, not the address.
    assert all(r.email == found.email_hash for r in found.records)


def test_cli_export_is_json_of_records_and_lines(
    runner: FlaskCliRunner, session: Session, two_imports: None
) -> None:
    result = runner.invoke(args=["privacy", "export", "ana.souza@example.com"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert sorted(r["external_id"] for r in data["records"]) == ["A1", "A3", "B2"]
    won = next(r for r in data["records"] if r["external_id"] == "B2")
    assert won["amount"] == "250.00" and won["won"] is True and "created_at" in won
    assert [(r["import_id"], r["line"]) for r in data["raw_upload_lines"]] == [
        (1, 2),
        (1, 4),
        (2, 3),
    ]
    entry = session.scalars(select(PrivacyRequest)).one()
    assert (entry.kind, entry.records, entry.raw_lines, entry.raw_files) == ("export", 3, 3, 2)


def test_cli_erase_deletes_only_that_address_and_keepsimport_summaries(
    app: Flask, runner: FlaskCliRunner, session: Session, two_imports: None
) -> None:
    summaries = import_summaries(session)
    before = raw_texts(app, session)
    refused = runner.invoke(args=["privacy", "erase", "ana.souza@example.com"], input="n\n")
    assert refused.exit_code == 1 and "Nothing was erased." in refused.output
    assert (
        external_ids(session) == ["A1", "A2", "A3", "A4", "B1", "B2"]
        and raw_texts(app, session) == before
    )

    result = runner.invoke(args=["privacy", "erase", "ana.souza@example.com", "--yes"])
    assert result.exit_code == 0, result.output
    assert "Erased 3 record(s) and 3 line(s) from 2 raw upload(s)" in result.output
    session.expire_all()
    assert external_ids(session) == ["A2", "A4", "B1"]
    after = raw_texts(app, session)
    assert after[1] == FIRST.replace(FIRST.splitlines(keepends=True)[1], "").replace(
        FIRST.splitlines(keepends=True)[3], ""
    )
    assert after[2] == SECOND.replace(SECOND.splitlines(keepends=True)[2], "")
    assert "ana.souza@" not in (after[1] + after[2]).lower().replace("joana.souza@", "")
    folder = Path(app.config["UPLOAD_FOLDER"])
    for record in session.scalars(select(CrmImport)):
        mode = stat.S_IMODE(os.stat(folder / record.storage_path).st_mode)
        assert mode == 0o600
        assert not list((folder / record.storage_path).parent.glob("*.part"))
    assert import_summaries(session) == summaries

    again = runner.invoke(args=["privacy", "find", "ana.souza@example.com"])
    assert "Found 0 record(s), 0 raw upload line(s)" in again.output
    # The audit log holds the hash and counts, never the address.
    entries = session.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id)).all()
    assert [(e.kind, e.records, e.raw_lines) for e in entries] == [
        ("erase", 3, 3),
        ("find", 0, 0),
    ]
    for entry in entries:
        values = " ".join(str(getattr(entry, c.key)) for c in PrivacyRequest.__table__.columns)
        assert "@" not in values and "ana" not in values.lower().replace(entry.email_hash, "")


@pytest.mark.parametrize("bad", ["", "ana", "ana@", "two@example.com, three@example.com"])
def test_cli_refuses_what_is_not_an_email(
    runner: FlaskCliRunner, session: Session, bad: str
) -> None:
    for command in ("find", "export", "erase"):
        result = runner.invoke(
            args=["privacy", command, bad, "--yes"][: 4 if command == "erase" else 3]
        )
        assert result.exit_code != 0
        assert "is not an email address: give one address" in result.output
    assert session.scalar(select(func.count()).select_from(PrivacyRequest)) == 0


def test_normalise_address_message() -> None:
    with pytest.raises(InvalidInput, match="'ana' is not an email address"):
        privacy.normalise_address("ana")


def test_months_before_keeps_month_ends() -> None:
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 13) == datetime(
        2024, 12, 15, tzinfo=UTC
    )


def test_retention_deletes_what_the_preview_announced(
    runner: FlaskCliRunner, session: Session, two_imports: None
) -> None:
    now = datetime(2026, 7, 15, tzinfo=UTC)
    # 4 months back: 2026-03-15. Closed by then: A1 (02-01), A4 (03-01); open and created
    # by then: A2, A3 (January), B1 (02-05). B2 closed 04-01: kept.
    assert records_due(session, 4, now=now) == 5
    assert records_due(session, 0, now=now) == 0
    assert delete_records_due(session, 0, now=now) == 0
    assert delete_records_due(session, 4, now=now) == 5
    assert external_ids(session) == ["B2"]
    assert session.scalar(select(func.count()).select_from(CrmImport)) == 2


def test_retention_run_command_uses_the_setting(
    app: Flask, runner: FlaskCliRunner, session: Session, two_imports: None
) -> None:
    kept = runner.invoke(args=["retention", "run"])
    assert kept.exit_code == 0, kept.output
    assert "CRM records are kept forever" in kept.output
    assert len(external_ids(session)) == 6
    # Make every record old: a run with 1 month deletes each of them, as announced.
    session.execute(
        update(CrmRecord).values(created_at=datetime(2020, 1, 1, tzinfo=UTC), closed_at=None)
    )
    session.commit()
    save_settings(session, {"crm_record_retention_months": "1"})
    app.extensions["linktracker"].settings_changed()
    assert records_due(session, 1) == 6
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "Deleted 6 CRM record(s) past 1 month(s) of retention." in result.output
    assert external_ids(session) == []


def test_the_server_runs_retention_when_it_starts(
    config: dict[str, object],
    runner: FlaskCliRunner,
    session: Session,
    two_imports: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session.execute(
        update(CrmRecord)
        .where(CrmRecord.external_id.in_(["A1", "B1"]))
        .values(created_at=datetime(2020, 1, 1, tzinfo=UTC), closed_at=None)
    )
    session.commit()
    served = create_app({**config, "CRM_RECORD_RETENTION_MONTHS": 12})
    options: dict[str, Any] = {}
    started: list[str] = []
    try:
        monkeypatch.setattr(linktracker.serve, "serve", lambda *a, **k: options.update(k))
        monkeypatch.setattr(Runtime, "start_serving", lambda self: started.append("clicks"))
        monkeypatch.setattr(DailyRetention, "start", lambda self: started.append("retention"))
        port = free_port()
        result = served.test_cli_runner().invoke(main, ["run", "--no-demo", "--port", str(port)])
        options["on_worker_start"]()
    finally:
        served.extensions["linktracker"].dispose()
    assert result.exit_code == 0, result.output
    assert "Deleted 2 CRM record(s) past 12 month(s) of retention." in result.output
    assert external_ids(session) == ["A2", "A3", "A4", "B2"]
    # Each worker starts its click writer and the daily retention run.
    assert started == ["clicks", "retention"]


def test_the_daily_run_deletes_what_is_past_retention(
    app: Flask, session: Session, two_imports: None
) -> None:
    session.execute(
        update(CrmRecord)
        .where(CrmRecord.external_id == "A4")
        .values(created_at=datetime(2020, 1, 1, tzinfo=UTC), closed_at=None)
    )
    session.commit()
    save_settings(session, {"crm_record_retention_months": "24"})
    runtime = app.extensions["linktracker"]
    runtime.settings_changed()
    daily = DailyRetention(runtime, interval=0.05)
    daily.start()
    try:
        deadline = time.monotonic() + 10
        while "A4" in external_ids(session) and time.monotonic() < deadline:
            time.sleep(0.05)
            session.rollback()
    finally:
        daily.stop()
    assert external_ids(session) == ["A1", "A2", "A3", "B1", "B2"]


def test_erase_waits_for_an_unfinished_import_of_the_file(
    app: Flask, runner: FlaskCliRunner, session: Session, two_imports: None
) -> None:
    before = raw_texts(app, session)
    session.execute(update(CrmImport).where(CrmImport.id == 2).values(state="running"))
    session.commit()
    result = runner.invoke(args=["privacy", "erase", "ana.souza@example.com", "--yes"])
    assert result.exit_code == 1
    assert "Import(s) 2 hold this address and have not finished" in result.output
    assert "Nothing was erased." in result.output
    assert len(external_ids(session)) == 6 and raw_texts(app, session) == before
    assert session.scalar(select(func.count()).select_from(PrivacyRequest)) == 0


def test_rejected_rows_and_other_encodings_are_searched_and_erased(
    app: Flask, runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    # cp1252 with a name that is not UTF-8; line 3 is rejected (no id) and keeps its values.
    path = tmp_path / "latin.csv"
    path.write_bytes(
        "Record ID,Email,Create Date,Name\n"
        "C1,ana.souza@example.com,2026-01-05,Zoë Façade\n"
        ",ANA.SOUZA@example.com,2026-01-06,Zoë\n"
        "C3,tom@example.com,2026-01-07,Renée\n".encode("cp1252")
    )
    imported = runner.invoke(args=["crm", "import", str(path), "--source", "generic"])
    assert "rejected   1" in imported.output, imported.output
    found = runner.invoke(args=["privacy", "find", "ana.souza@example.com"])
    assert "Found 1 record(s), 2 raw upload line(s) and 1 rejected row(s)." in found.output
    assert "rejected row: import 1, line 3" in found.output
    exported = json.loads(runner.invoke(args=["privacy", "export", "ana.souza@example.com"]).output)
    assert exported["raw_upload_lines"][0]["text"].endswith("Zoë Façade")
    erased = runner.invoke(args=["privacy", "erase", "ana.souza@example.com", "--yes"])
    assert "stripped 1 rejected row(s)" in erased.output, erased.output
    stored = session.scalars(select(CrmImport)).one()
    folder = Path(app.config["UPLOAD_FOLDER"])
    assert (folder / stored.storage_path).read_bytes() == (
        "Record ID,Email,Create Date,Name\nC3,tom@example.com,2026-01-07,Renée\n".encode("cp1252")
    )
    assert (stored.rows, stored.inserted, stored.rejected) == (3, 2, 1)
    error = session.scalars(select(CrmImportError)).one()
    assert error.raw is None and error.line == 3
    assert external_ids(session) == ["C3"]


def _program(runner: FlaskCliRunner) -> dict[str, str]:
    result = runner.invoke(
        args=["report", "program", "--from", "2026-01-01", "--to", "2026-03-31", "--csv"]
    )
    assert result.exit_code == 0, result.output
    return {line.split(",")[0]: line.split(",")[1] for line in result.output.splitlines()[1:]}


def test_reports_follow_an_erasure_and_click_figures_stay(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    link = make_link(session)
    first = make_click(session, link, at=datetime(2026, 1, 4, 9, tzinfo=UTC))
    second = make_click(session, link, at=datetime(2026, 1, 5, 9, tzinfo=UTC), ip="203.0.113.9")
    import_text(
        runner,
        tmp_path,
        "clicked.csv",
        "Record ID,Email,Create Date,Click ID\n"
        f"D1,ana.souza@example.com,2026-01-06,{first['click_id']}\n"
        f"D2,tom@example.com,2026-01-07,{second['click_id']}\n",
    )
    before = _program(runner)
    assert (before["clicks"], before["leads"]) == ("2", "2")
    erased = runner.invoke(args=["privacy", "erase", "ana.souza@example.com", "--yes"])
    assert erased.exit_code == 0, erased.output
    after = _program(runner)
    assert (after["leads"], after["lead_cost_savings"]) == ("1", "50.0")
    lead_figures = {"leads", "click_to_lead_rate", "lead_cost_savings", "top_by_leads_1"}
    assert {k: v for k, v in after.items() if k not in lead_figures} == {
        k: v for k, v in before.items() if k not in lead_figures
    }


def test_erase_deletes_a_workbook_upload_that_holds_the_address(
    app: Flask, runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    import csv
    import io

    from tests.services.crm_exports import workbook_bytes

    rows = list(csv.reader(io.StringIO(FIRST)))
    book = tmp_path / "first.xlsx"
    book.write_bytes(workbook_bytes(rows, typed=False, sheets=("Deals", "Notes")))
    done = runner.invoke(args=["crm", "import", str(book), "--source", "generic"])
    assert done.exit_code == 0, done.output
    import_text(runner, tmp_path, "second.csv", SECOND)
    found = runner.invoke(args=["privacy", "find", "ana.souza@example.com"])
    assert "Found 3 record(s), 3 raw upload line(s)" in found.output, found.output
    result = runner.invoke(args=["privacy", "erase", "ana.souza@example.com", "--yes"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    workbook, text = session.scalars(select(CrmImport).order_by(CrmImport.id)).all()
    folder = Path(app.config["UPLOAD_FOLDER"])
    assert workbook.raw_deleted_at is not None
    assert not (folder / workbook.storage_path).exists()
    kept = (folder / text.storage_path).read_text(encoding="utf-8")
    assert text.raw_deleted_at is None and "B1,tom@" in kept and "ana.souza@" not in kept
    again = runner.invoke(args=["privacy", "find", "ana.souza@example.com"])
    assert "Found 0 record(s), 0 raw upload line(s)" in again.output
