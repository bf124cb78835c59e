"""A durable local spool for clicks the database could not take, replayed exactly once.

Each process appends to its own file, fsync'd per click and held under an exclusive
flock while open. Replay only touches files nobody holds, inserts with ON CONFLICT DO
NOTHING on click_id (so a replay interrupted halfway can simply run again), then deletes.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite

from linktracker.clicks.models import Click

REPLAY_BATCH = 1000


class ClickSpool:
    """Append-only, per-process spool files under one folder."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self._file: IO[str] | None = None

    def append(self, row: dict[str, Any]) -> None:
        """Write one click durably (fsync) before the redirect is answered."""
        handle = self._open()
        handle.write(json.dumps(row, default=_encode) + "\n")
        handle.flush()
        os.fsync(handle.fileno())

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

    def _open(self) -> IO[str]:
        if self._file is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"clicks-{os.getpid()}-{time.time_ns()}.jsonl"
            handle = open(self.folder / name, "a", encoding="utf-8")  # noqa: SIM115
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            self._file = handle
        return self._file

    def pending_files(self) -> list[Path]:
        """Spool files on disk, oldest first."""
        if not self.folder.exists():
            return []
        return sorted(self.folder.glob("clicks-*.jsonl"), key=lambda p: p.stat().st_mtime)


def _encode(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot spool {type(value).__name__}")


def _decode(line: str) -> dict[str, Any] | None:
    try:
        row: dict[str, Any] = json.loads(line)
    except json.JSONDecodeError:
        # A torn last line can only come from a crash mid-write, before the 302 went out.
        return None
    row["created_at"] = datetime.fromisoformat(row["created_at"])
    return row


def _read_rows(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip() and (row := _decode(line)) is not None:
                yield row


def replay_spool(engine: Engine, folder: str | Path) -> int:
    """Insert every spooled click nobody is still writing; return how many files' rows were new."""
    spool = ClickSpool(folder)
    inserted = 0
    for path in spool.pending_files():
        with open(path, "a", encoding="utf-8") as guard:
            try:
                fcntl.flock(guard.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live process still appends to it
            inserted += _replay_file(engine, path)
            path.unlink()
    return inserted


def _replay_file(engine: Engine, path: Path) -> int:
    inserted = 0
    batch: list[dict[str, Any]] = []
    for row in _read_rows(path):
        batch.append(row)
        if len(batch) >= REPLAY_BATCH:
            inserted += _insert_ignoring_duplicates(engine, batch)
            batch = []
    inserted += _insert_ignoring_duplicates(engine, batch)
    return inserted


def _insert_ignoring_duplicates(engine: Engine, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Click).on_conflict_do_nothing(index_elements=["click_id"])
    with engine.begin() as connection:
        result = connection.execute(statement, rows)
    return max(result.rowcount, 0)
