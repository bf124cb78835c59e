"""Registering employees, one at a time or from a CSV file."""

from __future__ import annotations

import csv
import io
import re
import secrets
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from linktracker.db import get_or_not_found
from linktracker.employees.models import Employee
from linktracker.errors import Conflict, InvalidInput, NotFound
from linktracker.limits import integer_max, parse_whole_number, text_errors

HANDLE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_OPAQUE_ALPHABET = string.ascii_lowercase + string.digits


def new_opaque_handle() -> str:
    """A handle that says nothing about the person: UTM values end up in analytics tools."""
    return "a-" + "".join(secrets.choice(_OPAQUE_ALPHABET) for _ in range(8))


def validate_employee_fields(
    name: str,
    email: str,
    handle: str | None,
    connections: int | str | None,
    team: str | None = None,
) -> dict[str, str]:
    """Return {field: message} for every invalid value (empty when all are valid)."""
    errors = text_errors(
        Employee,
        {"name": name.strip(), "email": email.strip(), "handle": handle, "team": _team(team)},
    )
    if "name" not in errors and not name.strip():
        errors["name"] = "Name is required."
    if "email" not in errors and not EMAIL_RE.fullmatch(email.strip()):
        errors["email"] = f"'{email}' is not a valid email address."
    if "handle" not in errors and handle and not HANDLE_RE.fullmatch(handle):
        errors["handle"] = (
            "Handle may contain only lowercase letters, digits and '-', "
            "must start and end with a letter or digit, and be at most 64 characters."
        )
    if connections not in (None, ""):
        most = integer_max(Employee, "connections")
        try:
            parse_whole_number("connections", str(connections), default=0, maximum=most)
        except InvalidInput:
            errors["connections"] = f"Connections must be a whole number from 0 to {most}."
    return errors


def _team(team: str | None) -> str | None:
    return (team or "").strip() or None


def create_employee(
    session: Session,
    *,
    name: str,
    email: str,
    handle: str | None = None,
    team: str | None = None,
    connections: int | None = None,
    program_role: str = "advocate",
) -> Employee:
    """Create an employee; refuses invalid values and an email or handle already in use."""
    errors = validate_employee_fields(name, email, handle, connections, team)
    if errors:
        raise InvalidInput("The employee could not be saved.", errors)
    employee = _new_employee(name, email, handle or None, team, connections, program_role)
    _ensure_unique(session, employee.email, employee.handle)
    session.add(employee)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("An employee with this email or handle already exists.") from exc
    return employee


def _new_employee(
    name: str,
    email: str,
    handle: str | None,
    team: str | None,
    connections: int | None,
    program_role: str,
) -> Employee:
    return Employee(
        name=name.strip(),
        email=email.strip().lower(),
        handle=handle or new_opaque_handle(),
        team=_team(team),
        connections=int(connections or 0),
        program_role=program_role,
        active=True,
    )


def _ensure_unique(session: Session, email: str, handle: str) -> None:
    if session.scalar(select(Employee.id).where(func.lower(Employee.email) == email)):
        raise Conflict(f"An employee with email {email} already exists.", {"email": "Taken."})
    if session.scalar(select(Employee.id).where(Employee.handle == handle)):
        raise Conflict(f"The handle '{handle}' is already taken.", {"handle": "Taken."})


def get_employee(session: Session, handle: str) -> Employee:
    """The employee with this handle, or NotFound."""
    employee = session.scalar(select(Employee).where(Employee.handle == handle))
    if employee is None:
        raise NotFound(f"No employee with handle '{handle}'.", {"employee": "Unknown handle."})
    return employee


def set_employee_active(session: Session, employee_id: int, active: bool) -> Employee:
    """Activate or deactivate an employee (their links keep working; reports keep history)."""
    employee = get_or_not_found(session, Employee, employee_id, "employee")
    if active and employee.erased_at is not None:
        raise Conflict("An erased employee cannot be reactivated; add them again instead.")
    employee.active = active
    session.commit()
    return employee


@dataclass
class EmployeeImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def import_employees(session: Session, text: str) -> EmployeeImportResult:
    """Create or update employees from CSV text (name,email,handle,team,connections).

    Rows are matched by email; bad rows are reported by line and skipped, good rows saved.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("name", "email") if c not in header]
    if missing:
        raise InvalidInput(
            f"The employee file needs the columns name and email; found: {', '.join(header)}.",
            {"file": "Missing columns: " + ", ".join(missing)},
        )
    reader.fieldnames = header
    result = EmployeeImportResult()
    existing = {e.email: e for e in session.scalars(select(Employee))}
    handles = {e.handle: e.email for e in existing.values()}
    rows = iter(reader)
    while True:
        before = reader.line_num
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a field over the csv module's limit: skip that line
            result.errors.append((before + 1, f"unreadable line: {exc}"))
            continue
        _import_employee_row(_clean_row(row), reader.line_num, existing, handles, session, result)
    session.commit()
    return result


def _clean_row(row: Mapping[str | None, object]) -> dict[str, str]:
    return {str(k): str(v or "").strip() for k, v in row.items() if k is not None}


def _import_employee_row(
    row: dict[str, str],
    line: int,
    existing: dict[str, Employee],
    handles: dict[str, str],
    session: Session,
    result: EmployeeImportResult,
) -> None:
    email = row.get("email", "").lower()
    handle = row.get("handle") or None
    errors = validate_employee_fields(
        row.get("name", ""), email, handle, row.get("connections"), row.get("team")
    )
    if handle and handles.get(handle, email) != email:
        errors["handle"] = f"Handle '{handle}' belongs to {handles[handle]}."
    if errors:
        result.errors.append((line, "; ".join(f"{k}: {v}" for k, v in errors.items())))
        return
    employee = existing.get(email)
    if employee is None:
        employee = _new_employee(
            row["name"], email, handle, row.get("team"), _int(row.get("connections")), "advocate"
        )
        session.add(employee)
        existing[email] = employee
        handles[employee.handle] = email
        result.created += 1
        return
    changes = {
        "name": row["name"],
        "team": row.get("team") or None,
        "connections": _int(row.get("connections")),
        "handle": handle or employee.handle,
    }
    if all(getattr(employee, k) == v for k, v in changes.items()):
        result.unchanged += 1
        return
    handles.pop(employee.handle, None)
    for key, value in changes.items():
        setattr(employee, key, value)
    handles[employee.handle] = email
    result.updated += 1


def _int(value: str | None) -> int:
    return int(value) if value else 0


def list_employees(session: Session, search: str = "") -> Iterable[Employee]:
    """Employees by name, optionally filtered by a search over name, email, handle and team."""
    query = select(Employee).order_by(Employee.name)
    if search:
        like = f"%{search.lower()}%"
        query = query.where(
            func.lower(Employee.name).like(like)
            | func.lower(Employee.email).like(like)
            | Employee.handle.like(like)
            | func.lower(func.coalesce(Employee.team, "")).like(like)
        )
    return session.scalars(query)
