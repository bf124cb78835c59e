"""The click writer: one thread per process storing clicks in batches (group commit).

It takes every row waiting at that moment and inserts them with one INSERT statement in
autocommit on a connection of its own (see ClickInsert): one commit flush and, on PostgreSQL,
one round trip for many concurrent clicks, and a single SQLite writer per process (whose WAL
checkpoints run on a thread of their own, see clicks/checkpoint.py). If the database fails,
the writer appends the batch to the spool (one fsync) instead and skips the database for
BREAKER_SECONDS. Every insert skips click ids already stored, so a row that also sits in a
spool or journal file is stored once.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from typing import Any

from sqlalchemy import Engine, PoolProxiedConnection
from sqlalchemy.exc import DBAPIError

from linktracker.clicks.checkpoint import WalCheckpointer
from linktracker.clicks.journal import ClickJournal, JournalSegment
from linktracker.clicks.replay import ReplayTimer
from linktracker.clicks.services import ClickInsert
from linktracker.clicks.spooler import Spooler

log = logging.getLogger(__name__)

# After a database failure, spool without trying it for this long: a dead database must
# not slow redirects down.
BREAKER_SECONDS = 1.0
# Under load (the last batch had company), the writer lets this much time pass between the
# first waiting row and taking the batch: more rows per commit, so fewer commits, writer
# wake-ups and GIL hand-offs per click. A lone click never waits for it. With "commit" each
# redirect waits through it, so it stays short; with "journal" nobody waits for the writer, so
# it gathers for longer (figures in docs/performance.md).
# A batch someone waits for (a journal that could not be written, a flush) gathers at most
# GATHER_SECONDS in either mode.
GATHER_SECONDS = 0.0005
JOURNAL_GATHER_SECONDS = 0.02


class _Pending:
    """A row for the writer: journaled in `segment`, or someone waits on `done`, a lock the
    writer releases once the row is stored (no row: a flush() marker)."""

    __slots__ = ("row", "segment", "done")

    def __init__(self, row: dict[str, Any] | None, segment: JournalSegment | None = None) -> None:
        self.row = row
        self.segment = segment
        self.done: threading.Lock | None = None
        if segment is None:
            # A bare lock is the cheapest one-shot signal between two threads.
            self.done = threading.Lock()
            self.done.acquire()


class ClickWriter:
    """This process's writer thread: batches queued rows into one insert, spools on failure."""

    def __init__(
        self,
        engine: Engine,
        spooler: Spooler,
        journal: ClickJournal | None,
        replay: ReplayTimer,
        *,
        gather_seconds: float | None = None,
    ) -> None:
        self.engine = engine
        self.spooler = spooler
        self.journal = journal
        self.replay = replay
        if gather_seconds is None:
            gather_seconds = JOURNAL_GATHER_SECONDS if journal is not None else GATHER_SECONDS
        self.gather_seconds = gather_seconds
        sqlite = engine.dialect.name == "sqlite"
        self.checkpointer = WalCheckpointer(engine) if sqlite else None
        self._insert = ClickInsert(engine.dialect)
        self._driver_error: type[Exception] = engine.dialect.loaded_dbapi.Error
        self._connection: PoolProxiedConnection | None = None
        self._last_batch_size = 0
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._start_lock = threading.Lock()
        self._skip_database_until = 0.0
        self._batch_started = 0.0  # monotonic start of the current batch, 0 if idle

    def stuck(self, seconds: float) -> bool:
        """Whether the writer has been in one batch for longer than `seconds` (a hung database)."""
        started = self._batch_started
        return bool(started) and time.monotonic() - started > seconds

    def put(self, row: dict[str, Any], segment: JournalSegment) -> None:
        """Queue a journaled row; nobody waits for it to be stored."""
        self._queue.put(_Pending(row, segment))

    def put_and_wait(self, row: dict[str, Any], timeout: float) -> bool:
        """Queue a row and wait until it is stored; False if that took longer than `timeout`."""
        pending = _Pending(row)
        self._queue.put(pending)
        assert pending.done is not None
        return pending.done.acquire(timeout=timeout)

    def running(self) -> bool:
        """Whether this process's writer thread is alive (threads do not survive a fork)."""
        thread = self._thread
        return thread is not None and thread.is_alive() and self._pid == os.getpid()

    def start(self) -> bool:
        """Start this process's writer thread unless it runs; True if this call started it."""
        if self.running():
            return False
        with self._start_lock:
            if self._pid != os.getpid():
                self._queue = queue.SimpleQueue()  # rows queued in the parent are not ours
                self._pid = os.getpid()
            elif self._thread is not None and self._thread.is_alive():
                return False
            self._thread = threading.Thread(
                target=self._write_batches, name="click-writer", daemon=True
            )
            self._thread.start()
            if self.checkpointer is not None:
                self.checkpointer.start(self._thread)
        return True

    def flush(self, timeout: float) -> bool:
        """Wait until the rows queued so far are stored; False if that took too long."""
        if not self.running():
            return True
        marker = _Pending(None)
        self._queue.put(marker)
        assert marker.done is not None
        return marker.done.acquire(timeout=timeout)

    def stop(self) -> None:
        """Store what is queued, then end the thread (waiting for it at most a few seconds)."""
        thread = self._thread
        if thread is not None and self.running():
            self._queue.put(None)
            thread.join(timeout=5)

    def _write_batches(self) -> None:
        while True:
            try:
                batch = [self._queue.get(timeout=self._idle_seconds())]
            except queue.Empty:
                self.replay.replay_when_due(self._skip_database_until, idle=True)
                continue
            first = batch[0]
            if self._last_batch_size > 1 and first is not None:
                # Under load: let the other clicks join. Only briefly if someone waits for
                # this batch (a commit, a journal that could not be written, a flush).
                waits = first.done is not None
                time.sleep(
                    min(self.gather_seconds, GATHER_SECONDS) if waits else self.gather_seconds
                )
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            pending = [item for item in batch if item is not None]
            self._last_batch_size = sum(item.row is not None for item in pending)
            if pending:
                self._store_and_release(pending)
            if None in batch:  # closing: what was queued before it is stored
                self._drop_connection()
                if self.checkpointer is not None:
                    self.checkpointer.stop()  # it ends with the writer
                return
            if self.checkpointer is not None:
                self.checkpointer.batch_stored()

    def _idle_seconds(self) -> float:
        return self.replay.idle_seconds(self._skip_database_until)

    def _store_and_release(self, batch: list[_Pending]) -> None:
        rows = [pending.row for pending in batch if pending.row is not None]
        self._batch_started = time.monotonic()
        try:
            if rows:
                self._store(rows)
        except Exception:  # noqa: BLE001 - the writer must outlive any single batch
            if self.journal is None:
                log.exception("click batch could not be stored; waiting requests spool it")
                return  # their waits time out and each request spools its own row
            log.exception("click batch could not be stored; spooling it")
            try:
                self.spooler.append(rows)
            except OSError:
                log.exception("%d click(s) stay in the journal until a replay", len(rows))
                return
        finally:
            self._batch_started = 0.0
        if self.journal is not None:
            self.journal.stored(pending.segment for pending in batch if pending.segment)
        for pending in batch:
            if pending.done is not None:
                pending.done.release()

    def _store(self, rows: list[dict[str, Any]]) -> None:
        if time.monotonic() >= self._skip_database_until:
            try:
                self._insert_rows(rows)
            except (DBAPIError, self._driver_error) as exc:
                log.warning(
                    "%d click(s) spooled, database unavailable: %s",
                    len(rows),
                    str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__,
                )
                self._skip_database_until = time.monotonic() + BREAKER_SECONDS
            else:
                self.replay.replay_when_due(self._skip_database_until)
                return
        self.spooler.append(rows)

    def _insert_rows(self, rows: list[dict[str, Any]]) -> None:
        # The writer keeps one connection of its own: no pool round trip per batch.
        if self._connection is None:
            connection = self.engine.raw_connection()
            self._insert.autocommit(connection)
            self._connection = connection
            if self.checkpointer is not None:
                self.checkpointer.connected()
        try:
            if self.checkpointer is not None:
                self.checkpointer.prepare(self._connection)
            self._insert.execute(self._connection, rows)
        except BaseException:
            # After a failure the connection may be broken or mid-transaction: drop it.
            self._drop_connection()
            raise

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.invalidate()
