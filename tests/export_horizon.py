"""Waiting for the raw click export's horizon in tests that expect every click at once.

On PostgreSQL the export hands out only clicks stored by transactions older than every
transaction still running on the server (see linktracker/clicks/export.py): a transaction left
open by anything else on the same server (another database's tests, a benchmark) holds fresh
clicks back for a while. Tests that expect a click at once wait for that first.
"""

from __future__ import annotations

import time

from sqlalchemy import Engine, text

HORIZON_PASSED = text(
    "SELECT coalesce(max(xact_id), 0) < pg_snapshot_xmin(pg_current_snapshot())::text::bigint "
    "FROM clicks"
)


def wait_for_export_horizon(engine: Engine, timeout: float = 120.0) -> None:
    """Return once every stored click can be exported (at once on SQLite)."""
    if engine.dialect.name != "postgresql":
        return
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as connection:
            if connection.scalar(HORIZON_PASSED):
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"a transaction on the server stayed open for {timeout} s")
        time.sleep(0.05)
