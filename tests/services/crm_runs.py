"""Running CRM imports in the tests (in batches, failing, killed) and reading what they left."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.crm import parser_process, upsert
from linktracker.crm.models import CrmRecord
from linktracker.crm.parser_process import ParseJob
from linktracker.crm.services import (
    ImportContext,
    ImportOptions,
    ImportSummary,
    get_import,
    import_crm_file,
    store_upload,
)
from tests.services.crm_exports import numbered_rows

SECRET = b"test-secret"


def records(session: Session, source: str | None = None) -> dict[str, CrmRecord]:
    query = select(CrmRecord)
    if source:
        query = query.where(CrmRecord.source == source)
    session.expire_all()
    return {r.external_id: r for r in session.scalars(query)}


def count(session: Session, model: Any) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def store_numbered_rows(session: Session, tmp_path: Path, total: int) -> int:
    """Store an upload of ``total`` numbered rows (every 7th rejected); its import id."""
    data = io.BytesIO(numbered_rows(total))
    return store_upload(session, data, filename="x.csv", upload_folder=tmp_path).id


def import_in_batches(
    session: Session,
    import_id: int,
    tmp_path: Path,
    progress: Any = None,
    *,
    batch_size: int = 10,
    parser_process: bool | None = None,
    **options: Any,
) -> Any:
    return import_crm_file(
        session,
        import_id,
        ImportContext(tmp_path, SECRET),
        ImportOptions(**options) if options else None,
        batch_size=batch_size,
        parser_process=parser_process,
        progress=progress,
    )


def fail_write(monkeypatch: pytest.MonkeyPatch, at: int = 2) -> list[int]:
    """Make the ``at``-th batch's write raise OSError("disk full"); the batches' last lines."""
    written: list[int] = []
    write_real = upsert.ImportRun._write

    def failing(run: upsert.ImportRun, batch: Any) -> None:
        written.append(batch.last_line)
        if len(written) == at:
            raise OSError("disk full")
        write_real(run, batch)

    monkeypatch.setattr(upsert.ImportRun, "_write", failing)
    return written


_KILLED_IMPORT = """
import os, signal, sys
from sqlalchemy.orm import sessionmaker
from linktracker.crm.services import ImportContext, import_crm_file
from linktracker.db import make_engine
import linktracker.models  # every table, for the foreign keys

def die(progress):
    os.kill(os.getpid(), signal.SIGKILL)

with sessionmaker(make_engine(sys.argv[1]))() as session:
    import_crm_file(
        session, int(sys.argv[2]), context=ImportContext(sys.argv[3], b"test-secret"),
        batch_size=500, progress=die,
    )
"""


def kill_import_after_first_batch(app: Flask, import_id: int, folder: Path) -> None:
    """Run the import in a process that is killed (SIGKILL) after its first batch."""
    url = app.config["DATABASE_URL"]
    process = subprocess.run(
        [sys.executable, "-c", _KILLED_IMPORT, url, str(import_id), str(folder)],
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p)),
        timeout=120,
    )
    assert process.returncode == -signal.SIGKILL


def wait_until_interrupted(session: Session, import_id: int) -> ImportSummary:
    """The import as shown, once the database noticed its process is gone (PostgreSQL)."""
    deadline = time.monotonic() + 10
    while True:
        session.rollback()
        summary = get_import(session, import_id)
        if summary.state != "running" or time.monotonic() > deadline:
            return summary
        time.sleep(0.05)


def watch_jobs(monkeypatch: pytest.MonkeyPatch) -> list[ParseJob]:
    """The jobs of the parsing processes started from now on."""
    started: list[ParseJob] = []
    real = parser_process.parsing_process

    def watched(job: ParseJob, *args: Any) -> Any:
        started.append(job)
        return real(job, *args)

    monkeypatch.setattr(parser_process, "parsing_process", watched)
    return started
