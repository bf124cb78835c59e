"""`linktracker ats …`: ATS imports (applications) and their attribution."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from linktracker.cli.common import current_runtime, fail, import_context, service_session
from linktracker.cli.crm import import_options
from linktracker.crm import services as crm
from linktracker.errors import DomainError
from linktracker.recruiting.attribution import attribute_applications
from linktracker.recruiting.imports import AtsImportResult, import_ats_file, upload_and_import_ats

ats_group = AppGroup(
    "ats",
    help="ATS imports: applications from Greenhouse, Lever, Ashby, Workable, SmartRecruiters, "
    "Personio, Teamtailor or a spreadsheet; their attribution to employees.",
)


@ats_group.command(
    "import",
    help="Import an ATS export; applications upsert by source and id, the raw file is kept, "
    "candidate emails are stored only as keyed hashes.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option(
    "--source",
    help="Source system the ids belong to, e.g. greenhouse, lever, ashby, workable, "
    "smartrecruiters, personio, teamtailor (default: the detected format).",
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="Map a column explicitly, e.g. --map 'Eingang=applied_at' (repeatable; 'COLUMN=' "
    "ignores the column).",
)
@click.option(
    "--dayfirst/--monthfirst",
    default=None,
    help="Read 01/02/2026 as 1 February (--dayfirst) or as January 2 (--monthfirst); default: "
    "decided from the file's unambiguous dates.",
)
@click.option("--dry-run", is_flag=True, help="Read and count everything, write nothing.")
@click.option("--errors", "shown_errors", default=20, show_default=True, help="Row errors listed.")
def import_ats_command(
    file: str,
    source: str | None,
    mapping: tuple[str, ...],
    dayfirst: bool | None,
    dry_run: bool,
    shown_errors: int,
) -> None:
    path = Path(file)
    options = import_options(mapping, dayfirst, dry_run)
    with current_runtime().sessions() as session, path.open("rb") as stream:
        try:
            result = upload_and_import_ats(
                session, stream, import_context(), options, filename=path.name, source=source
            )
        except crm.ImportRefused as exc:
            message = f"{path.name} was refused (import {exc.import_id}): {exc.message}"
            raise click.ClickException(message) from exc
        except DomainError as exc:
            raise fail(exc) from exc
    _print_result(result, shown_errors)


def _print_result(result: AtsImportResult, shown_errors: int) -> None:
    summary = result.summary
    click.echo(crm.summary_table(summary).replace("\nwon  ", "\nhired"))
    for error in summary.errors[:shown_errors]:
        where = f"line {error.line}" + (f", {error.column}" if error.column else "")
        click.echo(f"  {where}: {error.reason}")
    if summary.rejected > shown_errors:
        click.echo(
            f"  … and {summary.rejected - shown_errors} more: "
            f"GET /api/v1/ats/imports/{summary.id}/rejected.csv lists them all."
        )
    for item in result.ambiguous_referrers:
        click.echo(
            f"ambiguous referrer {item.referrer!r}: {item.employees} employees have this name; "
            f"{item.applications} application(s) not credited (use the referrer's email)."
        )


@ats_group.command(
    "run", help="Run a stored ATS import again: resumes an interrupted one with its options."
)
@click.argument("import_id", type=int)
def ats_run_command(import_id: int) -> None:
    with service_session() as session:
        result = import_ats_file(session, import_id, import_context())
    _print_result(result, 20)


@ats_group.command(
    "reattribute",
    help="Re-run attribution over every application (after new clicks, imports or employees); "
    "prints counts per method.",
)
def ats_reattribute_command() -> None:
    runtime = current_runtime()
    program = runtime.settings()
    with runtime.sessions() as session:
        summary = attribute_applications(
            session,
            window_days=program.attribution_window_days,
            click_id_param=program.click_id_param,
        )
    for line in summary.lines():
        click.echo(line)
