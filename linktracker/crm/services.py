"""CRM imports: keep every upload byte for byte, then stream its rows into records.

An import runs in batches of ``BATCH_SIZE`` rows, one transaction each. A batch writes its
records (upsert by source and external id), its row errors, and the import's progress line
and counts together, so an import killed halfway has written whole batches only and, run
again, resumes after the last committed line without counting anything twice.

This module holds the use cases; the pieces live beside it: ``storage`` (uploads),
``options`` (how a file is read), ``upsert`` (batches and the per-dialect writers),
``summary`` (what an import did), ``rejected`` (rejected rows as CSV) and ``preview``.
Every public name stays importable from here.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, BinaryIO, Final, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from linktracker.crm.csv_rows import ExportInfo, UnreadableExport
from linktracker.crm.locks import ImportBusy, import_lock, running_import
from linktracker.crm.models import CrmImport, CrmRecord
from linktracker.crm.options import (
    ImportOptions,
    check_options,
    inspect_with_options,
    parse_mapping_option,
)
from linktracker.crm.preview import ImportPreview, import_header, preview_export, preview_import
from linktracker.crm.rejected import iter_rejected_rows_csv, rejected_rows_csv
from linktracker.crm.retention import PurgeResult, purge_raw_files
from linktracker.crm.storage import store_upload
from linktracker.crm.summary import (
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
from linktracker.crm.upsert import ImportRun
from linktracker.db import utcnow
from linktracker.errors import Conflict, InvalidInput

__all__ = [
    "BATCH_SIZE",
    "AttributeRecords",
    "LOCK_WAIT_SECONDS",
    "ImportBusy",
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
# How long an import waits for the one running before it answers "busy" (web and API).
LOCK_WAIT_SECONDS: Final = 30.0


class AttributeRecords(Protocol):
    """Credits the records an import wrote to clicks (``attribution.services.attribute_records``).

    Attribution reads CRM records, so the import is handed it by its caller rather than
    importing it: the CRM package stays below attribution.
    """

    def __call__(
        self,
        session: Session,
        *,
        window_days: int,
        click_id_param: str,
        record_ids: Iterable[int] | None,
    ) -> object: ...


class ImportRefused(InvalidInput):
    """The file was refused whole; the import is recorded (state ``refused``), raw kept."""

    def __init__(self, message: str, import_id: int) -> None:
        super().__init__(message, {"file": message})
        self.import_id = import_id


def upload_and_import(
    session: Session,
    stream: BinaryIO,
    *,
    filename: str,
    upload_folder: str | os.PathLike[str],
    email_secret: bytes,
    max_bytes: int | None = None,
    source: str | None = None,
    uploaded_by: int | None = None,
    options: ImportOptions | None = None,
    window_days: int = 30,
    attribute: AttributeRecords | None = None,
    progress: ProgressCallback | None = None,
    wait_seconds: float | None = LOCK_WAIT_SECONDS,
    raw_retention_days: int | None = None,
) -> ImportSummary:
    """Store an upload, then import it (the API's, the CLI's and the demo's one call)."""
    options = options or ImportOptions()
    check_options(options)
    stored = store_upload(
        session,
        stream,
        filename=filename,
        upload_folder=upload_folder,
        max_bytes=max_bytes,
        source=source,
        uploaded_by=uploaded_by,
    )
    return import_crm_file(
        session,
        stored.id,
        upload_folder=upload_folder,
        email_secret=email_secret,
        window_days=window_days,
        attribute=attribute,
        progress=progress,
        wait_seconds=wait_seconds,
        raw_retention_days=raw_retention_days,
        **options.as_json(),  # mapping, dayfirst, timezone, click_id_param, keep_emails, dry_run
    )


def import_crm_file(
    session: Session,
    import_id: int,
    *,
    upload_folder: str | os.PathLike[str],
    email_secret: bytes,
    mapping: Mapping[str, str | None] | None = None,
    dayfirst: bool | None = None,
    timezone: str | None = None,
    click_id_param: str | None = None,
    keep_emails: bool | None = None,
    dry_run: bool | None = None,
    window_days: int = 30,
    attribute: AttributeRecords | None = None,
    batch_size: int = BATCH_SIZE,
    parser_process: bool | None = None,
    progress: ProgressCallback | None = None,
    wait_seconds: float | None = LOCK_WAIT_SECONDS,
    raw_retention_days: int | None = None,
) -> ImportSummary:
    """Import (or resume) a stored upload; options left None are the recorded ones.

    Imports run one at a time (``locks``): this one waits up to ``wait_seconds`` for the
    one running, then raises :class:`ImportBusy` and stays as it was. Given ``attribute``,
    the records written are attributed (``window_days``) before the import is done. Given
    ``raw_retention_days``, raw files past retention (this one's too) are deleted after.
    ``parser_process`` parses the rows in processes of their own, ``PARSER_PROCESSES`` of
    them (default: for uploads of ``PARSER_PROCESS_BYTES`` and more, where that outweighs
    starting them).
    """
    record = load_import(session, import_id)
    if _is_final(record, mapping):  # no need to wait for the lock
        return _finished(session, record)
    try:
        with import_lock(session, import_id, wait_seconds):
            summary = _run_import(
                session,
                import_id,
                upload_folder=upload_folder,
                email_secret=email_secret,
                given={
                    "mapping": None if mapping is None else dict(mapping),
                    "dayfirst": dayfirst,
                    "timezone": timezone,
                    "click_id_param": click_id_param,
                    "keep_emails": keep_emails,
                    "dry_run": dry_run,
                },
                window_days=window_days,
                attribute=attribute,
                batch_size=batch_size,
                parser_process=parser_process,
                progress=progress,
            )
    except ImportRefused:
        _apply_retention(session, upload_folder, raw_retention_days)
        raise
    if _apply_retention(session, upload_folder, raw_retention_days) & {import_id}:
        session.expire_all()
        return get_import(session, import_id)
    return summary


def _apply_retention(
    session: Session, upload_folder: str | os.PathLike[str], days: int | None
) -> set[int]:
    """Purge the raw files past retention after an import (None: not asked); their ids."""
    if days is None:
        return set()
    try:
        purged = purge_raw_files(session, upload_folder=upload_folder, retention_days=days)
    except OSError:  # the import itself succeeded; `crm purge-raw` says what is wrong
        session.rollback()
        _log.exception("Deleting raw CRM files past retention failed")
        return set()
    return set(purged.import_ids)


def _run_import(
    session: Session,
    import_id: int,
    *,
    upload_folder: str | os.PathLike[str],
    email_secret: bytes,
    given: dict[str, Any],
    window_days: int,
    attribute: AttributeRecords | None,
    batch_size: int,
    parser_process: bool | None,
    progress: ProgressCallback | None,
) -> ImportSummary:
    """Run an import while holding the import lock: no other import writes meanwhile."""
    session.commit()  # what follows reads the state as it is now, not a snapshot from before
    record = load_import(session, import_id)
    session.refresh(record)
    if _is_final(record, given["mapping"]):
        return _finished(session, record)
    # Under the lock a "running" import is one whose process died: it resumes.
    seen = record.state
    resuming = seen in ("running", "failed")
    if resuming:
        options = ImportOptions.from_json(record.options or {})
        recorded = options.as_json()
        for name, value in given.items():
            if value is not None and value != recorded[name]:
                raise InvalidInput(
                    f"Import {import_id} was started with {name}={recorded[name]!r}; run it "
                    f"again with the same options, or upload the file again to use {value!r}.",
                    {name: "Differs from the interrupted run."},
                )
    else:
        defaults = ImportOptions()
        timezone, click_id_param = given["timezone"], given["click_id_param"]
        options = ImportOptions(
            mapping=given["mapping"],
            dayfirst=given["dayfirst"],
            timezone=defaults.timezone if timezone is None else timezone,
            click_id_param=defaults.click_id_param if click_id_param is None else click_id_param,
            keep_emails=bool(given["keep_emails"]),
            dry_run=bool(given["dry_run"]),
        )
        check_options(options)
    path = raw_path(record, upload_folder)
    with path.open("rb") as stream:
        try:
            info, rows = inspect_with_options(stream, options, record.source or None)
        except UnreadableExport as exc:
            _refuse(session, record, options, str(exc), exc.mapping)
            raise ImportRefused(str(exc), import_id) from exc
    if not resuming:
        _record_export(record, info, options)
    _claim(session, record, seen)
    if parser_process is None:
        parser_process = record.size >= PARSER_PROCESS_BYTES
    run = ImportRun(session, record, info, options, email_secret, progress)
    try:
        processes = PARSER_PROCESSES if parser_process else 0
        run.consume(path, rows, batch_size, parser_processes=processes)
        if attribute is not None and not options.dry_run:
            _attribute_import(session, import_id, attribute, window_days, options.click_id_param)
    except BaseException as exc:
        run.stopped(exc)
        raise
    record.state = "dry_run" if options.dry_run else "done"
    record.finished_at = utcnow()
    session.commit()
    return summarise(record, first_errors(session, import_id))


def _is_final(record: CrmImport, mapping: Mapping[str, str | None] | None) -> bool:
    """Whether an import has nothing left to run: done, or refused and no mapping given."""
    return record.state in ("done", "dry_run") or (record.state == "refused" and mapping is None)


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
        _refuse(session, record, options or ImportOptions(), str(refusal), refusal.mapping)
    return summarise(record, ())


def _refuse(
    session: Session,
    record: CrmImport,
    options: ImportOptions,
    message: str,
    mapping: Mapping[str, str | None] | None = None,
) -> None:
    session.rollback()
    record.state = "refused"
    record.message = message
    record.options = options.as_json()
    if mapping is not None:
        # What was recognised, so the mapping can be completed by hand.
        record.mapping = dict(mapping)
    record.finished_at = utcnow()
    session.commit()


def _record_export(record: CrmImport, info: ExportInfo, options: ImportOptions) -> None:
    record.source = info.source
    record.format = info.format
    record.kind = info.kind
    record.encoding = info.encoding
    record.delimiter = info.delimiter
    record.mapping = dict(info.mapping)
    record.dayfirst = info.dayfirst
    record.dayfirst_reason = info.dayfirst_reason[:200]
    record.options = {
        **options.as_json(),
        "header": list(info.header),
        "header_line": info.header_line,
        "decimal_separator": info.decimal_separator,
        "decimal_reason": info.decimal_reason,
        "won_rule": info.won_rule,
    }


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
        select(CrmImport).order_by(CrmImport.id.desc()).limit(limit).offset(offset)
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
