"""The raw click export pages through clicks being written without skipping or repeating one.

Writers run side by side as the server's do: batches inserted through the click writer's own
statement (ClickInsert, autocommit), and transactions that hold their rows a while before they
commit, so on PostgreSQL rows with low ids commit after rows with higher ids.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from linktracker.clicks.export import ClickExport, export_rows, row_position
from linktracker.clicks.services import ClickInsert, click_row, insert_click_rows
from linktracker.clicks.visitor import Visitor, new_click_id
from linktracker.links.services import LinkTarget
from tests.factories import CHROME, make_campaign, make_employee, make_link

DAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
# On PostgreSQL the horizon is the whole server's oldest running transaction: other databases'
# work may hold it back a moment, so the last clicks are awaited this long.
SETTLE_SECONDS = 60.0


@pytest.fixture
def engine(app: Flask) -> Engine:
    engine: Engine = app.extensions["linktracker"].engine
    return engine


@pytest.fixture
def target(session: Session) -> LinkTarget:
    link = make_link(session, make_campaign(session), make_employee(session))
    return LinkTarget(
        link.id, link.employee_id, link.campaign_id, link.channel, link.destination_url, False, None
    )


def _rows(target: LinkTarget, count: int) -> list[dict[str, Any]]:
    visitor = Visitor("198.51.100.7", CHROME, None, None, "GET", "")
    return [
        click_row(target, visitor, secret=b"s", now=DAY, click_id=new_click_id())
        for _ in range(count)
    ]


class Exporter:
    """Pages through the export as a client does, remembering what each page held."""

    def __init__(self, app: Flask, limit: int) -> None:
        self.sessions = app.extensions["linktracker"].sessions
        self.postgresql = app.extensions["linktracker"].engine.dialect.name == "postgresql"
        self.export = ClickExport(limit=limit, include_bots=True)
        self.received: list[str] = []
        self.inversions = 0  # rows whose id is below one an earlier page returned
        self._highest_id = 0

    def page(self) -> list[tuple[Any, ...]]:
        with self.sessions() as session:
            rows = list(export_rows(session, self.export))
        for row in rows:
            self.received.append(row[0])
            if row[-2] < self._highest_id:
                self.inversions += 1
            self._highest_id = max(self._highest_id, row[-2])
        if rows:
            self.export = self.export.following(row_position(rows[-1], postgresql=self.postgresql))
        return rows

    def until(self, expected: set[str]) -> None:
        """Page on until every expected click arrived (or SETTLE_SECONDS passed)."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while not expected <= set(self.received) and time.monotonic() < deadline:
            if not self.page():
                time.sleep(0.05)


def _batch_writer(engine: Engine, target: LinkTarget, batches: int, made: list[str]) -> None:
    insert = ClickInsert(engine.dialect)
    connection = engine.raw_connection()
    insert.autocommit(connection)
    rng = random.Random()
    try:
        for _ in range(batches):
            rows = _rows(target, rng.randint(1, 12))
            insert.execute(connection, rows)
            made.extend(row["click_id"] for row in rows)
            time.sleep(rng.uniform(0, 0.003))
    finally:
        connection.invalidate()  # autocommit: not for the pool (the writer does the same)


def _slow_writer(engine: Engine, target: LinkTarget, transactions: int, made: list[str]) -> None:
    rng = random.Random()
    for _ in range(transactions):
        rows = _rows(target, rng.randint(1, 5))
        with engine.begin() as connection:
            insert_click_rows(connection, rows)
            time.sleep(rng.uniform(0.002, 0.02))  # holding its ids while others commit
        made.extend(row["click_id"] for row in rows)


def test_paging_while_clicks_are_written_returns_every_click_exactly_once(
    app: Flask, engine: Engine, target: LinkTarget
) -> None:
    made: list[str] = []
    writers = [
        threading.Thread(target=_batch_writer, args=(engine, target, 40, made)) for _ in range(4)
    ] + [threading.Thread(target=_slow_writer, args=(engine, target, 25, made)) for _ in range(3)]
    exporter = Exporter(app, limit=25)
    for thread in writers:
        thread.start()
    while any(thread.is_alive() for thread in writers):
        if not exporter.page():
            time.sleep(0.001)
    for thread in writers:
        thread.join()
    exporter.until(set(made))
    assert len(exporter.received) == len(set(exporter.received)), "a click came twice"
    assert set(exporter.received) == set(made), "a click was skipped"
    assert exporter.page() == []
    if engine.dialect.name == "postgresql":
        # The case the horizon is for did happen: rows with lower ids committed late.
        assert exporter.inversions > 0


def test_a_higher_id_committed_first_waits_for_the_open_transaction_holding_a_lower_id(
    app: Flask, engine: Engine, target: LinkTarget
) -> None:
    exporter = Exporter(app, limit=100)
    low, high = _rows(target, 1), _rows(target, 1)
    holder = engine.connect()
    transaction = holder.begin()
    insert_click_rows(holder, low)  # takes the lower id, not committed yet
    committed = threading.Event()

    def commit_high() -> None:
        with engine.begin() as connection:  # SQLite: waits for the holder's write lock
            insert_click_rows(connection, high)
        committed.set()

    writer = threading.Thread(target=commit_high)
    writer.start()
    try:
        committed.wait(timeout=0.5 if engine.dialect.name == "sqlite" else 10)
        if engine.dialect.name == "postgresql":
            assert committed.is_set()  # the higher id is committed and visible to everyone
        assert exporter.page() == []  # ... but handing it out now would skip the lower one
        assert exporter.received == []
    finally:
        transaction.commit()
        holder.close()
        writer.join()
    exporter.until({low[0]["click_id"], high[0]["click_id"]})
    assert exporter.received == [low[0]["click_id"], high[0]["click_id"]]


def test_a_rolled_back_transaction_does_not_stop_the_export(
    app: Flask, engine: Engine, target: LinkTarget
) -> None:
    exporter = Exporter(app, limit=10)
    with engine.connect() as connection:
        transaction = connection.begin()
        insert_click_rows(connection, _rows(target, 3))
        transaction.rollback()
    kept = _rows(target, 2)
    with engine.begin() as connection:
        insert_click_rows(connection, kept)
    exporter.until({row["click_id"] for row in kept})
    assert exporter.received == [row["click_id"] for row in kept]
