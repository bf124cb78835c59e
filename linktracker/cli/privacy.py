"""`linktracker privacy …` and `linktracker retention run`: a customer's data, kept records."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sized
from typing import Final

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from linktracker.cli.common import current_runtime, service_session
from linktracker.cli.crm import purge_raw_files
from linktracker.privacy import requests as privacy
from linktracker.privacy.retention import delete_applications_due, delete_records_due
from linktracker.runtime import Runtime

DAY_SECONDS: Final = 24 * 3600.0
_log = logging.getLogger(__name__)

privacy_group = AppGroup(
    "privacy",
    help="A customer's data: find, export or erase every CRM record and raw upload line "
    "holding an email address.",
)
retention_group = AppGroup("retention", help="Delete what is past retention.")


def _find(session: Session, email: str) -> privacy.Findings:
    runtime = current_runtime()
    return privacy.find(
        session, email, secret=runtime.secret, upload_folder=runtime.config.upload_folder
    )


@privacy_group.command(
    "find", help="List the CRM records, ATS applications and raw upload lines for EMAIL."
)
@click.argument("email")
def find_command(email: str) -> None:
    with service_session() as session:
        found = _find(session, email)
        for record in found.records:
            click.echo(
                f"record {record.id}: {record.source} {record.external_id} ({record.kind}), "
                f"import {record.last_import_id}"
            )
        for application in found.applications:
            click.echo(
                f"application {application.id}: {application.source} "
                f"{application.external_id}, import {application.last_import_id}"
            )
        for line in found.raw_lines:
            click.echo(f"raw upload: import {line.import_id}, line {line.line}")
        for error in found.row_errors:
            click.echo(f"rejected row: import {error.import_id}, line {error.line}")
        privacy.log_request(session, "find", found, actor_user_id=None)
        click.echo(_counts(found.records, found.raw_lines, found.row_errors))


@privacy_group.command("export", help="Print everything held for EMAIL as JSON.")
@click.argument("email")
def export_command(email: str) -> None:
    with service_session() as session:
        found = _find(session, email)
        data = privacy.export(found)
        privacy.log_request(session, "export", found, actor_user_id=None)
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@privacy_group.command(
    "erase",
    help="Delete EMAIL's CRM records and ATS applications and rewrite the raw uploads "
    "without its lines; the "
    "imports' summaries stay.",
)
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_command(email: str, yes: bool) -> None:
    with service_session() as session:
        found = _find(session, email)
        click.echo(_counts(found.records, found.raw_lines, found.row_errors))
        if found.empty:
            privacy.log_request(session, "erase", found, actor_user_id=None)
            click.echo("Nothing to erase.")
            return
        if not yes and not click.confirm("Erase all of it? This cannot be undone", default=False):
            raise click.ClickException("Nothing was erased.")
        erased = privacy.erase(session, found, upload_folder=current_runtime().config.upload_folder)
        privacy.log_request(session, "erase", found, actor_user_id=None, erased=erased)
        click.echo(
            f"Erased {erased.records} record(s) and {erased.raw_lines} line(s) from "
            f"{erased.raw_files} raw upload(s); stripped {erased.row_errors} rejected row(s). "
            "The imports' summaries are kept."
            + (f" Erased {erased.applications} ATS application(s)." if erased.applications else "")
        )


def _counts(records: Sized, lines: Sized, errors: Sized) -> str:
    return (
        f"Found {len(records)} record(s), {len(lines)} raw upload line(s) and "
        f"{len(errors)} rejected row(s)."
    )


@retention_group.command(
    "run",
    help="Delete the CRM records past CRM record retention (Settings) and the raw uploads "
    "past CRM_RAW_RETENTION_DAYS.",
)
def retention_run_command() -> None:
    with service_session() as session:
        run_retention(session)
        purge_raw_files(session, None)


def run_retention(session: Session) -> None:
    """Delete the records past retention and say how many."""
    months = current_runtime().settings().crm_record_retention_months
    deleted = delete_records_due(session, months)
    applications = delete_applications_due(session, months)
    if months <= 0:
        click.echo("CRM records are kept forever (retention 0 months): none deleted.")
    else:
        click.echo(f"Deleted {deleted} CRM record(s) past {months} month(s) of retention.")
        click.echo(
            f"Deleted {applications} ATS application(s) past {months} month(s) of retention."
        )


class DailyRetention:
    """In a serving process: delete the CRM records past retention once a day.

    Every worker runs one; a second deletion of the same records deletes nothing. Failures
    are logged and tried again the next day: redirects never wait for it.
    """

    def __init__(self, runtime: Runtime, interval: float = DAY_SECONDS) -> None:
        self.runtime = runtime
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="crm-retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def run_once(self) -> int:
        with self.runtime.sessions() as session:
            months = self.runtime.settings().crm_record_retention_months
            return delete_records_due(session, months) + delete_applications_due(session, months)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # the database may be away; tomorrow's run catches up
                _log.exception("Deleting CRM records past retention failed")
