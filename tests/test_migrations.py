"""One Alembic head, and `upgrade` on an empty database yields exactly the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from linktracker.db import make_engine
from linktracker.migrate import head_revisions
from linktracker.models import Base


def test_migrations_have_a_single_head() -> None:
    assert len(head_revisions()) == 1


def test_upgrade_on_empty_database_matches_the_models(migrated: str) -> None:
    engine = make_engine(migrated)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []
