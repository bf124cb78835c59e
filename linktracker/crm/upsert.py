"""Writing an import's rows: batches, content hashes and one upsert per batch and dialect.

Rows are parsed into batches by parsing processes (``parser_process``; large files) or a
thread of this one, while this one writes each batch (records, row errors, progress) in
one transaction, in order, with a writer per dialect: SQLite multi-row INSERT … ON
CONFLICT, PostgreSQL COPY of the new records straight into the table and of the changed
ones into a staging table, then INSERT … SELECT … ON CONFLICT.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from psycopg import Cursor
from psycopg.errors import UniqueViolation
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from linktracker.crm.batches import Batch, cut_batches
from linktracker.crm.import_steps import mark_stopped, write_errors
from linktracker.crm.import_summary import ImportProgress, ProgressCallback
from linktracker.crm.indexes import drop_indexes, indexes_restored, worth_deferring
from linktracker.crm.models import CrmImport, CrmRecord
from linktracker.crm.options import ImportOptions
from linktracker.crm.parser_process import ParseJob, parsing_processes
from linktracker.crm.parsing import ExportInfo, ExportRows
from linktracker.crm.record_values import (
    RECORD_FIELDS,
    Values,
    email_key,
    sqlite_row,
    value_builder,
)
from linktracker.db import utcnow

# How long the parsing thread may hold the GIL while the writer thread waits for it.
GIL_SWITCH_SECONDS: Final = 0.0005
# SQLite page cache of an import: large while six index B-trees grow at once, small when
# only the table and its unique key do (or nothing is written): peak memory stays low.
SQLITE_CACHE_KB: Final = 65536
SQLITE_SMALL_CACHE_KB: Final = 16384
SQLITE_CHECKPOINT_PAGES: Final = 20_000
_NewAndChanged = tuple[list[Values], list[Values]]


class ImportRun:
    """One pass over the rows of an import: parsing beside writing.

    The database works while the next batch is parsed, in a parsing process for large
    files (``parser_process``) or otherwise in a thread of this process. In a thread what
    limits the overlap is the GIL: the writer drops it at every database call and waits for
    it afterwards, so the writer makes few calls per batch (37 rows per SQLite statement,
    one JSON row for the hash lookup, one COPY) and the switch interval is shortened while
    both threads run; without it the writer's waits for the GIL ate what the thread gained.
    """

    def __init__(
        self,
        session: Session,
        record: CrmImport,
        info: ExportInfo,
        options: ImportOptions,
        email_secret: bytes,
        progress: ProgressCallback | None,
    ) -> None:
        self.session = session
        self.record = record
        self.import_id = record.id
        self.dry_run = options.dry_run
        self.progress = progress
        self.email_key = None if options.keep_emails else email_key(email_secret)
        self.incoming = 0  # rows after the committed progress line, about
        self.size = record.size  # bytes of the text read (a workbook's: its sheet as CSV)
        self.deferring: bool | None = None  # secondary indexes dropped (None: not decided)
        dialect = session.get_bind().dialect.name
        writer = _PostgresWriter if dialect == "postgresql" else _SqliteWriter
        self.writer = writer(info.source, record.id)

    def consume(
        self,
        path: str | os.PathLike[str],
        rows: ExportRows,
        batch_size: int,
        *,
        parser_processes: int,
    ) -> None:
        """Read every row after the committed progress line and write it in batches.

        The batches are written in order, each in its own transaction, so the committed
        progress line is always that of the last batch written. A failure on either side
        stops both and is raised here. A bulk load runs without the records' secondary
        indexes and builds them at the end (``indexes``; decided at the first batch).
        """
        done = self.record.progress_line
        self.incoming = rows.rows_after(done)
        self.size = os.path.getsize(path)
        with indexes_restored(self.session):
            if parser_processes:
                job = ParseJob(os.path.abspath(path), rows, done, batch_size, self.email_key)
                with parsing_processes(job, parser_processes) as batches:
                    for batch in batches:
                        self._write(batch)
            else:
                with open(path, "rb") as stream:
                    cut = cut_batches(
                        rows.rows(stream),
                        stream,
                        done=done,
                        batch_size=batch_size,
                        convert=rows.converter(),
                        to_values=value_builder(self.email_key),
                    )
                    self._write_beside(cut)
        self.writer.finish(self.session.connection())
        self.session.commit()

    def _write_beside(self, batches: Iterator[Batch]) -> None:
        """Parse in this thread while a writer thread writes the batches.

        The writer thread is the only one to use the session until it ends. A writer
        failure stops the parsing at the next batch; a parsing failure first lets the
        writer write the batches already handed over.
        """
        # One batch waiting and one being written: memory stays at a few batches.
        handed: queue.Queue[Batch | None] = queue.Queue(maxsize=1)
        failed: list[BaseException] = []

        def write_batches() -> None:
            batch = handed.get()
            try:
                while batch is not None:
                    self._write(batch)
                    batch = handed.get()
            except BaseException as exc:
                failed.append(exc)
                while batch is not None:  # unblock the parser until it sees the failure
                    batch = handed.get()

        writer = threading.Thread(target=write_batches, name="crm-import-writer")
        with _short_gil_turns():
            writer.start()
            try:
                for batch in batches:
                    if failed:
                        break
                    handed.put(batch)
            finally:
                handed.put(None)
                writer.join()
        if failed:
            raise failed[0]

    def _write(self, batch: Batch) -> None:
        """Write one batch, its row errors and the import's progress in one transaction."""
        connection = self.session.connection()
        record = self.record
        inserted = updated = unchanged = 0
        # Once the first written batch kept the indexes, SQLite's larger cache pays.
        self.writer.begin(connection, all_indexes=self.deferring is False)
        if batch.records:
            new, changed = self._sorted_out(connection, batch)
            inserted, updated = len(new), len(changed)
            unchanged = len(batch.records) - inserted - updated
            if (new or changed) and not self.dry_run:
                if self.deferring is None:
                    # The first batch with records tells how much of the file is new.
                    inserting = self.incoming * inserted // len(batch.records)
                    self.deferring = worth_deferring(connection, inserting)
                    if self.deferring:
                        drop_indexes(connection)
                self.writer.write(connection, new, changed)
        rejected = self._write_errors(connection, batch)
        record.progress_line = batch.last_line
        record.rows += len(batch)
        record.inserted += inserted
        record.updated += updated
        record.unchanged += unchanged
        record.rejected += rejected
        self.session.commit()
        if self.progress is not None:
            self.progress(
                ImportProgress(
                    import_id=self.import_id,
                    line=record.progress_line,
                    bytes_read=batch.bytes_read,
                    size=self.size,
                    rows=record.rows,
                    inserted=record.inserted,
                    updated=record.updated,
                    unchanged=record.unchanged,
                    rejected=record.rejected,
                )
            )

    def _sorted_out(self, connection: Connection, batch: Batch) -> _NewAndChanged:
        """The batch's records that are new, and those whose content changed."""
        existing = self.writer.existing_hashes(connection, list(batch.records))
        new: list[Values] = []
        changed: list[Values] = []
        for values in batch.records.values():
            known = existing.get(values[0])
            if known is None:
                new.append(values)
            elif known != values[-1]:
                changed.append(values)
        return new, changed

    def _write_errors(self, connection: Connection, batch: Batch) -> int:
        """Insert the batch's row errors in file order; how many."""
        return write_errors(connection, self.import_id, batch)

    def stopped(self, exc: BaseException) -> None:
        """Mark the import failed (resumable) after whatever stopped it; never raises."""
        mark_stopped(self.session, self.record, exc)


_gil_lock = threading.Lock()
_gil_users = 0
_gil_interval = 0.0


@contextmanager
def _short_gil_turns() -> Iterator[None]:
    """Shorten the GIL switch interval while an import's two threads run.

    The writer thread drops the GIL at every database call and then waits for it until the
    parsing thread is made to let go, 5 ms by default: hundreds of such waits per batch
    made the threads slower than one. The interval is the process's; imports running at
    once share one shortening and the last to end restores it.
    """
    global _gil_users, _gil_interval
    with _gil_lock:
        if not _gil_users:
            _gil_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(_gil_interval, GIL_SWITCH_SECONDS))
        _gil_users += 1
    try:
        yield
    finally:
        with _gil_lock:
            _gil_users -= 1
            if not _gil_users:
                sys.setswitchinterval(_gil_interval)


# What a newer export may change; first_import_id and imported_at stay as first written.
_UPDATED: Final = (*RECORD_FIELDS, "content_hash", "last_import_id", "updated_at")
_INSERTED: Final = (
    "source",
    "external_id",
    *RECORD_FIELDS,
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
    The rows come as SQLAlchemy stores them on SQLite (``stored.sqlite_row``).
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

    def begin(self, connection: Connection, *, all_indexes: bool) -> None:
        """Prepare the batch's transaction (``all_indexes``: its records go into all six).

        The cache is sized per batch, and the size only ever grows within an import:
        shrinking it would drop the index pages it holds.
        """
        # Six index B-trees growing at once thrash SQLite's default 2 MB page cache.
        cache_kb = SQLITE_CACHE_KB if all_indexes else SQLITE_SMALL_CACHE_KB
        connection.exec_driver_sql(f"PRAGMA cache_size = -{cache_kb}")
        # Checkpointing every 4 MB of WAL rewrites the same index pages over and over.
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
            # One JSON row rather than a row per record: sqlite3 drops and takes back the
            # GIL for every row fetched, and each take waits for the parsing thread.
            found.update(
                json.loads(
                    connection.exec_driver_sql(
                        f"SELECT json_group_object(external_id, content_hash) FROM {_TABLE} "
                        f"WHERE source = ? AND external_id IN ({', '.join(['?'] * len(chunk))})",
                        (self.source, *chunk),
                    ).scalar_one()
                )
            )
        return found

    def write(self, connection: Connection, new: list[Values], changed: list[Values]) -> None:
        """Insert the new records and update the changed ones (one upsert for both)."""
        stamp = utcnow().replace(tzinfo=None).isoformat(" ", "microseconds")
        head, tail = (self.source,), (self.import_id, self.import_id, stamp, stamp, "none")
        rows = [head + sqlite_row(values) + tail for values in itertools.chain(new, changed)]
        # Rows go in groups of many per statement: one statement step per group instead of
        # per row, which saves CPU; the remainder one by one.
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
    """Batches for PostgreSQL: new records COPY straight into the table; changed ones
    COPY into a temporary table, then one INSERT … SELECT … ON CONFLICT.

    One statement per batch instead of one per row; the temporary table empties itself
    at every commit. The direct COPY saves the staging copy and the conflict check per
    row.
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
        self.copy_stage = f"COPY {self._STAGE} ({columns}) FROM STDIN"
        self.copy_new = f"COPY {_TABLE} ({columns}) FROM STDIN"
        self.upsert = (
            f"INSERT INTO {_TABLE} ({columns}) SELECT {columns} FROM {self._STAGE} {_ON_CONFLICT}"
        )

    def begin(self, connection: Connection, *, all_indexes: bool) -> None:
        """Prepare the batch's transaction (PostgreSQL sizes its own buffers)."""
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

    def write(self, connection: Connection, new: list[Values], changed: list[Values]) -> None:
        """Insert the new records and update the changed ones."""
        now = utcnow()
        tail = (self.import_id, self.import_id, now, now, "none")
        driver = connection.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor:
            if new:
                # New records go straight into the table: no staging copy, no conflict
                # check per row. Only if another import inserted some of them since the
                # lookup do they take the upsert with the changed ones.
                cursor.execute("SAVEPOINT crm_new")
                try:
                    self._copy(cursor, self.copy_new, new, tail)
                except UniqueViolation:
                    cursor.execute("ROLLBACK TO SAVEPOINT crm_new")
                    changed = new + changed
            if changed:
                cursor.execute(self.create)
                self._copy(cursor, self.copy_stage, changed, tail)
                cursor.execute(self.upsert)
        self.written += len(new) + len(changed)

    def _copy(
        self, cursor: Cursor[Any], copy_sql: str, rows: list[Values], tail: tuple[Any, ...]
    ) -> None:
        source = self.source
        with cursor.copy(copy_sql) as copy:
            write_row = copy.write_row
            for values in rows:
                write_row((source, *values, *tail))
