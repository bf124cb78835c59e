"""CRM imports at the same time: exact counts, one run per import, killed imports resume."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.crm.locks import ImportBusy, import_lock
from linktracker.crm.models import CrmImport, CrmRecord
from linktracker.crm.services import (
    ImportContext,
    ImportOptions,
    ImportProgress,
    ImportSummary,
    get_import,
    import_crm_file,
    list_imports,
    store_upload,
    upload_and_import,
)
from tests.services.crm_exports import ROWS, export
from tests.services.crm_runs import kill_import_after_first_batch, wait_until_interrupted

SECRET = b"test-secret"


def at_once(app: Flask, *calls: Callable[[Session], Any]) -> list[Any]:
    """Run each call in a thread of its own, with a session of its own, released together."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[Session], Any]) -> None:
        with app.extensions["linktracker"].sessions() as session:
            start.wait()
            try:
                results[index] = call(session)
            except Exception as exc:
                results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def counted(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(CrmRecord)) or 0


def test_the_same_file_uploaded_twice_at_once_is_inserted_once_and_counted_once(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    def upload(session: Session) -> ImportSummary:
        return upload_and_import(
            session,
            io.BytesIO(export()),
            filename="leads.csv",
            context=ImportContext(tmp_path, SECRET),
            options=ImportOptions(),
        )

    first, second = at_once(app, upload, upload)
    assert isinstance(first, ImportSummary) and isinstance(second, ImportSummary)
    outcomes = sorted((s.inserted, s.unchanged, s.updated) for s in (first, second))
    assert outcomes == [(0, ROWS, 0), (ROWS, 0, 0)]
    assert (first.state, second.state, first.rows, second.rows) == ("done", "done", ROWS, ROWS)
    assert counted(session) == ROWS


def test_two_files_with_the_same_records_imported_at_once_count_each_record_once(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    older, newer = export(), export().replace(b",Open,", b",Working,")

    def upload(data: bytes) -> Callable[[Session], ImportSummary]:
        return lambda session: upload_and_import(
            session,
            io.BytesIO(data),
            filename="leads.csv",
            context=ImportContext(tmp_path, SECRET),
            source="salesforce",
        )

    results = at_once(app, upload(older), upload(newer), upload(older))
    assert all(isinstance(r, ImportSummary) for r in results)
    assert sum(r.inserted for r in results) == ROWS
    assert all(r.inserted + r.updated + r.unchanged == ROWS for r in results)
    assert counted(session) == ROWS


def test_one_import_run_twice_at_once_runs_once_and_the_second_waits_for_its_result(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    import_id = store_upload(
        session, io.BytesIO(export()), filename="leads.csv", upload_folder=tmp_path
    ).id

    def run(session: Session) -> ImportSummary:
        return import_crm_file(
            session, import_id, context=ImportContext(tmp_path, SECRET), batch_size=250
        )

    results = at_once(app, run, run, run)
    assert all(isinstance(r, ImportSummary) for r in results), results
    assert {(r.state, r.rows, r.inserted, r.unchanged) for r in results} == {
        ("done", ROWS, ROWS, 0)
    }
    assert counted(session) == ROWS


def test_a_second_run_of_a_running_import_is_refused_as_busy_and_changes_nothing(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    import_id = store_upload(
        session, io.BytesIO(export()), filename="leads.csv", upload_folder=tmp_path
    ).id
    other_id = store_upload(
        session, io.BytesIO(export(10)), filename="other.csv", upload_folder=tmp_path
    ).id
    first_batch, checked = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    def pause_after_first_batch(progress: ImportProgress) -> None:
        if not first_batch.is_set():
            first_batch.set()
            checked.wait(timeout=60)

    def first(session: Session) -> ImportSummary:
        return import_crm_file(
            session,
            import_id,
            context=ImportContext(tmp_path, SECRET),
            batch_size=500,
            progress=pause_after_first_batch,
        )

    def meanwhile(session: Session) -> None:
        first_batch.wait(timeout=60)
        try:
            for target in (import_id, other_id):
                with pytest.raises(ImportBusy) as busy:
                    import_crm_file(
                        session,
                        target,
                        ImportContext(tmp_path, SECRET, wait_seconds=0.2),
                    )
                seen[f"busy {target}"] = busy.value.message
            seen["running"] = get_import(session, import_id)
            seen["other"] = get_import(session, other_id)
        finally:
            checked.set()

    done, failure = at_once(app, first, meanwhile)
    assert failure is None, failure
    assert seen[f"busy {import_id}"] == (
        f"Import {import_id} is already running (started by another request); "
        "its page shows the result when it ends."
    )
    assert seen[f"busy {other_id}"].startswith(
        f"Import {import_id} is still running, and imports run one at a time. "
        f"This file is stored as import {other_id}, not run yet"
    )
    running = seen["running"]
    assert (running.state, running.resumable, running.rows) == ("running", False, 500)
    assert (seen["other"].state, seen["other"].rows) == ("pending", 0)
    assert (done.state, done.rows, done.inserted) == ("done", ROWS, ROWS)
    assert counted(session) == ROWS
    other = import_crm_file(session, other_id, context=ImportContext(tmp_path, SECRET))
    assert (other.state, other.rows, other.inserted, other.unchanged) == ("done", 10, 0, 10)


def test_a_killed_import_is_shown_interrupted_and_running_it_again_completes_it_exactly(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    import_id = store_upload(
        session, io.BytesIO(export()), filename="leads.csv", upload_folder=tmp_path
    ).id
    kill_import_after_first_batch(app, import_id, tmp_path)
    session.expire_all()
    assert session.get(CrmImport, import_id).state == "running"  # type: ignore[union-attr]
    shown = wait_until_interrupted(session, import_id)
    assert (shown.state, shown.resumable, shown.rows, shown.progress_line) == (
        "failed",
        True,
        500,
        501,
    )
    assert shown.message == (
        "Interrupted after line 501: the process running the import ended. The rows up to "
        "that line are imported. Run the import again to complete it."
    )
    assert [(s.id, s.state, s.resumable) for s in list_imports(session)] == [
        (import_id, "failed", True)
    ]
    assert counted(session) == 500
    done = import_crm_file(session, import_id, context=ImportContext(tmp_path, SECRET))
    assert (done.state, done.rows, done.inserted, done.resumable) == ("done", ROWS, ROWS, False)
    assert counted(session) == ROWS


def test_a_finished_import_answers_at_once_while_another_runs(
    session: Session, tmp_path: Path
) -> None:
    done = upload_and_import(
        session,
        io.BytesIO(export(10)),
        filename="done.csv",
        context=ImportContext(tmp_path, SECRET),
    )
    other = store_upload(session, io.BytesIO(export(5)), filename="b.csv", upload_folder=tmp_path)
    with import_lock(session, other.id, None):
        again = import_crm_file(session, done.id, ImportContext(tmp_path, SECRET, wait_seconds=0))
    assert (again.state, again.rows, again.inserted) == ("done", 10, 10)
