"""`linktracker clicks …`: clicks kept outside the database for a while (the spool)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from linktracker.cli.common import current_runtime

clicks_group = AppGroup(
    "clicks", help="Clicks: the spool of clicks kept while the database was unavailable."
)
spool_group = AppGroup("spool", help="Clicks spooled while the database was unavailable.")


@spool_group.command("status", help="List spool files and how many clicks each holds.")
def spool_status_command() -> None:
    from linktracker.clicks.spool import spool_status

    folder = current_runtime().config.spool_folder
    files = spool_status(folder)
    for file in files:
        if file.live_journal:
            state = "a running server's click journal, stored as it goes"
        else:
            state = "in use by a running process" if file.in_use else "waiting for replay"
        torn = f", {file.unreadable} unreadable line(s)" if file.unreadable else ""
        click.echo(f"{file.path.name}: {file.rows} click(s){torn}, {state}")
    waiting = [file for file in files if not file.live_journal]
    total = sum(file.rows for file in waiting)
    click.echo(f"{total} spooled click(s) in {len(waiting)} file(s) in {folder}.")


@spool_group.command("replay", help="Insert spooled clicks into the database, exactly once.")
def spool_replay_command() -> None:
    from sqlalchemy.exc import DBAPIError

    from linktracker.clicks.spool import replay_spool

    runtime = current_runtime()
    try:
        result = replay_spool(runtime.engine, runtime.config.spool_folder)
    except DBAPIError as exc:
        raise click.ClickException(
            f"The database is still unavailable ({exc.__class__.__name__}); nothing was lost, "
            "the spool files are kept: run this again later."
        ) from exc
    click.echo(
        f"Replayed {result.files} file(s): {result.rows} click(s) read, {result.inserted} new, "
        f"{result.rows - result.inserted} already stored."
    )
    if result.unreadable:
        click.echo(f"Skipped {result.unreadable} torn line(s) (requests never answered).")
    if result.in_use:
        click.echo(f"{result.in_use} file(s) still in use by a running server; it replays them.")


clicks_group.add_command(spool_group)
