"""`linktracker employees …`: the people links are made for."""

from __future__ import annotations

import io
from typing import BinaryIO

import click
from flask.cli import AppGroup

from linktracker.cli.common import current_runtime, service_session
from linktracker.crm.parsing import UnreadableExport, upload_text
from linktracker.employees.services import get_employee, import_employees
from linktracker.offboarding.services import FORMER_EMPLOYEE, erase_employee

employees_group = AppGroup("employees", help="Employees, the people links are made for.")


@employees_group.command(
    "import",
    help="Create or update employees from a CSV file or an .xlsx workbook with the "
    "columns name,email,handle,team,connections.",
)
@click.argument("file", type=click.File("rb"))
@click.option("--sheet", help="The sheet of an .xlsx workbook to read (default: the first).")
def import_employees_command(file: BinaryIO, sheet: str | None) -> None:
    try:
        text = upload_text(io.BytesIO(file.read()), sheet=sheet or None)
    except UnreadableExport as exc:
        raise click.ClickException(exc.message) from None
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


@employees_group.command(
    "erase",
    help="Erase an employee who left: name, email and team replaced, sign-in account and "
    "API tokens removed; clicks and attributed records stay, so program totals do not change. "
    "Their links keep redirecting unless ERASED_LINKS=disable.",
)
@click.argument("handle")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_employee_command(handle: str, yes: bool) -> None:
    links = current_runtime().settings().erased_links
    with service_session() as session:
        employee = get_employee(session, handle)
        if employee.erased_at is not None:
            raise click.ClickException(f"The employee with handle '{handle}' was already erased.")
        what = "disabled" if links == "disable" else "kept redirecting"
        prompt = (
            f"Erase {employee.name} <{employee.email}> ({handle})? Name, email and team are "
            f"replaced, their sign-in account and API tokens removed, their links {what}. "
            "This cannot be undone."
        )
        if not yes and not click.confirm(prompt):
            raise click.ClickException("Nothing was erased.")
        result = erase_employee(session, handle, links=links)
    click.echo(
        f"erased {handle}: now '{FORMER_EMPLOYEE}' with handle {result.handle}; "
        f"{result.links} link(s) {what}; sign-in account "
        f"{'removed' if result.user_removed else 'none'}; {result.tokens_removed} API token(s) "
        "removed"
    )
