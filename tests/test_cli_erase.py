"""`linktracker employees erase HANDLE`: asks first, refuses unknown handles."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker import create_app
from linktracker.db import Base
from linktracker.employees.models import Employee
from tests.factories import make_employee, make_link


def _snapshot(session: Session) -> list[tuple[object, ...]]:
    session.expire_all()
    tables = Base.metadata.sorted_tables
    return [tuple(row) for table in tables for row in session.execute(select(table))]


@pytest.fixture
def disabling_app(config: dict[str, object]) -> Iterator[Flask]:
    app = create_app(config | {"ERASED_LINKS": "disable"})
    yield app
    app.extensions["linktracker"].dispose()


def test_unknown_handle_is_refused_and_nothing_changes(runner, session: Session) -> None:  # type: ignore[no-untyped-def]
    make_employee(session, name="Kept Person")
    before = _snapshot(session)
    result = runner.invoke(args=["employees", "erase", "nobody", "--yes"])
    assert result.exit_code == 1
    assert "No employee with handle 'nobody'." in result.output
    assert _snapshot(session) == before


def test_answering_no_erases_nothing(runner, session: Session) -> None:  # type: ignore[no-untyped-def]
    employee = make_employee(session, name="Kept Person", email="kept@example.com")
    before = _snapshot(session)
    result = runner.invoke(args=["employees", "erase", employee.handle], input="n\n")
    assert result.exit_code == 1
    assert "Erase Kept Person <kept@example.com>" in result.output
    assert "Nothing was erased." in result.output
    assert _snapshot(session) == before


def test_confirmed_erasure_keeps_links_redirecting(runner, session: Session, client) -> None:  # type: ignore[no-untyped-def]
    employee = make_employee(session, name="Leaving Person")
    link = make_link(session, employee=employee)
    result = runner.invoke(args=["employees", "erase", employee.handle], input="y\n")
    assert result.exit_code == 0, result.output
    assert f"erased {employee.handle}: now 'Former employee'" in result.output
    assert "1 link(s) kept redirecting" in result.output
    session.expire_all()
    assert session.get(Employee, employee.id).name == "Former employee"  # type: ignore[union-attr]
    assert client.get(f"/{link.code}").status_code == 302

    again = runner.invoke(args=["employees", "erase", employee.handle, "--yes"])
    assert again.exit_code == 1 and "already erased" in again.output


def test_erased_links_disable_setting_answers_links_as_disabled(
    disabling_app: Flask, session: Session
) -> None:
    employee = make_employee(session, name="Leaving Person")
    link = make_link(session, employee=employee)
    result = disabling_app.test_cli_runner().invoke(
        args=["employees", "erase", employee.handle, "--yes"]
    )
    assert result.exit_code == 0, result.output
    assert "1 link(s) disabled" in result.output
    assert disabling_app.test_client().get(f"/{link.code}").status_code == 410
