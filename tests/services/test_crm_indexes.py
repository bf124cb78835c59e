"""Bulk CRM imports load without the records' secondary indexes and always put them back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from linktracker.crm import indexes
from linktracker.crm.indexes import deferrable_indexes, drop_indexes
from linktracker.crm.models import CrmImportError, CrmRecord
from linktracker.crm.services import ImportProgress, get_import
from linktracker.migrate import upgrade_database
from tests.services.crm_runs import count, fail_write, import_in_batches, store_numbered_rows

DEFERRABLE = {str(index.name) for index in deferrable_indexes()}


def _indexes(session: Session) -> set[str]:
    return {str(ix["name"]) for ix in inspect(session.connection()).get_indexes("crm_records")}


def _drop_deferrable(session: Session) -> None:
    drop_indexes(session.connection())
    session.commit()


@pytest.fixture
def bulk_from_50_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(indexes, "DEFER_ROWS", 50)


def test_the_deferrable_indexes_are_every_record_index_but_the_unique_key(
    session: Session,
) -> None:
    assert {
        "ix_crm_records_report",
        "ix_crm_records_won_created",
        "ix_crm_records_created_at",
        "ix_crm_records_last_import_id",
        "ix_crm_records_campaign_id",
        # The records tables' pages, by rep and by campaign, by date and by amount.
        "ix_crm_records_employee_page",
        "ix_crm_records_employee_amount",
        "ix_crm_records_campaign_page",
        "ix_crm_records_campaign_amount",
    } == DEFERRABLE
    assert _indexes(session) >= DEFERRABLE


@pytest.mark.usefixtures("bulk_from_50_rows")
@pytest.mark.parametrize("parser_process", [False, True], ids=["thread", "process"])
def test_a_bulk_import_loads_without_them_and_builds_them_at_the_end(
    session: Session, tmp_path: Path, parser_process: bool
) -> None:
    import_id = store_numbered_rows(session, tmp_path, 200)
    during: list[set[str]] = []

    def look(progress: ImportProgress) -> None:
        during.append(_indexes(session))

    done = import_in_batches(session, import_id, tmp_path, look, parser_process=parser_process)
    assert (done.state, done.rows, done.inserted, done.rejected) == ("done", 200, 172, 28)
    assert len(during) == 20 and all(not (seen & DEFERRABLE) for seen in during)
    assert _indexes(session) >= DEFERRABLE


@pytest.mark.usefixtures("bulk_from_50_rows")
def test_smaller_imports_and_dry_runs_keep_them(session: Session, tmp_path: Path) -> None:
    seen: list[set[str]] = []

    def look(progress: ImportProgress) -> None:
        seen.append(_indexes(session))

    # Below the threshold.
    import_in_batches(session, store_numbered_rows(session, tmp_path, 40), tmp_path, look)
    # A dry run writes no record.
    dry = store_numbered_rows(session, tmp_path, 200)
    import_in_batches(session, dry, tmp_path, look, dry_run=True)
    # Fewer rows than the table holds: indexing each costs less than rebuilding.
    import_in_batches(session, store_numbered_rows(session, tmp_path, 300), tmp_path)
    import_in_batches(session, store_numbered_rows(session, tmp_path, 60), tmp_path, look)
    # A re-import of as many rows, all unchanged, has nothing to index.
    again = import_in_batches(session, store_numbered_rows(session, tmp_path, 300), tmp_path, look)
    assert again.unchanged == 258
    assert len(seen) == 4 + 20 + 6 + 30 and all(names >= DEFERRABLE for names in seen)


@pytest.mark.usefixtures("bulk_from_50_rows")
def test_a_failing_bulk_import_puts_them_back_and_resumes(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_id = store_numbered_rows(session, tmp_path, 200)
    fail_write(monkeypatch, at=3)
    with pytest.raises(OSError, match="disk full"):
        import_in_batches(session, import_id, tmp_path)
    assert _indexes(session) >= DEFERRABLE
    session.expire_all()
    halfway = get_import(session, import_id)
    assert (halfway.state, halfway.rows) == ("failed", 20)
    assert count(session, CrmRecord) + count(session, CrmImportError) == 20
    monkeypatch.undo()
    done = import_in_batches(session, import_id, tmp_path)
    assert (done.state, done.rows, done.inserted, done.rejected) == ("done", 200, 172, 28)
    assert _indexes(session) >= DEFERRABLE


def test_indexes_a_killed_import_left_dropped_come_back_with_the_next_import(
    session: Session, tmp_path: Path
) -> None:
    _drop_deferrable(session)
    assert not (_indexes(session) & DEFERRABLE)
    import_in_batches(session, store_numbered_rows(session, tmp_path, 20), tmp_path)
    assert _indexes(session) >= DEFERRABLE


def test_indexes_a_killed_import_left_dropped_come_back_with_an_upgrade(
    session: Session,
) -> None:
    _drop_deferrable(session)
    engine = session.get_bind()
    session.close()
    upgrade_database(engine)  # type: ignore[arg-type]
    assert _indexes(session) >= DEFERRABLE
