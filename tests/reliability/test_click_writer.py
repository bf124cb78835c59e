"""The click writer under load: batches gathered."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

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


def _batch_sizes(recorder: ClickRecorder) -> list[int]:
    sizes: list[int] = []
    execute = recorder._insert.execute

    def spy(connection: Any, rows: list[dict[str, Any]]) -> None:
        sizes.append(len(rows))
        execute(connection, rows)

    recorder._insert.execute = spy  # type: ignore[method-assign]
    return sizes


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
    recorder.record(target, VISITOR, utcnow())  # the writer is up and connected
    sizes = _batch_sizes(recorder)
    recorder._last_batch_size = 2  # the last batch had company: under load

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
