"""The steps every import pipeline shares (CRM records, ATS applications).

Both pipelines keep their uploads as ``crm_imports`` rows (``store``); they decide the same
way whether an import is finished, refuse a file the same way, record what was detected the
same way, and store row errors and mark an interrupted import the same way (previews:
``preview``).
What differs (the rows read, the fields, the table written) is each pipeline's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, BinaryIO

from sqlalchemy import insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from linktracker.crm.batches import Batch
from linktracker.crm.context import ImportContext
from linktracker.crm.import_summary import ImportProgress
from linktracker.crm.models import CrmImport, CrmImportError
from linktracker.crm.options import ImportOptions
from linktracker.crm.parsing import WORKBOOK_ENCODING, ExportInfo, Workbook
from linktracker.crm.raw_files import store_upload
from linktracker.db import utcnow

__all__ = [
    "error_rows",
    "is_final",
    "mark_stopped",
    "progress_of",
    "record_export",
    "refuse",
    "store",
    "write_errors",
]


def store(
    session: Session,
    stream: BinaryIO,
    context: ImportContext,
    *,
    filename: str,
    source: str | None,
    uploaded_by: int | None,
    pipeline: str,
) -> int:
    """Keep an upload byte for byte as a pending import of ``pipeline``; its id."""
    return store_upload(
        session,
        stream,
        filename=filename,
        upload_folder=context.upload_folder,
        max_bytes=context.max_bytes,
        source=source,
        uploaded_by=uploaded_by,
        pipeline=pipeline,
    ).id


def is_final(record: CrmImport, given: ImportOptions | None) -> bool:
    """Whether an import has nothing left to run: done, or refused and no mapping or sheet
    given (either may make the file readable)."""
    retry = given is not None and (given.mapping is not None or given.sheet is not None)
    return record.state in ("done", "dry_run") or (record.state == "refused" and not retry)


def refuse(
    session: Session,
    record: CrmImport,
    options: ImportOptions,
    message: str,
    mapping: Mapping[str, str | None] | None = None,
) -> None:
    """Record the file as refused whole (the raw upload stays), with the options tried."""
    session.rollback()
    record.state = "refused"
    record.message = message
    record.options = options.as_json()
    if mapping is not None:
        # What was recognised, so the mapping can be completed by hand.
        record.mapping = dict(mapping)
    record.finished_at = utcnow()
    session.commit()


def record_export(
    record: CrmImport,
    info: ExportInfo,
    options: ImportOptions,
    workbook: Workbook | None,
    *,
    decimals: bool = True,
) -> None:
    """Keep on the import what its first run detected (read again when it resumes);
    ``decimals``: whether the pipeline reads amounts (their separator is then kept)."""
    record.source = info.source
    record.format = info.format
    record.kind = info.kind
    record.encoding = info.encoding if workbook is None else WORKBOOK_ENCODING
    record.delimiter = info.delimiter if workbook is None else None
    record.mapping = dict(info.mapping)
    record.dayfirst = info.dayfirst
    record.dayfirst_reason = info.dayfirst_reason[:200]
    detected: dict[str, Any] = {"header": list(info.header), "header_line": info.header_line}
    if decimals:
        detected.update(
            decimal_separator=info.decimal_separator, decimal_reason=info.decimal_reason
        )
    record.options = {
        **options.as_json(),
        **detected,
        "won_rule": info.won_rule,
        "sheet": None if workbook is None else workbook.sheet,
    }


def error_rows(import_id: int, batch: Batch) -> list[dict[str, Any]]:
    """A batch's row errors as ``crm_import_errors`` rows, in file order."""
    return [
        {
            "import_id": import_id,
            "line": e.line,
            "column": None if e.column is None else e.column[:255],
            "reason": e.reason,
            "raw": list(e.raw),
        }
        for e in sorted(batch.errors, key=lambda e: e.line)
    ]


def write_errors(connection: Connection | Session, import_id: int, batch: Batch) -> int:
    """Insert a batch's row errors in file order; how many."""
    rows = error_rows(import_id, batch)
    if rows:
        connection.execute(insert(CrmImportError), rows)
    return len(rows)


def progress_of(record: CrmImport, batch: Batch) -> ImportProgress:
    """Where an import stands after writing ``batch``."""
    return ImportProgress(
        import_id=record.id,
        line=record.progress_line,
        bytes_read=batch.bytes_read,
        size=record.size,
        rows=record.rows,
        inserted=record.inserted,
        updated=record.updated,
        unchanged=record.unchanged,
        rejected=record.rejected,
    )


def mark_stopped(session: Session, record: CrmImport, exc: BaseException) -> None:
    """Mark the import failed (resumable) after whatever stopped it; never raises."""
    try:
        session.rollback()
        record.state = "failed"
        record.message = (
            f"Stopped after line {record.progress_line} ({type(exc).__name__}: {exc}); "
            "the rows up to that line are imported. Run the import again to complete it."
        )[:2000]
        session.commit()
    except Exception:  # the database itself may be what failed; the state stays running
        session.rollback()
