"""One CRM import runs at a time, and the lock tells which one it is.

An import compares content hashes, then writes; two imports doing that at once over the same
records would both count them as inserted. So an import runs holding the import lock, from
claiming its state to attribution, and counts exactly what it did; a second one waits for
the lock (up to a limit, then :class:`ImportBusy`).

The lock dies with its holder, so an import left ``running`` whose id is not the holder's
was killed, and is offered to run again, with no timeout to guess:

* PostgreSQL: session advisory locks on a connection of their own (app servers on several
  hosts share them): one for "an import runs", one naming the import;
* SQLite: ``flock`` on a file beside the database file, holding the running import's id.
  (``BEGIN IMMEDIATE`` for the whole import would also stop every click from being stored
  until it ends, and an import commits batch by batch.)
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from linktracker.errors import Conflict

POLL_SECONDS: Final = 0.05
# Advisory lock keys (two int4): this namespace, then 0 for "an import runs" or the import id.
_NAMESPACE: Final = 0x4C54_4352
_ANY: Final = 0
_TRY: Final = text("SELECT pg_try_advisory_lock(:namespace, :key)")
_HOLDER: Final = text(
    "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND classid::bigint = :namespace AND objsubid = 2 AND objid::bigint <> 0 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


class ImportBusy(Conflict):
    """Another import (or this one, from another request) is running; nothing was changed."""

    def __init__(self, import_id: int, running_id: int | None) -> None:
        if running_id == import_id:
            message = (
                f"Import {import_id} is already running (started by another request); "
                "its page shows the result when it ends."
            )
        else:
            which = f"Import {running_id}" if running_id else "Another import"
            message = (
                f"{which} is still running, and imports run one at a time. This file is "
                f"stored as import {import_id}, not run yet: run it again once that one "
                "has finished."
            )
        super().__init__(message, {"import": "Busy."})
        self.import_id = import_id
        self.running_id = running_id


@contextmanager
def import_lock(session: Session, import_id: int, wait_seconds: float | None) -> Iterator[None]:
    """Hold the import lock for ``import_id``, waiting up to ``wait_seconds`` (None: no limit)."""
    engine = _engine(session)
    deadline = None if wait_seconds is None else time.monotonic() + wait_seconds
    locked = _postgres_lock if engine.dialect.name == "postgresql" else _sqlite_lock
    with locked(engine, import_id, deadline):
        yield


def running_import(session: Session) -> int | None:
    """The id of the import holding the import lock; None when no import runs."""
    engine = _engine(session)
    if engine.dialect.name == "postgresql":
        holder: int | None = session.scalar(_HOLDER, {"namespace": _NAMESPACE})
        return holder
    path = _lock_path(engine)
    if not path.exists():
        return None
    descriptor = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            held = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
            return int(held) if held.isdigit() else None
        return None
    finally:
        os.close(descriptor)  # also releases the probe's shared lock


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _timed_out(deadline: float | None) -> bool:
    if deadline is not None and time.monotonic() >= deadline:
        return True
    time.sleep(POLL_SECONDS)
    return False


@contextmanager
def _postgres_lock(engine: Engine, import_id: int, deadline: float | None) -> Iterator[None]:
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        args = {"namespace": _NAMESPACE, "key": _ANY}
        while not connection.scalar(_TRY, args):
            if _timed_out(deadline):
                holder = connection.scalar(_HOLDER, {"namespace": _NAMESPACE})
                raise ImportBusy(import_id, holder)
        connection.scalar(_TRY, {"namespace": _NAMESPACE, "key": import_id})
        yield
    finally:
        try:
            # Released now: a closed connection's locks go only when its server process
            # notices, and whoever looks next must not find this import still running.
            connection.execute(text("SELECT pg_advisory_unlock_all()"))
        finally:
            connection.invalidate()  # never back to the pool, whatever it still holds
            connection.close()


@contextmanager
def _sqlite_lock(engine: Engine, import_id: int, deadline: float | None) -> Iterator[None]:
    path = _lock_path(engine)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if _timed_out(deadline):
                    held = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
                    raise ImportBusy(import_id, int(held) if held.isdigit() else None) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, str(import_id).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(descriptor, 0)
    finally:
        os.close(descriptor)  # releases the lock


def _lock_path(engine: Engine) -> Path:
    """The lock file beside the SQLite database file (the folder SQLite writes its WAL to)."""
    database = engine.url.database or ""
    return Path(f"{os.path.abspath(database)}.crm-import-lock")
