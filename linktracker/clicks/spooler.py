"""Group commit into this process's spool: many threads' rows, one write and one fsync."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from linktracker.clicks.spool import ClickSpool


class Spooler:
    """The spool file of this process, shared by request threads and the click writer."""

    def __init__(self, folder: str | Path) -> None:
        self.spool = ClickSpool(folder)
        self._lock = threading.Lock()
        self._late_lock = threading.Lock()
        self._late: list[dict[str, Any]] = []

    @property
    def folder(self) -> Path:
        """Where this process's spool file (and every other spool and journal file) lives."""
        return self.spool.folder

    @property
    def holding(self) -> bool:
        """Whether this process has spooled clicks in a file it still holds."""
        return self.spool.holding

    def append(self, rows: list[dict[str, Any]]) -> None:
        """Make rows durable (fsync'd) before their redirects are answered."""
        # Whoever holds the lock writes every row waiting and fsyncs once; a row taken by an
        # earlier holder was durable before it let go.
        with self._late_lock:
            self._late.extend(rows)
        with self._lock:
            with self._late_lock:
                rows, self._late = self._late, []
            if rows:
                try:
                    self.spool.append(rows)
                except BaseException:
                    with self._late_lock:  # others' rows too: the next holder tries again
                        self._late[:0] = rows
                    raise

    def hand_over(self) -> bool:
        """Let go of our file so a replay may take it; False if we held none."""
        with self._lock:
            if not self.spool.holding:
                return False
            self.spool.close()
            return True
