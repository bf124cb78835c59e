"""`linktracker db demo`: a realistic demo program in an empty database."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from linktracker.cli.common import current_runtime
from linktracker.employees.models import Employee

DEMO_LOGINS = "demo-logins.txt"


@click.command(
    "demo",
    help="Load a realistic demo program (employees, campaigns, links, "
    "clicks) into an empty database.",
)
@click.option("--force", is_flag=True, help="Load even if the database already has employees.")
@click.option("--seed", default=7, show_default=True, help="Random seed, for repeatable data.")
@with_appcontext
def demo_data_command(force: bool, seed: int) -> None:
    from linktracker.demo import load_demo_data

    runtime = current_runtime()
    with runtime.sessions() as session:
        if session.scalar(select(func.count(Employee.id))) and not force:
            raise click.ClickException("The database already has employees; use --force.")
        summary = load_demo_data(session, runtime.settings(), seed=seed,
                                 upload_folder=runtime.config.upload_folder,
                                 email_secret=runtime.secret)  # fmt: skip
    logins = demo_logins()
    logins.parent.mkdir(parents=True, exist_ok=True)
    logins.write_text("\n".join(summary) + "\n")
    logins.chmod(0o600)
    for line in summary:
        click.echo(line)
    click.echo(f"(also written to {logins})")


def demo_logins() -> Path:
    """Where the demo program's sign-ins are saved (the instance folder)."""
    return Path(current_app.instance_path) / DEMO_LOGINS
