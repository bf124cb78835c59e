"""`linktracker export …`: data out of linktracker in bulk, for a warehouse or a spreadsheet."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click
from flask.cli import AppGroup

from linktracker.cli.common import current_runtime, fail
from linktracker.errors import DomainError

if TYPE_CHECKING:
    from linktracker.clicks.export import ClickExport

export_group = AppGroup("export", help="Export data in bulk (raw clicks as NDJSON or CSV).")

# Progress goes to stderr at most this often, so a long export shows it is alive.
PROGRESS_SECONDS = 2.0


@export_group.command(
    "clicks",
    help="Every raw click in the order it was stored, as NDJSON (default) or CSV, paged through "
    "with constant memory. Clicks stored while it runs are included up to the end; run it again "
    "with --after set to the last click id to fetch only the clicks stored since.",
)
@click.option("--after", metavar="CLICK_ID", help="Start after this click (the last one you got).")
@click.option("--from", "date_from", metavar="DATE", help="First day (reporting time zone).")
@click.option("--to", "date_to", metavar="DATE", help="Last day (reporting time zone).")
@click.option("--campaign", help="Only this campaign's clicks (slug).")
@click.option("--employee", help="Only this employee's clicks (handle).")
@click.option("--include-bots", is_flag=True, help="Bots and link previews too.")
@click.option("--format", "export_format", type=click.Choice(["ndjson", "csv"]), default="ndjson")
@click.option(
    "--output",
    "-o",
    metavar="PATH",
    default="-",
    help="File to write (default: standard output). Written whole or not at all.",
)
def export_clicks_command(
    after: str | None,
    date_from: str | None,
    date_to: str | None,
    campaign: str | None,
    employee: str | None,
    include_bots: bool,
    export_format: str,
    output: str,
) -> None:
    from linktracker.clicks.export import MAX_LIMIT, prepare_click_export

    runtime = current_runtime()
    values = {
        "after": after,
        "from": date_from,
        "to": date_to,
        "campaign": campaign,
        "employee": employee,
        "include_bots": "1" if include_bots else "0",
        "format": export_format,
        "limit": str(MAX_LIMIT),
    }
    with runtime.sessions() as session:
        try:
            export = prepare_click_export(
                session, values, timezone=runtime.settings().reporting_timezone
            )
        except DomainError as exc:
            raise fail(exc) from exc
    progress = _Progress()
    if output == "-":
        last = _write_all(export, sys.stdout, progress)
    else:
        last = _write_file(export, Path(output), progress)
    progress.done(last, output)


def _write_file(export: ClickExport, path: Path, progress: _Progress) -> str | None:
    # Written beside the target and renamed into place: a failed export leaves no half file.
    partial = path.with_name(f".{path.name}.part")
    try:
        with partial.open("w", encoding="utf-8", newline="") as stream:
            last = _write_all(export, stream, progress)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return last


def _write_all(export: ClickExport, stream: IO[str], progress: _Progress) -> str | None:
    """Write every page, each read in a short transaction of its own (so the export holds no
    snapshot open and takes in clicks stored while it runs); the last click id written."""
    from linktracker.clicks.export import export_chunks, export_rows, row_position

    runtime = current_runtime()
    postgresql = runtime.engine.dialect.name == "postgresql"
    header = True
    last: str | None = None
    while True:
        page = _Page()
        with runtime.sessions() as session:
            rows = page.count(export_rows(session, export))
            for chunk in export_chunks(rows, export.format, header=header):
                stream.write(chunk)
        header = False
        if page.last is None:
            stream.flush()
            return last
        last = page.last[0]
        progress.add(page.rows)
        export = export.following(row_position(page.last, postgresql=postgresql))


class _Page:
    def __init__(self) -> None:
        self.rows = 0
        self.last: Sequence[Any] | None = None

    def count(self, rows: Iterator[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        for row in rows:
            self.rows += 1
            self.last = row
            yield row


class _Progress:
    def __init__(self) -> None:
        self.rows = 0
        self.started = time.monotonic()
        self.shown = self.started

    def add(self, rows: int) -> None:
        self.rows += rows
        now = time.monotonic()
        if now - self.shown >= PROGRESS_SECONDS:
            self.shown = now
            rate = self.rows / max(now - self.started, 1e-9)
            click.echo(f"{self.rows:,} clicks exported ({rate:,.0f}/s)…", err=True)

    def done(self, last: str | None, output: str) -> None:
        where = "standard output" if output == "-" else output
        if last is None:
            click.echo(f"No clicks to export (to {where}).", err=True)
            return
        click.echo(
            f"Exported {self.rows:,} click(s) to {where}. Last click id: {last} "
            f"(next time, --after {last} exports only the clicks stored since).",
            err=True,
        )
