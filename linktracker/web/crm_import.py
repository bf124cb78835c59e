"""What a CRM import run from the web (pages and API) is given: the app's context, the options."""

from __future__ import annotations

from linktracker.attribution.services import attribute_records
from linktracker.crm.services import ImportContext, ImportOptions
from linktracker.web.context import runtime, settings


def import_context() -> ImportContext:
    """The app's upload folder, email secret, attribution and retention, for one request."""
    config = runtime().config
    return ImportContext(
        upload_folder=config.upload_folder,
        email_secret=runtime().secret,
        max_bytes=config.max_content_length,
        window_days=settings().attribution_window_days,
        attribute=attribute_records,
        wait_seconds=config.crm_import_wait_seconds,
        raw_retention_days=config.crm_raw_retention_days,
    )


def import_options(
    mapping: dict[str, str | None] | None,
    dayfirst: bool | None,
    *,
    dry_run: bool = False,
    sheet: str | None = None,
) -> ImportOptions:
    """How a file is read: what the person chose, the rest from the app's configuration."""
    config = runtime().config
    return ImportOptions(
        mapping=mapping,
        dayfirst=dayfirst,
        timezone=config.crm_timezone,
        click_id_param=settings().click_id_param,
        keep_emails=config.crm_keep_emails,
        dry_run=dry_run,
        sheet=sheet or None,
    )
