"""Writing an import's rows: batches, content hashes and one upsert per batch and dialect.

Rows are parsed into batches and each batch (records, row errors, progress) is written in
one transaction, with a writer per dialect: SQLite executemany with ON CONFLICT,
PostgreSQL COPY into a staging table then INSERT … SELECT … ON CONFLICT.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, BinaryIO, Final

from sqlalchemy import insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from linktracker.crm.csv_rows import ExportInfo, ParsedRecord, RowError
from linktracker.crm.models import CrmImport, CrmImportError, CrmRecord
from linktracker.crm.options import ImportOptions
from linktracker.crm.summary import ImportProgress, ProgressCallback
from linktracker.db import utcnow

SQLITE_CACHE_KB: Final = 65536
SQLITE_CHECKPOINT_PAGES: Final = 20_000
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


@dataclass
class _Batch:
    """Rows read since the last batch: records by external id, row errors, last line."""

    records: dict[str, tuple[_Values, ParsedRecord]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    last_line: int = 0

    def __len__(self) -> int:
        return len(self.records) + len(self.errors)


class ImportRun:
    """One pass over the rows of an import.

    Parsing and writing take turns in one thread. A writer thread overlapping them was
    slower on SQLite: its executemany drops and takes back the GIL for every row, so the
    two threads handed the GIL back and forth 100,000 times per 100,000 rows (fresh import
    8.0 s threaded, 6.3 s in turn; re-import 4.9 s and 2.9 s). On PostgreSQL no gain
    showed on a loaded two-core machine.
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
        self.to_values = value_builder(None if options.keep_emails else email_key(email_secret))
        dialect = session.get_bind().dialect.name
        writer = _PostgresWriter if dialect == "postgresql" else _SqliteWriter
        self.writer = writer(info.source, record.id)

    def consume(self, items: Iterator[ParsedRecord | RowError], batch_size: int) -> None:
        """Read every item after the committed progress line and write it in batches."""
        self._read(items, batch_size, self._write)
        self.writer.finish(self.session.connection())
        self.session.commit()

    def _read(
        self,
        items: Iterator[ParsedRecord | RowError],
        batch_size: int,
        write: Callable[[_Batch], None],
    ) -> None:
        done = self.record.progress_line
        to_values = self.to_values
        batch = _Batch()
        records, errors = batch.records, batch.errors
        line = done
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
                write(batch)
                batch = _Batch()
                records, errors = batch.records, batch.errors
        if batch:
            batch.last_line = line
            write(batch)

    def _write(self, batch: _Batch) -> None:
        """Write one batch, its row errors and the import's progress in one transaction."""
        connection = self.session.connection()
        record = self.record
        inserted = updated = unchanged = 0
        self.writer.begin(connection)
        if batch.records:
            existing = self.writer.existing_hashes(connection, list(batch.records))
            write: list[_Values] = []
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
# The fields are the parsed record's own, kind to landing_url; its source is lead_source.
_Values = tuple[Any, ...]
_PARSED: Final = ParsedRecord._fields
_RECORD_FIELDS: Final = (*_PARSED[_PARSED.index("kind") : _PARSED.index("source")], "lead_source")
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
    A plain INSERT for the new ones is no faster: SQLite's time goes to the index B-trees.
    Values go to the driver as SQLAlchemy stores them on SQLite (naive UTC text, integer
    flags, REAL money): its per-value bind processing would cost more than SQLite's work.
    """

    _IN_CHUNK = 900  # below the 999 bound parameters of old SQLite builds
    _PER_STATEMENT = 999 // len(_INSERTED)  # rows per grouped INSERT, same bound

    def __init__(self, source: str, import_id: int) -> None:
        self.source = source
        self.import_id = import_id
        row = f"({', '.join(['?'] * len(_INSERTED))})"
        into = f"INSERT INTO {_TABLE} ({', '.join(_INSERTED)}) VALUES"
        self.sql = f"{into} {row} {_ON_CONFLICT}"
        self.sql_group = f"{into} {', '.join([row] * self._PER_STATEMENT)} {_ON_CONFLICT}"

    def begin(self, connection: Connection) -> None:
        """Prepare the batch's transaction."""
        # Six index B-trees grow at once: SQLite's default 2 MB page cache thrashes, and
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
        """Insert the new records and update the changed ones (one upsert for both)."""
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
        # Rows go in groups of many per statement: one statement step per group instead of
        # per row (about 7 % less CPU for a fresh import); the remainder one by one.
        per = self._PER_STATEMENT
        whole = len(rows) // per * per
        if whole:
            chain = itertools.chain.from_iterable
            connection.exec_driver_sql(
                self.sql_group, [tuple(chain(rows[i : i + per])) for i in range(0, whole, per)]
            )
        if whole < len(rows):
            connection.exec_driver_sql(self.sql, rows[whole:])


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
        self.upsert = (
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
            # This lookup needs only its key's columns: a quarter of a full ANALYZE's time.
            connection.exec_driver_sql(f"ANALYZE {_TABLE} (source, external_id)")
            self.analyze_at = 2 * self.written
        rows = connection.exec_driver_sql(
            f"SELECT external_id, content_hash FROM {_TABLE} "
            "WHERE source = %(source)s AND external_id = ANY(%(ids)s)",
            {"source": self.source, "ids": ids},
        )
        return {row[0]: row[1] for row in rows}

    def write(self, connection: Connection, batch: list[_Values]) -> None:
        """Insert the new records and update the changed ones (one upsert for both)."""
        now = utcnow()
        source, import_id = self.source, self.import_id
        connection.exec_driver_sql(self.create)
        driver = connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(self.copy) as copy:
            write_row = copy.write_row
            for values in batch:
                write_row((source, *values, import_id, import_id, now, now, "none"))
        connection.exec_driver_sql(self.upsert)
        self.written += len(batch)


def email_key(secret: bytes) -> bytes:
    return hmac.digest(secret, _EMAIL_KEY_LABEL, "sha256")


def email_hasher(key: bytes) -> Callable[[str], str]:
    """HMAC-SHA256 of an email under ``key``, hex: the same value as ``hmac.digest``.

    The keyed HMAC is set up once and copied per email, which costs ~25 % less than
    ``hmac.digest`` setting up OpenSSL's HMAC for every row.
    """
    keyed = hmac.new(key, digestmod=hashlib.sha256)

    def hash_email(email: str) -> str:
        mac = keyed.copy()
        mac.update(email.encode())
        return mac.hexdigest()

    return hash_email


def value_builder(email_key: bytes | None) -> Callable[[ParsedRecord], _Values | RowError]:
    """Build the function turning a parsed record into stored values (or a row error)."""
    blake2b = hashlib.blake2b
    hash_email = None if email_key is None else email_hasher(email_key)
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
            if hash_email is not None:
                email = hash_email(email)
            elif len(email) > 320:
                return RowError(
                    record.line, None, "email is longer than 320 characters", record.raw
                )
        if "\x00" in "".join(record.raw):
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
