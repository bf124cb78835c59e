"""CRM import service: every sample file, idempotence, updates, errors, refusals, resume."""

from __future__ import annotations

import csv
import hmac
import io
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from linktracker.attribution.services import attribute_records
from linktracker.crm import upsert
from linktracker.crm.models import CrmImport, CrmImportError, CrmRecord
from linktracker.crm.services import (
    ImportContext,
    ImportOptions,
    ImportProgress,
    ImportRefused,
    ImportSummary,
    get_import,
    import_crm_file,
    list_imports,
    preview_export,
    raw_upload,
    rejected_rows_csv,
    store_upload,
    summary_table,
    upload_and_import,
)
from linktracker.errors import InvalidInput, TooLarge
from tests.factories import make_click, make_link
from tests.services.crm_exports import CRM, SAMPLES, csv_bytes
from tests.services.crm_runs import (
    SECRET,
    count,
    fail_write,
    import_in_batches,
    records,
    store_numbered_rows,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def run_import(
    session: Session,
    folder: Path,
    data: bytes,
    name: str = "export.csv",
    *,
    source: str | None = None,
    **options: Any,
) -> ImportSummary:
    return upload_and_import(
        session,
        io.BytesIO(data),
        filename=name,
        context=ImportContext(folder, SECRET),
        source=source,
        options=ImportOptions(**options),
    )


# --- the shared real-convention samples ------------------------------------------------


@pytest.mark.parametrize(("name", "rows", "inserted", "rejected", "fmt", "kind", "source"), SAMPLES)
def test_every_sample_file_imports_with_exact_counts(
    session: Session,
    tmp_path: Path,
    name: str,
    rows: int,
    inserted: int,
    rejected: int,
    fmt: str,
    kind: str,
    source: str,
) -> None:
    summary = run_import(session, tmp_path, (CRM / name).read_bytes(), name)
    assert (summary.rows, summary.inserted, summary.updated, summary.unchanged) == (
        rows,
        inserted,
        0,
        0,
    )
    assert summary.rejected == rejected == len(summary.errors)
    assert (summary.state, summary.format, summary.kind, summary.source) == (
        "done",
        fmt,
        kind,
        source,
    )
    assert count(session, CrmRecord) == inserted
    assert count(session, CrmImportError) == rejected
    stored = session.get(CrmImport, summary.id)
    assert stored is not None and stored.progress_line > 0 and stored.finished_at is not None


def test_salesforce_leads_are_stored_with_hashed_emails_and_the_converted_flag(
    session: Session, tmp_path: Path
) -> None:
    run_import(session, tmp_path, (CRM / "salesforce_leads_report.csv").read_bytes())
    lead = records(session)["00Q5g0000000009AbC"]
    assert (lead.kind, lead.source, lead.owner) == ("lead", "salesforce", "Tom Berg")
    assert lead.created_at == utc(2026, 9, 16, 12, 11)
    assert (lead.won, lead.closed_at, lead.stage) == (True, utc(2026, 10, 19, 12, 11), "Converted")
    assert (lead.utm_campaign, lead.utm_content, lead.lead_source) == (
        "we-are-hiring",
        "m2t6yf",
        "Employee Advocacy",
    )
    assert lead.email is not None and "@" not in lead.email and len(lead.email) == 64
    assert "buyer8" not in lead.email


def test_german_salesforce_amounts_dates_and_won_flags(session: Session, tmp_path: Path) -> None:
    summary = run_import(session, tmp_path, (CRM / "salesforce_opportunities_de.csv").read_bytes())
    assert summary.dayfirst is True and summary.delimiter == ";"
    deal = records(session)["0065g0000000002XyZ"]
    assert (deal.amount, deal.currency) == (Decimal("53375.39"), "EUR")
    assert deal.created_at == utc(2026, 8, 4, 11, 22)
    assert (deal.stage, deal.won, deal.closed_at) == ("Closed Won", True, utc(2026, 8, 28, 11, 22))
    lost = records(session)["0065g0000000004XyZ"]
    assert (lost.won, lost.closed_at) == (False, utc(2026, 10, 8, 12, 32))
    assert records(session)["0065g0000000001XyZ"].closed_at is None


def test_hubspot_click_ids_and_utm_come_from_the_landing_url(
    session: Session, tmp_path: Path
) -> None:
    run_import(session, tmp_path, (CRM / "hubspot_deals_export.csv").read_bytes())
    deal = records(session)["9000000001"]
    assert (deal.click_id, deal.utm_source, deal.utm_content) == (
        "AKsdMAP72ipT",
        "linkedin",
        "m2t6yf",
    )
    assert (deal.amount, deal.stage, deal.won) == (Decimal("23815.01"), "Closed won", True)
    assert deal.closed_at == utc(2026, 10, 28, 11, 36)
    assert records(session)["9000000002"].click_id is None


def test_pipedrive_status_decides_won_and_the_close_time(session: Session, tmp_path: Path) -> None:
    run_import(session, tmp_path, (CRM / "pipedrive_deals.csv").read_bytes())
    deals = records(session, "pipedrive")
    assert (deals["1"].won, deals["1"].closed_at, deals["1"].stage) == (
        True,
        utc(2026, 9, 13, 13, 34),
        "won",
    )
    assert (deals["1"].amount, deals["1"].currency) == (Decimal("39998.87"), "USD")
    assert (deals["2"].won, deals["2"].closed_at) == (False, utc(2026, 9, 14, 11, 3))
    assert deals["3"].closed_at is None


def test_bad_rows_are_rejected_with_line_column_and_reason(
    session: Session, tmp_path: Path
) -> None:
    summary = run_import(session, tmp_path, (CRM / "hubspot_with_bad_rows.csv").read_bytes())
    found = [(e.line, e.column) for e in summary.errors]
    assert found == [
        (2, "Record ID"),
        (3, "Record ID"),
        (4, "Create Date"),
        (5, "Amount"),
        (8, "Deal Stage"),
    ]
    reasons = " | ".join(e.reason for e in summary.errors)
    assert "superseded by line 7" in reasons and "missing id" in reasons
    assert "yesterday" in reasons and "twelve" in reasons and "short row" in reasons
    assert sorted(records(session)) == ["1", "5"]
    raw = session.scalars(select(CrmImportError.raw).order_by(CrmImportError.line)).first()
    assert raw == ["1", "2026-10-01", "Closed won", "1200", "k3v9qa"]


# --- idempotence and updates -------------------------------------------------------------


def test_reimporting_the_same_file_reports_every_row_unchanged(
    session: Session, tmp_path: Path
) -> None:
    data = (CRM / "hubspot_deals_export.csv").read_bytes()
    run_import(session, tmp_path, data)
    before = {k: (r.updated_at, r.content_hash) for k, r in records(session).items()}
    again = run_import(session, tmp_path, data)
    assert (again.rows, again.inserted, again.updated, again.unchanged) == (30, 0, 0, 30)
    assert {k: (r.updated_at, r.content_hash) for k, r in records(session).items()} == before
    assert count(session, CrmRecord) == 30
    # Identical bytes are stored once, and both imports can still download them.
    first, second = list_imports(session)
    assert first.sha256 == second.sha256
    assert raw_upload(session, first.id, upload_folder=tmp_path).path.read_bytes() == data


def test_a_newer_export_updates_stage_close_date_and_amount_and_keeps_omitted_records(
    session: Session, tmp_path: Path
) -> None:
    header = ["Record ID", "Create Date", "Deal Stage", "Close Date", "Amount"]
    old = [header] + [
        [str(n), "2026-09-01 10:00", "Qualified to buy", "", "1000"] for n in range(1, 6)
    ]
    first = run_import(session, tmp_path, csv_bytes(old))
    new = [
        header,
        ["1", "2026-09-01 10:00", "Closed won", "2026-10-02 09:30", "1,250.50"],
        ["2", "2026-09-01 10:00", "Qualified to buy", "", "1000"],
        ["6", "2026-10-01 10:00", "Appointment scheduled", "", ""],
    ]
    second = run_import(session, tmp_path, csv_bytes(new))
    assert (second.rows, second.inserted, second.updated, second.unchanged) == (3, 1, 1, 1)
    deals = records(session)
    assert sorted(deals) == ["1", "2", "3", "4", "5", "6"]  # 3, 4 and 5 were omitted: kept
    one = deals["1"]
    assert (one.stage, one.won, one.closed_at, one.amount) == (
        "Closed won",
        True,
        utc(2026, 10, 2, 9, 30),
        Decimal("1250.50"),
    )
    assert (one.first_import_id, one.last_import_id) == (first.id, second.id)
    assert deals["2"].last_import_id == first.id


def test_records_another_import_inserted_after_the_lookup_are_updated_not_lost(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = ["Record ID", "Create Date", "Deal Stage", "Amount"]
    first = [header] + [[str(n), "2026-09-01 10:00", "Qualified to buy", "10"] for n in (1, 2)]
    run_import(session, tmp_path, csv_bytes(first))
    # As if another import inserted the records between this batch's lookup and its write:
    # the upsert's conflict clause turns them into updates (PostgreSQL: after the direct
    # COPY of the "new" records failed on the unique key).
    for writer in (upsert._SqliteWriter, upsert._PostgresWriter):
        monkeypatch.setattr(writer, "existing_hashes", lambda self, connection, ids: {})
    second = [header] + [[str(n), "2026-09-01 10:00", "Closed won", "20"] for n in (1, 2, 3)]
    summary = run_import(session, tmp_path, csv_bytes(second))
    assert (summary.state, summary.rows, summary.rejected) == ("done", 3, 0)
    deals = records(session)
    assert sorted(deals) == ["1", "2", "3"]
    assert {(d.stage, d.won, d.amount) for d in deals.values()} == {
        ("Closed won", True, Decimal("20.00"))
    }
    assert {d.last_import_id for d in deals.values()} == {summary.id}


def test_duplicate_ids_across_batches_keep_the_later_row(session: Session, tmp_path: Path) -> None:
    rows = [
        ["id", "created_at", "stage"],
        ["A", "2026-09-01", "open"],
        ["B", "2026-09-01", "open"],
        ["C", "2026-09-01", "open"],
        ["A", "2026-09-02", "won"],
    ]
    stored = store_upload(
        session, io.BytesIO(csv_bytes(rows)), filename="x.csv", upload_folder=tmp_path
    )
    summary = import_crm_file(
        session, stored.id, context=ImportContext(tmp_path, SECRET), batch_size=2
    )
    assert (summary.rows, summary.inserted, summary.rejected) == (4, 3, 1)
    assert summary.errors[0].line == 2 and "superseded by line 5" in summary.errors[0].reason
    assert records(session)["A"].stage == "won"


# --- rejected rows -----------------------------------------------------------------------


def test_rejected_rows_csv_round_trip_fix_and_reupload(session: Session, tmp_path: Path) -> None:
    summary = run_import(session, tmp_path, (CRM / "hubspot_with_bad_rows.csv").read_bytes())
    text = rejected_rows_csv(session, summary.id)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Record ID", "Create Date", "Deal Stage", "Amount", "UTM Content", "error"]
    assert [row[-1].split(":")[0] for row in rows[1:]] == [
        "line 2, Record ID",
        "line 3, Record ID",
        "line 4, Create Date",
        "line 5, Amount",
        "line 8, Deal Stage",
    ]
    assert rows[5][:5] == ["6", "2026-10-05", "", "", ""]  # the short row, padded
    fixed = [rows[0]]
    for row in rows[1:]:
        cells = row[:5]
        cells[0] = cells[0] or "2"
        cells[1] = "2026-10-02" if cells[1] == "yesterday" else cells[1]
        cells[2] = cells[2] or "Appointment scheduled"
        cells[3] = "12" if cells[3] == "twelve" else cells[3]
        fixed.append([*cells, row[5]])
    again = run_import(session, tmp_path, csv_bytes(fixed), "fixed.csv")
    # The superseded duplicate of id 1 is already in, unchanged; the other four go in.
    assert (again.rows, again.inserted, again.unchanged, again.rejected) == (5, 4, 1, 0)
    assert sorted(records(session)) == ["1", "2", "3", "4", "5", "6"]
    assert records(session)["4"].amount == Decimal("12.00")


def test_rejected_rows_csv_neutralises_formulas_but_keeps_plain_numbers(
    session: Session, tmp_path: Path
) -> None:
    rows = [
        ["id", "created_at", "amount", "owner"],
        ["", "2026-09-01", "-500", '=HYPERLINK("http://evil.test","x")'],
        ["B", "2026-09-01", "@SUM(1)", "+49 30 1234"],
    ]
    summary = run_import(session, tmp_path, csv_bytes(rows))
    assert summary.rejected == 2
    lines = list(csv.reader(io.StringIO(rejected_rows_csv(session, summary.id))))
    assert lines[1][2:4] == ["-500", '\'=HYPERLINK("http://evil.test","x")']
    assert lines[2][2:4] == ["'@SUM(1)", "+49 30 1234"]


# --- refusals, limits, emails -----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (CRM / "broken_not_a_csv.csv", "not a CSV text file"),
        (
            CRM / "employees.csv",
            "No id column and no creation-date column found. "
            "Columns found: 'name', 'email', 'handle', 'team', 'connections'",
        ),
        (b"", "empty"),
        (b"just one column\nvalue\n", "single column"),
        (b"Id," + b"x" * (4 << 20), "first line is longer than 4 MB (4,194,304 bytes)"),
    ],
)
def test_a_refused_file_is_recorded_with_its_message_and_raw_bytes_kept(
    session: Session, tmp_path: Path, data: bytes | Path, message: str
) -> None:
    # Sample files are read here, not at collection, so a missing data folder fails one test.
    data = data.read_bytes() if isinstance(data, Path) else data
    with pytest.raises(ImportRefused) as refused:
        run_import(session, tmp_path, data, "upload.csv")
    assert message in refused.value.message
    summary = get_import(session, refused.value.import_id)
    assert (summary.state, summary.rows, summary.inserted) == ("refused", 0, 0)
    assert summary.message == refused.value.message
    assert raw_upload(session, summary.id, upload_folder=tmp_path).path.read_bytes() == data
    assert count(session, CrmRecord) == 0 and count(session, CrmImportError) == 0
    with pytest.raises(ImportRefused):  # running it again refuses again
        import_crm_file(session, summary.id, context=ImportContext(tmp_path, SECRET))


@pytest.mark.parametrize("columns", [5_000, 30_000])
def test_a_header_line_longer_than_the_64_kb_sample_is_read_whole(
    session: Session, tmp_path: Path, columns: int
) -> None:
    custom = [f"Custom field {i:05d}" for i in range(columns)]  # 95 KB and 570 KB lines
    rows = [["Lead ID", "Create Date", "Lead Status", *custom]]
    rows += [[f"L{i}", "2026-01-05", "Open", *[""] * columns] for i in range(3)]
    data = csv_bytes(rows)
    assert data.index(b"\r\n") > 64 * 1024
    summary = run_import(session, tmp_path, data, "wide.csv")
    assert (summary.state, summary.rows, summary.inserted, summary.rejected) == ("done", 3, 3, 0)
    assert set(records(session)) == {"L0", "L1", "L2"}


def test_an_upload_over_the_size_limit_is_refused_before_anything_is_recorded(
    session: Session, tmp_path: Path
) -> None:
    with pytest.raises(TooLarge, match="upload limit of 4,096 bytes"):
        store_upload(
            session,
            io.BytesIO(b"x" * 5000),
            filename="big.csv",
            upload_folder=tmp_path,
            max_bytes=4096,
        )
    assert count(session, CrmImport) == 0
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_emails_are_hashed_with_the_secret_unless_kept(session: Session, tmp_path: Path) -> None:
    rows = [["Lead ID", "Create Date", "Email"], ["L1", "2026-09-01", " Ana@Example.COM "]]
    run_import(session, tmp_path, csv_bytes(rows), source="hashed")
    run_import(session, tmp_path, csv_bytes(rows), source="clear", keep_emails=True)
    hashed = records(session, "hashed")["L1"].email
    assert hashed is not None and len(hashed) == 64 and "ana" not in hashed
    # HMAC-SHA256 under a key derived from the secret: the value stored since the first
    # release, so records imported before and after an upgrade still compare equal.
    key = hmac.digest(SECRET, b"linktracker crm email", "sha256")
    assert hashed == hmac.digest(key, b"ana@example.com", "sha256").hex()
    assert records(session, "clear")["L1"].email == "ana@example.com"
    other = upload_and_import(
        session,
        io.BytesIO(csv_bytes(rows)),
        filename="x.csv",
        context=ImportContext(tmp_path, b"another"),
        source="other",
    )
    assert other.inserted == 1 and records(session, "other")["L1"].email != hashed


def test_invalid_source_and_options_are_refused_before_storing(
    session: Session, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match="not a valid source name"):
        run_import(session, tmp_path, b"id,created\n1,2026-01-01\n", source="Sales Force!")
    with pytest.raises(InvalidInput, match="unknown field 'created'"):
        run_import(session, tmp_path, b"a,b\n", mapping={"a": "created"})
    with pytest.raises(InvalidInput, match="not a known time zone"):
        run_import(session, tmp_path, b"a,b\n", timezone="Mars/Olympus")
    assert count(session, CrmImport) == 0


# --- explicit options -------------------------------------------------------------------


def test_explicit_mapping_and_dayfirst(session: Session, tmp_path: Path) -> None:
    rows = [["Ref", "Created On", "Value"], ["R1", "01/02/2026", "10"], ["R2", "03/04/2026", "20"]]
    summary = run_import(
        session,
        tmp_path,
        csv_bytes(rows),
        mapping={"Ref": "external_id", "Created On": "created_at", "Value": None},
        dayfirst=True,
    )
    assert summary.inserted == 2 and summary.dayfirst is True
    assert summary.mapping == {"Ref": "external_id", "Created On": "created_at", "Value": None}
    deal = records(session)["R1"]
    assert (deal.created_at, deal.amount) == (utc(2026, 2, 1), None)


def test_dry_run_counts_without_writing_records(session: Session, tmp_path: Path) -> None:
    summary = run_import(
        session, tmp_path, (CRM / "hubspot_with_bad_rows.csv").read_bytes(), dry_run=True
    )
    assert (summary.state, summary.dry_run, summary.inserted, summary.rejected) == (
        "dry_run",
        True,
        2,
        5,
    )
    assert count(session, CrmRecord) == 0
    assert "dry run" in summary_table(summary)


def test_preview_shows_format_mapping_dates_and_first_rows() -> None:
    with (CRM / "salesforce_leads_report.csv").open("rb") as stream:
        preview = preview_export(stream, limit=3)
    assert (preview.format, preview.encoding, preview.delimiter) == ("salesforce", "utf-8", ",")
    assert preview.mapping["Converted"] == "won" and preview.dayfirst is False
    assert [r["external_id"] for r in preview.records] == [
        "00Q5g0000000001AbC",
        "00Q5g0000000002AbC",
        "00Q5g0000000003AbC",
    ]
    assert preview.records[1]["created_at"] == "2026-08-07T16:14:00+00:00"
    assert "external_id" in preview.fields


@pytest.mark.parametrize(
    ("encoding", "delimiter"), [("utf-8-sig", ","), ("utf-16", "\t"), ("cp1252", ";")]
)
def test_the_same_rows_in_other_encodings_import_the_same(
    session: Session, tmp_path: Path, encoding: str, delimiter: str
) -> None:
    rows = [
        ["Record ID", "Create Date", "Deal owner", "Amount"],
        ["1", "2026-09-01", "Zoë Müller", "€1.234,50" if delimiter == ";" else "€1,234.50"],
    ]
    summary = run_import(session, tmp_path, csv_bytes(rows, delimiter=delimiter, encoding=encoding))
    assert summary.inserted == 1, summary.errors
    deal = records(session)["1"]
    assert (deal.owner, deal.amount, deal.currency) == ("Zoë Müller", Decimal("1234.50"), "EUR")


def test_attribution_runs_after_the_import(session: Session, tmp_path: Path) -> None:
    link = make_link(session)
    click = make_click(session, link, at=utc(2026, 9, 1, 10))
    rows = [
        ["Record ID", "Create Date", "First Page Seen"],
        ["1", "2026-09-01 11:00", f"https://www.example.com/x?lt_cid={click['click_id']}"],
        ["2", "2026-09-01 11:00", "https://www.example.com/pricing"],
    ]
    upload_and_import(
        session,
        io.BytesIO(csv_bytes(rows)),
        filename="export.csv",
        context=ImportContext(tmp_path, SECRET, attribute=attribute_records),
    )
    found = records(session)
    assert (found["1"].attribution_method, found["1"].employee_id) == ("click_id", link.employee_id)
    assert found["2"].attribution_method == "none"


# --- killed halfway ----------------------------------------------------------------------


def test_an_import_stopped_after_a_batch_resumes_without_double_counting(
    session: Session, tmp_path: Path
) -> None:
    import_id = store_numbered_rows(session, tmp_path, 55)
    seen: list[ImportProgress] = []

    def stop_after_first_batch(progress: ImportProgress) -> None:
        seen.append(progress)
        raise KeyboardInterrupt("killed")

    with pytest.raises(KeyboardInterrupt):
        import_in_batches(session, import_id, tmp_path, stop_after_first_batch)
    assert len(seen) == 1 and seen[0].rows == 10
    session.expire_all()
    halfway = get_import(session, import_id)
    assert (halfway.state, halfway.rows, halfway.progress_line) == ("failed", 10, 11)
    assert "Run the import again" in (halfway.message or "")
    assert count(session, CrmRecord) + count(session, CrmImportError) == 10
    # A SIGKILL leaves the state at running; either way a re-run completes the import.
    session.execute(update(CrmImport).values(state="running"))
    session.commit()
    with pytest.raises(InvalidInput, match="was started with dry_run=False"):
        import_crm_file(
            session, import_id, ImportContext(tmp_path, SECRET), ImportOptions(dry_run=True)
        )
    done = import_in_batches(session, import_id, tmp_path)
    assert (done.state, done.rows, done.inserted, done.rejected) == ("done", 55, 48, 7)
    assert count(session, CrmRecord) == 48 and count(session, CrmImportError) == 7
    again = import_crm_file(session, import_id, context=ImportContext(tmp_path, SECRET))
    assert (again.rows, again.inserted) == (55, 48)  # a finished import is not re-run


def _count_parsed(monkeypatch: pytest.MonkeyPatch, fail_after: int | None = None) -> list[int]:
    """Count the rows the parser yields (and raise after ``fail_after`` of them)."""
    from linktracker.crm.parsing import ExportRows

    parsed: list[int] = []
    rows_real = ExportRows.rows

    def counting(rows: ExportRows, stream: Any) -> Any:
        for line, row in rows_real(rows, stream):
            if len(parsed) == fail_after:
                raise ValueError("parser broke")
            parsed.append(line)
            yield line, row

    monkeypatch.setattr(ExportRows, "rows", counting)
    return parsed


def _resume_completes(session: Session, import_id: int, tmp_path: Path) -> None:
    done = import_in_batches(session, import_id, tmp_path)
    assert (done.state, done.rows, done.inserted, done.rejected) == ("done", 200, 172, 28)
    assert count(session, CrmRecord) == 172 and count(session, CrmImportError) == 28


def test_a_writer_failure_stops_the_parser_and_the_import_resumes_after_the_last_batch(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_id = store_numbered_rows(session, tmp_path, 200)
    parsed = _count_parsed(monkeypatch)
    written = fail_write(monkeypatch)
    interval = sys.getswitchinterval()
    with pytest.raises(OSError, match="disk full"):
        import_in_batches(session, import_id, tmp_path)
    assert sys.getswitchinterval() == interval
    # The batches queued meanwhile are dropped and the parser stops at the next hand-over.
    assert written == [11, 21] and len(parsed) < 200
    session.expire_all()
    halfway = get_import(session, import_id)
    assert (halfway.state, halfway.rows, halfway.progress_line) == ("failed", 10, 11)
    assert "OSError: disk full" in (halfway.message or "")
    assert count(session, CrmRecord) + count(session, CrmImportError) == 10
    monkeypatch.undo()
    _resume_completes(session, import_id, tmp_path)


def test_a_parser_failure_lets_the_writer_write_the_batches_handed_over_first(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_id = store_numbered_rows(session, tmp_path, 200)
    _count_parsed(monkeypatch, fail_after=25)
    write_real = upsert.ImportRun._write

    def slow_write(run: upsert.ImportRun, batch: Any) -> None:
        time.sleep(0.05)  # the parser fails while batches still wait for the writer
        write_real(run, batch)

    monkeypatch.setattr(upsert.ImportRun, "_write", slow_write)
    seen: list[ImportProgress] = []
    with pytest.raises(ValueError, match="parser broke"):
        import_in_batches(session, import_id, tmp_path, seen.append)
    assert [(p.rows, p.line) for p in seen] == [(10, 11), (20, 21)]
    session.expire_all()
    halfway = get_import(session, import_id)
    assert (halfway.state, halfway.rows, halfway.progress_line) == ("failed", 20, 21)
    assert count(session, CrmRecord) + count(session, CrmImportError) == 20
    monkeypatch.undo()
    _resume_completes(session, import_id, tmp_path)


def test_a_failing_batch_leaves_nothing_half_written(session: Session, tmp_path: Path) -> None:
    rows = [
        ["Record ID", "Create Date", "Deal owner"],
        ["1", "2026-09-01", "ok"],
        ["2", "2026-09-01", "x" * 201],
        ["3", "2026-09-01", "ok"],
    ]
    summary = run_import(session, tmp_path, csv_bytes(rows))
    assert (summary.inserted, summary.rejected) == (2, 1)
    assert summary.errors[0].reason == "owner is longer than 200 characters"


# --- untrusted bytes ---------------------------------------------------------------------


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.one_of(
        st.binary(max_size=600),
        st.lists(st.lists(st.text(max_size=12), min_size=1, max_size=5), max_size=8).map(
            lambda rows: csv_bytes([["id", "created_at", "amount"], *rows])
        ),
        st.text(max_size=300).map(lambda t: ("id;Create Date;Amount\n" + t).encode("utf-8")),
    )
)
def test_random_bytes_never_crash_the_importer_nor_leave_a_half_written_import(
    session: Session, tmp_path: Path, data: bytes
) -> None:
    before = count(session, CrmRecord)
    try:
        summary = run_import(session, tmp_path, data, source="fuzz")
    except ImportRefused as refused:
        summary = get_import(session, refused.import_id)
        assert summary.state == "refused" and summary.rows == 0
        assert count(session, CrmRecord) == before
        assert raw_upload(session, summary.id, upload_folder=tmp_path).path.read_bytes() == data
        return
    assert summary.state == "done"
    assert summary.rows == summary.inserted + summary.updated + summary.unchanged + summary.rejected
    assert count(session, CrmRecord) == before + summary.inserted
    stored_errors = session.scalar(
        select(func.count())
        .select_from(CrmImportError)
        .where(CrmImportError.import_id == summary.id)
    )
    assert stored_errors == summary.rejected
