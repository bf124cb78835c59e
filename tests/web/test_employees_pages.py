"""The employee pages: search, create, CSV import, deactivate."""

from __future__ import annotations

import re

from sqlalchemy import select

from linktracker.employees.models import Employee
from tests.factories import make_employee, make_link
from tests.web.clients import text


def test_employees_list_searches_by_name_email_handle_and_team(session, sign_in):
    make_employee(session, name="Advocate 01", team="Sales")
    make_employee(session, name="Advocate 02", team="Recruiting")
    body = text(sign_in("marketer").get("/app/employees/?q=recruit"))
    assert "Advocate 02" in body and "Advocate 01" not in body


def test_creating_an_employee_reports_a_taken_email_beside_the_field(session, sign_in):
    make_employee(session, email="taken@example.com")
    client = sign_in("marketer")
    response = client.post(
        "/app/employees/new", data={"name": "Advocate 09", "email": "taken@example.com"}
    )
    assert response.status_code == 422
    assert re.search(r'id="email-error">Taken', text(response))
    ok = client.post("/app/employees/new", data={"name": "Advocate 10", "email": "new@example.com"})
    assert ok.status_code == 302
    created = session.scalar(select(Employee).where(Employee.email == "new@example.com"))
    assert created is not None and created.handle.startswith("a-")


def test_employee_csv_import_shows_a_summary_with_rejected_lines(sign_in):
    csv = (
        "name,email,handle,team,connections\n"
        "Advocate 01,a01@example.com,,Sales,100\n"
        "Advocate 02,not-an-email,,Sales,100\n"
        "Advocate 03,a03@example.com,,Sales,many\n"
    )
    from io import BytesIO

    response = sign_in("marketer").post(
        "/app/employees/import",
        data={"file": (BytesIO(csv.encode()), "people.csv")},
        content_type="multipart/form-data",
    )
    body = text(response)
    assert response.status_code == 200
    assert re.search(r'Created</p>\s*<p class="stat-value">1<', body)
    assert re.search(r'Rejected</p>\s*<p class="stat-value">2<', body)
    assert "not a valid email" in body and "whole number" in body


def test_deactivating_an_employee_keeps_their_links(session, sign_in):
    link = make_link(session)
    client = sign_in("admin")
    client.post(f"/app/employees/{link.employee_id}/active", data={"active": "0"})
    session.expire_all()
    assert session.get(Employee, link.employee_id).active is False
    assert client.get(f"/{link.code}").status_code == 302
