"""What every command group shares: the app's runtime, service errors as messages, old names."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

import click
from flask import current_app
from sqlalchemy.orm import Session

from linktracker.crm.context import ImportContext
from linktracker.errors import DomainError
from linktracker.runtime import Runtime

# The CLI waits longer than a web request for the import running before it.
CLI_IMPORT_WAIT_SECONDS = 3600.0


def current_runtime() -> Runtime:
    """The running app's engine, sessions and settings."""
    return cast(Runtime, current_app.extensions["linktracker"])


def import_context() -> ImportContext:
    """What a CRM import run from the command line is given: the app's folder, secret,
    attribution and retention; it waits longer than a web request for the running import."""
    from linktracker.attribution.services import attribute_records

    runtime = current_runtime()
    config = runtime.config
    return ImportContext(
        upload_folder=config.upload_folder,
        email_secret=runtime.secret,
        max_bytes=config.max_content_length,
        window_days=runtime.settings().attribution_window_days,
        attribute=attribute_records,
        wait_seconds=CLI_IMPORT_WAIT_SECONDS,
        raw_retention_days=config.crm_raw_retention_days,
    )


def fail(exc: DomainError) -> click.ClickException:
    """A service error as the command's message, one line per field."""
    details = "".join(f"\n  {field}: {message}" for field, message in exc.fields.items())
    return click.ClickException(exc.message + details)


@contextmanager
def service_session() -> Iterator[Session]:
    """A session whose service errors end the command with their message (exit code 1)."""
    with current_runtime().sessions() as session:
        try:
            yield session
        except DomainError as exc:
            raise fail(exc) from exc


def old_name(command: click.Command, name: str, grouped: str) -> click.Command:
    """`command` under the flat name it had before the groups: same callback and options,
    left out of the help so the grouped layout is what people learn."""
    alias = copy.copy(command)
    alias.name = name
    alias.hidden = True
    alias.help = f"{command.help} (Old name of `linktracker {grouped}`; it keeps working.)"
    return alias
