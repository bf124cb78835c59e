"""`linktracker db …`: the database schema, and the demo program to fill it with."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from linktracker.cli.common import current_runtime
from linktracker.cli.demo import demo_data_command
from linktracker.migrate import upgrade_database

db_group = AppGroup("db", help="Database schema commands, and the demo program.")
db_group.add_command(demo_data_command)


@db_group.command("upgrade", help="Create or migrate the database schema to the latest version.")
def db_upgrade() -> None:
    upgrade_database(current_runtime().engine)
    click.echo("Database is up to date.")
