"""CRM imports whose rows are parsed in a process of their own: same results, safe failures."""

from __future__ import annotations

import io
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from linktracker.crm import services, upsert
from linktracker.crm.csv_rows import inspect_export
from linktracker.crm.models import CrmImportError, CrmRecord
from linktracker.crm.parser_process import ParseJob, ParserProcessFailed, parsing_process
from linktracker.crm.services import ImportProgress, get_import, import_crm_file, store_upload
from tests.services.test_crm_import import (
    CRM,
    SAMPLES,
    SECRET,
    _fail_second_write,
    _import_in_batches,
    _numbered_rows,
    _store_numbered_rows,
    count,
    records,
)


def _import(session: Session, folder: Path, data: bytes, **options: Any) -> Any:
    stored = store_upload(session, io.BytesIO(data), filename="x.csv", upload_folder=folder)
    return import_crm_file(session, stored.id, upload_folder=folder, email_secret=SECRET, **options)


_before_test: set[int] = set()


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
        found.update(int(n) for n in (task / "children").read_text().split())
    return {n for n in found if Path(f"/proc/{n}").exists() and _state(n) != "Z"}


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "Z"


@pytest.mark.parametrize(("name", "rows", "inserted", "rejected"), [s[:4] for s in SAMPLES])
def test_every_sample_imports_alike_in_a_parsing_process_and_in_a_thread(
    session: Session, tmp_path: Path, name: str, rows: int, inserted: int, rejected: int
) -> None:
    data = (CRM / name).read_bytes()
    first = _import(session, tmp_path, data, parser_process=True)
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


def test_large_uploads_are_parsed_in_a_process_by_default(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[ParseJob] = []
    real = upsert.parsing_process

    def watched(job: ParseJob) -> Any:
        started.append(job)
        return real(job)

    monkeypatch.setattr(upsert, "parsing_process", watched)
    small = _import(session, tmp_path, _numbered_rows(30))
    assert small.inserted == 26 and started == []
    monkeypatch.setattr(services, "PARSER_PROCESS_BYTES", 100)
    large = _import(session, tmp_path, _numbered_rows(60))
    assert (large.rows, large.inserted, large.updated, large.unchanged) == (60, 26, 0, 26)
    assert [job.done for job in started] == [0]
    assert _children() == set()


def test_a_killed_parsing_process_fails_the_import_which_resumes_after_the_last_batch(
    session: Session, tmp_path: Path
) -> None:
    import_id = _store_numbered_rows(session, tmp_path, 20_000)
    seen: list[ImportProgress] = []
    killed: list[int] = []

    def kill_parser(progress: ImportProgress) -> None:
        seen.append(progress)
        if len(seen) == 2:
            for pid in _children():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

    with pytest.raises(ParserProcessFailed, match=r"ended unexpectedly \(exit status -9\)"):
        _import_in_batches(
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
        session, import_id, upload_folder=tmp_path, email_secret=SECRET, parser_process=True
    )
    assert (done.state, done.rows, done.inserted, done.rejected) == ("done", 20_000, 17_143, 2_857)
    assert count(session, CrmRecord) == 17_143 and count(session, CrmImportError) == 2_857


def test_a_writer_failure_stops_the_parsing_process(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_id = _store_numbered_rows(session, tmp_path, 200)
    written = _fail_second_write(monkeypatch)
    with pytest.raises(OSError, match="disk full"):
        _import_in_batches(session, import_id, tmp_path, parser_process=True)
    assert written == [11, 21] and _children() == set()
    session.expire_all()
    halfway = get_import(session, import_id)
    assert (halfway.state, halfway.rows, halfway.progress_line) == ("failed", 10, 11)
    assert count(session, CrmRecord) + count(session, CrmImportError) == 10


def test_a_failure_in_the_parsing_process_is_raised_in_the_importing_one(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(_numbered_rows(5))
    with path.open("rb") as stream:
        _, rows = inspect_export(stream)
    path.unlink()  # gone between the inspection and the parsing
    job = ParseJob(str(path), rows, done=0, batch_size=10, email_key=None)
    with pytest.raises(FileNotFoundError, match="No such file"), parsing_process(job) as batches:
        list(batches)
    assert _children() == set()
