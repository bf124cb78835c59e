"""The process's spool: rows of many threads written together, handed over for replay."""

from __future__ import annotations

import threading
from pathlib import Path

from linktracker.clicks.services import click_row
from linktracker.clicks.spool import spool_status
from linktracker.clicks.spooler import Spooler
from linktracker.clicks.visitor import Visitor
from linktracker.db import utcnow
from linktracker.links.services import LinkTarget

TARGET = LinkTarget(1, 1, 1, "linkedin", "https://example.com/", False, None)
VISITOR = Visitor("203.0.113.9", "Mozilla/5.0", None, None, "GET", "")


def _row(click_id: str) -> dict[str, object]:
    return click_row(TARGET, VISITOR, secret=b"s", now=utcnow(), click_id=click_id)


def test_rows_spooled_by_many_threads_all_land_in_one_file(tmp_path: Path) -> None:
    spooler = Spooler(tmp_path)

    def spool(thread: int) -> None:
        for i in range(20):
            spooler.append([_row(f"{thread}-{i}")])

    threads = [threading.Thread(target=spool, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [file] = spool_status(tmp_path)
    assert (file.rows, file.unreadable, file.in_use) == (160, 0, True)


def test_hand_over_lets_a_replay_take_the_file_and_the_next_row_opens_another(
    tmp_path: Path,
) -> None:
    spooler = Spooler(tmp_path)
    assert spooler.hand_over() is False  # nothing spooled, nothing held
    spooler.append([_row("first")])
    assert spooler.holding
    assert spooler.hand_over() is True
    assert not spooler.holding
    assert [file.in_use for file in spool_status(tmp_path)] == [False]
    spooler.append([_row("second")])
    assert sorted(file.in_use for file in spool_status(tmp_path)) == [False, True]
    spooler.hand_over()
