"""`linktracker ats …` / `import-ats` and `report recruiting`: tables, options, refusals."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.recruiting.models import Application
from tests.factories import make_employee
from tests.services.crm_exports import csv_rows, workbook_bytes
from tests.support import TEST_DATA

ATS = TEST_DATA / "ats"


def count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Application)) or 0


def test_import_ats_prints_a_summary_and_is_idempotent(
    runner: FlaskCliRunner, session: Session
) -> None:
    result = runner.invoke(args=["import-ats", str(ATS / "personio_bewerbungen.csv")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "format     personio, application records, source personio" in lines
    assert "encoding   cp1252, delimiter ';'" in lines
    assert "inserted   4" in lines and "rejected   1" in lines
    assert any(line.startswith("hired      hired when") for line in lines)
    assert (
        "  line 6, Bewerbungsdatum: invalid date '31.02.2026' (day is out of range for month)"
        in lines
    )
    again = runner.invoke(args=["ats", "import", str(ATS / "personio_bewerbungen.csv")])
    assert "unchanged  4" in again.output.splitlines()
    assert count(session) == 4


def test_ats_import_reports_ambiguous_referrers_and_reattributes(
    runner: FlaskCliRunner, session: Session
) -> None:
    make_employee(session, name="Alex Kim", email="a1@example.com")
    make_employee(session, name="Alex Kim", email="a2@example.com")
    result = runner.invoke(args=["ats", "import", str(ATS / "teamtailor_candidates.tsv")])
    assert result.exit_code == 0, result.output
    assert (
        "ambiguous referrer 'Alex Kim': 2 employees have this name; 1 application(s) not "
        "credited (use the referrer's email)." in result.output
    )
    make_employee(session, name="Dana Reyes", email="dana@example.com")
    again = runner.invoke(args=["ats", "reattribute"])
    assert again.exit_code == 0, again.output
    assert "referral      1" in again.output.splitlines()
    assert "none          3" in again.output.splitlines()


def test_ats_import_mapping_dry_run_and_refusal(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("Ref,Eingang\nR1,01/02/2026\nR2,03/04/2026\n")
    args = ["ats", "import", str(sheet), "--map", "Ref=external_id", "--map", "Eingang=applied_at"]
    dry = runner.invoke(args=[*args, "--dayfirst", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "import     1 (dry_run, dry run)" in dry.output.splitlines()
    assert count(session) == 0
    done = runner.invoke(args=[*args, "--source", "sheet", "--monthfirst"])
    assert "inserted   2" in done.output.splitlines()
    assert count(session) == 2
    refused = runner.invoke(args=["ats", "import", str(sheet)])
    assert refused.exit_code == 1
    assert (
        "sheet.csv was refused (import 3): No application id column and no application-date "
        "column found." in refused.output
    )
    unknown = runner.invoke(args=["ats", "import", str(sheet), "--map", "Ref=amount"])
    assert unknown.exit_code == 1 and "unknown field 'amount'" in unknown.output
    assert count(session) == 2


def test_report_recruiting_prints_tables_and_csv(runner: FlaskCliRunner) -> None:
    runner.invoke(args=["ats", "import", str(ATS / "ashby_applications.csv")])
    table = runner.invoke(
        args=["report", "recruiting", "--from", "2026-03-01", "--to", "2026-03-31"]
    )
    assert table.exit_code == 0, table.output
    assert table.output.splitlines()[0] == "recruiting 2026-03-01 .. 2026-03-31 (UTC)"
    assert "(baseline)" in table.output and "(program)" in table.output
    jobs = runner.invoke(
        args=["report", "recruiting", "--from", "2026-03-01", "--to", "2026-03-31", "--jobs",
              "--csv"]
    )  # fmt: skip
    assert jobs.output.splitlines() == [
        "job,applications,hires",
        "Frontend Engineer,3,1",
        "Customer Success Manager,2,0",
    ]
    bad = runner.invoke(args=["report", "recruiting", "--from", "2026-02-31"])
    assert bad.exit_code == 1 and "from" in bad.output


def test_ats_import_reads_the_sheet_given(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    rows = csv_rows((ATS / "greenhouse_candidates.csv").read_bytes())
    book = tmp_path / "greenhouse.xlsx"
    book.write_bytes(
        workbook_bytes(
            rows, typed=False, sheets=("Notes", "Applications"), data_sheet="Applications"
        )
    )
    refused = runner.invoke(args=["ats", "import", str(book)])
    assert refused.exit_code == 1 and "greenhouse.xlsx was refused (import 1)" in refused.output
    result = runner.invoke(args=["import-ats", str(book), "--sheet", "Applications"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "format     greenhouse, application records, source greenhouse" in lines
    inserted = count(session)
    assert inserted > 0 and f"inserted   {inserted}" in lines
    # The same rows as the CSV export they were copied from.
    again = runner.invoke(args=["ats", "import", str(ATS / "greenhouse_candidates.csv")])
    assert f"unchanged  {inserted}" in again.output.splitlines(), again.output
    missing = runner.invoke(args=["ats", "import", str(book), "--sheet", "Hires"])
    assert missing.exit_code == 1 and "Hires" in missing.output
