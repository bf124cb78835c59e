"""When a process replays spooled clicks: its own at once, leftovers on a timer, never into a
database that failed a moment ago."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from linktracker.clicks.replay import ReplayTimer
from linktracker.clicks.services import click_row
from linktracker.clicks.spool import ClickSpool
from linktracker.clicks.spooler import Spooler
from linktracker.clicks.visitor import Visitor
from linktracker.db import make_engine, utcnow
from linktracker.links.services import LinkTarget

TARGET = LinkTarget(1, 1, 1, "linkedin", "https://example.com/", False, None)
VISITOR = Visitor("203.0.113.9", "Mozilla/5.0", None, None, "GET", "")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A database without a clicks table: every replay into it fails."""
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    yield engine
    engine.dispose()


def _row(click_id: str) -> dict[str, object]:
    return click_row(TARGET, VISITOR, secret=b"s", now=utcnow(), click_id=click_id)


def _leave_spool_file(folder: Path) -> None:
    """A spool file as a killed process leaves it: written, then let go."""
    spool = ClickSpool(folder)
    spool.append([_row("left-behind")])
    spool.close()


def _failed_replays(caplog: pytest.LogCaptureFixture) -> int:
    return caplog.text.count("spool replay failed")


def _wait_for_failed_replays(caplog: pytest.LogCaptureFixture, count: int) -> None:
    deadline = time.monotonic() + 10
    while _failed_replays(caplog) < count:
        assert time.monotonic() < deadline, "no replay was tried"
        time.sleep(0.02)


def test_an_idle_writer_looks_for_leftovers_every_replay_seconds(
    engine: Engine, tmp_path: Path
) -> None:
    timer = ReplayTimer(engine, Spooler(tmp_path), replay_seconds=7.0)
    assert timer.idle_seconds(database_back_at=0.0) == 0.1  # never looked yet: at once
    timer.replay_when_due(database_back_at=0.0, idle=True)  # nothing to replay
    assert 6.5 < timer.idle_seconds(database_back_at=0.0) <= 7.0


def test_our_own_spool_is_replayed_as_soon_as_the_database_may_answer(
    engine: Engine, tmp_path: Path
) -> None:
    spooler = Spooler(tmp_path)
    timer = ReplayTimer(engine, spooler, replay_seconds=7.0)
    timer.replay_when_due(database_back_at=0.0, idle=True)  # leftovers checked just now
    spooler.append([_row("ours")])
    back_at = time.monotonic() + 1.0
    assert 0.5 < timer.idle_seconds(database_back_at=back_at) <= 1.0


def test_no_replay_while_the_database_failed_a_moment_ago(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _leave_spool_file(tmp_path)
    timer = ReplayTimer(engine, Spooler(tmp_path))
    timer.replay_when_due(database_back_at=time.monotonic() + 60)
    time.sleep(0.2)
    assert _failed_replays(caplog) == 0  # not even tried
    assert len(list(tmp_path.glob("clicks-*.jsonl"))) == 1


def test_after_a_failed_replay_the_next_insert_retries_not_the_idle_writer(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _leave_spool_file(tmp_path)
    timer = ReplayTimer(engine, Spooler(tmp_path), replay_seconds=60.0)
    timer.replay_when_due(database_back_at=0.0, idle=True)
    _wait_for_failed_replays(caplog, 1)
    time.sleep(0.1)  # the failed replay has let go
    timer.replay_when_due(database_back_at=0.0, idle=True)
    time.sleep(0.2)
    assert _failed_replays(caplog) == 1  # an idle writer waits replay_seconds
    timer.replay_when_due(database_back_at=0.0)  # an insert: the database answers again
    _wait_for_failed_replays(caplog, 2)
    assert len(list(tmp_path.glob("clicks-*.jsonl"))) == 1  # nothing lost
