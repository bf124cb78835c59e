"""Constants and helpers shared by the tests and their fixtures."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text

from linktracker.models import Base

# Third-party corpora and CRM export samples the tests read; sources and licences in its README.
TEST_DATA = Path(__file__).resolve().parent / "data"
PASSWORD = "correct horse battery"


def clear_database(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                connection.execute(text(f"DELETE FROM {name}"))
