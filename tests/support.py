"""Constants and helpers shared by the tests and their fixtures."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, text

from linktracker.models import Base

# Third-party corpora and CRM export samples the tests read; sources and licences in its README.
TEST_DATA = Path(__file__).resolve().parent / "data"
PASSWORD = "correct horse battery"


def clear_database(engine: Engine) -> None:
    """Empty every table of the models and restart the ids, as a fresh database would have them."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            _truncate(connection, tables)
        else:
            for name in tables:
                connection.execute(text(f"DELETE FROM {name}"))


def _truncate(connection: Connection, tables: list[str]) -> None:
    # TRUNCATE costs the same on an empty table (new files for the table and its indexes): a
    # TRUNCATE of all the tables took ~0.5 s a test. Only the tables holding rows are truncated
    # (CASCADE takes those referring to them), then every sequence used since its last restart
    # restarts, as RESTART IDENTITY would have done (a rolled-back insert also uses a sequence).
    holding = " UNION ALL ".join(
        f"SELECT '{name}' FROM (SELECT 1 FROM {name} LIMIT 1) AS {name}" for name in tables
    )
    full = [row[0] for row in connection.execute(text(holding))]
    if full:
        connection.execute(text(f"TRUNCATE {', '.join(full)} RESTART IDENTITY CASCADE"))
    connection.execute(
        text(
            "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false)"
            " FROM pg_sequences"
            " WHERE schemaname = current_schema() AND last_value IS NOT NULL"
        )
    )
