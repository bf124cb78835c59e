"""The `linktracker` command: one group per domain, registered on the app's own CLI.

Before the groups every command had a flat name (`create-user`, `import-crm`, …); each flat
name stays as a hidden alias of its grouped command (`OLD_NAMES`), so scripts keep working.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, routes_command, shell_command

from linktracker.cli.clicks import clicks_group
from linktracker.cli.common import old_name
from linktracker.cli.crm import crm_group
from linktracker.cli.db import db_group
from linktracker.cli.digest import digest_group
from linktracker.cli.employees import employees_group
from linktracker.cli.export import export_group
from linktracker.cli.links import links_group
from linktracker.cli.privacy import privacy_group, retention_group
from linktracker.cli.recruiting import ats_group
from linktracker.cli.reports import report_group
from linktracker.cli.serve import run_command
from linktracker.cli.users import users_group
from linktracker.cli.webhooks import webhooks_group

GROUPS: tuple[click.Group, ...] = (
    users_group,
    employees_group,
    links_group,
    crm_group,
    ats_group,
    report_group,
    clicks_group,
    export_group,
    db_group,
    privacy_group,
    retention_group,
    digest_group,
    webhooks_group,
)

# old flat name -> the grouped command it now names
OLD_NAMES: dict[str, str] = {
    "create-user": "users create",
    "create-token": "users token create",
    "list-tokens": "users token list",
    "revoke-token": "users token revoke",
    "create-scim-token": "users scim-token create",
    "import-employees": "employees import",
    "import-crm": "crm import",
    "reattribute": "crm reattribute",
    "import-ats": "ats import",
    "demo-data": "db demo",
    "spool": "clicks spool",
}


def grouped_command(path: str) -> click.Command:
    """The command a space-separated path such as `users token create` names."""
    first, *rest = path.split()
    command: click.Command = next(group for group in GROUPS if group.name == first)
    for name in rest:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def register_cli(app: Flask) -> None:
    """Put every command group, and every old flat name, on the app's own CLI group."""
    for group in GROUPS:
        app.cli.add_command(group)
    for name, path in OLD_NAMES.items():
        app.cli.add_command(old_name(grouped_command(path), name, path))
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
