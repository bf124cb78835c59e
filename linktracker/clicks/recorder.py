"""The one door every click goes through: database first, durable spool when it is down.

A request thread builds its Click row and hands it to this process's writer thread. Before the
redirect is answered the row is either written to the click journal (durability "journal", the
default: see clicks/journal.py; the writer stores it a moment later) or stored by the writer
while the request waits (durability "commit"). The writer takes every row waiting at
that moment and inserts them with one INSERT statement in autocommit on a connection of its own
(group commit, see ClickInsert): one commit flush and, on PostgreSQL, one round trip for many
concurrent clicks, and a single SQLite writer per process (whose WAL checkpoints run on a
thread of their own, see CHECKPOINT_BATCHES). If the database fails, the writer
appends the batch to the spool file (one fsync) instead and skips the database for
BREAKER_SECONDS. If the writer has been in one batch for longer than a request may wait
(a hung database), requests spool their own rows instead of queueing behind it, so a redirect
never waits long and the queue stays short. A row that ends up both in the database and in a
spool or journal file is stored once: every insert skips click ids already stored."""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, PoolProxiedConnection
from sqlalchemy.exc import DBAPIError

from linktracker.clicks.journal import ClickJournal, JournalSegment
from linktracker.clicks.services import ClickInsert, click_row
from linktracker.clicks.spool import ClickSpool, is_journal, replay_spool
from linktracker.clicks.visitor import Visitor, new_click_id
from linktracker.links.services import LinkTarget

log = logging.getLogger(__name__)

# After a database failure, spool without trying it for this long: a dead database must
# not slow redirects down.
BREAKER_SECONDS = 1.0
Durability = Literal["journal", "commit"]
DURABILITIES: tuple[Durability, ...] = ("journal", "commit")
# "commit": longest a redirect waits for the writer before making its click durable itself.
WAIT_SECONDS = 0.075
# "journal": after the writer has been this long in one batch, redirects spool their clicks
# (fsync'd) instead of queueing them in memory behind a hung database.
STUCK_SECONDS = 0.5
# How often a process looks for clicks to replay (spool files, journals left behind by killed
# processes), whether or not new clicks arrive: its writer thread wakes up for it when idle.
REPLAY_SECONDS = 30.0
# Under load (the last batch had company), the writer lets this much time pass between the
# first waiting row and taking the batch: more rows per commit, so fewer commits, writer
# wake-ups and GIL hand-offs per click. A lone click never waits for it. With "commit" each
# redirect waits through it, so it stays short; with "journal" nobody waits for the writer, so
# it gathers for longer (figures in docs/performance.md).
# A batch someone waits for (a journal that could not be written, a flush) gathers at most
# GATHER_SECONDS in either mode.
GATHER_SECONDS = 0.0005
JOURNAL_GATHER_SECONDS = 0.02
# SQLite: the writer's connection does not checkpoint the WAL itself. A checkpoint syncs the
# WAL and the database file, which every click of the batch committing at that moment would
# wait for (figures in docs/performance.md). A thread of its own
# checkpoints instead, on its own connection, concurrently with new inserts, after every
# CHECKPOINT_BATCHES batches. A PASSIVE checkpoint that runs alongside inserts cannot
# let the WAL start over, so past WAL_LIMIT_FRAMES frames (4 KiB each) the writer checkpoints
# inline again, as SQLite does by default, until the WAL has been reset.
CHECKPOINT_BATCHES = 50
WAL_LIMIT_FRAMES = 10_000
INLINE_CHECKPOINT_FRAMES = 1000  # SQLite's default wal_autocheckpoint


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


class ClickRecorder:
    """Records clicks; never raises for a database problem, never loses an answered click."""

    def __init__(
        self,
        engine: Engine,
        secret: bytes,
        spool_folder: str | Path,
        *,
        durability: Durability = "journal",
        wait_seconds: float | None = None,
        gather_seconds: float | None = None,
        replay_seconds: float = REPLAY_SECONDS,
    ) -> None:
        if durability not in DURABILITIES:
            raise ValueError(f"click durability must be one of {', '.join(DURABILITIES)}")
        self.engine = engine
        self.secret = secret
        self.spool = ClickSpool(spool_folder)
        self.journal = ClickJournal(spool_folder) if durability == "journal" else None
        if wait_seconds is None:
            wait_seconds = STUCK_SECONDS if self.journal is not None else WAIT_SECONDS
        if gather_seconds is None:
            gather_seconds = JOURNAL_GATHER_SECONDS if self.journal is not None else GATHER_SECONDS
        self._insert = ClickInsert(engine.dialect)
        self._driver_error: type[Exception] = engine.dialect.loaded_dbapi.Error
        self._connection: PoolProxiedConnection | None = None
        self.wait_seconds = wait_seconds
        self.gather_seconds = gather_seconds
        self.replay_seconds = replay_seconds
        self._last_batch_size = 0
        self._spool_lock = threading.Lock()
        self._late_lock = threading.Lock()
        self._late: list[dict[str, Any]] = []
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._writer_pid = 0
        self._start_lock = threading.Lock()
        self._skip_database_until = 0.0
        self._batch_started = 0.0  # monotonic start of the writer's current batch, 0 if idle
        self._next_orphan_check = 0.0
        self._idle_replay_after = 0.0  # after a failed replay: not before this when idle
        self._draining = False
        self._checkpoints = engine.dialect.name == "sqlite"
        self._checkpoint_due = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._batches = 0
        self._inline_checkpoints = False  # wanted by the checkpointer thread
        self._connection_inline = True  # what the writer's connection does (SQLite's default)

    def record(self, target: LinkTarget, visitor: Visitor, now: datetime) -> str:
        """Make one click durable (journal, database or spool) and return its click id."""
        row = click_row(target, visitor, secret=self.secret, now=now, click_id=new_click_id())
        started = self._batch_started
        if started and time.monotonic() - started > self.wait_seconds:
            # The writer is stuck in a batch (a hung database): do not queue behind it.
            self._append_to_spool([row])
            return str(row["click_id"])
        self._start_writer()
        if self.journal is not None:
            try:
                segment = self.journal.write(row)
            except OSError as exc:  # the journal's disk failed: wait for the commit instead
                log.warning("click journal unavailable (%s), waiting for the commit", exc)
            else:
                self._queue.put(_Pending(row, segment))
                return str(row["click_id"])
        pending = _Pending(row)
        self._queue.put(pending)
        assert pending.done is not None
        if not pending.done.acquire(timeout=self.wait_seconds):
            log.warning("click writer slow, spooling click %s directly", row["click_id"])
            self._append_to_spool([row])
        return str(row["click_id"])

    def start(self) -> None:
        """Start this process's writer now rather than at its first click, so the clicks
        waiting for replay are stored even while no click comes in."""
        self._start_writer()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until the clicks recorded so far are stored; False if that took too long."""
        writer = self._writer
        if writer is None or not writer.is_alive() or self._writer_pid != os.getpid():
            return True
        marker = _Pending(None)
        self._queue.put(marker)
        assert marker.done is not None
        return marker.done.acquire(timeout=timeout)

    def close(self) -> None:
        """Write what is queued, stop the writer thread, replay our spool if we can."""
        atexit.unregister(self.close)
        writer = self._writer
        if writer is not None and writer.is_alive() and self._writer_pid == os.getpid():
            self._queue.put(None)
            writer.join(timeout=5)
        if self.journal is not None:
            self.journal.close()
        with self._spool_lock:
            if not self.spool.holding:
                return
            self.spool.close()
        try:  # a clean shutdown hands its spool straight to the database when it can
            replay_spool(self.engine, self.spool.folder)
        except DBAPIError:
            log.warning("spooled clicks kept for a later replay", exc_info=True)

    def _start_writer(self) -> None:
        # Started on first use in each process (threads do not survive a fork) and again
        # if it was closed.
        writer = self._writer
        if writer is not None and writer.is_alive() and self._writer_pid == os.getpid():
            return
        with self._start_lock:
            if self._writer_pid != os.getpid():
                self._queue = queue.SimpleQueue()  # rows queued in the parent are not ours
                self._writer_pid = os.getpid()
            elif self._writer is not None and self._writer.is_alive():
                return
            self._checkpoint_due = threading.Event()
            self._writer = threading.Thread(
                target=self._write_batches, name="click-writer", daemon=True
            )
            self._writer.start()
            if self._checkpoints:
                self._checkpointer = threading.Thread(
                    target=self._checkpoint_wal,
                    args=(self._writer, self._checkpoint_due),
                    name="click-checkpoint",
                    daemon=True,
                )
                self._checkpointer.start()
        atexit.register(self.close)  # a gracefully stopped worker stores its queue first

    def _write_batches(self) -> None:
        while True:
            try:
                batch = [self._queue.get(timeout=self._idle_seconds())]
            except queue.Empty:
                self._replay_when_due(idle=True)  # no insert will trigger it
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
                self._checkpoint_due.set()  # the checkpointer ends with the writer
                return
            self._batches += 1
            if self._checkpoints and self._batches % CHECKPOINT_BATCHES == 0:
                self._checkpoint_due.set()

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
                self._append_to_spool(rows)
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
                self._replay_when_due()
                return
        self._append_to_spool(rows)

    def _insert_rows(self, rows: list[dict[str, Any]]) -> None:
        # The writer keeps one connection of its own: no pool round trip per batch.
        if self._connection is None:
            connection = self.engine.raw_connection()
            self._insert.autocommit(connection)
            self._connection = connection
            self._connection_inline = True
        try:
            if self._checkpoints and self._connection_inline != self._inline_checkpoints:
                self._set_inline_checkpoints(self._connection, self._inline_checkpoints)
            self._insert.execute(self._connection, rows)
        except BaseException:
            # After a failure the connection may be broken or mid-transaction: drop it.
            self._drop_connection()
            raise

    def _set_inline_checkpoints(self, connection: PoolProxiedConnection, inline: bool) -> None:
        frames = INLINE_CHECKPOINT_FRAMES if inline else 0
        cursor = connection.cursor()
        try:
            cursor.execute(f"PRAGMA wal_autocheckpoint={frames}")
        finally:
            cursor.close()
        self._connection_inline = inline

    def _checkpoint_wal(self, writer: threading.Thread, due: threading.Event) -> None:
        # SQLite only. Runs as long as the writer thread it was started with.
        self._inline_checkpoints = False
        connection: PoolProxiedConnection | None = None
        while writer.is_alive():
            if not due.wait(timeout=1.0):
                continue
            due.clear()
            try:
                if connection is None:
                    connection = self.engine.raw_connection()
                cursor = connection.cursor()
                try:
                    cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    _busy, frames, _copied = cursor.fetchone() or (0, 0, 0)
                finally:
                    cursor.close()
            except Exception:  # noqa: BLE001 - inline checkpoints until one here succeeds
                log.warning("WAL checkpoint failed; the click writer checkpoints", exc_info=True)
                self._inline_checkpoints = True
                if connection is not None:
                    connection.invalidate()
                    connection = None
                continue
            self._inline_checkpoints = int(frames) > WAL_LIMIT_FRAMES
        self._inline_checkpoints = True
        if connection is not None:
            connection.close()

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.invalidate()

    def _append_to_spool(self, rows: list[dict[str, Any]]) -> None:
        # Group commit for the spool too: whoever holds the lock writes every row waiting
        # and fsyncs once; a row taken by an earlier holder was durable before it let go.
        with self._late_lock:
            self._late.extend(rows)
        with self._spool_lock:
            with self._late_lock:
                rows, self._late = self._late, []
            if rows:
                try:
                    self.spool.append(rows)
                except BaseException:
                    with self._late_lock:  # others' rows too: the next holder tries again
                        self._late[:0] = rows
                    raise

    def _idle_seconds(self) -> float:
        """How long the writer waits for a click before it looks for clicks to replay."""
        due = max(self._next_orphan_check, self._idle_replay_after)
        if self.spool.holding:  # ours: as soon as the database may answer again
            due = min(due, self._skip_database_until)
        return min(self.replay_seconds, max(due - time.monotonic(), 0.1))

    def _replay_when_due(self, *, idle: bool = False) -> None:
        # After an insert (the database answers), or when idle: replay our own spool at once,
        # every process's leftovers every replay_seconds. Replay runs on its own thread so new
        # clicks are not held up.
        now = time.monotonic()
        if self._draining or not (self.spool.holding or now >= self._next_orphan_check):
            return
        if now < self._skip_database_until:
            return  # the database failed a moment ago
        if idle and not self.spool.holding and now < self._idle_replay_after:
            return  # the last replay failed: the next insert (the database is back) retries
        self._next_orphan_check = now + self.replay_seconds
        pid = os.getpid()  # our own live journals are not leftovers
        leftovers = [p for p in self.spool.pending_files() if not is_journal(p, pid)]
        if not self.spool.holding and not leftovers:
            return
        self._draining = True
        threading.Thread(target=self._drain, name="click-replay", daemon=True).start()

    def _drain(self) -> None:
        try:
            with self._spool_lock:
                self.spool.close()  # hand our file over: replay takes only files nobody holds
            result = replay_spool(self.engine, self.spool.folder)
            if result.rows:
                log.warning("replayed %d spooled click(s), %d new", result.rows, result.inserted)
        except Exception:  # noqa: BLE001 - a failed replay is retried later
            log.warning("spool replay failed; it will be retried", exc_info=True)
            self._next_orphan_check = 0.0
            self._idle_replay_after = time.monotonic() + self.replay_seconds
        finally:
            self._draining = False
