"""CRM import of Excel workbooks: the same records as the CSV, sheets, refusals, raw kept."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.crm.models import CrmImport, CrmRecord
from linktracker.crm.parsing import UnreadableExport, upload_text
from linktracker.crm.parsing.workbooks import csv_view, sheet_cell_text
from linktracker.crm.services import (
    ImportContext,
    ImportOptions,
    ImportRefused,
    ImportSummary,
    preview_export,
    raw_upload,
    upload_and_import,
)
from tests.services.crm_exports import CRM, SAMPLES, csv_bytes, csv_rows, workbook_bytes
from tests.services.crm_runs import SECRET

COMPARED = (
    "external_id", "kind", "created_at", "owner", "stage", "won", "closed_at", "amount",
    "currency", "email", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term",
    "click_id", "landing_url", "lead_source", "content_hash",
)  # fmt: skip


def run_import(
    session: Session, folder: Path, data: bytes, name: str, source: str, **options: Any
) -> ImportSummary:
    return upload_and_import(
        session,
        io.BytesIO(data),
        ImportContext(folder, SECRET),
        ImportOptions(**options),
        filename=name,
        source=source,
    )


def stored(session: Session, source: str) -> dict[str, tuple[Any, ...]]:
    session.expire_all()
    rows = session.scalars(select(CrmRecord).where(CrmRecord.source == source))
    return {r.external_id: tuple(getattr(r, name) for name in COMPARED) for r in rows}


def refusal(session: Session, folder: Path, data: bytes, name: str = "x.xlsx", **kw: Any) -> str:
    with pytest.raises(ImportRefused) as refused:
        run_import(session, folder, data, name, "sheet", **kw)
    assert session.scalar(select(func.count()).select_from(CrmRecord)) == 0
    return refused.value.message


@pytest.mark.parametrize("name", [sample[0] for sample in SAMPLES])
@pytest.mark.parametrize("typed", [True, False], ids=["typed-cells", "text-cells"])
def test_a_workbook_of_each_sample_gives_the_records_of_the_same_data_as_csv(
    session: Session, tmp_path: Path, name: str, typed: bool
) -> None:
    # A sheet has no short rows: saved as CSV, every row has the sheet's width.
    rows = csv_rows((CRM / name).read_bytes())
    width = max(len(row) for row in rows)
    saved = csv_bytes([row + [""] * (width - len(row)) for row in rows])
    book = workbook_bytes(rows, typed=typed)
    from_csv = run_import(session, tmp_path, saved, name, "from-csv")
    from_book = run_import(session, tmp_path, book, name.replace(".csv", ".xlsx"), "from-xlsx")
    counts = ("rows", "inserted", "updated", "unchanged", "rejected", "format", "kind")
    assert [getattr(from_book, c) for c in counts] == [getattr(from_csv, c) for c in counts]
    assert from_book.inserted == from_csv.rows - from_csv.rejected > 0
    assert [(e.line, e.column, e.reason) for e in from_book.errors] == [
        (e.line, e.column, e.reason) for e in from_csv.errors
    ]
    assert stored(session, "from-xlsx") == stored(session, "from-csv")
    assert (from_book.encoding, from_book.delimiter, from_book.sheet) == ("xlsx", None, "Export")


def test_sample_workbooks_import_with_the_samples_counts(session: Session, tmp_path: Path) -> None:
    for name, rows, inserted, rejected, *_ in SAMPLES[:4]:  # the last one has a short row
        book = workbook_bytes(csv_rows((CRM / name).read_bytes()))
        summary = run_import(session, tmp_path, book, "s.xlsx", name)
        assert (summary.rows, summary.inserted, summary.rejected) == (rows, inserted, rejected)


def test_the_csv_after_the_workbook_changes_nothing(session: Session, tmp_path: Path) -> None:
    data = (CRM / "hubspot_deals_export.csv").read_bytes()
    first = run_import(session, tmp_path, workbook_bytes(csv_rows(data)), "deals.xlsx", "hubspot")
    again = run_import(session, tmp_path, data, "deals.csv", "hubspot")
    assert (first.inserted, again.inserted, again.updated, again.unchanged) == (30, 0, 0, 30)


def test_true_date_cells_need_no_day_month_decision(session: Session, tmp_path: Path) -> None:
    # 03/04 would be ambiguous as text; as date cells the workbook stores the day itself.
    rows = [["Record ID", "Create Date", "Close Date", "Amount"]]
    rows += [[f"D{n}", f"2026-03-0{n} 09:30", f"2026-04-0{n}", "1.234"] for n in range(1, 4)]
    book = workbook_bytes(rows)
    summary = run_import(session, tmp_path, book, "d.xlsx", "sheet")
    assert summary.dayfirst_reason == "not needed (no DD/MM or MM/DD dates)"
    record = stored(session, "sheet")["D2"]
    assert record[2] == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert record[COMPARED.index("amount")] == Decimal("1.23")  # not one thousand and more


def test_text_dates_in_a_workbook_still_vote_on_the_order(session: Session, tmp_path: Path) -> None:
    rows = [["Record ID", "Create Date"], ["A", "25/12/2026"], ["B", "03/04/2026"]]
    summary = run_import(session, tmp_path, workbook_bytes(rows, typed=False), "t.xlsx", "s")
    assert summary.dayfirst is True
    assert stored(session, "s")["B"][2] == datetime(2026, 4, 3, tzinfo=UTC)


def test_numbers_with_a_decimal_comma_file_keep_their_value(
    session: Session, tmp_path: Path
) -> None:
    # Text amounts decide a decimal comma; the numeric cells keep the value they store.
    rows = [["Record ID", "Create Date", "Amount"]]
    rows += [[f"T{n}", "2026-01-05", f"{n}.000,50"] for n in range(1, 4)]
    book = workbook_bytes(rows, typed=False)
    typed = workbook_bytes([*rows, ["N1", "2026-01-05", "1.234"], ["N2", "2026-01-05", "7.5"]])
    run_import(session, tmp_path, book, "a.xlsx", "text")
    summary = run_import(session, tmp_path, typed, "b.xlsx", "typed")
    assert summary.decimal_separator == ","
    amounts = {k: v[COMPARED.index("amount")] for k, v in stored(session, "typed").items()}
    assert amounts == {
        "T1": Decimal("1000.50"),
        "T2": Decimal("2000.50"),
        "T3": Decimal("3000.50"),
        "N1": Decimal("1.23"),  # stored with two decimals, not read as 1,234
        "N2": Decimal("7.5"),
    }


def test_a_chosen_sheet_is_read_and_the_first_visible_one_by_default(
    session: Session, tmp_path: Path
) -> None:
    rows = [["Record ID", "Create Date"], ["S1", "2026-01-05"]]
    book = workbook_bytes(rows, sheets=("Lookup", "Notes", "Deals"), data_sheet="Deals")
    chosen = run_import(session, tmp_path, book, "a.xlsx", "chosen", sheet="Deals")
    assert (chosen.sheet, chosen.inserted) == ("Deals", 1)
    hidden = workbook_bytes(
        rows, sheets=("Lookup", "Deals"), data_sheet="Deals", hidden=("Lookup",)
    )
    first = run_import(session, tmp_path, hidden, "b.xlsx", "first")
    assert (first.sheet, first.inserted) == ("Deals", 1)


def test_a_sheet_the_workbook_lacks_is_refused_naming_its_sheets(
    session: Session, tmp_path: Path
) -> None:
    book = workbook_bytes([["Record ID", "Create Date"]], sheets=("Deals", "Notes"))
    message = refusal(session, tmp_path, book, sheet="Leads")
    assert message == "The workbook has no sheet 'Leads'; its sheets: Deals, Notes."
    text = csv_bytes([["Record ID", "Create Date"], ["A", "2026-01-05"]])
    message = refusal(session, tmp_path, text, "x.csv", sheet="Leads")
    assert message.startswith("The file is not a workbook, so it has no sheet 'Leads'")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            (CRM / "old_excel_97.xls").read_bytes(),
            "The file is an Excel 97-2003 workbook (.xls), which is not read. In Excel: "
            "File › Save As › Excel Workbook (.xlsx) or CSV UTF-8.",
        ),
        (
            (CRM / "password_protected.xlsx").read_bytes(),
            "The workbook is password-protected (encrypted), so it cannot be read. Open it in "
            "Excel, remove the password (File › Info › Protect Workbook › Encrypt with "
            "Password, clear the password), save, and upload it again.",
        ),
        (
            b"PK\x03\x04" + b"\x00" * 40,
            "The file starts like an Excel workbook (.xlsx) but is damaged or cut short",
        ),
        (
            b"",  # a ZIP archive without a workbook: built below
            "The file is a ZIP archive but not an Excel workbook (.xlsx): it has no "
            "xl/workbook.xml. Upload the workbook itself, or the export as CSV.",
        ),
    ],
    ids=["xls", "encrypted", "damaged", "zip"],
)
def test_unreadable_workbooks_are_refused_whole_and_kept(
    session: Session, tmp_path: Path, data: bytes, expected: str
) -> None:
    if not data:
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as files:
            files.writestr("notes.txt", "hello")
        data = archive.getvalue()
    message = refusal(session, tmp_path, data)
    assert message.startswith(expected)
    record = session.scalars(select(CrmImport)).one()
    assert record.state == "refused" and record.message == message
    raw = raw_upload(session, record.id, upload_folder=tmp_path)
    assert raw.path.read_bytes() == data


def test_the_raw_workbook_is_kept_and_no_sheet_text_is_left(
    session: Session, tmp_path: Path
) -> None:
    rows = [["Record ID", "Create Date"], ["A", "2026-01-05"]]
    book = workbook_bytes(rows)
    summary = run_import(session, tmp_path, book, "deals.xlsx", "s")
    raw = raw_upload(session, summary.id, upload_folder=tmp_path)
    assert raw.path.read_bytes() == book and raw.filename == "deals.xlsx"
    assert not list(tmp_path.rglob("sheet-*.csv"))


def test_line_numbers_are_sheet_rows_below_title_rows(session: Session, tmp_path: Path) -> None:
    rows = [
        ["Deals report", ""],
        ["", ""],
        ["Record ID", "Create Date"],
        ["A", "2026-01-05"],
        ["B", "not a date"],
    ]
    summary = run_import(session, tmp_path, workbook_bytes(rows), "r.xlsx", "s")
    assert [(e.line, e.column) for e in summary.errors] == [(5, "Create Date")]
    assert summary.inserted == 1


def test_line_numbers_are_sheet_rows_below_blank_rows(session: Session, tmp_path: Path) -> None:
    # Rows 1 and 2 hold no cell at all: the header is on sheet row 3, the bad date on row 5.
    rows = [[], [], ["Record ID", "Create Date"], ["A", "2026-01-05"], ["B", "not a date"]]
    summary = run_import(session, tmp_path, workbook_bytes(rows), "r.xlsx", "s")
    assert [(e.line, e.column) for e in summary.errors] == [(5, "Create Date")]
    assert summary.inserted == 1


def test_a_sheet_starting_in_column_b_gives_the_same_records(
    session: Session, tmp_path: Path
) -> None:
    rows = csv_rows((CRM / "hubspot_deals_export.csv").read_bytes())
    at_a = run_import(session, tmp_path, workbook_bytes(rows), "a.xlsx", "from-a")
    at_b = run_import(
        session, tmp_path, workbook_bytes([[""] + r for r in rows]), "b.xlsx", "from-b"
    )
    assert (at_b.inserted, at_b.rejected) == (at_a.inserted, at_a.rejected) == (30, 0)
    assert stored(session, "from-b") == stored(session, "from-a")


def test_the_sheet_text_has_a_line_per_sheet_row_from_row_1(tmp_path: Path) -> None:
    rows = [[], [], ["Record ID", "Create Date"], ["A", "2026-01-05"]]
    with csv_view(io.BytesIO(workbook_bytes(rows)), folder=tmp_path) as view:
        assert view.stream.read() == b",\n,\nRecord ID,Create Date\nA,2026-01-05\n"
        assert view.workbook is not None and view.workbook.rows == 4


def _damaged_after(rows: list[list[str]], line: int) -> bytes:
    """The workbook of ``rows`` with its sheet XML broken from sheet row ``line`` on."""
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes(rows)))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as files:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                cut = data.index(f'<row r="{line}"'.encode())
                data = (
                    data[:cut]
                    + f'<row r="{line}"><c r="A{line}" t="inlineStr"><is><t>x</u>'.encode()
                )
            files.writestr(item, data)
    return target.getvalue()


def test_the_sheet_is_streamed_so_reading_its_header_stops_early(tmp_path: Path) -> None:
    # Holding the whole sheet would find the damage further down before the header is read.
    rows = [["Record ID", "Create Date"]] + [[f"R{i}", "2026-01-05"] for i in range(300)]
    book = _damaged_after(rows, 250)
    with csv_view(io.BytesIO(book), limit=2, folder=tmp_path) as view:
        assert view.stream.read() == b"Record ID,Create Date\nR0,2026-01-05\n"
        assert view.workbook is not None and view.workbook.rows == 2
    with (
        pytest.raises(UnreadableExport, match="The workbook cannot be read"),
        csv_view(io.BytesIO(book), folder=tmp_path),
    ):
        pass
    assert not list(tmp_path.iterdir())


def test_a_damaged_sheet_is_refused_whole(session: Session, tmp_path: Path) -> None:
    rows = [["Record ID", "Create Date"]] + [[f"R{i}", "2026-01-05"] for i in range(300)]
    message = refusal(session, tmp_path, _damaged_after(rows, 250))
    assert message.startswith("The workbook cannot be read")


def test_an_empty_sheet_is_refused(session: Session, tmp_path: Path) -> None:
    message = refusal(session, tmp_path, workbook_bytes([]))
    assert message == "The sheet 'Export' is empty."


def test_the_preview_names_the_sheet_and_lists_the_others(tmp_path: Path) -> None:
    rows = [["Record ID", "Create Date"], ["A", "2026-01-05"]]
    book = workbook_bytes(rows, sheets=("Deals", "Notes"))
    preview = preview_export(io.BytesIO(book), folder=tmp_path)
    assert (preview.sheet, preview.sheets, preview.encoding) == (
        "Deals",
        ("Deals", "Notes"),
        "xlsx",
    )
    assert [r["external_id"] for r in preview.records] == ["A"]
    with pytest.raises(UnreadableExport, match="its sheets: Deals, Notes"):
        preview_export(io.BytesIO(book), options=ImportOptions(sheet="Nope"))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("text", "text"),
        (True, "TRUE"),
        (False, "FALSE"),
        (12, "12"),
        (12.0, "12"),
        (9100000012.0, "9100000012"),
        (1234.5, "1234.5"),
        (1.234, "1.2340"),
        (1e20, "100000000000000000000"),
        (0.000015, "0.000015"),
        (float("nan"), ""),
        (datetime(2026, 3, 4, 9, 30, 0, 999_800), "2026-03-04 09:30:01"),
        (datetime(2026, 3, 4), "2026-03-04"),
        (datetime(2026, 3, 4, 23, 59, 59, 600_000), "2026-03-05"),
        (datetime(2026, 3, 4, 9, 30), "2026-03-04 09:30:00"),
        (time(9, 30, 15, 400_000), "09:30:15"),
        (date(2026, 3, 4), "2026-03-04"),
        (None, ""),
    ],
)
def test_cells_are_written_as_the_workbook_stores_them(value: object, text: str) -> None:
    assert sheet_cell_text(value) == text


def test_upload_text_reads_a_workbook_or_utf8_text() -> None:
    rows = [["name", "email"], ["Ann", "ann@example.com"]]
    assert upload_text(io.BytesIO(workbook_bytes(rows))) == "name,email\nAnn,ann@example.com\n"
    assert upload_text(io.BytesIO("\ufeffname\n".encode())) == "name\n"
    with pytest.raises(UnreadableExport, match="not UTF-8 text"):
        upload_text(io.BytesIO(b"name\n\xff\xfe\x00"))
