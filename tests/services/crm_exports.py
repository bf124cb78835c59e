"""CRM exports the import tests feed in: the samples, numbered rows, generated leads."""

from __future__ import annotations

import csv
import io

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
