"""Raw CRM uploads: private files, deleted after retention while records and summaries stay."""

from __future__ import annotations

import io
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from linktracker.crm.locks import import_lock
from linktracker.crm.models import CrmImport, CrmRecord
from linktracker.crm.services import (
    ImportContext,
    ImportOptions,
    ImportSummary,
    get_import,
    import_crm_file,
    purge_raw_files,
    raw_upload,
    store_upload,
    upload_and_import,
)
from linktracker.db import utcnow
from linktracker.errors import Gone
from tests.services.crm_exports import export

SECRET = b"test-secret"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def imported(
    session: Session, folder: Path, data: bytes, raw_retention_days: int | None = None
) -> ImportSummary:
    return upload_and_import(
        session,
        io.BytesIO(data),
        ImportContext(folder, SECRET, raw_retention_days=raw_retention_days),
        ImportOptions(),
        filename="leads.csv",
    )


def age(session: Session, import_id: int, days: int) -> None:
    """Make an import look uploaded and finished ``days`` days ago."""
    then = utcnow() - timedelta(days=days)
    session.execute(
        update(CrmImport)
        .where(CrmImport.id == import_id)
        .values(uploaded_at=then, finished_at=then)
    )
    session.commit()


def records(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(CrmRecord)) or 0


def test_raw_uploads_are_readable_by_the_service_user_only(
    session: Session, tmp_path: Path
) -> None:
    (tmp_path / "crm").mkdir(mode=0o755)  # a folder made before uploads were private
    (tmp_path / "crm").chmod(0o755)
    summary = imported(session, tmp_path, export(10))
    raw = raw_upload(session, summary.id, upload_folder=tmp_path).path
    assert mode(raw) == 0o600
    assert mode(tmp_path / "crm") == 0o700
    assert mode(raw.parent) == 0o700 and mode(tmp_path / "crm" / "incoming") == 0o700
    assert [p for p in (tmp_path / "crm" / "incoming").iterdir()] == []


def test_purge_deletes_raw_files_past_retention_and_keeps_records_and_summaries(
    session: Session, tmp_path: Path
) -> None:
    old = imported(session, tmp_path, export(10))
    recent = imported(session, tmp_path, export(12))
    abandoned = store_upload(session, io.BytesIO(b"x"), filename="a.csv", upload_folder=tmp_path)
    waiting = store_upload(session, io.BytesIO(b"y"), filename="b.csv", upload_folder=tmp_path)
    age(session, old.id, 31)
    age(session, recent.id, 29)
    age(session, abandoned.id, 31)
    paths = {
        i: raw_upload(session, i, upload_folder=tmp_path).path
        for i in (old.id, recent.id, abandoned.id, waiting.id)
    }

    purged = purge_raw_files(session, upload_folder=tmp_path, retention_days=30)

    assert (purged.import_ids, purged.files) == ((old.id, abandoned.id), 2)
    assert [i for i, path in paths.items() if path.exists()] == [recent.id, waiting.id]
    session.expire_all()
    kept = get_import(session, old.id)
    assert (kept.state, kept.rows, kept.inserted) == ("done", 10, 10)
    assert kept.raw_deleted_at is not None
    assert get_import(session, recent.id).raw_deleted_at is None
    assert records(session) == 12  # the recent file re-imported the old one's ten records too
    with pytest.raises(Gone) as gone:
        raw_upload(session, old.id, upload_folder=tmp_path)
    assert gone.value.message == (
        f"The raw file of import {old.id} was deleted on {kept.raw_deleted_at:%Y-%m-%d} by "
        "the retention setting (CRM_RAW_RETENTION_DAYS); the import's records and summary "
        "are kept. Upload the file again to import it again."
    )
    with pytest.raises(Gone):  # an abandoned upload cannot run without its file
        import_crm_file(session, abandoned.id, context=ImportContext(tmp_path, SECRET))
    again = purge_raw_files(session, upload_folder=tmp_path, retention_days=30)
    assert (again.import_ids, again.files) == ((), 0)


def test_zero_days_deletes_the_raw_file_once_its_import_is_done(
    session: Session, tmp_path: Path
) -> None:
    summary = imported(session, tmp_path, export(10), raw_retention_days=0)
    assert (summary.state, summary.rows, summary.inserted) == ("done", 10, 10)
    assert summary.raw_deleted_at is not None
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert records(session) == 10
    pending = store_upload(session, io.BytesIO(b"z"), filename="c.csv", upload_folder=tmp_path)
    purged = purge_raw_files(session, upload_folder=tmp_path, retention_days=0)
    assert purged.import_ids == ()  # awaiting confirmation: kept at least a day
    assert raw_upload(session, pending.id, upload_folder=tmp_path).path.exists()


def test_a_negative_retention_keeps_raw_files_and_a_running_import_keeps_its_own(
    session: Session, tmp_path: Path
) -> None:
    summary = imported(session, tmp_path, export(10))
    age(session, summary.id, 400)
    assert purge_raw_files(session, upload_folder=tmp_path, retention_days=-1).import_ids == ()
    running = store_upload(session, io.BytesIO(b"r"), filename="r.csv", upload_folder=tmp_path)
    session.execute(update(CrmImport).where(CrmImport.id == running.id).values(state="running"))
    session.commit()
    age(session, running.id, 400)
    with import_lock(session, running.id, None):
        purged = purge_raw_files(session, upload_folder=tmp_path, retention_days=30)
    assert purged.import_ids == (summary.id,)
    assert raw_upload(session, running.id, upload_folder=tmp_path).path.exists()


def test_a_file_two_imports_share_goes_only_with_the_last_of_them(
    session: Session, tmp_path: Path
) -> None:
    first = imported(session, tmp_path, export(10))
    second = imported(session, tmp_path, export(10))
    shared = raw_upload(session, first.id, upload_folder=tmp_path).path
    # Uploads stored before one file per upload shared a file per content.
    session.execute(
        update(CrmImport)
        .where(CrmImport.id == second.id)
        .values(storage_path=str(shared.relative_to(tmp_path)))
    )
    session.commit()
    age(session, first.id, 31)
    assert purge_raw_files(session, upload_folder=tmp_path, retention_days=30).files == 0
    assert shared.exists()
    age(session, second.id, 31)
    assert purge_raw_files(session, upload_folder=tmp_path, retention_days=30).files == 1
    assert not shared.exists()


def test_a_purge_makes_raw_files_stored_before_private(session: Session, tmp_path: Path) -> None:
    summary = imported(session, tmp_path, export(10))
    raw = raw_upload(session, summary.id, upload_folder=tmp_path).path
    raw.chmod(0o644)  # as uploads were stored before
    raw.parent.chmod(0o755)
    (tmp_path / "crm").chmod(0o755)
    assert purge_raw_files(session, upload_folder=tmp_path, retention_days=30).import_ids == ()
    assert (mode(raw), mode(raw.parent), mode(tmp_path / "crm")) == (0o600, 0o700, 0o700)
