"""The command tree: one group per domain, and every name a user typed before still works."""

from __future__ import annotations

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner

from linktracker.cli import main
from tests.support import PASSWORD, TEST_DATA

# Every command `linktracker --help` and its groups' --help listed before the groups came.
COMMANDS_BEFORE_THE_GROUPS = [
    "create-token",
    "create-user",
    "crm",
    "crm purge-raw",
    "crm run",
    "db",
    "db upgrade",
    "demo-data",
    "import-crm",
    "import-employees",
    "limiter",
    "list-tokens",
    "reattribute",
    "report",
    "report campaigns",
    "report channels",
    "report program",
    "report refresh",
    "report reps",
    "revoke-token",
    "routes",
    "run",
    "serve",
    "shell",
    "spool",
    "spool replay",
    "spool status",
]

# old flat name -> the grouped command it is a hidden alias of
ALIASES = {
    "create-user": "users create",
    "create-token": "users token create",
    "list-tokens": "users token list",
    "revoke-token": "users token revoke",
    "import-employees": "employees import",
    "import-crm": "crm import",
    "reattribute": "crm reattribute",
    "demo-data": "db demo",
    "spool": "clicks spool",
}

GROUPED_COMMANDS = [
    "users create",
    "users list",
    "users token create",
    "users token list",
    "users token revoke",
    "employees import",
    "links generate",
    "links disable",
    "links enable",
    "crm import",
    "crm run",
    "crm reattribute",
    "crm purge-raw",
    "report reps",
    "report refresh",
    "clicks spool status",
    "clicks spool replay",
    "db upgrade",
    "db demo",
]


def _help(app: Flask, command: str) -> Result:
    return app.test_cli_runner().invoke(main, [*command.split(), "--help"])


def _options(help_text: str) -> str:
    return help_text[help_text.index("Options:") :]


@pytest.mark.parametrize("command", COMMANDS_BEFORE_THE_GROUPS + GROUPED_COMMANDS)
def test_every_command_name_answers_help(app: Flask, command: str) -> None:
    result = _help(app, command)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: linktracker {command} ")


@pytest.mark.parametrize(("old", "new"), sorted(ALIASES.items()))
def test_an_old_name_takes_the_options_of_its_grouped_command(
    app: Flask, old: str, new: str
) -> None:
    before, after = _help(app, old), _help(app, new)
    assert before.exit_code == after.exit_code == 0
    assert _options(before.output) == _options(after.output)
    assert f"(Old name of `linktracker {new}`; it keeps working.)" in " ".join(
        before.output.split()
    )


def test_the_help_shows_the_groups_and_hides_the_old_names(app: Flask) -> None:
    result = app.test_cli_runner().invoke(main, ["--help"])
    listed = {line.split()[0] for line in result.output.split("Commands:")[1].splitlines()[1:]}
    assert {"users", "employees", "crm", "report", "clicks", "db", "run"} <= listed
    assert not listed & set(ALIASES)


def test_old_and_grouped_user_and_token_commands_do_the_same(runner: FlaskCliRunner) -> None:
    old = runner.invoke(args=["create-user", "old@example.com", "--role", "admin",
                              "--password", PASSWORD])  # fmt: skip
    new = runner.invoke(args=["users", "create", "new@example.com", "--role", "admin",
                              "--password", PASSWORD])  # fmt: skip
    assert (old.output, new.output) == ("Created admin old@example.com.\n",
                                        "Created admin new@example.com.\n")  # fmt: skip
    for create in (["create-token"], ["users", "token", "create"]):
        result = runner.invoke(args=[*create, "new@example.com", "--name", "ci"])
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[-1].startswith("lt_")
    listed = runner.invoke(args=["list-tokens", "new@example.com"])
    assert listed.output == runner.invoke(args=["users", "token", "list", "new@example.com"]).output
    first, second = (int(line.split()[0]) for line in listed.output.splitlines()[1:])
    assert runner.invoke(args=["revoke-token", str(first)]).output.endswith("is revoked.\n")
    result = runner.invoke(args=["users", "token", "revoke", str(second)])
    assert result.output.endswith("is revoked.\n")
    statuses = runner.invoke(args=["users", "token", "list", "new@example.com"]).output
    assert [line.split()[-1] for line in statuses.splitlines()[1:]] == ["revoked", "revoked"]
    users = runner.invoke(args=["users", "list"])
    assert users.exit_code == 0, users.output
    emails = [line.split()[1] for line in users.output.splitlines()[1:]]
    assert emails == ["new@example.com", "old@example.com"]
    assert "admin" in users.output and "active" in users.output


def test_old_and_grouped_import_commands_do_the_same(runner: FlaskCliRunner) -> None:
    employees = str(TEST_DATA / "crm" / "employees.csv")
    first = runner.invoke(args=["import-employees", employees])
    assert first.exit_code == 0, first.output
    count = first.output.split()[1].rstrip(",")
    again = runner.invoke(args=["employees", "import", employees])
    assert again.output.startswith(f"created 0, updated 0, unchanged {count}")
    deals = str(TEST_DATA / "crm" / "hubspot_deals_export.csv")
    assert "inserted   30" in runner.invoke(args=["import-crm", deals]).output.splitlines()
    assert "unchanged  30" in runner.invoke(args=["crm", "import", deals]).output.splitlines()
    old = runner.invoke(args=["reattribute"])
    assert old.exit_code == 0, old.output
    assert old.output == runner.invoke(args=["crm", "reattribute"]).output


def test_old_and_grouped_demo_and_spool_commands_do_the_same(runner: FlaskCliRunner) -> None:
    runner.invoke(args=["employees", "import", str(TEST_DATA / "crm" / "employees.csv")])
    for demo in (["demo-data"], ["db", "demo"]):
        result = runner.invoke(args=demo)
        assert result.exit_code == 1
        assert "The database already has employees; use --force." in result.output
    old = runner.invoke(args=["spool", "status"])
    assert old.exit_code == 0, old.output
    assert "0 spooled click(s) in 0 file(s) in " in old.output
    assert old.output == runner.invoke(args=["clicks", "spool", "status"]).output
