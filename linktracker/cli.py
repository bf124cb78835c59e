"""The `linktracker` command: one Flask CLI group, commands registered on the app's own CLI."""

from __future__ import annotations

import secrets
from typing import TextIO, cast

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, routes_command, shell_command, with_appcontext
from sqlalchemy import func, select

from linktracker.auth.services import create_token, create_user
from linktracker.employees.models import Employee
from linktracker.employees.services import import_employees
from linktracker.errors import DomainError
from linktracker.migrate import upgrade_database
from linktracker.runtime import Runtime


def _runtime() -> Runtime:
    return cast(Runtime, current_app.extensions["linktracker"])


def _fail(exc: DomainError) -> click.ClickException:
    details = "".join(f"\n  {field}: {message}" for field, message in exc.fields.items())
    return click.ClickException(exc.message + details)


db_group = AppGroup("db", help="Database schema commands.")


@db_group.command("upgrade", help="Create or migrate the database schema to the latest version.")
def db_upgrade() -> None:
    upgrade_database(_runtime().engine)
    click.echo("Database is up to date.")


@click.command("create-user", help="Create a user who can sign in (roles: admin, marketer, "
               "sales_ops, employee).")  # fmt: skip
@click.argument("email")
@click.option(
    "--role", required=True, type=click.Choice(["admin", "marketer", "sales_ops", "employee"])
)
@click.option("--password", is_flag=False, flag_value="", default=None,
              help="Set this password; give the flag alone to be prompted; omit to generate one.")  # fmt: skip
@with_appcontext
def create_user_command(email: str, role: str, password: str | None) -> None:
    generated = password is None
    if password == "":
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if generated:
        password = secrets.token_urlsafe(12)
    with _runtime().sessions() as session:
        try:
            user = create_user(session, email, role, password)
        except DomainError as exc:
            raise _fail(exc) from exc
    click.echo(f"Created {user.role} {user.email}.")
    if generated:
        click.echo(f"Password: {password}")


@click.command("create-token", help="Issue an API token; the token is printed alone on the "
               "last line and never shown again.")  # fmt: skip
@click.argument("email")
@click.option("--name", default="", help="A label to recognise the token by.")
@click.option("--role", default=None, help="Scope the token to a lesser role than the user's.")
@with_appcontext
def create_token_command(email: str, name: str, role: str | None) -> None:
    with _runtime().sessions() as session:
        try:
            issued = create_token(session, email, name, role)
        except DomainError as exc:
            raise _fail(exc) from exc
    click.echo(f"Token for {email} (role {issued.record.role}); store it now:")
    click.echo(issued.token)


@click.command("import-employees", help="Create or update employees from a CSV file with the "
               "columns name,email,handle,team,connections.")  # fmt: skip
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@with_appcontext
def import_employees_command(file: TextIO) -> None:
    with _runtime().sessions() as session:
        try:
            result = import_employees(session, file.read())
        except DomainError as exc:
            raise _fail(exc) from exc
    click.echo(f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}, "
               f"rejected {len(result.errors)}")  # fmt: skip
    for line, reason in result.errors:
        click.echo(f"  line {line}: {reason}", err=True)
    if result.errors:
        raise SystemExit(1)


@click.command("demo-data", help="Load a realistic demo program (employees, campaigns, links, "
               "clicks) into an empty database.")  # fmt: skip
@click.option("--force", is_flag=True, help="Load even if the database already has employees.")
@click.option("--seed", default=7, show_default=True, help="Random seed, for repeatable data.")
@with_appcontext
def demo_data_command(force: bool, seed: int) -> None:
    from linktracker.demo import load_demo_data

    runtime = _runtime()
    with runtime.sessions() as session:
        if session.scalar(select(func.count(Employee.id))) and not force:
            raise click.ClickException("The database already has employees; use --force.")
        summary = load_demo_data(session, runtime.settings(), seed=seed)
    for line in summary:
        click.echo(line)


@click.command("run", help="Migrate the database, load demo data on first run, and serve.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
@click.option("--no-demo", is_flag=True, help="Do not load demo data into an empty database.")
@click.pass_context
@with_appcontext
def run_command(
    ctx: click.Context, host: str, port: int, workers: int, threads: int, no_demo: bool
) -> None:
    from linktracker.serve import serve

    runtime = _runtime()
    upgrade_database(runtime.engine)
    with runtime.sessions() as session:
        empty = not session.scalar(select(func.count(Employee.id)))
    if empty and not no_demo:
        ctx.invoke(demo_data_command, force=False, seed=7)
    runtime.dispose()  # no pooled connection may cross the fork into the workers
    click.echo(f"Serving linktracker on http://{host}:{port}/app/ (Ctrl+C to stop)")
    serve(current_app._get_current_object(), host, port, workers, threads)  # type: ignore[attr-defined]


def register_cli(app: Flask) -> None:
    """Put every command on the app's own CLI group."""
    for command in (
        db_group,
        create_user_command,
        create_token_command,
        import_employees_command,
        demo_data_command,
    ):
        app.cli.add_command(command)
    app.cli.add_command(run_command, "serve")


def _create_app() -> Flask:
    from linktracker import create_app

    return create_app()


main = FlaskGroup(
    name="linktracker",
    help="linktracker: personal UTM short links, click logging and CRM attribution.",
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
)
main.add_command(run_command, "run")
main.add_command(shell_command)
main.add_command(routes_command)
