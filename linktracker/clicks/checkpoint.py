"""SQLite's WAL checkpoints, off the click writer's path.

The writer's connection does not checkpoint the WAL itself: a checkpoint syncs the WAL and the
database file, which every click of the batch committing at that moment would wait for (figures
in docs/performance.md). A thread of its own checkpoints instead, on its own connection,
concurrently with new inserts, after every CHECKPOINT_BATCHES batches. A PASSIVE checkpoint that
runs alongside inserts cannot let the WAL start over, so past WAL_LIMIT_FRAMES frames (4 KiB
each) the writer checkpoints inline again, as SQLite does by default, until the WAL has been
reset.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine, PoolProxiedConnection

log = logging.getLogger(__name__)

CHECKPOINT_BATCHES = 50
WAL_LIMIT_FRAMES = 10_000
INLINE_CHECKPOINT_FRAMES = 1000  # SQLite's default wal_autocheckpoint


class WalCheckpointer:
    """Checkpoints one SQLite database's WAL on its own thread, as long as its writer runs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.thread: threading.Thread | None = None
        self.inline = False  # whether the writer's connection should checkpoint itself
        self._connection_inline = True  # what the writer's connection does (SQLite's default)
        self._due = threading.Event()
        self._batches = 0

    def start(self, writer: threading.Thread) -> None:
        """Start a checkpoint thread that ends with `writer`."""
        self._due = threading.Event()
        self.thread = threading.Thread(
            target=self._checkpoint_wal, args=(writer, self._due), name="click-checkpoint",
            daemon=True,
        )  # fmt: skip
        self.thread.start()

    def batch_stored(self) -> None:
        """Count one more batch; every CHECKPOINT_BATCHES of them a checkpoint is due."""
        self._batches += 1
        if self._batches % CHECKPOINT_BATCHES == 0:
            self._due.set()

    def stop(self) -> None:
        """The writer is ending: let the checkpoint thread see it now, not a second later."""
        self._due.set()

    def connected(self) -> None:
        """The writer opened a new connection, which checkpoints inline (SQLite's default)."""
        self._connection_inline = True

    def prepare(self, connection: PoolProxiedConnection) -> None:
        """Before an insert: make the writer's connection checkpoint inline or not, as wanted."""
        inline = self.inline
        if self._connection_inline == inline:
            return
        frames = INLINE_CHECKPOINT_FRAMES if inline else 0
        cursor = connection.cursor()
        try:
            cursor.execute(f"PRAGMA wal_autocheckpoint={frames}")
        finally:
            cursor.close()
        self._connection_inline = inline

    def _checkpoint_wal(self, writer: threading.Thread, due: threading.Event) -> None:
        self.inline = False
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
                self.inline = True
                if connection is not None:
                    connection.invalidate()
                    connection = None
                continue
            self.inline = int(frames) > WAL_LIMIT_FRAMES
        self.inline = True
        if connection is not None:
            connection.close()
