"""A durable local spool for clicks the database could not take, replayed exactly once.

Each process appends to its own file (JSON lines), fsync'd before the redirect is answered
and held under an exclusive flock while open; a process killed mid-write can leave at most
a torn last line, for a request it never answered. Replay only touches files nobody holds,
inserts ignoring click ids already stored (so a replay interrupted halfway, or run twice,
inserts nothing twice), and deletes a file once all of it is in the database. Click journals
(clicks/journal.py) are files of the same kind, not fsync'd, replayed alike when left behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from linktracker.clicks.models import Click
from linktracker.clicks.services import insert_ignoring_stored_clicks

log = logging.getLogger(__name__)

REPLAY_BATCH = 1000
# Spool files are "clicks-<pid>-<ns>.jsonl", click journals (clicks/journal.py)
# "journal-<pid>-<ns>.jsonl": one format, replayed alike.
JOURNAL = "journal"
KINDS = ("clicks", JOURNAL)
# A replay waits this long for a file another process only looks at (`spool status`, another
# replay); a live writer holds its file's lock for its whole life and is skipped after it.
LOCK_PATIENCE_SECONDS = 0.5
LOCK_RETRY_SECONDS = 0.01


class ClickSpool:
    """Append-only, per-process spool files under one folder."""

    def __init__(self, folder: str | Path, *, kind: str = "clicks") -> None:
        self.folder = Path(folder)
        self.kind = kind
        self._file: IO[str] | None = None

    def append(self, rows: list[dict[str, Any]], *, sync: bool = True) -> None:
        """Write click rows before their redirects are answered: durable with one fsync, or
        (``sync=False``, the click journal) handed to the kernel, which keeps them if this
        process dies but not through a power cut."""
        handle = self._open(sync)
        handle.write("".join(json.dumps(row, default=_encode) + "\n" for row in rows))
        handle.flush()
        if sync:
            os.fsync(handle.fileno())

    def discard(self) -> None:
        """Delete this process's file, every row of which is stored elsewhere, and let go."""
        if self._file is not None:
            Path(self._file.name).unlink(missing_ok=True)
            self.close()

    def close(self) -> None:
        """Release this process's spool file so a replay may take it."""
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    @property
    def holding(self) -> bool:
        """Whether this process has spooled clicks in an open file."""
        return self._file is not None

    def _open(self, sync: bool = True) -> IO[str]:
        if self._file is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{self.kind}-{os.getpid()}-{time.time_ns()}.jsonl"
            handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept open while spooling
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            if os.fstat(handle.fileno()).st_nlink == 0:
                # A replay took the new, empty file between its creation and our lock.
                handle.close()
                return self._open(sync)
            if sync:
                # The new file's name must survive a power cut too. Not so for rows that are
                # not fsync'd (the journal): the kernel keeps both if the process dies, and a
                # directory fsync can take 100+ ms on a busy disk, with every request waiting.
                _fsync_directory(self.folder)
            self._file = handle
        return self._file

    def pending_files(self) -> list[Path]:
        """Spool and journal files on disk, oldest first."""
        if not self.folder.exists():
            return []
        paths = [path for kind in KINDS for path in self.folder.glob(f"{kind}-*.jsonl")]
        return sorted(paths, key=lambda p: p.name.split("-")[-1])


def _fsync_directory(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _encode(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot spool {type(value).__name__}")


def _decode(line: str) -> dict[str, Any] | None:
    try:
        row: dict[str, Any] = json.loads(line)
        row["created_at"] = datetime.fromisoformat(row["created_at"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        # A torn last line can only come from a crash mid-write, before the 302 went out.
        return None
    return row


@dataclass(frozen=True)
class SpoolFile:
    path: Path
    rows: int
    unreadable: int
    in_use: bool

    @property
    def journal(self) -> bool:
        """A click journal (a live one holds clicks answered but not yet stored)."""
        return is_journal(self.path)

    @property
    def live_journal(self) -> bool:
        """A running server's journal: its clicks are being stored, not waiting for replay."""
        return self.journal and self.in_use


def is_journal(path: Path, pid: int | None = None) -> bool:
    """Whether a file in the spool folder is a click journal (of process ``pid``, if given)."""
    return path.name.startswith(f"{JOURNAL}-" if pid is None else f"{JOURNAL}-{pid}-")


@dataclass(frozen=True)
class ReplayResult:
    files: int  # files replayed and deleted
    rows: int  # clicks read from them
    inserted: int  # clicks that were not yet in the database
    unreadable: int  # torn lines skipped
    in_use: int  # files skipped because a live process still writes them


def spool_status(folder: str | Path) -> list[SpoolFile]:
    """What waits in the spool: rows per file and whether a live process holds it."""
    files = []
    for path in ClickSpool(folder).pending_files():
        # A shared lock: status checks never hold each other up, and a replay waits out one.
        with _try_lock(path, shared=True) as locked:
            rows, unreadable = _count_lines(path)
            files.append(SpoolFile(path, rows, unreadable, in_use=not locked))
    return files


def replay_spool(engine: Engine, folder: str | Path) -> ReplayResult:
    """Insert every spooled click nobody is still writing, exactly once; delete the files."""
    files = rows = inserted = unreadable = in_use = 0
    for path in ClickSpool(folder).pending_files():
        # A live server holds its journal for its whole life: no use waiting for it.
        patience = 0.0 if is_journal(path) else LOCK_PATIENCE_SECONDS
        with _try_lock(path, patience=patience) as locked:
            if not locked:
                in_use += path.exists()  # else replayed, or a journal emptied, meanwhile
                continue
            file_rows, file_inserted, file_unreadable = _replay_file(engine, path)
            path.unlink(missing_ok=True)
        files += 1
        rows += file_rows
        inserted += file_inserted
        unreadable += file_unreadable
    return ReplayResult(files, rows, inserted, unreadable, in_use)


@contextlib.contextmanager
def _try_lock(path: Path, *, shared: bool = False, patience: float = 0.0) -> Iterator[bool]:
    """Take a spool file's flock, trying for `patience` seconds; yields whether we got it."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, which releases the lock
    except FileNotFoundError:
        yield False  # replayed and deleted by another process meanwhile
        return
    mode = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB
    give_up = time.monotonic() + patience
    while True:
        try:
            fcntl.flock(handle.fileno(), mode)
            break
        except BlockingIOError:
            if time.monotonic() >= give_up:
                handle.close()
                yield False
                return
            time.sleep(LOCK_RETRY_SECONDS)
    if os.fstat(handle.fileno()).st_nlink == 0:
        handle.close()  # deleted while we waited for its lock: nothing left to do
        yield False
        return
    try:
        yield True
    finally:
        handle.close()


def _lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.strip():
                yield line


def _count_lines(path: Path) -> tuple[int, int]:
    if not path.exists():
        return 0, 0
    rows = unreadable = 0
    for line in _lines(path):
        if _decode(line) is None:
            unreadable += 1
        else:
            rows += 1
    return rows, unreadable


def _replay_file(engine: Engine, path: Path) -> tuple[int, int, int]:
    rows = inserted = unreadable = 0
    batch: list[dict[str, Any]] = []
    for line in _lines(path):
        row = _decode(line)
        if row is None:
            log.warning("skipped an unreadable line in %s (torn by a crash)", path.name)
            unreadable += 1
            continue
        batch.append(row)
        if len(batch) >= REPLAY_BATCH:
            inserted += _insert_ignoring_duplicates(engine, batch)
            rows += len(batch)
            batch = []
    inserted += _insert_ignoring_duplicates(engine, batch)
    rows += len(batch)
    return rows, inserted, unreadable


def _insert_ignoring_duplicates(engine: Engine, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    # RETURNING counts the new rows: executemany rowcounts are not reliable across drivers.
    statement = insert_ignoring_stored_clicks(engine.dialect).returning(Click.click_id)
    ordered = sorted(rows, key=lambda row: str(row["click_id"]))  # as the writer: no deadlock
    try:
        with engine.begin() as connection:
            return len(connection.execute(statement, ordered).all())
    except IntegrityError:
        if len(rows) == 1:
            # Not a duplicate (those are ignored) but a row the schema refuses, e.g. its
            # link was deleted meanwhile: say so rather than block the rest forever.
            log.error("spooled click %s refused by the database, dropped", rows[0]["click_id"])
            return 0
        return sum(_insert_ignoring_duplicates(engine, [row]) for row in rows)
