"""No click lost: database down or locked -> fast 302, durable spool, replayed exactly once."""

from __future__ import annotations

import fcntl
import gc
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy import Engine, func, make_url, select
from sqlalchemy.orm import Session

from bench.tcp_proxy import TcpProxy
from linktracker import create_app
from linktracker.clicks.models import Click
from linktracker.clicks.recorder import ClickRecorder
from linktracker.clicks.services import ClickInsert, click_row
from linktracker.clicks.spool import replay_spool, spool_status
from linktracker.clicks.visitor import Visitor
from linktracker.clicks.writer import BREAKER_SECONDS
from linktracker.db import make_engine, utcnow
from tests.factories import CHROME, make_link
from tests.reliability.clicks import FAST, link_target, spool_line, stored_click_ids


def _count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(select(func.count(Click.id))) or 0)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens there once the probe is closed


def _timed_get(app: Flask, path: str) -> float:
    started = time.perf_counter()
    response = app.test_client().get(path, headers={"User-Agent": CHROME})
    elapsed = time.perf_counter() - started
    assert response.status_code == 302
    assert "lt_cid=" in response.headers["Location"]
    return elapsed


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def _spooled(folder: object) -> int:
    return sum(file.rows for file in spool_status(str(folder)) if not file.journal)


@contextmanager
def _locked_clicks(url: str) -> Iterator[None]:
    """Another connection holds the write lock: SQLite BEGIN EXCLUSIVE, PostgreSQL LOCK TABLE."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(parsed.database), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    else:
        dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn) as holder:
            holder.execute("LOCK TABLE clicks IN ACCESS EXCLUSIVE MODE")
            yield
            holder.rollback()


# ------------------------------------------------------------------ database unreachable


def test_unreachable_database_spools_every_click_and_replay_inserts_each_once(
    session: Session, engine: Engine, tmp_path: Path
) -> None:
    target = link_target(make_link(session))
    dead = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/none")
    recorder = ClickRecorder(dead, b"secret", tmp_path / "spool")
    visitor = Visitor("203.0.113.9", CHROME, None, None, "GET", "")
    ids = []
    # A full garbage collection of the whole test session's objects landed in the first
    # record (0.1 s) depending on which other test modules were collected; not the recorder's.
    gc.collect()
    for _ in range(20):
        started = time.perf_counter()
        ids.append(recorder.record(target, visitor, utcnow()))
        assert time.perf_counter() - started < FAST
    assert recorder.flush()
    assert _spooled(tmp_path / "spool") == 20
    recorder.close()  # its replay against the dead database fails: the files stay
    dead.dispose()
    [spool_file] = list((tmp_path / "spool").iterdir())
    shutil.copy(spool_file, tmp_path / "copy.jsonl")

    first = replay_spool(engine, tmp_path / "spool")
    assert (first.files, first.rows, first.inserted) == (1, 20, 20)
    assert sorted(stored_click_ids(engine)) == sorted(ids)
    assert not list((tmp_path / "spool").iterdir())

    # A replay interrupted after its insert (file not yet deleted) simply runs again.
    (tmp_path / "spool").joinpath(spool_file.name).write_bytes(
        (tmp_path / "copy.jsonl").read_bytes()
    )
    again = replay_spool(engine, tmp_path / "spool")
    assert (again.rows, again.inserted) == (20, 0)
    assert _count(engine) == 20


def test_redirect_answers_fast_while_postgresql_is_unreachable_then_replays(
    config: dict[str, object], session: Session, engine: Engine
) -> None:
    url = make_url(str(config["DATABASE_URL"]))
    if url.get_backend_name() != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    link = make_link(session)
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        app = create_app(config | {"DATABASE_URL": proxied})
        try:
            _timed_get(app, f"/{link.code}")  # up: caches the link and the settings
            recorder = app.extensions["linktracker"].recorder
            assert recorder.flush()  # stored before the cut
            proxy.cut()
            slowest = max(_timed_get(app, f"/{link.code}") for _ in range(10))
            assert slowest < FAST
            assert recorder.flush()  # journaled clicks: the writer spools them just after
            assert _count(engine) == 1
            assert _spooled(config["SPOOL_FOLDER"]) == 10
            proxy.restore()
            time.sleep(BREAKER_SECONDS + 0.1)
            _timed_get(app, f"/{link.code}")  # the database answers again: replay starts
            _wait_for(lambda: _count(engine) == 12)
        finally:
            app.extensions["linktracker"].dispose()
    assert _count(engine) == 12
    assert len(set(stored_click_ids(engine))) == 12
    assert _spooled(config["SPOOL_FOLDER"]) == 0


# ------------------------------------------------------------------ database locked


def test_redirect_answers_fast_while_the_clicks_table_is_locked_then_replays_once(
    app: Flask, config: dict[str, object], session: Session, engine: Engine
) -> None:
    link = make_link(session)
    _timed_get(app, f"/{link.code}")
    assert app.extensions["linktracker"].recorder.flush()  # stored before the lock
    with _locked_clicks(str(config["DATABASE_URL"])):
        slowest = max(_timed_get(app, f"/{link.code}") for _ in range(5))
        assert slowest < FAST
        assert app.extensions["linktracker"].recorder.flush()
        assert _spooled(config["SPOOL_FOLDER"]) == 5
    time.sleep(BREAKER_SECONDS + 0.1)
    _timed_get(app, f"/{link.code}")
    # The spool is replayed once the breaker has passed (on the writer's timer, or after the
    # insert of this last click), and this last click stored by the writer after its answer.
    _wait_for(lambda: _spooled(config["SPOOL_FOLDER"]) == 0)
    assert app.extensions["linktracker"].recorder.flush()
    # On PostgreSQL the blocked insert also went through once the lock was released: the
    # replay skipped those click ids instead of storing them twice.
    assert _count(engine) == 7
    assert len(set(stored_click_ids(engine))) == 7


# ------------------------------------------------------------------ concurrency


def test_concurrent_redirects_through_a_lock_lose_no_click(
    app: Flask, config: dict[str, object], session: Session, engine: Engine
) -> None:
    link = make_link(session)
    per_thread, threads = 40, 8
    answered: list[int] = []
    errors: list[BaseException] = []

    def visit() -> None:
        client = app.test_client()
        try:
            for _ in range(per_thread):
                assert client.get(f"/{link.code}").status_code == 302
                answered.append(1)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    workers = [threading.Thread(target=visit) for _ in range(threads)]
    lock: AbstractContextManager[None] = _locked_clicks(str(config["DATABASE_URL"]))
    for worker in workers:
        worker.start()
    time.sleep(0.05)
    with lock:  # part of the traffic meets a locked table
        time.sleep(0.3)
    for worker in workers:
        worker.join()
    assert not errors
    assert len(answered) == per_thread * threads
    replay_spool(engine, str(config["SPOOL_FOLDER"]))  # whatever the app has not replayed yet
    app.extensions["linktracker"].recorder.close()  # hands over its own spool file too
    replay_spool(engine, str(config["SPOOL_FOLDER"]))
    assert _count(engine) == per_thread * threads
    assert len(set(stored_click_ids(engine))) == per_thread * threads


# ------------------------------------------------------------------ the spool itself


def test_a_torn_last_spool_line_is_skipped_and_the_rest_replayed(
    session: Session, engine: Engine, tmp_path: Path
) -> None:
    link = make_link(session)
    good = "".join(spool_line(link, f"spooled-{n}") for n in range(3))
    torn = spool_line(link, "torn")[:40]  # the process died mid-write, before answering
    (tmp_path / "clicks-1-1.jsonl").write_text(good + torn)
    [status] = spool_status(tmp_path)
    assert (status.rows, status.unreadable, status.in_use) == (3, 1, False)
    result = replay_spool(engine, tmp_path)
    assert (result.rows, result.inserted, result.unreadable) == (3, 3, 1)
    assert sorted(stored_click_ids(engine)) == ["spooled-0", "spooled-1", "spooled-2"]


def test_replay_leaves_a_file_a_live_process_still_writes(
    session: Session, engine: Engine, tmp_path: Path
) -> None:
    link = make_link(session)
    dead = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/none")
    recorder = ClickRecorder(dead, b"secret", tmp_path)
    recorder.record(link_target(link), Visitor("", "", None, None, "GET", ""), utcnow())
    assert recorder.flush()
    result = replay_spool(engine, tmp_path)
    # Both held: its spool file and its click journal.
    assert (result.files, result.in_use, _count(engine)) == (0, 2, 0)
    recorder.close()
    dead.dispose()
    assert replay_spool(engine, tmp_path).inserted == 1


def test_replay_waits_out_a_status_check_looking_at_the_file(
    session: Session, engine: Engine, tmp_path: Path
) -> None:
    link = make_link(session)
    path = tmp_path / "clicks-1-1.jsonl"
    path.write_text(spool_line(link, "looked-at"))
    with open(path, "rb") as looker:  # what `spool status` holds while it counts lines
        fcntl.flock(looker.fileno(), fcntl.LOCK_SH)
        threading.Timer(0.1, looker.close).start()
        result = replay_spool(engine, tmp_path)
    assert (result.files, result.in_use, result.inserted) == (1, 0, 1)
    assert stored_click_ids(engine) == ["looked-at"]


def test_status_checks_do_not_hold_each_other_up(session: Session, tmp_path: Path) -> None:
    link = make_link(session)
    path = tmp_path / "clicks-1-1.jsonl"
    path.write_text(spool_line(link, "counted"))
    with open(path, "rb") as looker:
        fcntl.flock(looker.fileno(), fcntl.LOCK_SH)
        [status] = spool_status(tmp_path)
    assert (status.rows, status.in_use) == (1, False)


def test_spool_cli_reports_and_replays(
    app: Flask, config: dict[str, object], session: Session, engine: Engine, tmp_path: Path
) -> None:
    link = make_link(session)
    spool = Path(str(config["SPOOL_FOLDER"]))
    spool.mkdir(parents=True)
    (spool / "clicks-1-1.jsonl").write_text(spool_line(link, "a") + spool_line(link, "b"))
    runner = app.test_cli_runner()
    status = runner.invoke(args=["spool", "status"])
    assert status.exit_code == 0, status.output
    assert "clicks-1-1.jsonl: 2 click(s), waiting for replay" in status.output

    down = create_app(config | {
        "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/none",
    })  # fmt: skip
    failed = down.test_cli_runner().invoke(args=["spool", "replay"])
    down.extensions["linktracker"].dispose()
    assert failed.exit_code == 1
    assert "still unavailable" in failed.output and "spool files are kept" in failed.output
    assert _count(engine) == 0 and (spool / "clicks-1-1.jsonl").exists()

    replayed = runner.invoke(args=["spool", "replay"])
    assert replayed.exit_code == 0, replayed.output
    assert "2 click(s) read, 2 new, 0 already stored" in replayed.output
    assert sorted(stored_click_ids(engine)) == ["a", "b"]
    assert "0 spooled click(s) in 0 file(s)" in runner.invoke(args=["spool", "status"]).output


# ------------------------------------------------------------------ the writer's batch insert


def test_a_batch_is_one_insert_storing_every_value_and_skipping_stored_click_ids(
    session: Session, engine: Engine
) -> None:
    link = make_link(session)
    target = link_target(link)
    now = utcnow()
    visitors = [
        Visitor("203.0.113.7", CHROME, "https://www.linkedin.com/feed/", "DE", "GET", "a=1"),
        Visitor("198.51.100.2", "LinkedInBot/1.0", None, None, "HEAD", ""),
    ]
    rows = [
        click_row(target, visitors[i % 2], secret=b"k", now=now, click_id=f"batch-{i:04d}")
        for i in range(ClickInsert.MAX_ROWS * 2 + 7)  # statements of several sizes
    ]
    insert = ClickInsert(engine.dialect)
    connection = engine.raw_connection()
    try:
        insert.autocommit(connection)
        insert.execute(connection, rows[:2])  # already stored: the batch below skips them
        insert.execute(connection, rows)
    finally:
        connection.close()
    assert sorted(stored_click_ids(engine)) == sorted(row["click_id"] for row in rows)
    with engine.connect() as reading:
        stored = reading.execute(
            select(Click).where(Click.click_id.in_(["batch-0000", "batch-0001"]))
        ).all()
    by_id = {row.click_id: row for row in stored}
    for row in rows[:2]:
        click = by_id[row["click_id"]]
        assert {key: getattr(click, key) for key in row} == row


def test_a_batch_is_stored_whole_or_not_at_all(session: Session, engine: Engine) -> None:
    target = link_target(make_link(session))
    visitor = Visitor("203.0.113.7", CHROME, None, None, "GET", "")
    rows = [
        click_row(target, visitor, secret=b"k", now=utcnow(), click_id=f"whole-{i:04d}")
        for i in range(ClickInsert.MAX_ROWS + 3)  # SQLite: three statements
    ]
    rows[-1]["visitor_hash"] = None  # NOT NULL: the last statement fails
    insert = ClickInsert(engine.dialect)
    connection = engine.raw_connection()
    try:
        insert.autocommit(connection)
        with pytest.raises(engine.dialect.loaded_dbapi.IntegrityError):
            insert.execute(connection, rows)
    finally:
        connection.close()
    assert _count(engine) == 0
