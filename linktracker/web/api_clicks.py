"""GET /api/v1/clicks: every raw click, a page at a time, streamed as NDJSON or CSV."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, request
from sqlalchemy.orm import Session

from linktracker.auth.roles import MANAGERS
from linktracker.clicks.export import ClickExport, export_chunks, export_rows, prepare_click_export
from linktracker.errors import InvalidInput
from linktracker.web.api import BadRequest, api
from linktracker.web.context import db, require_roles, settings
from linktracker.web.downloads import streamed

PARAMETERS = frozenset(
    {"after", "limit", "from", "to", "campaign", "employee", "include_bots", "format"}
)
MIMETYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv"}


@api.get("/clicks")
@require_roles(*MANAGERS)
def get_clicks() -> Response:
    """One page of raw clicks after `after`, in the order they were stored."""
    unknown = sorted(set(request.args) - PARAMETERS)
    if unknown:
        raise BadRequest(
            "Unknown parameter.",
            {name: f"Not a parameter; use {', '.join(sorted(PARAMETERS))}." for name in unknown},
        )
    try:
        export = prepare_click_export(db(), request.args, timezone=settings().reporting_timezone)
    except InvalidInput as exc:
        raise BadRequest(exc.message, exc.fields) from exc

    def chunks(session: Session) -> Iterator[str]:
        return export_chunks(export_rows(session, export), export.format)

    return streamed(chunks, MIMETYPES[export.format], _filename(export))


def _filename(export: ClickExport) -> str | None:
    return "clicks.csv" if export.format == "csv" else None
