"""CRM exports the import tests feed in: the samples, numbered rows, generated leads."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import openpyxl

from tests.support import TEST_DATA

CRM = TEST_DATA / "crm"

# The shared real-convention samples.
SAMPLES = [
    # file, rows, inserted, rejected, format, kind, source
    ("salesforce_leads_report.csv", 40, 40, 0, "salesforce", "lead", "salesforce"),
    ("salesforce_opportunities_de.csv", 25, 25, 0, "salesforce", "deal", "salesforce"),
    ("hubspot_deals_export.csv", 30, 30, 0, "hubspot", "deal", "hubspot"),
    ("pipedrive_deals.csv", 20, 20, 0, "pipedrive", "deal", "pipedrive"),
    ("hubspot_with_bad_rows.csv", 7, 2, 5, "hubspot", "deal", "hubspot"),
]


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def numbered_rows(total: int) -> bytes:
    rows = [["Record ID", "Create Date", "Amount"]]
    for n in range(1, total + 1):
        rows.append([str(n), "2026-09-01" if n % 7 else "not a date", str(n)])
    return csv_bytes(rows)


ROWS = 2000


def export(total: int = ROWS) -> bytes:
    lines = ["Lead ID,Create Date,Lead Status,Email"]
    lines += [f"L{i},2026-01-05,Open,lead{i}@acme.test" for i in range(total)]
    return ("\r\n".join(lines) + "\r\n").encode()


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}(?::\d{2})?)?")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d{0,14})(?:\.\d+)?")


def typed_cell(text: str) -> object:
    """A CSV cell as Excel stores it after opening the CSV: dates and numbers typed."""
    if _DATE.fullmatch(text):
        value = datetime.fromisoformat(text)
        return value.date() if len(text) == 10 else value
    if _NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    return text


def workbook_bytes(
    rows: list[list[str]],
    *,
    typed: bool = True,
    sheets: tuple[str, ...] = ("Export",),
    data_sheet: str | None = None,
    hidden: tuple[str, ...] = (),
) -> bytes:
    """An .xlsx workbook of ``rows`` (on ``data_sheet``, default the first of ``sheets``)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in sheets:
        sheet = book.create_sheet(name)
        if name in hidden:
            sheet.sheet_state = "hidden"
        if name == (data_sheet or sheets[0]):
            for row in rows:
                sheet.append([typed_cell(cell) if typed else cell for cell in row])
        else:
            sheet.append(["Notes", "not the export"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_rows(data: bytes) -> list[list[str]]:
    """The rows of a CSV sample (any of the samples' encodings and delimiters)."""
    text = data.decode("utf-8-sig") if not data.startswith(b"\xff\xfe") else data.decode("utf-16")
    delimiter = (
        ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    )
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
