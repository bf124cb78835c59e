"""CRM imports whose rows are parsed in a process of their own: same results, safe failures."""

from __future__ import annotations

import io
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from linktracker.crm import services
from linktracker.crm.models import CrmImportError, CrmRecord
from linktracker.crm.parser_process import (
    ParseJob,
    ParserProcessFailed,
    parsing_process,
    parsing_processes,
)
from linktracker.crm.parsing import inspect_export
from linktracker.crm.services import (
    ImportContext,
    ImportProgress,
    get_import,
    import_crm_file,
    store_upload,
)
from tests.services.crm_exports import CRM, SAMPLES, csv_bytes, numbered_rows
from tests.services.crm_runs import (
    SECRET,
    count,
    fail_write,
    import_in_batches,
    records,
    store_numbered_rows,
    watch_jobs,
)


def _import(session: Session, folder: Path, data: bytes, **options: Any) -> Any:
    stored = store_upload(session, io.BytesIO(data), filename="x.csv", upload_folder=folder)
    return import_crm_file(session, stored.id, context=ImportContext(folder, SECRET), **options)


_before_test: set[int] = set()


@pytest.fixture(params=[1, 2], ids=["one process", "two processes"])
def processes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Imports parse in this many processes (two deal the batches out between them)."""
    monkeypatch.setattr(services, "PARSER_PROCESSES", request.param)
    return int(request.param)


@pytest.fixture(autouse=True)
def _no_parser_left() -> Iterator[None]:
    """Every test ends with no parsing process of its own left running."""
    _before_test.clear()
    _before_test.update(_all_children())
    yield
    assert _children() == set()


def _children() -> set[int]:
    """This process's living children started since the test began.

    Other tests' helpers (the browser tests' driver) may run for the whole session.
    """
    return _all_children() - _before_test


def _all_children() -> set[int]:
    """Process ids of this process's living children (Linux)."""
    pid = os.getpid()
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            listed = (task / "children").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue  # a thread that ended while we looked (the app's threads come and go)
        found.update(int(n) for n in listed.split())
    return {n for n in found if Path(f"/proc/{n}").exists() and _state(n) != "Z"}


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "Z"


@pytest.mark.parametrize(("name", "rows", "inserted", "rejected"), [s[:4] for s in SAMPLES])
def test_every_sample_imports_alike_in_parsing_processes_and_in_a_thread(
    session: Session,
    tmp_path: Path,
    processes: int,
    name: str,
    rows: int,
    inserted: int,
    rejected: int,
) -> None:
    data = (CRM / name).read_bytes()
    # Batches of 3 rows: with two processes each converts every other batch.
    first = _import(session, tmp_path, data, parser_process=True, batch_size=3)
    assert (first.rows, first.inserted, first.rejected) == (rows, inserted, rejected)
    assert count(session, CrmRecord) == inserted
    stored = {k: (r.created_at, r.amount, r.won, r.email, r.content_hash) for k, r in
              records(session).items()}  # fmt: skip
    # Parsed in a thread, the same rows hash the same: nothing changed.
    again = _import(session, tmp_path, data, parser_process=False)
    assert (again.rows, again.unchanged, again.updated, again.inserted) == (rows, inserted, 0, 0)
    session.expire_all()
    assert stored == {k: (r.created_at, r.amount, r.won, r.email, r.content_hash) for k, r in
                      records(session).items()}  # fmt: skip
    assert [(e.line, e.reason) for e in first.errors] == [(e.line, e.reason) for e in again.errors]


def test_large_uploads_are_parsed_in_processes_by_default(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: int
) -> None:
    started = watch_jobs(monkeypatch)
    small = _import(session, tmp_path, numbered_rows(30))
    assert small.inserted == 26 and started == []
    monkeypatch.setattr(services, "PARSER_PROCESS_BYTES", 100)
    large = _import(session, tmp_path, numbered_rows(60))
    assert (large.rows, large.inserted, large.updated, large.unchanged) == (60, 26, 0, 26)
    assert [(job.done, job.part, job.parts) for job in started] == [
        (0, part, processes) for part in range(processes)
    ]
    assert _children() == set()


def test_two_processes_deal_out_the_batches_and_resume_alike(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Duplicates across batches, rejected rows and a resume give the thread's results."""
    header = ["Record ID", "Create Date", "Amount"]
    lines = [[str(n % 40), "2026-09-01" if n % 9 else "soon", str(n)] for n in range(1, 101)]
    data = csv_bytes([header, *lines, [], ["Grand Totals (100 records)"]])
    expected = _import(session, tmp_path / "thread", data, parser_process=False, batch_size=7)
    assert (expected.rows, expected.inserted, expected.rejected) == (100, 35, 65)
    session.execute(delete(CrmImportError))
    session.execute(delete(CrmRecord))
    session.commit()
    monkeypatch.setattr(services, "PARSER_PROCESSES", 2)
    import_id = store_upload(session, io.BytesIO(data), filename="x.csv", upload_folder=tmp_path).id
    written = fail_write(monkeypatch, at=5)
    with pytest.raises(OSError, match="disk full"):
        import_in_batches(session, import_id, tmp_path, batch_size=7, parser_process=True)
    monkeypatch.undo()
    monkeypatch.setattr(services, "PARSER_PROCESSES", 2)
    started = watch_jobs(monkeypatch)
    done = import_in_batches(session, import_id, tmp_path, batch_size=7, parser_process=True)
    assert [(job.done, job.part) for job in started] == [(written[3], 0), (written[3], 1)]
    assert (done.rows, done.inserted, done.rejected) == (100, 35, 65)
    assert [(e.line, e.reason) for e in done.errors] == [
        (e.line, e.reason) for e in expected.errors
    ]
    assert {k: r.amount for k, r in records(session).items()} == {
        str(n % 40): n for n in range(61, 101) if n % 9
    }


def test_a_killed_parsing_process_fails_the_import_which_resumes_after_the_last_batch(
    session: Session, tmp_path: Path, processes: int
) -> None:
    import_id = store_numbered_rows(session, tmp_path, 20_000)
    seen: list[ImportProgress] = []
    killed: list[int] = []

    def kill_parser(progress: ImportProgress) -> None:
        seen.append(progress)
        if len(seen) == 2:
            pid = min(_children())  # with two, the first: the other one is still waited for
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    with pytest.raises(ParserProcessFailed, match=r"ended unexpectedly \(exit status -9\)"):
        import_in_batches(
            session,
            import_id,
            tmp_path,
            kill_parser,
            batch_size=100,  # the pipe holds a few batches: the process still runs
            parser_process=True,
        )
    assert len(killed) == 1
    session.expire_all()
    halfway = get_import(session, import_id)
    assert halfway.state == "failed" and 200 <= halfway.rows < 20_000
    assert "ParserProcessFailed" in (halfway.message or "")
    assert count(session, CrmRecord) + count(session, CrmImportError) == halfway.rows
    assert _children() == set()
    done = import_crm_file(
        session, import_id, context=ImportContext(tmp_path, SECRET), parser_process=True
    )
    assert (done.state, done.rows, done.inserted, done.rejected) == ("done", 20_000, 17_143, 2_857)
    assert count(session, CrmRecord) == 17_143 and count(session, CrmImportError) == 2_857


def test_a_writer_failure_stops_the_parsing_processes(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: int
) -> None:
    import_id = store_numbered_rows(session, tmp_path, 200)
    written = fail_write(monkeypatch)
    with pytest.raises(OSError, match="disk full"):
        import_in_batches(session, import_id, tmp_path, parser_process=True)
    assert written == [11, 21] and _children() == set()
    session.expire_all()
    halfway = get_import(session, import_id)
    assert (halfway.state, halfway.rows, halfway.progress_line) == ("failed", 10, 11)
    assert count(session, CrmRecord) + count(session, CrmImportError) == 10


def test_a_failure_in_the_parsing_process_is_raised_in_the_importing_one(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(numbered_rows(5))
    with path.open("rb") as stream:
        _, rows = inspect_export(stream)
    path.unlink()  # gone between the inspection and the parsing
    job = ParseJob(str(path), rows, done=0, batch_size=10, email_key=None)
    with pytest.raises(FileNotFoundError, match="No such file"), parsing_process(job) as batches:
        list(batches)
    with (
        pytest.raises(FileNotFoundError, match="No such file"),
        parsing_processes(job, 2) as batches,
    ):
        list(batches)
    assert _children() == set()
