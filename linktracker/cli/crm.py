"""`linktracker crm …`: CRM imports and the attribution of their records."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from linktracker.cli.common import current_runtime, import_context, service_session
from linktracker.cli.import_files import (
    ImportFile,
    import_file_options,
    importing,
    print_summary,
)
from linktracker.crm import services as crm

crm_group = AppGroup(
    "crm",
    help="CRM imports: import a file, run one again, re-attribute, delete raw files past "
    "retention.",
)


@crm_group.command(
    "import",
    help="Import a CRM export (CSV or .xlsx from Salesforce, HubSpot, Pipedrive, Zoho or a "
    "spreadsheet); "
    "records upsert by source and id, the raw file is kept.",
)
@import_file_options(
    sources="salesforce, hubspot, pipedrive, zoho, generic",
    map_example="Created On=created_at",
    dry_run="Read and count everything, write no records.",
)
def import_crm_command(given: ImportFile) -> None:
    runtime = current_runtime()
    path = given.path
    options = given.options()
    size = path.stat().st_size
    bar = click.progressbar(length=size, label=f"Importing {path.name}", show_eta=True)
    shown = [0]

    def progress(step: crm.ImportProgress) -> None:
        if size >= crm.PROGRESS_BAR_BYTES:  # a bar only where it helps
            bar.length = step.size  # a workbook is read as its sheet's CSV text
            bar.update(step.bytes_read - shown[0])
            shown[0] = step.bytes_read

    with runtime.sessions() as session, path.open("rb") as stream, importing(path):
        try:
            summary = crm.upload_and_import(
                session,
                stream,
                import_context(),
                options,
                filename=path.name,
                source=given.source,
                progress=progress,
            )
        finally:
            if shown[0]:
                bar.render_finish()
    print_summary(summary, given.shown_errors, area="crm", words=str)


@crm_group.command(
    "run", help="Run a stored import again: resumes an interrupted one with its options."
)
@click.argument("import_id", type=int)
def crm_run_command(import_id: int) -> None:
    with service_session() as session:
        summary = crm.import_crm_file(session, import_id, import_context())
    click.echo(crm.summary_table(summary))


@crm_group.command(
    "reattribute",
    help="Re-run attribution over every CRM record (after new "
    "clicks, imports or handle changes); prints counts per method.",
)
def reattribute_command() -> None:
    from linktracker.attribution.services import attribute_records

    runtime = current_runtime()
    program = runtime.settings()
    with runtime.sessions() as session:
        summary = attribute_records(
            session,
            window_days=program.attribution_window_days,
            click_id_param=program.click_id_param,
        )
    for line in summary.lines():
        click.echo(line)


@crm_group.command(
    "purge-raw",
    help="Delete the raw CRM uploads past retention (CRM_RAW_RETENTION_DAYS); the imports' "
    "records and summaries stay.",
)
@click.option(
    "--days",
    type=int,
    default=None,
    help="Keep raw files this many days after their import finished instead of "
    "CRM_RAW_RETENTION_DAYS (0: delete every finished import's raw file).",
)
def crm_purge_raw_command(days: int | None) -> None:
    with service_session() as session:
        purge_raw_files(session, days)


def purge_raw_files(session: Session, days: int | None) -> None:
    """Delete the raw uploads past retention (`days`, else the setting) and say which."""
    config = current_runtime().config
    days = config.crm_raw_retention_days if days is None else days
    purged = crm.purge_raw_files(session, upload_folder=config.upload_folder, retention_days=days)
    ids = ", ".join(str(i) for i in purged.import_ids) or "none"
    click.echo(
        f"Deleted the raw files of {len(purged.import_ids)} import(s) older than {days} day(s) "
        f"({purged.files} file(s); imports {ids}); their records and summaries are kept."
    )
