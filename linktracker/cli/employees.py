"""`linktracker employees …`: the people links are made for."""

from __future__ import annotations

from typing import TextIO

import click
from flask.cli import AppGroup

from linktracker.cli.common import service_session
from linktracker.employees.services import import_employees

employees_group = AppGroup("employees", help="Employees, the people links are made for.")


@employees_group.command(
    "import",
    help="Create or update employees from a CSV file with the "
    "columns name,email,handle,team,connections.",
)
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
def import_employees_command(file: TextIO) -> None:
    try:
        text = file.read()
    except UnicodeDecodeError:
        raise click.ClickException(
            "The file is not UTF-8 text. Save it as “CSV UTF-8” and import again."
        ) from None
    with service_session() as session:
        result = import_employees(session, text)
    click.echo(
        f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}, "
        f"rejected {len(result.errors)}"
    )
    for line, reason in result.errors:
        click.echo(f"  line {line}: {reason}", err=True)
    if result.errors:
        raise SystemExit(1)
