"""What `crm import` and `ats import` share: their options, how a file is read, refusals, errors."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from linktracker.cli.common import current_runtime, fail
from linktracker.crm import services as crm
from linktracker.errors import DomainError


@dataclass(frozen=True)
class ImportFile:
    """What an import command was given: the file, its options and the errors to list."""

    path: Path
    source: str | None
    mapping: tuple[str, ...]
    dayfirst: bool | None
    sheet: str | None
    dry_run: bool
    shown_errors: int

    def options(self) -> crm.ImportOptions:
        return import_options(self.mapping, self.dayfirst, self.dry_run, self.sheet)


def import_file_options(
    *, sources: str, map_example: str, dry_run: str
) -> Callable[[Callable[[ImportFile], None]], Callable[..., None]]:
    """The options of an import command (FILE, --source, --map, --dayfirst, --sheet,
    --dry-run, --errors), handed to it as one :class:`ImportFile`; ``sources`` and
    ``map_example`` are the pipeline's examples."""

    def decorate(run: Callable[[ImportFile], None]) -> Callable[..., None]:
        @functools.wraps(run)
        def command(file: str, **given: Any) -> None:
            run(ImportFile(path=Path(file), **given))

        for option in reversed(
            (
                click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True)),
                click.option(
                    "--source",
                    help=f"Source system the ids belong to, e.g. {sources} "
                    "(default: the detected format).",
                ),
                click.option(
                    "--map",
                    "mapping",
                    multiple=True,
                    metavar="COLUMN=FIELD",
                    help=f"Map a column explicitly, e.g. --map '{map_example}' (repeatable; "
                    "'COLUMN=' ignores the column).",
                ),
                click.option(
                    "--dayfirst/--monthfirst",
                    default=None,
                    help="Read 01/02/2026 as 1 February (--dayfirst) or as January 2 "
                    "(--monthfirst); default: decided from the file's unambiguous dates.",
                ),
                click.option(
                    "--sheet",
                    help="The sheet to read from an Excel workbook (.xlsx), by name (default: "
                    "the first visible sheet).",
                ),
                click.option("--dry-run", is_flag=True, help=dry_run),
                click.option(
                    "--errors",
                    "shown_errors",
                    default=20,
                    show_default=True,
                    help="Row errors listed.",
                ),
            )
        ):
            command = option(command)
        return command

    return decorate


def import_options(
    mapping: tuple[str, ...], dayfirst: bool | None, dry_run: bool, sheet: str | None = None
) -> crm.ImportOptions:
    """How the file is read: the command's options, the rest from the app's configuration."""
    config = current_runtime().config
    try:
        return crm.ImportOptions(
            mapping=crm.parse_mapping_option(mapping) or None,
            dayfirst=dayfirst,
            timezone=config.crm_timezone,
            click_id_param=current_runtime().settings().click_id_param,
            keep_emails=config.crm_keep_emails,
            dry_run=dry_run,
            sheet=sheet or None,
        )
    except DomainError as exc:
        raise fail(exc) from exc


@contextmanager
def importing(path: Path) -> Iterator[None]:
    """A refused file or a service error ends the command with its message (exit code 1)."""
    try:
        yield
    except crm.ImportRefused as exc:
        message = f"{path.name} was refused (import {exc.import_id}): {exc.message}"
        raise click.ClickException(message) from exc
    except DomainError as exc:
        raise fail(exc) from exc


def print_summary(
    summary: crm.ImportSummary, shown_errors: int, *, area: str, words: Callable[[str], str]
) -> None:
    """An import's summary table (in the pipeline's ``words``) and its first row errors."""
    click.echo(words(crm.summary_table(summary)))
    for error in summary.errors[:shown_errors]:
        where = f"line {error.line}" + (f", {error.column}" if error.column else "")
        click.echo(f"  {where}: {error.reason}")
    if summary.rejected > shown_errors:
        click.echo(
            f"  … and {summary.rejected - shown_errors} more: "
            f"GET /api/v1/{area}/imports/{summary.id}/rejected.csv lists them all."
        )
