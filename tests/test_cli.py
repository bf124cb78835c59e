"""The CLI contract: commands reachable through the app's own CLI group."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.auth.services import find_user_by_email
from linktracker.clicks.models import Click
from linktracker.contributions.models import Contribution
from linktracker.employees.models import Employee
from linktracker.recruiting.models import Application
from tests.support import TEST_DATA


def test_create_user_and_token_print_the_token_last(runner: FlaskCliRunner, client) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["create-user", "ops@example.com", "--role", "admin",
                                 "--password", "a long enough password"])  # fmt: skip
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-token", "ops@example.com"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("lt_")
    response = client.post("/api/v1/employees", json={"name": "A", "email": "a@example.com"},
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert response.status_code == 201


def test_create_user_generates_a_password_when_none_given(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["create-user", "m@example.com", "--role", "marketer"])
    assert result.exit_code == 0
    assert "Password: " in result.output


def test_create_user_refuses_bad_input(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["create-user", "x@example.com", "--role", "admin",
                                 "--password", "short"])  # fmt: skip
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output


@pytest.mark.parametrize("password", ["aaaaaaaaaa", "password12", " " * 10])
def test_create_user_refuses_guessable_passwords(
    runner: FlaskCliRunner, session: Session, password: str
) -> None:
    result = runner.invoke(args=["create-user", "x@example.com", "--role", "admin",
                                 "--password", password])  # fmt: skip
    assert result.exit_code != 0
    assert "too easy to guess" in result.output or "Set a password" in result.output
    assert find_user_by_email(session, "x@example.com") is None


def test_create_token_for_unknown_user_fails(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["create-token", "nobody@example.com"])
    assert result.exit_code != 0
    assert "No user with email" in result.output


def test_import_employees_from_the_shared_sample(runner: FlaskCliRunner, session: Session) -> None:
    path = TEST_DATA / "crm" / "employees.csv"
    result = runner.invoke(args=["import-employees", str(path)])
    assert result.exit_code == 0, result.output
    count = session.scalar(select(func.count(Employee.id)))
    assert count and count > 0
    again = runner.invoke(args=["import-employees", str(path)])
    assert f"unchanged {count}" in again.output


def test_import_employees_reports_bad_rows_and_keeps_good_ones(
    runner: FlaskCliRunner, session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text("name,email,handle,team,connections\n"
                    "Rep A,a@example.com,rep-a,Sales,100\n"
                    "Rep B,not-an-email,rep-b,Sales,100\n"
                    "Rep C,c@example.com,Bad Handle,Sales,x\n")  # fmt: skip
    result = runner.invoke(args=["import-employees", str(path)])
    assert result.exit_code == 1
    assert "line 3" in result.output and "line 4" in result.output
    assert [e.email for e in session.scalars(select(Employee))] == ["a@example.com"]


def test_import_employees_without_required_columns_is_refused(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text("full name,mail\nA,a@example.com\n")
    result = runner.invoke(args=["import-employees", str(path)])
    assert result.exit_code != 0
    assert "name and email" in result.output


def test_demo_data_loads_a_program_once(runner: FlaskCliRunner, session: Session) -> None:
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(func.count(Employee.id))) == 50
    assert (session.scalar(select(func.count(Click.id))) or 0) > 1000
    assert session.scalar(select(func.count(Click.id)).where(Click.is_bot))
    # A recruiting campaign's clicks, referrals and a baseline come in as an ATS import.
    assert "ATS: 145 Greenhouse applications imported" in result.output
    methods = dict(
        session.execute(
            select(Application.attribution_method, func.count()).group_by(
                Application.attribution_method
            )
        ).all()
    )
    assert methods["click_id"] == 40 and methods["referral"] == 15 and methods["none"] == 90
    statuses = session.execute(
        select(Contribution.status, func.count()).group_by(Contribution.status)
    )
    assert dict(statuses.all()) == {"pending": 3, "approved": 1, "rejected": 1}
    assert "Stories: 5 suggested (3 waiting for review)." in result.output
    again = runner.invoke(args=["demo-data"])
    assert again.exit_code != 0 and "--force" in again.output


def test_db_upgrade_is_idempotent(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0
    assert "up to date" in result.output
