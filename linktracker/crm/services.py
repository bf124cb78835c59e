"""CRM imports: keep every upload byte for byte, then stream its rows into records.

An import runs in batches of ``BATCH_SIZE`` rows, one transaction each. A batch writes its
records (upsert by source and external id), its row errors, and the import's progress line
and counts together, so an import killed halfway has written whole batches only and, run
again, resumes after the last committed line without counting anything twice.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
import queue
import re
import secrets
import threading
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Final

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from linktracker.attribution.services import attribute_records
from linktracker.crm.csv_rows import (
    ExportInfo,
    ParsedRecord,
    RowError,
    UnreadableExport,
    open_export,
)
from linktracker.crm.headers import TARGETS
from linktracker.crm.models import CrmImport, CrmImportError, CrmRecord
from linktracker.db import utcnow
from linktracker.errors import InvalidInput, NotFound, TooLarge

__all__ = [
    "BATCH_SIZE",
    "ImportOptions",
    "ImportPreview",
    "ImportProgress",
    "ImportRefused",
    "ImportRowError",
    "ImportSummary",
    "RawUpload",
    "get_import",
    "import_crm_file",
    "iter_rejected_rows_csv",
    "list_import_errors",
    "list_imports",
    "parse_mapping_option",
    "preview_export",
    "preview_import",
    "raw_upload",
    "rejected_rows_csv",
    "store_upload",
    "summary_table",
    "upload_and_import",
]

BATCH_SIZE: Final = 2000
CHUNK_SIZE: Final = 1 << 20  # bytes copied per read while storing an upload
SUMMARY_ERRORS: Final = 1000  # row errors listed in a summary; every one is stored
PREVIEW_ROWS: Final = 20
PROGRESS_BAR_BYTES: Final = 5 * 1024 * 1024  # the CLI shows a progress bar from this size
SQLITE_CACHE_KB: Final = 65536
SQLITE_CHECKPOINT_PAGES: Final = 20_000
# Above this many changed records one pass over every record is cheaper than id lists.
ATTRIBUTE_ALL_ABOVE: Final = 20_000
_SOURCE: Final = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")
_CENT: Final = Decimal("0.01")
_MAX_AMOUNT: Final = Decimal(10) ** 16  # Numeric(18, 2)
_EMAIL_KEY_LABEL: Final = b"linktracker crm email"
# Values longer than their column are rejected with the row rather than cut silently.
_LIMITS: Final = (
    ("external_id", 128),
    ("owner", 200),
    ("stage", 120),
    ("utm_source", 200),
    ("utm_medium", 200),
    ("utm_campaign", 200),
    ("utm_content", 200),
    ("utm_term", 200),
    ("click_id", 40),
    ("source", 200),
)
# A cell a spreadsheet would run as a formula, unless it is a plain number like -500.
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER: Final = re.compile(r"[+-]?\d[\d\s.,']*")


class ImportRefused(InvalidInput):
    """The file was refused whole; the import is recorded (state ``refused``), raw kept."""

    def __init__(self, message: str, import_id: int) -> None:
        super().__init__(message, {"file": message})
        self.import_id = import_id


@dataclass(frozen=True)
class ImportOptions:
    """How a file is read; recorded on the import so a resumed run reads it the same way."""

    mapping: dict[str, str | None] | None = None
    dayfirst: bool | None = None
    timezone: str = "UTC"
    click_id_param: str = "lt_cid"
    keep_emails: bool = False
    dry_run: bool = False

    def as_json(self) -> dict[str, Any]:
        """The options as stored in ``CrmImport.options``."""
        return {
            "mapping": self.mapping,
            "dayfirst": self.dayfirst,
            "timezone": self.timezone,
            "click_id_param": self.click_id_param,
            "keep_emails": self.keep_emails,
            "dry_run": self.dry_run,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ImportOptions:
        """Options as recorded by an earlier run."""
        return cls(
            mapping=data.get("mapping"),
            dayfirst=data.get("dayfirst"),
            timezone=data.get("timezone", "UTC"),
            click_id_param=data.get("click_id_param", "lt_cid"),
            keep_emails=bool(data.get("keep_emails", False)),
            dry_run=bool(data.get("dry_run", False)),
        )


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
class ImportPreview:
    """What an import of a file would read, without writing anything."""

    format: str
    kind: str
    source: str
    encoding: str
    delimiter: str
    header: tuple[str, ...]
    mapping: dict[str, str | None]
    fields: tuple[str, ...]
    dayfirst: bool
    dayfirst_reason: str
    decimal_separator: str
    decimal_reason: str
    won_rule: str
    timezone: str
    records: tuple[dict[str, str | None], ...]
    errors: tuple[ImportRowError, ...]


@dataclass(frozen=True)
class RawUpload:
    """Where the raw bytes of an import are and what they were called."""

    path: Path
    filename: str
    size: int
    sha256: str


ProgressCallback = Callable[[ImportProgress], None]


# --- storing uploads ---------------------------------------------------------------------


def store_upload(
    session: Session,
    stream: BinaryIO,
    *,
    filename: str,
    upload_folder: str | os.PathLike[str],
    max_bytes: int | None = None,
    source: str | None = None,
    uploaded_by: int | None = None,
) -> ImportSummary:
    """Copy an upload byte for byte into the upload folder and record a pending import."""
    source = normalise_source(source)
    folder = Path(upload_folder)
    spool = folder / "crm" / "incoming"
    spool.mkdir(parents=True, exist_ok=True)
    temporary = spool / f"{secrets.token_hex(8)}.part"
    digest = hashlib.sha256()
    size = 0
    try:
        with temporary.open("wb") as out:
            while chunk := stream.read(CHUNK_SIZE):
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise TooLarge(
                        f"The file is larger than the upload limit of {_megabytes(max_bytes)} "
                        "(MAX_UPLOAD_MB); split the export or ask an admin to raise the limit.",
                        {"file": "Too large."},
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha256 = digest.hexdigest()
        # Content-addressed: identical uploads share one file, which is never rewritten.
        relative = PurePosixPath("crm", sha256[:2], sha256)
        final = folder / relative
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists() and final.stat().st_size == size:
            temporary.unlink()
        else:
            os.replace(temporary, final)
            _fsync_directory(final.parent)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    record = CrmImport(
        filename=_clean_filename(filename),
        source=source or "",
        uploaded_by=uploaded_by,
        uploaded_at=utcnow(),
        size=size,
        sha256=sha256,
        storage_path=str(relative),
        state="pending",
        options={},
        progress_line=0,
        rows=0,
        inserted=0,
        updated=0,
        unchanged=0,
        rejected=0,
    )
    session.add(record)
    session.commit()
    return _summary(record, ())


def normalise_source(source: str | None) -> str | None:
    """A source-system name as stored (`HubSpot` -> `hubspot`); None when not given."""
    if source is None or not source.strip():
        return None
    value = source.strip().lower()
    if not _SOURCE.fullmatch(value):
        raise InvalidInput(
            f"Source {source!r} is not a valid source name: use up to 40 letters, digits, "
            "'.', '_' or '-' (e.g. salesforce, hubspot, pipedrive, zoho).",
            {"source": "Invalid."},
        )
    return value


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def _clean_filename(name: str) -> str:
    base = PurePosixPath(name.replace("\\", "/")).name
    base = "".join(c for c in base if c.isprintable()).strip()
    return (base or "upload.csv")[-255:]


def _fsync_directory(path: Path) -> None:
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(descriptor)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(descriptor)


# --- importing ---------------------------------------------------------------------------


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
    progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Store an upload, then import it (the API's, the CLI's and the demo's one call)."""
    options = options or ImportOptions()
    _check_options(options)
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
        mapping=options.mapping,
        dayfirst=options.dayfirst,
        timezone=options.timezone,
        click_id_param=options.click_id_param,
        keep_emails=options.keep_emails,
        dry_run=options.dry_run,
        window_days=window_days,
        progress=progress,
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
    batch_size: int = BATCH_SIZE,
    progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Import (or resume) a stored upload; options left None are the recorded ones."""
    record = _load(session, import_id)
    if record.state in ("done", "dry_run"):
        return _summary(record, _first_errors(session, import_id))
    if record.state == "refused":
        raise ImportRefused(record.message or "The file was refused.", import_id)
    given = {
        "mapping": None if mapping is None else dict(mapping),
        "dayfirst": dayfirst,
        "timezone": timezone,
        "click_id_param": click_id_param,
        "keep_emails": keep_emails,
        "dry_run": dry_run,
    }
    resuming = record.state in ("running", "failed")
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
        options = ImportOptions(
            mapping=None if mapping is None else dict(mapping),
            dayfirst=dayfirst,
            timezone=defaults.timezone if timezone is None else timezone,
            click_id_param=defaults.click_id_param if click_id_param is None else click_id_param,
            keep_emails=bool(keep_emails),
            dry_run=bool(dry_run),
        )
        _check_options(options)
    path = _raw_path(record, upload_folder)
    with path.open("rb") as stream:
        try:
            info, items = open_export(
                stream,
                mapping=options.mapping,
                dayfirst=options.dayfirst,
                timezone=options.timezone,
                click_id_param=options.click_id_param,
                source=record.source or None,
            )
        except UnreadableExport as exc:
            _refuse(session, record, options, str(exc))
            raise ImportRefused(str(exc), import_id) from exc
        if not resuming:
            _record_export(record, info, options)
            record.state = "running"
            session.commit()
        run = _Run(session, record, info, options, email_secret, stream, progress)
        try:
            run.consume(items, batch_size)
            if not options.dry_run:
                _attribute_import(session, import_id, window_days, options.click_id_param)
        except BaseException as exc:
            run.stopped(exc)
            raise
    record.state = "dry_run" if options.dry_run else "done"
    record.finished_at = utcnow()
    session.commit()
    return _summary(record, _first_errors(session, import_id))


def _check_options(options: ImportOptions) -> None:
    try:
        zoneinfo.ZoneInfo(options.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"{options.timezone!r} is not a known time zone (e.g. Europe/Berlin).",
            {"timezone": "Unknown time zone."},
        ) from exc
    for column, target in (options.mapping or {}).items():
        if not isinstance(column, str) or not column.strip():
            raise InvalidInput("The mapping has an empty column name.", {"mapping": "Invalid."})
        if target is not None and target not in TARGETS:
            raise InvalidInput(
                f"The mapping sends column {column!r} to unknown field {target!r}. "
                f"Fields: {', '.join(TARGETS)}.",
                {"mapping": "Unknown field."},
            )


def parse_mapping_option(entries: Iterable[str]) -> dict[str, str | None]:
    """`Created On=created_at` entries (CLI `--map`) as a mapping; `Column=` ignores it."""
    mapping: dict[str, str | None] = {}
    for entry in entries:
        column, equals, target = entry.rpartition("=")
        if not equals or not column.strip():
            raise InvalidInput(
                f"--map {entry!r}: write COLUMN=FIELD, e.g. 'Created On=created_at' "
                "(COLUMN= ignores the column).",
                {"mapping": "Invalid."},
            )
        mapping[column.strip()] = target.strip() or None
    return mapping


def _attribute_import(session: Session, import_id: int, window_days: int, param: str) -> None:
    """Hand the records this import inserted or changed to attribution (one call)."""
    touched = CrmRecord.last_import_id == import_id
    count = session.scalar(select(func.count()).select_from(CrmRecord).where(touched)) or 0
    if not count:
        return
    record_ids: list[int] | None = None
    if count <= ATTRIBUTE_ALL_ABOVE:
        record_ids = list(session.scalars(select(CrmRecord.id).where(touched)))
    attribute_records(session, window_days=window_days, click_id_param=param, record_ids=record_ids)


def _load(session: Session, import_id: int) -> CrmImport:
    record = session.get(CrmImport, import_id)
    if record is None:
        raise NotFound(f"No CRM import with id {import_id}.")
    return record


def _raw_path(record: CrmImport, upload_folder: str | os.PathLike[str]) -> Path:
    path = Path(upload_folder) / record.storage_path
    if not path.is_file():
        raise NotFound(
            f"The raw file of import {record.id} is missing from the upload folder "
            f"({record.storage_path}); restore it from backup to re-run the import."
        )
    return path


def _refuse(session: Session, record: CrmImport, options: ImportOptions, message: str) -> None:
    session.rollback()
    record.state = "refused"
    record.message = message
    record.options = options.as_json()
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


@dataclass
class _Batch:
    """Rows read since the last batch: records by external id, row errors, last line."""

    records: dict[str, tuple[_Values, ParsedRecord]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    last_line: int = 0

    def __len__(self) -> int:
        return len(self.records) + len(self.errors)


class _Run:
    """One pass over the rows of an import.

    The calling thread parses and prepares batches; a writer thread writes them, each in
    its own transaction, so parsing the next batch overlaps the database's work on this
    one (both SQLite's C code and a PostgreSQL round trip release the GIL). Only the
    writer touches the session while the run lasts.
    """

    def __init__(
        self,
        session: Session,
        record: CrmImport,
        info: ExportInfo,
        options: ImportOptions,
        email_secret: bytes,
        stream: BinaryIO,
        progress: ProgressCallback | None,
    ) -> None:
        self.session = session
        self.record = record
        self.import_id = record.id
        self.dry_run = options.dry_run
        self.stream = stream
        self.progress = progress
        self.to_values = _value_builder(None if options.keep_emails else _email_key(email_secret))
        dialect = session.get_bind().dialect.name
        writer = _PostgresWriter if dialect == "postgresql" else _SqliteWriter
        self.writer = writer(info.source, record.id)
        self.failure: BaseException | None = None

    def consume(self, items: Iterator[ParsedRecord | RowError], batch_size: int) -> None:
        """Read every item after the committed progress line and write it in batches."""
        pending: queue.Queue[_Batch | None] = queue.Queue(maxsize=2)
        writer = threading.Thread(target=self._write_batches, args=(pending,), daemon=True)
        writer.start()
        try:
            self._read_batches(items, batch_size, pending)
        finally:
            pending.put(None)
            writer.join()
        if self.failure is not None:
            raise self.failure
        self.writer.finish(self.session.connection())
        self.session.commit()

    def _read_batches(
        self,
        items: Iterator[ParsedRecord | RowError],
        batch_size: int,
        pending: queue.Queue[_Batch | None],
    ) -> None:
        done = self.record.progress_line
        to_values = self.to_values
        batch = _Batch()
        records, errors = batch.records, batch.errors
        for item in items:
            line = item.line
            if line <= done:
                continue
            if isinstance(item, RowError):
                errors.append(item)
            else:
                values = to_values(item)
                if isinstance(values, RowError):
                    errors.append(values)
                else:
                    external_id = item.external_id
                    previous = records.pop(external_id, None)
                    if previous is not None:
                        # The parser reports in-file duplicates; this guards a batch anyway.
                        errors.append(_superseded(previous, line))
                    records[external_id] = (values, item)
            if len(records) + len(errors) >= batch_size:
                batch.last_line = line
                if self.failure is not None:
                    return
                pending.put(batch)
                batch = _Batch()
                records, errors = batch.records, batch.errors
        if batch:
            batch.last_line = line
            pending.put(batch)

    def _write_batches(self, pending: queue.Queue[_Batch | None]) -> None:
        while (batch := pending.get()) is not None:
            if self.failure is not None:
                continue  # drain what the reader still hands over
            try:
                self._write(batch)
            except BaseException as exc:  # handed to the reading thread, which raises it
                self.failure = exc

    def _write(self, batch: _Batch) -> None:
        """Write one batch, its row errors and the import's progress in one transaction."""
        connection = self.session.connection()
        record = self.record
        inserted = updated = unchanged = 0
        self.writer.begin(connection)
        if batch.records:
            existing = self.writer.existing_hashes(connection, list(batch.records))
            write = []
            for values, _ in batch.records.values():
                known = existing.get(values[0])
                if known is None:
                    inserted += 1
                elif known != values[-1]:
                    updated += 1
                else:
                    unchanged += 1
                    continue
                write.append(values)
            if write and not self.dry_run:
                self.writer.write(connection, write)
        errors = sorted(batch.errors, key=lambda e: e.line)
        if errors:
            connection.execute(
                insert(CrmImportError),
                [
                    {
                        "import_id": self.import_id,
                        "line": e.line,
                        "column": None if e.column is None else e.column[:255],
                        "reason": e.reason,
                        "raw": list(e.raw),
                    }
                    for e in errors
                ],
            )
        record.progress_line = batch.last_line
        record.rows += len(batch)
        record.inserted += inserted
        record.updated += updated
        record.unchanged += unchanged
        record.rejected += len(errors)
        self.session.commit()
        if self.progress is not None:
            self.progress(
                ImportProgress(
                    import_id=self.import_id,
                    line=record.progress_line,
                    bytes_read=self.stream.tell(),
                    size=record.size,
                    rows=record.rows,
                    inserted=record.inserted,
                    updated=record.updated,
                    unchanged=record.unchanged,
                    rejected=record.rejected,
                )
            )

    def stopped(self, exc: BaseException) -> None:
        """Mark the import failed (resumable) after whatever stopped it; never raises."""
        try:
            self.session.rollback()
            record = self.record
            record.state = "failed"
            record.message = (
                f"Stopped after line {record.progress_line} ({type(exc).__name__}: {exc}); "
                "the rows up to that line are imported. Run the import again to complete it."
            )[:2000]
            self.session.commit()
        except Exception:  # the database itself may be what failed; the state stays running
            self.session.rollback()


def _superseded(previous: tuple[_Values, ParsedRecord], later: int) -> RowError:
    record = previous[1]
    message = f"duplicate id {record.external_id}, superseded by line {later}"
    return RowError(record.line, None, message, record.raw)


# Stored values of a record in this order: external id, the fields below, content hash.
_Values = tuple[Any, ...]
_RECORD_FIELDS: Final = (
    "kind",
    "created_at",
    "owner",
    "stage",
    "won",
    "closed_at",
    "amount",
    "currency",
    "email",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "click_id",
    "landing_url",
    "lead_source",
)
# What a newer export may change; first_import_id and imported_at stay as first written.
_UPDATED: Final = (*_RECORD_FIELDS, "content_hash", "last_import_id", "updated_at")
_INSERTED: Final = (
    "source",
    "external_id",
    *_RECORD_FIELDS,
    "content_hash",
    "first_import_id",
    "last_import_id",
    "imported_at",
    "updated_at",
    "attribution_method",
)
_TABLE: Final = CrmRecord.__tablename__
_ON_CONFLICT: Final = "ON CONFLICT (source, external_id) DO UPDATE SET " + ", ".join(
    f"{name} = excluded.{name}" for name in _UPDATED
)


class _SqliteWriter:
    """Batches for SQLite: one executemany straight on the DB-API cursor.

    The records are new or changed (the batch compared content hashes first), so the
    conflict clause only matters when another import writes the same records meanwhile.
    Values go to the driver as SQLAlchemy stores them on SQLite (naive UTC text, integer
    flags, REAL money): its per-value bind processing would cost more than SQLite's work.
    """

    _IN_CHUNK = 900  # below the 999 bound parameters of old SQLite builds

    def __init__(self, source: str, import_id: int) -> None:
        self.source = source
        self.import_id = import_id
        self.sql = (
            f"INSERT INTO {_TABLE} ({', '.join(_INSERTED)}) "
            f"VALUES ({', '.join(['?'] * len(_INSERTED))}) {_ON_CONFLICT}"
        )

    def begin(self, connection: Connection) -> None:
        """Prepare the batch's transaction."""
        # Eight index B-trees grow at once: SQLite's default 2 MB page cache thrashes, and
        # checkpointing every 4 MB of WAL rewrites the same index pages over and over.
        connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}")
        connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint = {SQLITE_CHECKPOINT_PAGES}")

    def finish(self, connection: Connection) -> None:
        """Give the connection its usual settings back."""
        connection.exec_driver_sql("PRAGMA cache_size = -2000")
        connection.exec_driver_sql("PRAGMA wal_autocheckpoint = 1000")

    def existing_hashes(self, connection: Connection, ids: list[str]) -> dict[str, str]:
        """Content hashes of the records of this source with these ids."""
        found: dict[str, str] = {}
        for start in range(0, len(ids), self._IN_CHUNK):
            chunk = ids[start : start + self._IN_CHUNK]
            rows = connection.exec_driver_sql(
                f"SELECT external_id, content_hash FROM {_TABLE} WHERE source = ? "
                f"AND external_id IN ({', '.join(['?'] * len(chunk))})",
                (self.source, *chunk),
            )
            found.update((row[0], row[1]) for row in rows)
        return found

    def write(self, connection: Connection, batch: list[_Values]) -> None:
        """Insert or update every record of the batch."""
        stamp = utcnow().replace(tzinfo=None).isoformat(" ", "microseconds")
        source, import_id = self.source, self.import_id
        rows = [
            (
                source,
                v[0],
                v[1],
                v[2].replace(tzinfo=None).isoformat(" ", "microseconds"),
                v[3],
                v[4],
                int(v[5]),
                None if v[6] is None else v[6].replace(tzinfo=None).isoformat(" ", "microseconds"),
                None if v[7] is None else float(v[7]),
                *v[8:],
                import_id,
                import_id,
                stamp,
                stamp,
                "none",
            )
            for v in batch
        ]
        connection.exec_driver_sql(self.sql, rows)


class _PostgresWriter:
    """Batches for PostgreSQL: COPY into a temporary table, then one INSERT … SELECT.

    One statement per batch instead of one per row; the temporary table empties itself
    at every commit.
    """

    _STAGE = "crm_import_stage"
    _FIRST_ANALYZE = 10_000

    def __init__(self, source: str, import_id: int) -> None:
        self.source = source
        self.import_id = import_id
        self.written = 0
        self.analyze_at = self._FIRST_ANALYZE
        columns = ", ".join(_INSERTED)
        self.create = (
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {self._STAGE} ON COMMIT DELETE ROWS "
            f"AS SELECT {columns} FROM {_TABLE} WITH NO DATA"
        )
        self.copy = f"COPY {self._STAGE} ({columns}) FROM STDIN"
        self.insert = (
            f"INSERT INTO {_TABLE} ({columns}) SELECT {columns} FROM {self._STAGE} {_ON_CONFLICT}"
        )

    def begin(self, connection: Connection) -> None:
        """Prepare the batch's transaction."""
        # A crash may lose the last few batch commits, but each takes its progress line
        # with it, so a re-run redoes exactly those: no need to wait for every WAL flush.
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")

    def finish(self, connection: Connection) -> None:
        """Nothing to undo: SET LOCAL ended with each transaction."""

    def existing_hashes(self, connection: Connection, ids: list[str]) -> dict[str, str]:
        """Content hashes of the records of this source with these ids."""
        if self.written >= self.analyze_at:
            # Statistics from before a bulk load make the planner scan every record of the
            # source for each batch (quadratic); fresh ones keep the lookup on the index.
            connection.exec_driver_sql(f"ANALYZE {_TABLE}")
            self.analyze_at = 2 * self.written
        rows = connection.exec_driver_sql(
            f"SELECT external_id, content_hash FROM {_TABLE} "
            "WHERE source = %(source)s AND external_id = ANY(%(ids)s)",
            {"source": self.source, "ids": ids},
        )
        return {row[0]: row[1] for row in rows}

    def write(self, connection: Connection, batch: list[_Values]) -> None:
        """Insert or update every record of the batch."""
        now = utcnow()
        source, import_id = self.source, self.import_id
        connection.exec_driver_sql(self.create)
        driver = connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(self.copy) as copy:
            for v in batch:
                copy.write_row((source, *v, import_id, import_id, now, now, "none"))
        connection.exec_driver_sql(self.insert)
        self.written += len(batch)


def _email_key(secret: bytes) -> bytes:
    return hmac.digest(secret, _EMAIL_KEY_LABEL, "sha256")


def _value_builder(email_key: bytes | None) -> Callable[[ParsedRecord], _Values | RowError]:
    """Build the function turning a parsed record into stored values (or a row error)."""
    blake2b = hashlib.blake2b
    digest = hmac.digest
    limits = [(ParsedRecord._fields.index(name), name, limit) for name, limit in _LIMITS]
    cent = _CENT
    max_amount = _MAX_AMOUNT

    def to_values(record: ParsedRecord) -> _Values | RowError:
        for position, name, limit in limits:
            value: str | None = record[position]  # type: ignore[assignment]
            if value is not None and len(value) > limit:
                return RowError(
                    record.line, None, f"{name} is longer than {limit} characters", record.raw
                )
        amount = record.amount
        if amount is not None:
            if abs(amount) >= max_amount:
                return RowError(record.line, None, f"amount {amount} is too large", record.raw)
            amount = amount.quantize(cent)
        email = record.email
        if email is not None:
            if email_key is not None:
                email = digest(email_key, email.encode(), "sha256").hex()
            elif len(email) > 320:
                return RowError(
                    record.line, None, "email is longer than 320 characters", record.raw
                )
        if any("\x00" in cell for cell in record.raw):
            return RowError(record.line, None, "the row contains NUL characters", record.raw)
        stored = (
            record.external_id,
            record.kind,
            record.created_at,
            record.owner,
            record.stage,
            record.won,
            record.closed_at,
            amount,
            record.currency,
            email,
            record.utm_source,
            record.utm_medium,
            record.utm_campaign,
            record.utm_content,
            record.utm_term,
            record.click_id,
            record.landing_url,
            record.source,
        )
        # repr() of the stored values tells None from 'None' and 1.50 from 1.5 (quantized).
        return (*stored, blake2b(repr(stored).encode(), digest_size=16).hexdigest())

    return to_values


# --- reading imports ---------------------------------------------------------------------


def get_import(
    session: Session, import_id: int, *, error_limit: int = SUMMARY_ERRORS
) -> ImportSummary:
    """One import with its first row errors."""
    record = _load(session, import_id)
    return _summary(record, _first_errors(session, import_id, error_limit))


def list_imports(session: Session, *, limit: int = 50, offset: int = 0) -> list[ImportSummary]:
    """Imports, newest first (without their row errors)."""
    records = session.scalars(
        select(CrmImport).order_by(CrmImport.id.desc()).limit(limit).offset(offset)
    )
    return [_summary(record, ()) for record in records]


def list_import_errors(
    session: Session, import_id: int, *, limit: int = 100, offset: int = 0
) -> list[ImportRowError]:
    """A page of an import's row errors, in file order."""
    _load(session, import_id)
    return _first_errors(session, import_id, limit, offset)


def _first_errors(
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


def _summary(record: CrmImport, errors: Iterable[ImportRowError]) -> ImportSummary:
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
        ("encoding", f"{summary.encoding or '-'}, delimiter {delimiter}"),
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
    if summary.message:
        rows.append(("message", summary.message))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def raw_upload(
    session: Session, import_id: int, *, upload_folder: str | os.PathLike[str]
) -> RawUpload:
    """The stored raw bytes of an import, exactly as uploaded."""
    record = _load(session, import_id)
    return RawUpload(_raw_path(record, upload_folder), record.filename, record.size, record.sha256)


def rejected_rows_csv(session: Session, import_id: int) -> str:
    """The rejected rows as CSV: the file's header plus an `error` column, formula-safe."""
    return "".join(iter_rejected_rows_csv(session, import_id))


def iter_rejected_rows_csv(session: Session, import_id: int, *, page: int = 5000) -> Iterator[str]:
    """`rejected_rows_csv` in chunks, for streaming large error lists."""
    record = _load(session, import_id)
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
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


# --- previews ----------------------------------------------------------------------------


def preview_import(
    session: Session,
    import_id: int,
    *,
    upload_folder: str | os.PathLike[str],
    options: ImportOptions | None = None,
    limit: int = PREVIEW_ROWS,
) -> ImportPreview:
    """Read a stored upload as an import would (mapping, dates, first rows); write nothing."""
    record = _load(session, import_id)
    with _raw_path(record, upload_folder).open("rb") as stream:
        return preview_export(stream, options=options, source=record.source or None, limit=limit)


def preview_export(
    stream: BinaryIO,
    *,
    options: ImportOptions | None = None,
    source: str | None = None,
    limit: int = PREVIEW_ROWS,
) -> ImportPreview:
    """The mapping preview of a file: format, encoding, mapping, first records and errors.

    Raises ``UnreadableExport`` when the file would be refused.
    """
    options = options or ImportOptions()
    _check_options(options)
    info, items = open_export(
        stream,
        mapping=options.mapping,
        dayfirst=options.dayfirst,
        timezone=options.timezone,
        click_id_param=options.click_id_param,
        source=source,
    )
    records: list[dict[str, str | None]] = []
    errors: list[ImportRowError] = []
    for item in items:
        if isinstance(item, RowError):
            if len(errors) < limit:
                errors.append(ImportRowError(item.line, item.column, item.reason))
        elif len(records) < limit:
            records.append(_display(item))
        if len(records) >= limit and len(errors) >= limit:
            break
    return ImportPreview(
        format=info.format,
        kind=info.kind,
        source=info.source,
        encoding=info.encoding,
        delimiter=info.delimiter,
        header=info.header,
        mapping=dict(info.mapping),
        fields=TARGETS,
        dayfirst=info.dayfirst,
        dayfirst_reason=info.dayfirst_reason,
        decimal_separator=info.decimal_separator,
        decimal_reason=info.decimal_reason,
        won_rule=info.won_rule,
        timezone=info.timezone,
        records=tuple(records),
        errors=tuple(errors),
    )


def _display(record: ParsedRecord) -> dict[str, str | None]:
    shown: dict[str, str | None] = {"line": str(record.line)}
    for name in ParsedRecord._fields:
        if name in ("line", "raw"):
            continue
        value = getattr(record, name)
        if value is None:
            shown[name] = None
        elif isinstance(value, datetime):
            shown[name] = value.isoformat()
        elif isinstance(value, bool):
            shown[name] = "true" if value else "false"
        else:
            shown[name] = str(value)
    return shown
