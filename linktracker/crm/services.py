"""CRM imports: keep every upload byte for byte, then stream its rows into records.

An import runs in batches of ``BATCH_SIZE`` rows, one transaction each. A batch writes its
records (upsert by source and external id), its row errors, and the import's progress line
and counts together, so an import killed halfway has written whole batches only and, run
again, resumes after the last committed line without counting anything twice.

This module holds the use cases; the pieces live beside it: ``raw_files`` (uploads),
``options`` (how a file is read), ``upsert`` (batches and the per-dialect writers),
``import_summary`` (what an import did), ``rejected`` (rejected rows as CSV) and
``preview``; the file itself is read by the pure ``parsing`` package.
Every public name stays importable from here.
"""

from __future__ import annotations

import logging
import os
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO, Final

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from linktracker.crm.context import LOCK_WAIT_SECONDS, AttributeRecords, ImportContext
from linktracker.crm.import_steps import is_final, record_export, refuse, store
from linktracker.crm.import_summary import (
    SUMMARY_ERRORS,
    ImportProgress,
    ImportRowError,
    ImportSummary,
    ProgressCallback,
    RawUpload,
    first_errors,
    load_import,
    raw_path,
    summarise,
    summary_table,
)
from linktracker.crm.locks import ImportBusy, import_lock, running_import
from linktracker.crm.models import CrmImport, CrmRecord
from linktracker.crm.options import (
    ImportOptions,
    check_options,
    inspect_with_options,
    parse_mapping_option,
)
from linktracker.crm.parsing import (
    ExportInfo,
    ExportRows,
    UnreadableExport,
    csv_view,
)
from linktracker.crm.preview import ImportPreview, import_header, preview_export, preview_import
from linktracker.crm.raw_files import store_upload
from linktracker.crm.rejected import iter_rejected_rows_csv, rejected_rows_csv
from linktracker.crm.retention import PurgeResult, purge_raw_files
from linktracker.crm.upsert import ImportRun
from linktracker.db import utcnow
from linktracker.errors import Conflict, InvalidInput
from linktracker.webhooks.services import enqueue_event

__all__ = [
    "BATCH_SIZE",
    "AttributeRecords",
    "LOCK_WAIT_SECONDS",
    "ImportBusy",
    "ImportContext",
    "ImportOptions",
    "ImportPreview",
    "ImportProgress",
    "ImportRefused",
    "ImportRowError",
    "ImportSummary",
    "PurgeResult",
    "RawUpload",
    "UnreadableExport",
    "get_import",
    "import_crm_file",
    "import_header",
    "iter_rejected_rows_csv",
    "list_import_errors",
    "list_imports",
    "parse_mapping_option",
    "preview_export",
    "preview_import",
    "purge_raw_files",
    "raw_upload",
    "refuse_import",
    "rejected_rows_csv",
    "store_upload",
    "summary_table",
    "upload_and_import",
]

_log = logging.getLogger(__name__)

BATCH_SIZE: Final = 5000
# From this size an import's rows are parsed in a process of their own (worth its start-up).
PARSER_PROCESS_BYTES: Final = 2 * 1024 * 1024
# Parsing processes per import: one per core, up to two (each splits every row and
# converts every other batch; the importing process needs the rest of the machine).
PARSER_PROCESSES: Final = min(
    2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
)
PROGRESS_BAR_BYTES: Final = 5 * 1024 * 1024  # the CLI shows a progress bar from this size
# Above this many changed records one pass over every record is cheaper than id lists.
ATTRIBUTE_ALL_ABOVE: Final = 20_000


class ImportRefused(InvalidInput):
    """The file was refused whole; the import is recorded (state ``refused``), raw kept."""

    def __init__(self, message: str, import_id: int) -> None:
        super().__init__(message, {"file": message})
        self.import_id = import_id


def upload_and_import(
    session: Session,
    stream: BinaryIO,
    context: ImportContext,
    options: ImportOptions | None = None,
    *,
    filename: str,
    source: str | None = None,
    uploaded_by: int | None = None,
    progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Store an upload, then import it (the API's, the CLI's and the demo's one call)."""
    options = options or ImportOptions()
    check_options(options)
    stored = store(
        session,
        stream,
        context,
        filename=filename,
        source=source,
        uploaded_by=uploaded_by,
        pipeline="crm",
    )

    return import_crm_file(session, stored, context, options, progress=progress)


def import_crm_file(
    session: Session,
    import_id: int,
    context: ImportContext,
    options: ImportOptions | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    parser_process: bool | None = None,
    progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Import (or resume) a stored upload; without ``options``, the recorded ones.

    Imports run one at a time (``locks``): this one waits up to ``context.wait_seconds``
    for the one running, then raises :class:`ImportBusy` and stays as it was. What follows
    an import (attribution, raw file retention) is the ``context``'s. ``parser_process``
    parses the rows in processes of their own, ``PARSER_PROCESSES`` of them (default: for
    uploads of ``PARSER_PROCESS_BYTES`` and more, where that outweighs starting them).
    """
    record = load_import(session, import_id)
    if record.pipeline != "crm":
        raise InvalidInput(
            f"Import {import_id} is an ATS import: run it with the ATS import.",
            {"import": "Not a CRM import."},
        )
    if is_final(record, options):  # no need to wait for the lock
        return _finished(session, record)
    run = _Run(context, batch_size, parser_process, progress)
    try:
        with import_lock(session, import_id, context.wait_seconds):
            summary = _run_import(session, import_id, options, run)
    except ImportRefused:
        _apply_retention(session, context)
        raise
    if _apply_retention(session, context) & {import_id}:
        session.expire_all()
        return get_import(session, import_id)
    return summary


@dataclass(frozen=True)
class _Run:
    """How one call runs its import: the app's context and the call's own settings."""

    context: ImportContext
    batch_size: int
    parser_process: bool | None
    progress: ProgressCallback | None


def _apply_retention(session: Session, context: ImportContext) -> set[int]:
    """Purge the raw files past retention after an import (None: not asked); their ids."""
    if context.raw_retention_days is None:
        return set()
    try:
        purged = purge_raw_files(
            session, upload_folder=context.upload_folder, retention_days=context.raw_retention_days
        )
    except OSError:  # the import itself succeeded; `crm purge-raw` says what is wrong
        session.rollback()
        _log.exception("Deleting raw CRM files past retention failed")
        return set()
    return set(purged.import_ids)


def _run_import(
    session: Session, import_id: int, given: ImportOptions | None, run: _Run
) -> ImportSummary:
    """Run an import while holding the import lock: no other import writes meanwhile."""
    session.commit()  # what follows reads the state as it is now, not a snapshot from before
    record = load_import(session, import_id)
    session.refresh(record)
    if is_final(record, given):
        return _finished(session, record)
    # Under the lock a "running" import is one whose process died: it resumes.
    seen = record.state
    resuming = seen in ("running", "failed")
    options = _resumed_options(record, given) if resuming else (given or ImportOptions())
    check_options(options)
    path = raw_path(record, run.context.upload_folder)
    with path.open("rb") as raw, ExitStack() as stack:
        try:
            view = stack.enter_context(csv_view(raw, sheet=options.sheet, folder=path.parent))
            info, rows = inspect_with_options(view.stream, options, record.source or None)
        except UnreadableExport as exc:
            refuse(session, record, options, str(exc), exc.mapping)
            raise ImportRefused(str(exc), import_id) from exc
        if not resuming:
            record_export(record, info, options, view.workbook)
        _claim(session, record, seen)
        text_path = Path(view.path) if view.path is not None else path
        _consume(session, record, (info, rows, text_path), options, run)
    record.state = "dry_run" if options.dry_run else "done"
    record.finished_at = utcnow()
    if not options.dry_run:
        enqueue_event(session, "import.finished", {"import": finished_json(record)})
    session.commit()
    return summarise(record, first_errors(session, import_id))


def finished_json(record: CrmImport) -> dict[str, Any]:
    """The `data.import` of an `import.finished` event."""
    return {
        "id": record.id,
        "filename": record.filename,
        "source": record.source,
        "state": record.state,
        "uploaded_at": record.uploaded_at.isoformat(),
        "finished_at": record.finished_at.isoformat() if record.finished_at else None,
        "rows": record.rows,
        "inserted": record.inserted,
        "updated": record.updated,
        "unchanged": record.unchanged,
        "rejected": record.rejected,
    }


def _resumed_options(record: CrmImport, given: ImportOptions | None) -> ImportOptions:
    """The options an interrupted import was started with (others given: InvalidInput)."""
    options = ImportOptions.from_json(record.options or {})
    if given is None:
        return options
    recorded = options.as_json()
    for name, value in given.as_json().items():
        if value is not None and value != recorded[name]:
            raise InvalidInput(
                f"Import {record.id} was started with {name}={recorded[name]!r}; run it "
                f"again with the same options, or upload the file again to use {value!r}.",
                {name: "Differs from the interrupted run."},
            )
    return options


def _consume(
    session: Session,
    record: CrmImport,
    export: tuple[ExportInfo, ExportRows, Path],
    options: ImportOptions,
    run: _Run,
) -> None:
    """Write the rows in batches, then attribute the records written (if asked)."""
    info, rows, path = export
    writer = ImportRun(session, record, info, options, run.context.email_secret, run.progress)
    parser_process = run.parser_process
    if parser_process is None:
        parser_process = record.size >= PARSER_PROCESS_BYTES
    try:
        processes = PARSER_PROCESSES if parser_process else 0
        writer.consume(path, rows, run.batch_size, parser_processes=processes)
        context = run.context
        if context.attribute is not None and not options.dry_run:
            param = options.click_id_param
            _attribute_import(session, record.id, context.attribute, context.window_days, param)
    except BaseException as exc:
        writer.stopped(exc)
        raise


def _finished(session: Session, record: CrmImport) -> ImportSummary:
    """A finished import's summary, or its refusal raised again."""
    if record.state == "refused":
        raise ImportRefused(record.message or "The file was refused.", record.id)
    return summarise(record, first_errors(session, record.id))


def _claim(session: Session, record: CrmImport, seen: str) -> None:
    """Mark the import running, only if its state is still the one read (else Conflict)."""
    claimed = session.execute(
        update(CrmImport)
        .where(CrmImport.id == record.id, CrmImport.state == seen)
        .values(state="running", message=None)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise Conflict(
            f"Import {record.id} changed while it was being started; reload its page.",
            {"import": "Changed meanwhile."},
        )
    session.commit()
    session.refresh(record)


def _attribute_import(
    session: Session, import_id: int, attribute: AttributeRecords, window_days: int, param: str
) -> None:
    """Hand the records this import inserted or changed to attribution (one call)."""
    touched = CrmRecord.last_import_id == import_id
    count = session.scalar(select(func.count()).select_from(CrmRecord).where(touched)) or 0
    if not count:
        return
    record_ids: list[int] | None = None
    if count <= ATTRIBUTE_ALL_ABOVE:
        record_ids = list(session.scalars(select(CrmRecord.id).where(touched)))
    attribute(session, window_days=window_days, click_id_param=param, record_ids=record_ids)


def refuse_import(
    session: Session,
    import_id: int,
    refusal: UnreadableExport,
    *,
    options: ImportOptions | None = None,
) -> ImportSummary:
    """Record that a pending upload is refused, as importing it would (read on preview)."""
    record = load_import(session, import_id)
    if record.state == "pending":
        refuse(session, record, options or ImportOptions(), str(refusal), refusal.mapping)
    return summarise(record, ())


def get_import(
    session: Session, import_id: int, *, error_limit: int = SUMMARY_ERRORS
) -> ImportSummary:
    """One import with its first row errors."""
    record = load_import(session, import_id)
    summary = summarise(record, first_errors(session, import_id, error_limit))
    return _as_seen(summary, running_import(session) if record.state == "running" else None)


def list_imports(session: Session, *, limit: int = 50, offset: int = 0) -> list[ImportSummary]:
    """Imports, newest first (without their row errors)."""
    records = session.scalars(
        select(CrmImport)
        .where(CrmImport.pipeline == "crm")
        .order_by(CrmImport.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    running = running_import(session) if any(r.state == "running" for r in records) else None
    return [_as_seen(summarise(record, ()), running) for record in records]


def _as_seen(summary: ImportSummary, running: int | None) -> ImportSummary:
    """An import left running by a process that died is shown as interrupted."""
    if summary.state != "running" or summary.id == running:
        return summary
    message = (
        f"Interrupted after line {summary.progress_line}: the process running the import "
        "ended. The rows up to that line are imported. Run the import again to complete it."
    )
    resumable = summary.raw_deleted_at is None
    return replace(summary, state="failed", message=message, resumable=resumable)


def list_import_errors(
    session: Session, import_id: int, *, limit: int = 100, offset: int = 0
) -> list[ImportRowError]:
    """A page of an import's row errors, in file order."""
    load_import(session, import_id)
    return first_errors(session, import_id, limit, offset)


def raw_upload(
    session: Session, import_id: int, *, upload_folder: str | os.PathLike[str]
) -> RawUpload:
    """The stored raw bytes of an import, exactly as uploaded."""
    record = load_import(session, import_id)
    return RawUpload(raw_path(record, upload_folder), record.filename, record.size, record.sha256)
