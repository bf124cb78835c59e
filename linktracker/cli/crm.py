"""`linktracker crm …`: CRM imports and the attribution of their records."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from linktracker.cli.common import current_runtime, fail, import_context, service_session
from linktracker.crm import services as crm
from linktracker.errors import DomainError

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
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option(
    "--source",
    help="Source system the ids belong to, e.g. salesforce, hubspot, pipedrive, zoho, generic "
    "(default: the detected format).",
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="Map a column explicitly, e.g. --map 'Created On=created_at' (repeatable; 'COLUMN=' "
    "ignores the column).",
)
@click.option(
    "--dayfirst/--monthfirst",
    default=None,
    help="Read 01/02/2026 as 1 February (--dayfirst) or as January 2 (--monthfirst); default: "
    "decided from the file's unambiguous dates.",
)
@click.option(
    "--sheet",
    help="The sheet to read from an Excel workbook (.xlsx), by name (default: the first "
    "visible sheet).",
)
@click.option("--dry-run", is_flag=True, help="Read and count everything, write no records.")
@click.option("--errors", "shown_errors", default=20, show_default=True, help="Row errors listed.")
def import_crm_command(
    file: str,
    source: str | None,
    mapping: tuple[str, ...],
    dayfirst: bool | None,
    sheet: str | None,
    dry_run: bool,
    shown_errors: int,
) -> None:
    runtime = current_runtime()
    path = Path(file)
    options = replace(import_options(mapping, dayfirst, dry_run), sheet=sheet or None)
    size = path.stat().st_size
    bar = click.progressbar(length=size, label=f"Importing {path.name}", show_eta=True)
    shown = [0]

    def progress(step: crm.ImportProgress) -> None:
        if size >= crm.PROGRESS_BAR_BYTES:  # a bar only where it helps
            bar.length = step.size  # a workbook is read as its sheet's CSV text
            bar.update(step.bytes_read - shown[0])
            shown[0] = step.bytes_read

    with runtime.sessions() as session, path.open("rb") as stream:
        try:
            summary = crm.upload_and_import(
                session,
                stream,
                import_context(),
                options,
                filename=path.name,
                source=source,
                progress=progress,
            )
        except crm.ImportRefused as exc:
            message = f"{path.name} was refused (import {exc.import_id}): {exc.message}"
            raise click.ClickException(message) from exc
        except DomainError as exc:
            raise fail(exc) from exc
        finally:
            if shown[0]:
                bar.render_finish()
    _print_summary(summary, shown_errors)


def import_options(
    mapping: tuple[str, ...], dayfirst: bool | None, dry_run: bool
) -> crm.ImportOptions:
    config = current_runtime().config
    try:
        return crm.ImportOptions(
            mapping=crm.parse_mapping_option(mapping) or None,
            dayfirst=dayfirst,
            timezone=config.crm_timezone,
            click_id_param=current_runtime().settings().click_id_param,
            keep_emails=config.crm_keep_emails,
            dry_run=dry_run,
        )
    except DomainError as exc:
        raise fail(exc) from exc


def _print_summary(summary: crm.ImportSummary, shown_errors: int) -> None:
    click.echo(crm.summary_table(summary))
    for error in summary.errors[:shown_errors]:
        where = f"line {error.line}" + (f", {error.column}" if error.column else "")
        click.echo(f"  {where}: {error.reason}")
    if summary.rejected > shown_errors:
        click.echo(
            f"  … and {summary.rejected - shown_errors} more: "
            f"GET /api/v1/crm/imports/{summary.id}/rejected.csv lists them all."
        )


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
