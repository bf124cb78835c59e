"""Clicks waiting for replay are stored on a timer, without waiting for the next click."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

from tests.reliability.servers import (
    database_with_a_link,
    free_port,
    running_server,
    timed_request,
    worker_pids,
)

REPLAY_SECONDS = 2.0
# The replay's own time on a busy machine, on top of the interval.
MARGIN_SECONDS = 6.0


def _clicks(folder: Path) -> int:
    with sqlite3.connect(folder / "serve.db") as connection:
        return int(connection.execute("SELECT count(*) FROM clicks").fetchone()[0])


def _spooled_by(folder: Path) -> list[int]:
    """Pids of the processes whose spool files hold clicks (the database refused them)."""
    return [int(path.name.split("-")[1]) for path in (folder / "spool").glob("clicks-*.jsonl")]


def _click_while_the_database_is_locked(folder: Path, port: int, code: str) -> sqlite3.Connection:
    """A redirect whose click the writer cannot store: it goes to the worker's own spool.

    Returns the connection holding the lock; the caller rolls it back.
    """
    holder = sqlite3.connect(folder / "serve.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    assert timed_request(port, f"/{code}")[0] == 302
    deadline = time.monotonic() + 10
    while not _spooled_by(folder) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _spooled_by(folder), "the click was not spooled"
    return holder


def _wait_for_clicks(folder: Path, count: int, seconds: float) -> float:
    started = time.monotonic()
    while _clicks(folder) < count and time.monotonic() - started < seconds:
        time.sleep(0.1)
    assert _clicks(folder) == count, "the waiting click was not stored in time"
    return time.monotonic() - started


def test_a_click_in_a_live_workers_spool_is_stored_without_a_new_click(tmp_path: Path) -> None:
    code = database_with_a_link(tmp_path)
    port = free_port()
    env = {"ALLOWED_DOMAINS": "www.example.com", "CLICK_REPLAY_SECONDS": str(REPLAY_SECONDS)}
    with running_server(tmp_path, port, "--workers", "2", "--threads", "4", env=env):
        holder = _click_while_the_database_is_locked(tmp_path, port, code)
        holder.execute("ROLLBACK")
        holder.close()
        _wait_for_clicks(tmp_path, 1, REPLAY_SECONDS + MARGIN_SECONDS)  # no request meanwhile
    assert not _spooled_by(tmp_path)


def test_a_click_left_by_a_killed_worker_is_stored_without_a_new_click(tmp_path: Path) -> None:
    code = database_with_a_link(tmp_path)
    port = free_port()
    env = {"ALLOWED_DOMAINS": "www.example.com", "CLICK_REPLAY_SECONDS": str(REPLAY_SECONDS)}
    with running_server(tmp_path, port, "--workers", "2", "--threads", "4", env=env) as server:
        holder = _click_while_the_database_is_locked(tmp_path, port, code)
        [worker] = _spooled_by(tmp_path)
        assert worker in worker_pids(server)
        os.kill(worker, signal.SIGKILL)  # its spool file is left behind, nobody holds it
        holder.execute("ROLLBACK")
        holder.close()
        _wait_for_clicks(tmp_path, 1, REPLAY_SECONDS + MARGIN_SECONDS)  # no request meanwhile
    assert not _spooled_by(tmp_path)
