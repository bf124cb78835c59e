"""The rejected rows of an import as CSV, to fix in a spreadsheet and upload again."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker.crm.models import CrmImportError
from linktracker.crm.summary import load_import
from linktracker.csvsafe import FORMULA_STARTERS

# A cell a spreadsheet would run as a formula is neutralised, unless it is a plain number
# like -500, so that a fixed file re-imports with the values as typed.
_PLAIN_NUMBER: Final = re.compile(r"[+-]?\d[\d\s.,']*")


def rejected_rows_csv(session: Session, import_id: int) -> str:
    """The rejected rows as CSV: the file's header plus an `error` column, formula-safe."""
    return "".join(iter_rejected_rows_csv(session, import_id))


def iter_rejected_rows_csv(session: Session, import_id: int, *, page: int = 5000) -> Iterator[str]:
    """`rejected_rows_csv` in chunks, for streaming large error lists."""
    record = load_import(session, import_id)
    header = [str(name) for name in (record.options or {}).get("header", [])]
    width = len(header)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_safe_cell(name) for name in [*header, "error"]])
    after = (-1, -1)
    while True:
        rows = session.execute(
            select(
                CrmImportError.id,
                CrmImportError.line,
                CrmImportError.column,
                CrmImportError.reason,
                CrmImportError.raw,
            )  # fmt: skip
            .where(
                CrmImportError.import_id == import_id,
                (CrmImportError.line > after[0])
                | ((CrmImportError.line == after[0]) & (CrmImportError.id > after[1])),
            )
            .order_by(CrmImportError.line, CrmImportError.id)
            .limit(page)
        ).all()
        for error_id, line, column, reason, raw in rows:
            cells = [str(c) for c in (raw or [])]
            padded = cells[:width] + [""] * (width - len(cells))
            where = f"line {line}" + (f", {column}" if column else "")
            # Extra cells stay after the error column so nothing typed in is lost.
            writer.writerow(
                [_safe_cell(c) for c in [*padded, f"{where}: {reason}", *cells[width:]]]
            )
            after = (line, error_id)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < page:
            return


def _safe_cell(text: str) -> str:
    if text.startswith(FORMULA_STARTERS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text
