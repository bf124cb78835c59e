"""ATS imports: the CRM import's upload, lock, batches and row errors, writing applications.

An ATS import is a ``crm_imports`` row with pipeline ``ats``: the raw upload is kept the
same way (and purged by the same retention), the same lock lets one import run at a time,
rejected rows are stored and downloaded the same way, and the summary has the same fields.
Rows are read by ``recruiting.parsing`` and written in batches of ``BATCH_SIZE``, one
transaction each (applications, row errors, progress line and counts), so an interrupted
import resumes after its last committed batch. Applications upsert by (source, external
id) with a content hash: importing the same file again changes nothing.

After the rows, the applications the import inserted or changed are attributed
(``recruiting.attribution``), and referrer names that several employees share are listed
in the result, never guessed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Final

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from linktracker.crm.batches import Batch, cut_batches
from linktracker.crm.context import ImportContext
from linktracker.crm.import_steps import (
    is_final,
    mark_stopped,
    progress_of,
    record_export,
    refuse,
    store,
    write_errors,
)
from linktracker.crm.import_summary import (
    ImportSummary,
    ProgressCallback,
    first_errors,
    load_import,
    raw_path,
    summarise,
)
from linktracker.crm.locks import import_lock
from linktracker.crm.models import CrmImport
from linktracker.crm.options import ImportOptions, check_mapping
from linktracker.crm.parsing import (
    RowError,
    UnreadableExport,
    csv_view,
)
from linktracker.crm.preview import ImportPreview, display_row, preview_of, preview_rows
from linktracker.crm.services import ImportRefused
from linktracker.db import utcnow
from linktracker.errors import NotFound
from linktracker.recruiting.attribution import AmbiguousReferrer, attribute_applications
from linktracker.recruiting.models import Application
from linktracker.recruiting.parsing import (
    ATS_FIELDS,
    AtsExport,
    ParsedApplication,
    inspect_ats_export,
)

__all__ = [
    "BATCH_SIZE",
    "AtsImportResult",
    "check_ats_options",
    "get_ats_import",
    "import_ats_file",
    "list_ats_imports",
    "preview_ats_import",
    "refuse_ats_import",
    "upload_and_import_ats",
]

BATCH_SIZE: Final = 2000
_CANDIDATE_KEY_LABEL: Final = b"linktracker ats candidate"
# Stored values in this order: external id, these columns, the content hash.
_COLUMNS: Final = (
    "applied_at",
    "job",
    "stage",
    "hired",
    "hired_at",
    "first_contact_at",
    "candidate",
    "applicant_source",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "click_id",
    "landing_url",
)
Values = tuple[Any, ...]


@dataclass(frozen=True)
class AtsImportResult:
    """An ATS import's summary, and the referrer names it could not match to one employee."""

    summary: ImportSummary
    ambiguous_referrers: tuple[AmbiguousReferrer, ...] = field(default=())


def candidate_hasher(secret: bytes) -> Callable[[str], str]:
    """The keyed hash a candidate's email is stored as (HMAC-SHA256, hex)."""
    key = hmac.digest(secret, _CANDIDATE_KEY_LABEL, "sha256")

    def hash_email(email: str) -> str:
        return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()

    return hash_email


def check_ats_options(options: ImportOptions) -> None:
    """Refuse a mapping naming a field applications do not have."""
    check_mapping(options.mapping, ATS_FIELDS)


def upload_and_import_ats(
    session: Session,
    stream: BinaryIO,
    context: ImportContext,
    options: ImportOptions | None = None,
    *,
    filename: str,
    source: str | None = None,
    uploaded_by: int | None = None,
    progress: ProgressCallback | None = None,
) -> AtsImportResult:
    """Store an ATS upload byte for byte, then import it."""
    options = options or ImportOptions()
    check_ats_options(options)
    stored = store(
        session,
        stream,
        context,
        filename=filename,
        source=source,
        uploaded_by=uploaded_by,
        pipeline="ats",
    )

    return import_ats_file(session, stored, context, options, progress=progress)


def load_ats_import(session: Session, import_id: int) -> CrmImport:
    record = load_import(session, import_id)
    if record.pipeline != "ats":
        raise NotFound(f"ATS import {import_id} not found.")
    return record


def import_ats_file(
    session: Session,
    import_id: int,
    context: ImportContext,
    options: ImportOptions | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    progress: ProgressCallback | None = None,
) -> AtsImportResult:
    """Import (or resume) a stored ATS upload; a finished one is answered as it stands."""
    record = load_ats_import(session, import_id)
    if is_final(record, options):
        return _finished(session, record)
    with import_lock(session, import_id, context.wait_seconds):
        session.commit()
        session.refresh(record)
        if is_final(record, options):
            return _finished(session, record)
        resuming = record.state in ("running", "failed")
        if resuming:
            options = ImportOptions.from_json(record.options or {})
        options = options or ImportOptions()
        check_ats_options(options)
        path = raw_path(record, context.upload_folder)
        with path.open("rb") as raw, ExitStack() as stack:
            try:
                # A workbook is read as its sheet written out as CSV, as the CRM import does.
                view = stack.enter_context(csv_view(raw, sheet=options.sheet, folder=path.parent))
                stream = view.stream
                export = _inspect(stream, options, record.source or None)
            except UnreadableExport as exc:
                refuse(session, record, options, str(exc), exc.mapping)
                raise ImportRefused(str(exc), import_id) from exc
            if not resuming:
                record_export(record, export.info, options, view.workbook, decimals=False)
            record.state = "running"
            record.message = None
            session.commit()
            writer = _Writer(session, record, options, candidate_hasher(context.email_secret))
            try:
                for batch in cut_batches(
                    export.rows.rows(stream),
                    stream,
                    done=record.progress_line,
                    batch_size=batch_size,
                    convert=export.converter(),  # type: ignore[arg-type]
                    to_values=writer.values,  # type: ignore[arg-type]
                ):
                    writer.write(batch, progress)
            except BaseException as exc:
                writer.stopped(exc)
                raise
        ambiguous: tuple[AmbiguousReferrer, ...] = ()
        if not options.dry_run:
            ambiguous = attribute_applications(
                session,
                window_days=context.window_days,
                click_id_param=options.click_id_param,
                import_id=import_id,
            ).ambiguous
        record.state = "dry_run" if options.dry_run else "done"
        record.finished_at = utcnow()
        session.commit()
        summary = summarise(record, first_errors(session, import_id))
    return AtsImportResult(summary, ambiguous)


def _inspect(stream: BinaryIO, options: ImportOptions, source: str | None) -> AtsExport:
    """Read an ATS export's header and settings as ``options`` say."""
    return inspect_ats_export(stream, source=source, **options.reading())


def _finished(session: Session, record: CrmImport) -> AtsImportResult:
    if record.state == "refused":
        raise ImportRefused(record.message or "The file was refused.", record.id)
    return AtsImportResult(summarise(record, first_errors(session, record.id)))


class _Writer:
    """Writes an ATS import's batches: applications, row errors and progress, together."""

    def __init__(
        self,
        session: Session,
        record: CrmImport,
        options: ImportOptions,
        hash_email: Callable[[str], str],
    ) -> None:
        self.session = session
        self.record = record
        self.source = record.source
        self.dry_run = options.dry_run
        self.hash_email = hash_email

    def values(self, parsed: ParsedApplication) -> Values | RowError:
        if "\x00" in "".join(parsed.raw):
            return RowError(parsed.line, None, "the row contains NUL characters", parsed.raw)
        candidate = None if parsed.email is None else self.hash_email(parsed.email)
        stored = (
            parsed.external_id,
            parsed.applied_at,
            parsed.job,
            parsed.stage,
            parsed.hired,
            parsed.hired_at,
            parsed.first_contact_at,
            candidate,
            parsed.source,
            parsed.referrer,
            parsed.utm_source,
            parsed.utm_medium,
            parsed.utm_campaign,
            parsed.utm_content,
            parsed.utm_term,
            parsed.click_id,
            parsed.landing_url,
        )
        digest = hashlib.blake2b(repr(stored).encode(), digest_size=16).hexdigest()
        return (*stored, digest)

    def write(self, batch: Batch, progress: ProgressCallback | None) -> None:
        session, record = self.session, self.record
        ids = list(batch.records)
        existing: dict[str, tuple[int, str]] = {}
        for start in range(0, len(ids), 500):
            rows = session.execute(
                select(Application.external_id, Application.id, Application.content_hash).where(
                    Application.source == self.source,
                    Application.external_id.in_(ids[start : start + 500]),
                )
            )
            existing.update({external_id: (id_, digest) for external_id, id_, digest in rows})
        now = utcnow()
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for external_id, values in batch.records.items():
            row = dict(zip(_COLUMNS, values[1:-1], strict=True))
            row.update(content_hash=values[-1], last_import_id=record.id, updated_at=now)
            known = existing.get(external_id)
            if known is None:
                row.update(
                    source=self.source,
                    external_id=external_id,
                    first_import_id=record.id,
                    imported_at=now,
                    attribution_method="none",
                )
                new.append(row)
            elif known[1] != values[-1]:
                row["row_id"] = known[0]
                changed.append(row)
        if not self.dry_run:
            if new:
                session.execute(insert(Application), new)
            if changed:
                session.connection().execute(
                    update(Application)
                    .where(Application.id == bindparam("row_id"))
                    .values({name: bindparam(name) for name in changed[0] if name != "row_id"}),
                    changed,
                )
        rejected = write_errors(session, record.id, batch)
        record.progress_line = batch.last_line
        record.rows += len(batch)
        record.inserted += len(new)
        record.updated += len(changed)
        record.unchanged += len(batch.records) - len(new) - len(changed)
        record.rejected += rejected
        session.commit()
        if progress is not None:
            progress(progress_of(record, batch))

    def stopped(self, exc: BaseException) -> None:
        """Mark the import failed (resumable); never raises."""
        mark_stopped(self.session, self.record, exc)


def get_ats_import(session: Session, import_id: int) -> ImportSummary:
    record = load_ats_import(session, import_id)
    return summarise(record, first_errors(session, import_id))


def list_ats_imports(session: Session, *, limit: int = 50, offset: int = 0) -> list[ImportSummary]:
    records = session.scalars(
        select(CrmImport)
        .where(CrmImport.pipeline == "ats")
        .order_by(CrmImport.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [summarise(record, ()) for record in records]


PREVIEW_ROWS: Final = 20


def preview_ats_import(
    session: Session,
    import_id: int,
    *,
    upload_folder: str | os.PathLike[str],
    options: ImportOptions | None = None,
    limit: int = PREVIEW_ROWS,
) -> ImportPreview:
    """Read a stored ATS upload as its import would (mapping, dates, first rows); write nothing.

    Raises ``UnreadableExport`` when the import would refuse the file.
    """
    options = options or ImportOptions()
    check_ats_options(options)
    record = load_ats_import(session, import_id)
    path = raw_path(record, upload_folder)
    with path.open("rb") as raw, csv_view(raw, sheet=options.sheet, folder=path.parent) as view:
        stream = view.stream
        export = _inspect(stream, options, record.source or None)
        convert = export.converter()
        items = (convert(line, row) for line, row in export.rows.rows(stream))
        found = preview_rows(items, _display, limit)
    return preview_of(export.info, view.workbook, ATS_FIELDS, found)


def _display(parsed: ParsedApplication) -> dict[str, str | None]:
    """A parsed application as the preview shows it; the candidate's email is not shown."""
    shown = display_row(parsed, hidden=("email",))
    shown["candidate"] = "hashed" if parsed.email else None
    return shown


def refuse_ats_import(
    session: Session, import_id: int, refusal: UnreadableExport, options: ImportOptions
) -> ImportSummary:
    """Record that a pending ATS upload is refused, as importing it would (read on preview)."""
    record = load_ats_import(session, import_id)
    if record.state == "pending":
        refuse(session, record, options, str(refusal), refusal.mapping)
    return summarise(record, ())
