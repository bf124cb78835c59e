"""ATS import service: every sample export, idempotence, updates, attribution, errors."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.crm.models import CrmImport, CrmImportError, CrmRecord
from linktracker.crm.services import ImportContext, ImportOptions, ImportRefused, list_imports
from linktracker.errors import InvalidInput, NotFound
from linktracker.recruiting.imports import (
    AtsImportResult,
    get_ats_import,
    import_ats_file,
    list_ats_imports,
    upload_and_import_ats,
)
from linktracker.recruiting.models import Application
from tests.factories import make_employee
from tests.support import TEST_DATA

ATS = TEST_DATA / "ats"
SECRET = b"test-secret"


def run(
    session: Session, folder: Path, data: bytes, name: str = "export.csv", **options: object
) -> AtsImportResult:
    source = options.pop("source", None)
    return upload_and_import_ats(
        session,
        io.BytesIO(data),
        ImportContext(folder, SECRET),
        ImportOptions(**options),  # type: ignore[arg-type]
        filename=name,
        source=source,  # type: ignore[arg-type]
    )


def applications(session: Session, source: str | None = None) -> dict[str, Application]:
    session.expire_all()
    query = select(Application)
    if source:
        query = query.where(Application.source == source)
    return {a.external_id: a for a in session.scalars(query)}


@pytest.fixture
def staff(session: Session) -> None:
    make_employee(session, name="Dana Reyes", email="dana.reyes@example.com")
    make_employee(session, name="Sam Lee", email="sam.lee@example.com")
    make_employee(session, name="Alex Kim", email="alex.kim@example.com")
    make_employee(session, name="Alex  kim", email="alex.kim2@example.com")


# file, format, rows, inserted, rejected, hired, referrals, first error (line, column, reason)
SAMPLES = [
    ("greenhouse_candidates.csv", "greenhouse", 6, 5, 1, 2, 3,
     (6, "Applied On", "missing application date")),
    ("lever_opportunities.csv", "lever", 6, 5, 1, 2, 2,
     (3, "Opportunity ID", "duplicate id 0b1c2d3e-0002, superseded by line 7")),
    ("ashby_applications.csv", "ashby", 5, 5, 0, 1, 2, None),
    ("workable_candidates.csv", "workable", 5, 4, 1, 1, 1,
     (6, "Created on", "unparseable date 'next week'")),
    ("smartrecruiters_applications.csv", "smartrecruiters", 6, 5, 1, 1, 1,
     (7, "Application Date", "missing application date")),
    ("personio_bewerbungen.csv", "personio", 5, 4, 1, 2, 2,
     (6, "Bewerbungsdatum", "invalid date '31.02.2026' (day is out of range for month)")),
    ("personio_applications_en.csv", "personio", 4, 4, 0, 1, 2, None),
    ("teamtailor_candidates.tsv", "teamtailor", 4, 4, 0, 1, 1, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "fmt", "rows", "inserted", "rejected", "hired", "referrals", "error"), SAMPLES
)
def test_every_sample_export_imports_with_exact_counts(
    session: Session,
    tmp_path: Path,
    staff: None,
    name: str,
    fmt: str,
    rows: int,
    inserted: int,
    rejected: int,
    hired: int,
    referrals: int,
    error: tuple[int, str, str] | None,
) -> None:
    data = (ATS / name).read_bytes()
    result = run(session, tmp_path, data, name)
    summary = result.summary
    assert (summary.state, summary.format, summary.source, summary.kind) == (
        "done", fmt, fmt, "application",
    )  # fmt: skip
    assert (summary.rows, summary.inserted, summary.updated, summary.unchanged) == (
        rows, inserted, 0, 0,
    )  # fmt: skip
    assert summary.rejected == rejected
    if error:
        first = summary.errors[0]
        assert (first.line, first.column, first.reason) == error
    stored = applications(session, fmt)
    assert len(stored) == inserted
    assert sum(a.hired for a in stored.values()) == hired
    assert all((a.hired_at is not None) == a.hired for a in stored.values())
    assert sum(a.attribution_method == "referral" for a in stored.values()) == referrals
    # Candidate emails are stored as keyed hashes only, never in clear.
    for application in stored.values():
        assert application.candidate is not None
        assert re.fullmatch(r"[0-9a-f]{64}", application.candidate)
    # Importing the same export again changes nothing.
    again = run(session, tmp_path, data, name).summary
    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (
        0, 0, inserted, rejected,
    )  # fmt: skip
    assert len(applications(session, fmt)) == inserted


def test_sample_values_follow_each_systems_conventions(
    session: Session, tmp_path: Path, staff: None
) -> None:
    for name, *_ in SAMPLES:
        run(session, tmp_path, (ATS / name).read_bytes(), name)
    every = applications(session)
    lever = every["0b1c2d3e-0001"]  # hired: archived with reason Hired, at Archived At
    assert lever.hired and lever.hired_at is not None
    assert lever.hired_at.isoformat() == "2026-03-20T16:00:00+00:00"
    assert lever.first_contact_at is not None
    assert lever.first_contact_at.isoformat() == "2026-02-20T09:00:00+00:00"
    sourced = every["0b1c2d3e-0003"]  # sourced, never applied: first contact stands in
    assert sourced.applied_at.isoformat() == "2026-03-02T11:00:00+00:00"
    assert every["0b1c2d3e-0004"].hired is False  # archived as Underqualified
    greenhouse = every["71002003"]  # MM/DD/YYYY
    assert greenhouse.applied_at.isoformat() == "2026-03-14T00:00:00+00:00"
    personio = every["5503"]  # DD.MM.YYYY, "Angebot angenommen", cp1252 and ';'
    assert personio.hired and personio.applied_at.isoformat() == "2026-03-05T00:00:00+00:00"
    assert personio.job == "Werkstudent Marketing (m/w/d)"
    teamtailor = every["tt-1001"]  # +01:00 offsets, "Connected at" is the first contact
    assert teamtailor.hired_at is not None and teamtailor.first_contact_at is not None
    assert teamtailor.hired_at.isoformat() == "2026-03-18T14:00:00+00:00"
    assert teamtailor.first_contact_at.isoformat() == "2026-02-26T08:00:00+00:00"
    smart = every["SR-9001"]  # HIRED; the referrer's email matched the employee
    assert smart.hired and smart.referrer == "dana.reyes@example.com"
    assert smart.referrer_match == "email"
    assert every["SR-9003"].hired is False  # OFFERED is not hired
    assert every["SR-9005"].attribution_method == "none"  # unknown referrer email
    assert every["SR-9005"].referrer_match == "unknown"
    assert every["a7f3c001-6b1e-4c2a-9e10-000000000005"].referrer_match == "name"
    assert every["wk-30003"].hired is False
    accepted = every["9100001"]  # Personio's "Accepted" final status, DD/MM/YYYY dates
    assert accepted.hired and accepted.hired_at is not None
    assert accepted.hired_at.isoformat() == "2026-03-28T00:00:00+00:00"
    assert every["9100004"].hired is False  # an offer, not yet accepted
    # Nothing of the CRM was touched, and the CRM's import list shows no ATS import.
    assert session.scalar(select(func.count()).select_from(CrmRecord)) == 0
    assert list_imports(session) == []
    assert len(list_ats_imports(session)) == len(SAMPLES)


def test_ambiguous_referrer_names_are_reported_never_guessed(
    session: Session, tmp_path: Path, staff: None
) -> None:
    result = run(session, tmp_path, (ATS / "teamtailor_candidates.tsv").read_bytes())
    assert [(a.referrer, a.employees, a.applications) for a in result.ambiguous_referrers] == [
        ("Alex Kim", 2, 1)
    ]
    dina = applications(session)["tt-1003"]
    assert (dina.attribution_method, dina.employee_id, dina.referrer_match) == (
        "none", None, "ambiguous",
    )  # fmt: skip


def test_a_newer_export_updates_stage_and_hire(
    session: Session, tmp_path: Path, staff: None
) -> None:
    header = "Application ID,Applied On,Job,Stage,Hired Date,Email\n"
    first = (
        header + "A1,2026-03-01,Engineer,Interview,,a@example.com\nA2,2026-03-02,Engineer,New,,\n"
    )
    run(session, tmp_path, first.encode(), source="greenhouse")
    newer = header + (
        "A1,2026-03-01,Engineer,Hired,2026-03-21,a@example.com\nA2,2026-03-02,Engineer,New,,\n"
        "A3,2026-03-03,Designer,New,,\n"
    )
    summary = run(session, tmp_path, newer.encode(), source="greenhouse").summary
    assert (summary.inserted, summary.updated, summary.unchanged) == (1, 1, 1)
    a1 = applications(session)["A1"]
    assert a1.hired and a1.stage == "Hired" and a1.hired_at is not None
    assert a1.hired_at.isoformat() == "2026-03-21T00:00:00+00:00"


def test_explicit_mapping_and_dry_run(session: Session, tmp_path: Path) -> None:
    data = b"Ref;Eingang;Position\nR1;01.02.2026;Engineer\nR2;03.02.2026;Designer\n"
    mapping = {"Ref": "external_id", "Eingang": "applied_at", "Position": "job"}
    dry = run(session, tmp_path, data, mapping=mapping, dry_run=True).summary
    assert (dry.state, dry.rows, dry.inserted) == ("dry_run", 2, 2)
    assert applications(session) == {}
    done = run(session, tmp_path, data, mapping=mapping, source="sheet").summary
    assert (done.state, done.source, done.inserted, done.dayfirst) == ("done", "sheet", 2, True)
    assert applications(session)["R1"].applied_at.isoformat() == "2026-02-01T00:00:00+00:00"


def test_a_file_without_application_dates_is_refused_whole_and_kept(
    session: Session, tmp_path: Path
) -> None:
    data = b"Application ID,Job\nA1,Engineer\n"
    with pytest.raises(ImportRefused) as refused:
        run(session, tmp_path, data)
    assert "No application-date column found" in refused.value.message
    assert "'Application ID', 'Job'" in refused.value.message
    record = session.get(CrmImport, refused.value.import_id)
    assert record is not None and record.state == "refused" and record.pipeline == "ats"
    assert record.mapping == {"Application ID": "external_id", "Job": "job"}
    assert (tmp_path / record.storage_path).read_bytes() == data
    assert applications(session) == {}
    # Asked again without a mapping it stays refused; with one it imports.
    with pytest.raises(ImportRefused):
        import_ats_file(session, record.id, ImportContext(tmp_path, SECRET))


def test_unknown_mapping_fields_and_other_pipelines_are_refused(
    session: Session, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput) as bad:
        run(session, tmp_path, b"a,b\n1,2\n", mapping={"a": "amount"})
    assert "unknown field 'amount'" in bad.value.message
    assert session.scalar(select(func.count()).select_from(CrmImport)) == 0
    from linktracker.crm.services import store_upload

    crm = store_upload(session, io.BytesIO(b"x,y\n"), filename="crm.csv", upload_folder=tmp_path)
    with pytest.raises(NotFound):
        get_ats_import(session, crm.id)
    with pytest.raises(NotFound):
        import_ats_file(session, crm.id, ImportContext(tmp_path, SECRET))


def test_row_errors_are_stored_with_their_cells(session: Session, tmp_path: Path) -> None:
    data = (
        "Application ID,Applied On,Hired,Job\n"
        "A1,2026-03-01,maybe,Engineer\n"
        "A2,2026-03-02,yes,Engineer\n"
        f"A3,2026-03-03,no,{'x' * 201}\n"
        "A4,2026-03-04\n"
    ).encode()
    summary = run(session, tmp_path, data).summary
    assert (summary.inserted, summary.rejected) == (1, 3)
    reasons = [(e.line, e.column, e.reason) for e in summary.errors]
    assert reasons == [
        (2, "Hired", "not a yes/no value: 'maybe'"),
        (4, "Job", "job is longer than 200 characters"),
        (5, "Hired", "short row: 2 of 4 cells, nothing for 'Hired' and after"),
    ]
    raw = session.scalars(select(CrmImportError.raw).order_by(CrmImportError.line)).first()
    assert raw == ["A1", "2026-03-01", "maybe", "Engineer"]
    a2 = applications(session)["A2"]
    assert a2.hired and a2.hired_at is None  # hired, no date: no time to hire
