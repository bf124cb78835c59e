"""What an import is and did: its summary, row errors and raw file, read from the database."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker.crm.models import CrmImport, CrmImportError
from linktracker.crm.parsing import WORKBOOK_ENCODING
from linktracker.db import get_or_not_found
from linktracker.errors import Gone, NotFound

SUMMARY_ERRORS: Final = 1000  # row errors listed in a summary; every one is stored


@dataclass(frozen=True)
class ImportRowError:
    """A rejected row: physical line, column at fault (None: the row as a whole), reason."""

    line: int
    column: str | None
    reason: str


@dataclass(frozen=True)
class ImportSummary:
    """What an import is and did, for the API, the CLI and the pages."""

    id: int
    filename: str
    source: str
    state: str
    message: str | None
    uploaded_by: int | None
    uploaded_at: datetime
    finished_at: datetime | None
    size: int
    sha256: str
    format: str | None
    kind: str | None
    encoding: str | None
    delimiter: str | None
    mapping: dict[str, str | None]
    dayfirst: bool | None
    dayfirst_reason: str | None
    decimal_separator: str | None
    won_rule: str | None
    timezone: str | None
    dry_run: bool
    progress_line: int
    rows: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    errors: tuple[ImportRowError, ...] = field(default=())
    # Stopped part way (failed, or its process died while running): running it resumes.
    resumable: bool = False
    raw_deleted_at: datetime | None = None  # the raw upload, deleted by retention
    sheet: str | None = None  # the workbook sheet read (None: a text file)

    @property
    def errors_truncated(self) -> bool:
        """True when the summary lists fewer row errors than were stored."""
        return len(self.errors) < self.rejected


@dataclass(frozen=True)
class ImportProgress:
    """Reported after every committed batch."""

    import_id: int
    line: int
    bytes_read: int
    size: int
    rows: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int


@dataclass(frozen=True)
class RawUpload:
    """Where the raw bytes of an import are and what they were called."""

    path: Path
    filename: str
    size: int
    sha256: str


ProgressCallback = Callable[[ImportProgress], None]


def load_import(session: Session, import_id: int) -> CrmImport:
    return get_or_not_found(session, CrmImport, import_id, "CRM import")


def raw_path(record: CrmImport, upload_folder: str | os.PathLike[str]) -> Path:
    if record.raw_deleted_at is not None:
        raise Gone(
            f"The raw file of import {record.id} was deleted on "
            f"{record.raw_deleted_at:%Y-%m-%d} by the retention setting "
            "(CRM_RAW_RETENTION_DAYS); the import's records and summary are kept. "
            "Upload the file again to import it again."
        )
    path = Path(upload_folder) / record.storage_path
    if not path.is_file():
        raise NotFound(
            f"The raw file of import {record.id} is missing from the upload folder "
            f"({record.storage_path}); restore it from backup to re-run the import."
        )
    return path


def first_errors(
    session: Session, import_id: int, limit: int = SUMMARY_ERRORS, offset: int = 0
) -> list[ImportRowError]:
    rows = session.execute(
        select(CrmImportError.line, CrmImportError.column, CrmImportError.reason)
        .where(CrmImportError.import_id == import_id)
        .order_by(CrmImportError.line, CrmImportError.id)
        .limit(limit)
        .offset(offset)
    )
    return [ImportRowError(line, column, reason) for line, column, reason in rows]


def summarise(record: CrmImport, errors: Iterable[ImportRowError]) -> ImportSummary:
    options = record.options or {}
    return ImportSummary(
        id=record.id,
        filename=record.filename,
        source=record.source,
        state=record.state,
        message=record.message,
        uploaded_by=record.uploaded_by,
        uploaded_at=record.uploaded_at,
        finished_at=record.finished_at,
        size=record.size,
        sha256=record.sha256,
        format=record.format,
        kind=record.kind,
        encoding=record.encoding,
        delimiter=record.delimiter,
        mapping=dict(record.mapping or {}),
        dayfirst=record.dayfirst,
        dayfirst_reason=record.dayfirst_reason,
        decimal_separator=options.get("decimal_separator"),
        won_rule=options.get("won_rule"),
        timezone=options.get("timezone"),
        dry_run=bool(options.get("dry_run", False)),
        progress_line=record.progress_line,
        rows=record.rows,
        inserted=record.inserted,
        updated=record.updated,
        unchanged=record.unchanged,
        rejected=record.rejected,
        errors=tuple(errors),
        resumable=record.state == "failed" and record.raw_deleted_at is None,
        raw_deleted_at=record.raw_deleted_at,
        sheet=options.get("sheet") if record.encoding == WORKBOOK_ENCODING else None,
    )


def summary_table(summary: ImportSummary) -> str:
    """The summary as an aligned two-column table, for the CLI."""
    delimiter = {"\t": "tab", None: "-"}.get(summary.delimiter, repr(summary.delimiter))
    if summary.dayfirst is None:
        dates = "-"
    elif (summary.dayfirst_reason or "").startswith("not needed"):
        dates = "no DD/MM or MM/DD dates"
    else:
        order = "day first" if summary.dayfirst else "month first"
        dates = f"{order} ({summary.dayfirst_reason})"
    rows = [
        ("import", f"{summary.id} ({summary.state}{', dry run' if summary.dry_run else ''})"),
        ("file", f"{summary.filename} ({summary.size:,} bytes)"),
        (
            "format",
            f"{summary.format or '-'}, {summary.kind or '-'} records, source "
            f"{summary.source or '-'}",
        ),  # fmt: skip
        (
            ("sheet", summary.sheet)
            if summary.sheet
            else ("encoding", f"{summary.encoding or '-'}, delimiter {delimiter}")
        ),
        ("dates", dates),
        ("won", summary.won_rule or "-"),
        ("rows", f"{summary.rows:,}"),
        ("inserted", f"{summary.inserted:,}"),
        ("updated", f"{summary.updated:,}"),
        ("unchanged", f"{summary.unchanged:,}"),
        ("rejected", f"{summary.rejected:,}"),
    ]
    if summary.mapping:
        mapped = ", ".join(f"{c} -> {f}" for c, f in summary.mapping.items() if f)
        rows.insert(4, ("mapping", mapped))
    if summary.raw_deleted_at:
        deleted = f"deleted by retention on {summary.raw_deleted_at:%Y-%m-%d}"
        rows.append(("raw file", deleted))
    if summary.message:
        rows.append(("message", summary.message))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)
