"""The click writer under load: batches gathered, SQLite's WAL checkpointed off its path."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session

from linktracker.clicks import checkpoint as checkpoint_module
from linktracker.clicks import writer as writer_module
from linktracker.clicks.recorder import ClickRecorder
from linktracker.clicks.visitor import Visitor
from linktracker.db import make_engine, utcnow
from linktracker.links.services import LinkTarget
from tests.factories import CHROME, make_link

VISITOR = Visitor("203.0.113.9", CHROME, None, None, "GET", "")


@pytest.fixture
def engine(config: dict[str, object]) -> Iterator[Engine]:
    engine = make_engine(str(config["DATABASE_URL"]), busy_timeout_ms=40)
    yield engine
    engine.dispose()


@pytest.fixture
def target(session: Session) -> LinkTarget:
    link = make_link(session)
    return LinkTarget(
        link.id, link.employee_id, link.campaign_id, link.channel, link.destination_url,
        False, None,
    )  # fmt: skip


@pytest.fixture
def sqlite_only(config: dict[str, object]) -> None:
    if make_url(str(config["DATABASE_URL"])).get_backend_name() != "sqlite":
        pytest.skip("WAL checkpoints are SQLite's")


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def _batch_sizes(recorder: ClickRecorder) -> list[int]:
    sizes: list[int] = []
    execute = recorder.writer._insert.execute

    def spy(connection: Any, rows: list[dict[str, Any]]) -> None:
        sizes.append(len(rows))
        execute(connection, rows)

    recorder.writer._insert.execute = spy  # type: ignore[method-assign]
    return sizes


def _autocheckpoint(recorder: ClickRecorder) -> int:
    connection = recorder.writer._connection
    assert connection is not None
    cursor = connection.cursor()
    try:
        cursor.execute("PRAGMA wal_autocheckpoint")
        return int(cursor.fetchone()[0])
    finally:
        cursor.close()


def test_a_lone_click_does_not_wait_to_gather_company(
    engine: Engine, target: LinkTarget, tmp_path: Path
) -> None:
    recorder = ClickRecorder(engine, b"secret", tmp_path, gather_seconds=1.0)
    try:
        for _ in range(3):
            started = time.perf_counter()
            recorder.record(target, VISITOR, utcnow())
            assert time.perf_counter() - started < 0.5
    finally:
        recorder.close()


def test_under_load_the_writer_gathers_waiting_clicks_into_one_batch(
    engine: Engine, target: LinkTarget, tmp_path: Path
) -> None:
    recorder = ClickRecorder(engine, b"secret", tmp_path, gather_seconds=0.3, wait_seconds=5)
    recorder.record(target, VISITOR, utcnow())
    assert recorder.flush()  # the writer is up, connected and idle
    sizes = _batch_sizes(recorder)
    recorder.writer._last_batch_size = 2  # the last batch had company: under load

    def click() -> None:
        recorder.record(target, VISITOR, utcnow())

    first = threading.Thread(target=click)
    first.start()
    time.sleep(0.05)  # the writer has taken the first row and is gathering
    others = [threading.Thread(target=click) for _ in range(2)]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join()
    recorder.close()
    assert sizes == [3]


def test_journaled_clicks_gather_longer_while_each_redirect_answers_at_once(
    engine: Engine, target: LinkTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nobody waits for a journaled click's commit, so the writer gathers for the longer
    # JOURNAL_GATHER_SECONDS; with "commit" it keeps GATHER_SECONDS, which each request waits.
    monkeypatch.setattr(writer_module, "GATHER_SECONDS", 0.0)
    monkeypatch.setattr(writer_module, "JOURNAL_GATHER_SECONDS", 0.4)
    assert ClickRecorder(engine, b"secret", tmp_path, durability="commit").gather_seconds == 0.0
    recorder = ClickRecorder(engine, b"secret", tmp_path)
    try:
        recorder.record(target, VISITOR, utcnow())
        assert recorder.flush()  # the writer is up, connected and idle
        sizes = _batch_sizes(recorder)
        recorder.writer._last_batch_size = 2  # the last batch had company: under load
        answered = []
        for _ in range(3):
            started = time.perf_counter()
            recorder.record(target, VISITOR, utcnow())
            answered.append(time.perf_counter() - started)
            time.sleep(0.05)
        assert recorder.flush()
    finally:
        recorder.close()
    assert sizes == [3]
    assert max(answered) < 0.2


@pytest.fixture
def checkpoint_every_batch(sqlite_only: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checkpoint_module, "CHECKPOINT_BATCHES", 1)


def test_sqlite_wal_is_checkpointed_by_its_own_thread_not_the_writer(
    checkpoint_every_batch: None, engine: Engine, target: LinkTarget, tmp_path: Path
) -> None:
    recorder = ClickRecorder(engine, b"secret", tmp_path / "spool")
    click_ids = {recorder.record(target, VISITOR, utcnow()) for _ in range(3)}
    assert recorder.flush()
    assert _autocheckpoint(recorder) == 0  # the writer's commits never checkpoint

    database = str(make_url(str(engine.url)).database)

    def in_database_file() -> bool:
        # The database file alone, without its WAL: what checkpoints have copied into it.
        copy = tmp_path / "copy.db"
        shutil.copyfile(database, copy)
        with sqlite3.connect(copy) as connection:
            stored = {row[0] for row in connection.execute("SELECT click_id FROM clicks")}
        copy.unlink()
        return click_ids <= stored

    _wait_for(in_database_file)
    assert recorder.writer.checkpointer is not None
    checkpointer = recorder.writer.checkpointer.thread
    assert checkpointer is not None and checkpointer.name == "click-checkpoint"
    recorder.close()
    _wait_for(lambda: not checkpointer.is_alive())  # it ends with its writer


def test_past_the_wal_limit_the_writer_checkpoints_inline_again(
    checkpoint_every_batch: None,
    engine: Engine,
    target: LinkTarget,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(checkpoint_module, "WAL_LIMIT_FRAMES", -1)  # any WAL is too long
    recorder = ClickRecorder(engine, b"secret", tmp_path)
    try:
        recorder.record(target, VISITOR, utcnow())
        checkpoints = recorder.writer.checkpointer
        assert checkpoints is not None
        _wait_for(lambda: checkpoints.inline)
        recorder.record(target, VISITOR, utcnow())
        assert recorder.flush()
        assert _autocheckpoint(recorder) == checkpoint_module.INLINE_CHECKPOINT_FRAMES
    finally:
        recorder.close()


def test_no_checkpoint_thread_on_postgresql(
    engine: Engine, target: LinkTarget, tmp_path: Path
) -> None:
    recorder = ClickRecorder(engine, b"secret", tmp_path)
    try:
        recorder.record(target, VISITOR, utcnow())
        checkpointer = recorder.writer.checkpointer
        started = checkpointer is not None and checkpointer.thread is not None
        assert started == (engine.dialect.name == "sqlite")
    finally:
        recorder.close()
