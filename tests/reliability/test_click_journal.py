"""CLICK_DURABILITY=journal: a redirect is answered once its click is journaled, never lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from linktracker import create_app
from linktracker.clicks import spool as spool_module
from linktracker.clicks import writer as writer_module
from linktracker.clicks.recorder import ClickRecorder
from linktracker.clicks.services import click_row
from linktracker.clicks.spool import replay_spool, spool_status
from linktracker.clicks.visitor import Visitor
from linktracker.db import utcnow
from tests.factories import CHROME, make_link
from tests.reliability.clicks import FAST, link_target, stored_click_ids

VISITOR = Visitor("203.0.113.9", CHROME, None, None, "GET", "")


def _files(folder: Path) -> dict[str, int]:
    """File kind -> rows, for every spool and journal file in the folder."""
    kinds: dict[str, int] = {}
    for file in spool_status(folder):
        kind = "journal" if file.journal else "spool"
        kinds[kind] = kinds.get(kind, 0) + file.rows
    return kinds


@pytest.fixture
def blocked(engine: Engine, tmp_path: Path) -> Iterator[tuple[ClickRecorder, threading.Event]]:
    """A journaling recorder whose database inserts wait until the event is set."""
    recorder = ClickRecorder(engine, b"secret", tmp_path)
    go_on = threading.Event()
    execute = recorder.writer._insert.execute

    def held(connection: Any, rows: list[dict[str, Any]]) -> None:
        go_on.wait(10)
        execute(connection, rows)

    recorder.writer._insert.execute = held  # type: ignore[method-assign]
    yield recorder, go_on
    go_on.set()
    recorder.close()


def test_the_redirect_is_answered_once_the_click_is_journaled_and_stored_after(
    blocked: tuple[ClickRecorder, threading.Event],
    session: Session,
    engine: Engine,
    tmp_path: Path,
) -> None:
    recorder, go_on = blocked
    target = link_target(make_link(session))
    first = recorder.record(target, VISITOR, utcnow())  # also compiles the crawler patterns
    started = time.perf_counter()
    second = recorder.record(target, VISITOR, utcnow())
    assert time.perf_counter() - started < FAST
    [journal] = tmp_path.glob("journal-*.jsonl")
    assert first in journal.read_text() and second in journal.read_text()
    assert stored_click_ids(engine) == []  # not stored yet: the insert is held
    go_on.set()
    assert recorder.flush()
    assert sorted(stored_click_ids(engine)) == sorted([first, second])
    recorder.close()
    assert list(tmp_path.iterdir()) == []  # every row stored: the journal is gone


def test_while_the_writer_hangs_redirects_spool_instead_of_queueing(
    blocked: tuple[ClickRecorder, threading.Event], session: Session, tmp_path: Path
) -> None:
    recorder, go_on = blocked
    recorder.wait_seconds = 0.1
    target = link_target(make_link(session))
    recorder.record(target, VISITOR, utcnow())  # its batch hangs
    time.sleep(0.2)
    started = time.perf_counter()
    recorder.record(target, VISITOR, utcnow())
    assert time.perf_counter() - started < FAST
    assert _files(tmp_path) == {"journal": 1, "spool": 1}


def test_full_journal_files_are_deleted_once_every_row_is_stored(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    recorder = ClickRecorder(engine, b"secret", tmp_path)
    recorder.journal.segment_rows = 3  # type: ignore[union-attr]
    target = link_target(make_link(session))
    ids = [recorder.record(target, VISITOR, utcnow()) for _ in range(10)]
    assert recorder.flush()
    assert _files(tmp_path) == {"journal": 1}  # the fourth file, holding the tenth click
    recorder.close()
    assert list(tmp_path.iterdir()) == []
    assert sorted(stored_click_ids(engine)) == sorted(ids)


def test_only_the_fsyncd_spool_fsyncs_its_directory_not_the_journal(
    engine: Engine, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A journal's rows survive the process, not a power cut: its file name needs no directory
    # fsync, which on a busy disk held every request of the process for 100+ ms.
    synced: list[Path] = []
    monkeypatch.setattr(spool_module, "_fsync_directory", synced.append)
    recorder = ClickRecorder(engine, b"secret", tmp_path / "spool")
    try:
        recorder.journal.segment_rows = 2  # type: ignore[union-attr]
        target = link_target(make_link(session))
        for _ in range(5):  # three journal files
            recorder.record(target, VISITOR, utcnow())
        assert recorder.flush()
        assert synced == []
        recorder.spooler.append(
            [click_row(target, VISITOR, secret=b"s", now=utcnow(), click_id="spooled-1")]
        )
        assert synced == [tmp_path / "spool"]
    finally:
        recorder.close()


def test_a_failing_writer_spools_the_journaled_clicks(
    engine: Engine, session: Session, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = ClickRecorder(engine, b"secret", tmp_path)

    def broken(connection: Any, rows: list[dict[str, Any]]) -> None:
        raise RuntimeError("a bug in the writer")

    recorder.writer._insert.execute = broken  # type: ignore[method-assign]
    target = link_target(make_link(session))
    click_id = recorder.record(target, VISITOR, utcnow())
    assert recorder.flush()
    assert "click batch could not be stored; spooling it" in caplog.text
    assert _files(tmp_path) == {"journal": 1, "spool": 1}
    recorder.close()  # the journal goes (its row is in the spool); the spool is replayed
    assert _files(tmp_path) == {}
    assert stored_click_ids(engine) == [click_id]


def test_commit_durability_stores_the_click_before_answering(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    recorder = ClickRecorder(engine, b"secret", tmp_path, durability="commit")
    try:
        click_id = recorder.record(link_target(make_link(session)), VISITOR, utcnow())
        assert stored_click_ids(engine) == [click_id]  # no flush needed
        assert list(tmp_path.glob("journal-*")) == []
    finally:
        recorder.close()


def test_an_unknown_durability_is_refused(config: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="click durability must be one of journal, commit"):
        create_app({**config, "CLICK_DURABILITY": "fast"})


def test_the_app_journals_by_default(app: Flask) -> None:
    assert app.extensions["linktracker"].recorder.journal is not None


KILLED_SERVER = """
import sys, threading, time
from linktracker.clicks.recorder import ClickRecorder
from linktracker.clicks.services import click_row
from linktracker.clicks.visitor import Visitor
from linktracker.db import make_engine, utcnow
from linktracker.links.services import LinkTarget

url, folder, link, employee, campaign = sys.argv[1:6]
recorder = ClickRecorder(make_engine(url), b"secret", folder)
recorder.writer._insert.execute = lambda connection, rows: threading.Event().wait()  # hangs
target = LinkTarget(int(link), int(employee), int(campaign), "linkedin",
                    "https://example.com/", False, None)
visitor = Visitor("203.0.113.9", "Mozilla/5.0", None, None, "GET", "")
for _ in range(5):
    print(recorder.record(target, visitor, utcnow()), flush=True)
time.sleep(60)
"""


def test_a_killed_server_leaves_its_journal_and_replay_stores_each_click_once(
    engine: Engine, config: dict[str, object], session: Session, tmp_path: Path
) -> None:
    link = make_link(session)
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [
            sys.executable,
            "-c",
            KILLED_SERVER,
            str(config["DATABASE_URL"]),
            str(tmp_path),
            str(link.id),
            str(link.employee_id),
            str(link.campaign_id),
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    answered = [child.stdout.readline().strip() for _ in range(5)]
    os.kill(child.pid, signal.SIGKILL)  # answered, never stored, no clean shutdown
    child.wait()
    assert stored_click_ids(engine) == []
    assert _files(tmp_path) == {"journal": 5}
    result = replay_spool(engine, tmp_path)
    assert (result.files, result.inserted) == (1, 5)
    assert sorted(stored_click_ids(engine)) == sorted(answered)
    assert list(tmp_path.iterdir()) == []


def test_spool_status_lists_a_running_servers_journal_apart_from_clicks_to_replay(
    app: Flask, session: Session
) -> None:
    link = make_link(session)
    assert app.test_client().get(f"/{link.code}").status_code == 302
    assert app.extensions["linktracker"].recorder.flush()
    output = app.test_cli_runner().invoke(args=["spool", "status"]).output
    assert "1 click(s), a running server's click journal, stored as it goes" in output
    assert "0 spooled click(s) in 0 file(s)" in output


def test_without_a_usable_journal_a_redirect_waits_for_the_commit(
    engine: Engine, session: Session, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "not-a-folder").write_text("")
    recorder = ClickRecorder(engine, b"secret", tmp_path / "not-a-folder" / "spool")
    try:
        click_id = recorder.record(link_target(make_link(session)), VISITOR, utcnow())
        assert stored_click_ids(engine) == [click_id]  # stored before record() returned
        assert "click journal unavailable" in caplog.text
    finally:
        recorder.close()


def test_without_a_usable_journal_the_redirect_does_not_wait_through_the_long_gather(
    engine: Engine, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "JOURNAL_GATHER_SECONDS", 1.0)
    (tmp_path / "not-a-folder").write_text("")
    recorder = ClickRecorder(engine, b"secret", tmp_path / "not-a-folder" / "spool")
    try:
        target = link_target(make_link(session))
        recorder.record(target, VISITOR, utcnow())
        recorder.writer._last_batch_size = 2  # under load
        started = time.perf_counter()
        click_id = recorder.record(target, VISITOR, utcnow())
        assert time.perf_counter() - started < 0.5
        assert click_id in stored_click_ids(engine)  # stored before record() returned
    finally:
        recorder.close()


def test_a_full_journal_file_goes_even_when_the_next_one_cannot_be_written(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    recorder = ClickRecorder(engine, b"secret", tmp_path / "spool")
    journal = recorder.journal
    assert journal is not None
    journal.segment_rows = 1
    try:
        target = link_target(make_link(session))
        first = recorder.record(target, VISITOR, utcnow())
        assert recorder.flush()  # stored: its full file only waits for the next click
        assert _files(tmp_path / "spool") == {"journal": 1}
        (tmp_path / "not-a-folder").write_text("")
        journal.folder = tmp_path / "not-a-folder" / "spool"
        second = recorder.record(target, VISITOR, utcnow())  # waits for the commit instead
        assert list((tmp_path / "spool").iterdir()) == []
        assert sorted(stored_click_ids(engine)) == sorted([first, second])
    finally:
        recorder.close()


def test_a_failed_spool_write_keeps_every_row_for_the_next_writer(
    engine: Engine, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = ClickRecorder(engine, b"secret", tmp_path)
    target = link_target(make_link(session))
    rows = [
        click_row(target, VISITOR, secret=b"k", now=utcnow(), click_id=f"late-{i}")
        for i in range(2)
    ]
    append = recorder.spool.append

    def full_disk(rows: list[dict[str, Any]], *, sync: bool = True) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(recorder.spool, "append", full_disk)
    with pytest.raises(OSError, match="No space left"):
        recorder.spooler.append(rows[:1])
    monkeypatch.setattr(recorder.spool, "append", append)
    recorder.spooler.append(rows[1:])  # the next holder writes the first row too
    recorder.close()
    assert sorted(stored_click_ids(engine)) == ["late-0", "late-1"]


def test_replay_does_not_wait_for_a_live_servers_journal(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    recorder = ClickRecorder(engine, b"secret", tmp_path)
    try:
        recorder.record(link_target(make_link(session)), VISITOR, utcnow())
        started = time.perf_counter()
        result = replay_spool(engine, tmp_path)
        assert time.perf_counter() - started < 0.25  # a spool file would get 0.5 s
        assert (result.files, result.in_use) == (0, 1)
    finally:
        recorder.close()
