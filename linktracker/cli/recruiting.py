"""`linktracker ats …`: ATS imports (applications) and their attribution."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from linktracker.cli.common import current_runtime, import_context, service_session
from linktracker.cli.import_files import (
    ImportFile,
    import_file_options,
    importing,
    print_summary,
)
from linktracker.recruiting.attribution import attribute_applications
from linktracker.recruiting.imports import AtsImportResult, import_ats_file, upload_and_import_ats

ats_group = AppGroup(
    "ats",
    help="ATS imports: applications from Greenhouse, Lever, Ashby, Workable, SmartRecruiters, "
    "Personio, Teamtailor or a spreadsheet; their attribution to employees.",
)


@ats_group.command(
    "import",
    help="Import an ATS export (CSV or .xlsx); applications upsert by source and id, the raw "
    "file is kept, candidate emails are stored only as keyed hashes.",
)
@import_file_options(
    sources="greenhouse, lever, ashby, workable, smartrecruiters, personio, teamtailor",
    map_example="Eingang=applied_at",
    dry_run="Read and count everything, write nothing.",
)
def import_ats_command(given: ImportFile) -> None:
    path, options = given.path, given.options()
    with current_runtime().sessions() as session, path.open("rb") as stream, importing(path):
        result = upload_and_import_ats(
            session, stream, import_context(), options, filename=path.name, source=given.source
        )
    _print_result(result, given.shown_errors)


def _hired(table: str) -> str:
    return table.replace("\nwon  ", "\nhired")


def _print_result(result: AtsImportResult, shown_errors: int) -> None:
    print_summary(result.summary, shown_errors, area="ats", words=_hired)
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
