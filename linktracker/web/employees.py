"""Employees for marketers and admins: search, create, CSV import, deactivate; admins erase."""

from __future__ import annotations

import io

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from linktracker.auth.roles import ADMINS, MANAGERS
from linktracker.crm.parsing import upload_text
from linktracker.db import get_or_not_found
from linktracker.employees.models import Employee
from linktracker.employees.services import (
    EmployeeImportResult,
    create_employee,
    import_employees,
    list_employees,
    set_employee_active,
)
from linktracker.errors import DomainError, InvalidInput
from linktracker.offboarding.services import FORMER_EMPLOYEE, erase_employee
from linktracker.web.context import db, require_roles, settings
from linktracker.web.forms import (
    ConfirmForm,
    EmployeeForm,
    EmployeeImportForm,
    form_values,
    render_form,
    show_errors,
)

employees = Blueprint("employees", __name__, url_prefix="/app/employees")


@employees.get("/")
@require_roles(*MANAGERS)
def index() -> str:
    search = request.args.get("q", "").strip()[:100]
    rows = list(list_employees(db(), search))
    return render_template("employees/index.html", rows=rows, search=search)


@employees.route("/new", methods=["GET", "POST"])
@require_roles(*MANAGERS)
def new() -> str | BaseResponse:
    form = EmployeeForm()
    error = None
    if form.validate_on_submit():
        values = form_values(form, "name", "email", "handle", "team", "connections")
        try:
            employee = create_employee(
                db(),
                name=values["name"] or "",
                email=values["email"] or "",
                handle=values["handle"] or None,
                team=values["team"] or None,
                connections=_connections(values["connections"]),
            )
        except DomainError as exc:
            error = show_errors(form, exc)
        else:
            flash(f"{employee.name} added with handle {employee.handle}.", "success")
            return redirect(url_for("employees.index"))
    return render_form("employees/form.html", form=form, error=error)


def _connections(raw: str | None) -> int | None:
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(
            "The employee could not be saved.",
            {"connections": "Connections must be a whole number of 0 or more."},
        ) from None


@employees.route("/import", methods=["GET", "POST"])
@require_roles(*MANAGERS)
def import_file() -> BaseResponse:
    form = EmployeeImportForm()
    result: EmployeeImportResult | None = None
    error = None
    if form.validate_on_submit():
        sheet = (form.sheet.data or "").strip() or None
        try:
            text = upload_text(io.BytesIO(form.file.data.read()), sheet=sheet)
            result = import_employees(db(), text)
        except DomainError as exc:
            error = show_errors(form, exc)
    return render_form("employees/import.html", form=form, result=result, error=error)


@employees.post("/<int:employee_id>/active")
@require_roles(*MANAGERS)
def set_active(employee_id: int) -> BaseResponse:
    active = request.form.get("active") == "1"
    employee = set_employee_active(db(), employee_id, active)
    state = "reactivated" if active else "deactivated; their links keep working"
    flash(f"{employee.name} {state}.", "success")
    return redirect(url_for("employees.index", q=request.form.get("q") or None))


@employees.route("/<int:employee_id>/erase", methods=["GET", "POST"])
@require_roles(*ADMINS)
def erase(employee_id: int) -> str | BaseResponse:
    employee = get_or_not_found(db(), Employee, employee_id, "employee")
    form = ConfirmForm()
    links = settings().erased_links
    error = None
    if employee.erased_at is None and form.validate_on_submit():
        try:
            result = erase_employee(db(), employee.handle, links=links)
        except DomainError as exc:
            error = exc.message
        else:
            flash(f"Erased: the employee is now “{FORMER_EMPLOYEE}” ({result.handle}).", "success")
            return redirect(url_for("employees.index"))
    return render_form(
        "employees/erase.html", form=form, error=error, employee=employee, links=links
    )
