"""Erasing an employee from the employees page: admins only, a confirm step, CSRF."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker.employees.models import Employee
from tests.factories import make_employee, make_link
from tests.web.clients import page_token, text


@pytest.mark.parametrize("role", ["employee", "sales_ops", "marketer"])
def test_only_admins_may_erase(session: Session, sign_in, role: str) -> None:  # type: ignore[no-untyped-def]
    employee = make_employee(session, name="Kept Person")
    client = sign_in(role)
    assert client.get(f"/app/employees/{employee.id}/erase").status_code == 403
    assert client.post(f"/app/employees/{employee.id}/erase").status_code == 403
    session.expire_all()
    assert session.get(Employee, employee.id).name == "Kept Person"  # type: ignore[union-attr]


def test_admin_confirms_then_erases_and_links_keep_redirecting(
    session: Session, csrf_app: Flask, sign_in
) -> None:  # type: ignore[no-untyped-def]
    employee = make_employee(session, name="Leaving Person", email="leaving@example.com")
    link = make_link(session, employee=employee)
    client = sign_in("admin", app=csrf_app)
    listing = text(client.get("/app/employees/"))
    assert f"/app/employees/{employee.id}/erase" in listing
    page = client.get(f"/app/employees/{employee.id}/erase")
    body = text(page)
    assert "Leaving Person" in body and "leaving@example.com" in body
    assert "keep redirecting" in body and "cannot be undone" in body

    refused = client.post(f"/app/employees/{employee.id}/erase")  # no CSRF token
    assert refused.status_code == 400
    session.expire_all()
    assert session.get(Employee, employee.id).erased_at is None  # type: ignore[union-attr]

    done = client.post(f"/app/employees/{employee.id}/erase", data={"csrf_token": page_token(body)})
    assert done.status_code == 302
    session.expire_all()
    erased = session.get(Employee, employee.id)
    assert erased is not None and erased.name == "Former employee"
    listing = text(client.get("/app/employees/"))
    assert "Leaving Person" not in listing and "Erased" in listing
    assert csrf_app.test_client().get(f"/{link.code}").status_code == 302


def test_no_trace_in_instance_files_after_a_web_import_and_erasure(
    session: Session, app: Flask, sign_in, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    csv = b"name,email,handle,team,connections\nImported Person,imported@example.com,,Ops,10\n"
    client = sign_in("admin")
    upload = {"file": (io.BytesIO(csv), "people.csv")}
    assert client.post("/app/employees/import", data=upload).status_code == 200
    employee = session.scalars(
        select(Employee).where(Employee.email == "imported@example.com")
    ).one()
    assert client.post(f"/app/employees/{employee.id}/erase").status_code == 302

    found = [
        path
        for path in tmp_path.rglob("*")
        if path.is_file()
        and (b"imported person" in path.read_bytes().lower() or b"imported@" in path.read_bytes())
    ]
    assert found == []


def test_the_disable_setting_saved_in_settings_disables_the_links(
    session: Session, app: Flask, sign_in
) -> None:  # type: ignore[no-untyped-def]
    employee = make_employee(session, name="Leaving Person")
    link = make_link(session, employee=employee)
    client = sign_in("admin")
    saved = client.post("/app/settings/", data={"erased_links": "disable"})
    assert saved.status_code == 302
    assert "are disabled" in text(client.get(f"/app/employees/{employee.id}/erase"))
    assert client.post(f"/app/employees/{employee.id}/erase").status_code == 302
    assert app.test_client().get(f"/{link.code}").status_code == 410


def test_an_unknown_erased_links_value_is_refused_in_settings(sign_in) -> None:  # type: ignore[no-untyped-def]
    response = sign_in("admin").post("/app/settings/", data={"erased_links": "forever"})
    assert response.status_code == 422


def test_an_erased_employee_cannot_be_reactivated(session: Session, sign_in) -> None:  # type: ignore[no-untyped-def]
    employee = make_employee(session, name="Leaving Person")
    client = sign_in("admin")
    assert client.post(f"/app/employees/{employee.id}/erase").status_code == 302
    response = client.post(f"/app/employees/{employee.id}/active", data={"active": "1"})
    assert response.status_code == 409
    assert "cannot be reactivated" in text(response)
    session.expire_all()
    assert session.get(Employee, employee.id).active is False  # type: ignore[union-attr]
