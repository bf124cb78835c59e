"""Raw-file retention: raw uploads hold customer emails in clear, so they do not stay forever.

A finished import (imported, dry run or refused) keeps its raw file ``days`` days after it
finished; an unfinished one (awaiting confirmation, interrupted) ``days`` days after its
upload, at least one, so it can still be run. The import's records, counts and row errors
stay; only the raw bytes go, and the import notes when (``raw_deleted_at``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from linktracker.crm.locks import running_import
from linktracker.crm.models import CrmImport
from linktracker.db import utcnow

FINISHED = ("done", "dry_run", "refused")


@dataclass(frozen=True)
class PurgeResult:
    """What a purge deleted."""

    import_ids: tuple[int, ...]  # imports whose raw file is now deleted
    files: int  # files removed from the upload folder (uploads of the same bytes share none)


def purge_raw_files(
    session: Session,
    *,
    upload_folder: str | os.PathLike[str],
    retention_days: int,
    now: datetime | None = None,
) -> PurgeResult:
    """Delete the raw files older than ``retention_days`` (negative: keep them forever).

    Raw files and folders left from before they were private become so on the way.
    """
    _make_private(Path(upload_folder) / "crm")
    if retention_days < 0:
        return PurgeResult((), 0)
    now = now or utcnow()
    finished_before = now - timedelta(days=retention_days)
    uploaded_before = now - timedelta(days=max(retention_days, 1))
    due = session.scalars(
        select(CrmImport)
        .where(
            CrmImport.raw_deleted_at.is_(None),
            or_(
                and_(CrmImport.state.in_(FINISHED), CrmImport.finished_at <= finished_before),
                and_(CrmImport.state.not_in(FINISHED), CrmImport.uploaded_at <= uploaded_before),
            ),
        )
        .order_by(CrmImport.id)
    ).all()
    running = running_import(session) if due else None
    purged: list[int] = []
    files = 0
    for record in due:
        if record.id == running:
            continue
        path = Path(upload_folder) / record.storage_path
        # Deleted before it is noted: a crash in between leaves a note to write, never
        # customer data that the database says is gone.
        if _unshared(session, record) and path.is_file():
            path.unlink()
            files += 1
        record.raw_deleted_at = now
        session.commit()
        purged.append(record.id)
    return PurgeResult(tuple(purged), files)


def _make_private(folder: Path) -> None:
    """Raw files stored before they were made private: the service's user only."""
    if not folder.is_dir():
        return
    for path in (folder, *folder.rglob("*")):
        try:
            path.chmod(0o700 if path.is_dir() else 0o600)
        except OSError:  # another user's file: the purge still deletes what it may
            continue


def _unshared(session: Session, record: CrmImport) -> bool:
    """No other import still keeps this file (uploads stored before one file per upload)."""
    other = session.scalar(
        select(CrmImport.id)
        .where(
            CrmImport.storage_path == record.storage_path,
            CrmImport.id != record.id,
            CrmImport.raw_deleted_at.is_(None),
        )
        .limit(1)
    )
    return other is None
