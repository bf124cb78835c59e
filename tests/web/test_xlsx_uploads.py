"""Workbooks through every entry point: the API, the CRM pages, the CLI, employee imports."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.crm.models import CrmImport, CrmRecord
from linktracker.employees.models import Employee
from tests.services.crm_exports import CRM, csv_rows, workbook_bytes
from tests.web.clients import SignIn, text

Headers = Callable[..., dict[str, str]]
ROWS = [["Record ID", "Create Date", "Amount"], ["X1", "2026-01-05 10:00", "12.5"]]
PEOPLE = [["name", "email", "team"], ["Ann Example", "ann@example.com", "Sales"]]


def count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(CrmRecord)) or 0


def test_the_api_imports_a_chosen_sheet(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    book = workbook_bytes(ROWS, sheets=("Notes", "Deals"), data_sheet="Deals")
    response = client.post(
        "/api/v1/crm/imports",
        data={"file": (io.BytesIO(book), "deals.xlsx"), "sheet": "Deals"},
        content_type="multipart/form-data",
        headers=api_headers("sales_ops"),
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["encoding"], body["delimiter"], body["sheet"], body["inserted"]) == (
        "xlsx",
        None,
        "Deals",
        1,
    )


def test_the_api_refuses_an_xls_with_422(
    client: FlaskClient, api_headers: Headers, session: Session
) -> None:
    response = client.post(
        "/api/v1/crm/imports",
        data={"file": (io.BytesIO((CRM / "old_excel_97.xls").read_bytes()), "old.xls")},
        content_type="multipart/form-data",
        headers=api_headers("sales_ops"),
    )
    assert response.status_code == 422
    assert response.json["error"].startswith("The file is an Excel 97-2003 workbook (.xls)")
    assert "Save As" in response.json["error"] and count(session) == 0


def test_the_preview_page_shows_the_sheet_and_lets_another_be_chosen(
    sign_in: SignIn, session: Session
) -> None:
    client = sign_in("sales_ops")
    book = workbook_bytes(ROWS, sheets=("Deals", "Leads"))
    uploaded = client.post(
        "/app/crm/",
        data={"file": (io.BytesIO(book), "deals.xlsx")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    preview = client.get(uploaded.headers["Location"])
    body = text(preview)
    assert preview.status_code == 200
    assert "Workbook sheet" in body and "2 sheets: Deals, Leads" in body
    assert re.search(r'<option value="Leads">Leads</option>', body)
    other = client.post(
        uploaded.headers["Location"], data={"sheet": "Leads", "mapped_sheet": "Deals"}
    )
    assert other.status_code == 422 and "Columns found: &#39;Notes&#39;" in text(other)
    done = client.post(
        uploaded.headers["Location"].replace("/preview", "/run"),
        data={"sheet": "Deals"},
        follow_redirects=True,
    )
    assert "Imported 1 rows: 1 new" in text(done)
    assert count(session) == 1


def test_an_upload_form_sheet_is_carried_to_the_preview(sign_in: SignIn, session: Session) -> None:
    client = sign_in("sales_ops")
    book = workbook_bytes(ROWS, sheets=("Notes", "Deals"), data_sheet="Deals")
    uploaded = client.post(
        "/app/crm/",
        data={"file": (io.BytesIO(book), "deals.xlsx"), "sheet": "Deals"},
        content_type="multipart/form-data",
    )
    assert uploaded.headers["Location"].endswith("?sheet=Deals")
    body = text(client.get(uploaded.headers["Location"]))
    assert re.search(r'<option value="Deals" selected>Deals</option>', body)
    assert "X1" in body


def test_the_cli_imports_a_workbook_sheet(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "deals.xlsx"
    path.write_bytes(workbook_bytes(ROWS, sheets=("Notes", "Deals"), data_sheet="Deals"))
    result = runner.invoke(args=["crm", "import", str(path), "--sheet", "Deals"])
    assert result.exit_code == 0, result.output
    assert "sheet      Deals" in result.output.splitlines()
    assert "inserted   1" in result.output.splitlines()
    missing = runner.invoke(args=["crm", "import", str(path), "--sheet", "Nope"])
    assert missing.exit_code != 0
    assert "The workbook has no sheet 'Nope'; its sheets: Notes, Deals." in missing.output
    assert count(session) == 1
    assert session.scalar(select(func.count()).select_from(CrmImport)) == 2


def test_the_cli_refuses_an_encrypted_workbook(runner: FlaskCliRunner, session: Session) -> None:
    result = runner.invoke(args=["crm", "import", str(CRM / "password_protected.xlsx")])
    assert result.exit_code != 0
    assert "password-protected (encrypted)" in result.output and count(session) == 0


def test_employees_import_from_a_workbook_on_the_page(sign_in: SignIn, session: Session) -> None:
    book = workbook_bytes(PEOPLE, sheets=("Readme", "People"), data_sheet="People")
    response = sign_in("marketer").post(
        "/app/employees/import",
        data={"file": (io.BytesIO(book), "people.xlsx"), "sheet": "People"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert re.search(r'Created</p>\s*<p class="stat-value">1<', text(response))
    refused = sign_in("marketer").post(
        "/app/employees/import",
        data={"file": (io.BytesIO((CRM / "old_excel_97.xls").read_bytes()), "people.xls")},
        content_type="multipart/form-data",
    )
    assert "Excel 97-2003 workbook (.xls)" in text(refused)
    assert session.scalar(select(func.count()).select_from(Employee)) == 1


def test_employees_import_from_a_workbook_on_the_cli(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "people.xlsx"
    path.write_bytes(workbook_bytes(csv_rows((CRM / "employees.csv").read_bytes())))
    result = runner.invoke(args=["employees", "import", str(path)])
    assert result.exit_code == 0, result.output
    from_csv = runner.invoke(args=["employees", "import", str(CRM / "employees.csv")])
    employees = session.scalar(select(func.count()).select_from(Employee))
    assert f"unchanged {employees}" in from_csv.output
    bad = runner.invoke(args=["employees", "import", str(CRM / "old_excel_97.xls")])
    assert bad.exit_code != 0 and "Excel 97-2003 workbook (.xls)" in bad.output
