"""The click journal: each click written to a local file before its redirect is answered.

With CLICK_DURABILITY=journal (the default) a redirect goes out as soon as its click row is
written to this process's journal; the click writer stores it in the database a moment later,
in a batch with the clicks of other requests. The write is not fsync'd: the kernel keeps the
row if the process is killed, not through a power cut (the same promise as SQLite's WAL with
synchronous=NORMAL). Journal files are spool files (same folder, format and lock), so a
journal left behind by a killed process is replayed like a spool, skipping click ids already
stored ("journal-<pid>-<ns>.jsonl" beside the spool's files). A file takes SEGMENT_ROWS
rows; it is deleted once each of its rows is stored, in the database or in the fsync'd spool.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from linktracker.clicks.spool import JOURNAL, ClickSpool

SEGMENT_ROWS = 20_000
_FORK_LOCK = threading.Lock()

log = logging.getLogger(__name__)


class JournalSegment:
    """One journal file and how many of its rows still wait to be stored."""

    __slots__ = ("file", "rows", "waiting", "sealed")

    def __init__(self, file: ClickSpool) -> None:
        self.file = file
        self.rows = 0
        self.waiting = 0
        self.sealed = False  # full: no more rows go in; deleted when nothing waits


class ClickJournal:
    """This process's journal files; thread-safe."""

    def __init__(self, folder: str | Path, *, segment_rows: int = SEGMENT_ROWS) -> None:
        self.folder = Path(folder)
        self.segment_rows = segment_rows
        self._lock = threading.Lock()
        self._current: JournalSegment | None = None
        self._pid = os.getpid()

    def write(self, row: dict[str, Any]) -> JournalSegment:
        """Write one click row (no fsync); returns the segment to report it stored to."""
        if self._pid != os.getpid():
            with _FORK_LOCK:  # the first writes of a forked worker's threads
                if self._pid != os.getpid():
                    # A forked worker writes files of its own; the parent's are the parent's.
                    self._lock = threading.Lock()
                    self._current = None
                    self._pid = os.getpid()
        done: JournalSegment | None = None
        try:
            with self._lock:
                segment = self._current
                if segment is None or segment.rows >= self.segment_rows:
                    if segment is not None:
                        done = self._seal(segment)
                    segment = JournalSegment(ClickSpool(self.folder, kind=JOURNAL))
                    self._current = segment
                segment.file.append([row], sync=False)
                segment.rows += 1
                segment.waiting += 1
        finally:
            # Deleted outside the lock (other requests need not wait for it), and also when
            # the next file could not be written: nothing else would delete this one.
            if done is not None:
                _discard(done)
        return segment

    def stored(self, segments: Iterable[JournalSegment]) -> None:
        """Each listed row (a segment once per row) is stored: full files nobody waits on go."""
        done = []
        with self._lock:
            for segment, count in Counter(segments).items():
                segment.waiting -= count
                if segment.sealed and segment.waiting == 0:
                    done.append(segment)
        for segment in done:
            _discard(segment)

    def close(self) -> None:
        """Let go of the current file: deleted if all its rows are stored, else kept for replay."""
        with self._lock:
            segment, self._current = self._current, None
            if segment is None or self._pid != os.getpid():
                return
            done = self._seal(segment)
            if done is None:
                segment.file.close()
        if done is not None:
            _discard(done)

    @staticmethod
    def _seal(segment: JournalSegment) -> JournalSegment | None:
        """Mark a segment full; returns it if nothing waits on it (to discard)."""
        segment.sealed = True
        return segment if segment.waiting == 0 else None


def _discard(segment: JournalSegment) -> None:
    try:
        segment.file.discard()
    except OSError:  # its rows are stored: a file left behind is replayed as duplicates
        log.warning("could not delete a stored click journal", exc_info=True)
