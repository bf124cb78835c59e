"""CRM import endpoints of the JSON API: upload, history, raw file and rejected rows."""

from __future__ import annotations

import json
from typing import Any, BinaryIO, cast

from flask import Response, jsonify, request, url_for
from werkzeug.datastructures import FileStorage

from linktracker.attribution.credits import ImportCredits, import_credits
from linktracker.auth.roles import CRM_READERS, IMPORTERS
from linktracker.crm.options import ImportOptions
from linktracker.crm.services import (
    ImportBusy,
    ImportRefused,
    ImportSummary,
    get_import,
    import_crm_file,
    list_imports,
    upload_and_import,
)
from linktracker.errors import InvalidInput
from linktracker.web.api import api
from linktracker.web.context import db, identity, require_roles
from linktracker.web.crm_import import import_context, import_options
from linktracker.web.downloads import raw_import_file, rejected_rows_file
from linktracker.web.params import int_arg

MAX_PAGE = 500
# Far beyond any real history, and well inside what an SQL OFFSET accepts.
MAX_OFFSET = 10**9
_TRUE = {"1", "true", "yes", "on", "day", "dayfirst"}
_FALSE = {"0", "false", "no", "off", "month", "monthfirst"}


def import_json(summary: ImportSummary, *, credited: bool = False) -> dict[str, Any]:
    """The API shape of a CRM import; ``credited`` adds who got the credit (a finished one)."""
    body = _summary_json(summary)
    if credited and summary.state == "done":
        body["attribution"] = credits_json(import_credits(db(), summary.id))
    return body


def credits_json(credits: ImportCredits) -> dict[str, Any]:
    """Records an import wrote, per attribution method and per rep (top 10, then others)."""
    return {
        "records": credits.total,
        "methods": credits.methods,
        "reps": [
            {
                "handle": rep.handle,
                "name": rep.name,
                "records": rep.records,
                "url": url_for("api.get_rep_report", handle=rep.handle),
            }
            for rep in credits.reps
        ],
        "other_reps": credits.other_reps,
        "other_records": credits.other_records,
    }


def _summary_json(summary: ImportSummary) -> dict[str, Any]:
    return {
        "id": summary.id,
        "filename": summary.filename,
        "source": summary.source,
        "state": summary.state,
        "message": summary.message,
        "dry_run": summary.dry_run,
        "uploaded_at": summary.uploaded_at.isoformat(),
        "finished_at": summary.finished_at.isoformat() if summary.finished_at else None,
        "size": summary.size,
        "sha256": summary.sha256,
        "format": summary.format,
        "kind": summary.kind,
        "encoding": summary.encoding,
        "delimiter": summary.delimiter,
        "sheet": summary.sheet,
        "mapping": summary.mapping,
        "dayfirst": summary.dayfirst,
        "dayfirst_reason": summary.dayfirst_reason,
        "decimal_separator": summary.decimal_separator,
        "won_rule": summary.won_rule,
        "timezone": summary.timezone,
        "rows": summary.rows,
        "inserted": summary.inserted,
        "updated": summary.updated,
        "unchanged": summary.unchanged,
        "rejected": summary.rejected,
        "errors": [
            {"line": e.line, "column": e.column, "reason": e.reason} for e in summary.errors
        ],
        "errors_truncated": summary.errors_truncated,
        "raw_deleted_at": (summary.raw_deleted_at.isoformat() if summary.raw_deleted_at else None),
        "resumable": summary.resumable,
        "run_url": (
            url_for("api.run_crm_import", import_id=summary.id) if summary.resumable else None
        ),
    }


def request_flag(name: str) -> bool | None:
    value = (request.form.get(name) or "").strip().lower()
    if not value or value == "auto":
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidInput(f"'{name}' must be true or false.", {name: "Must be true or false."})


def request_mapping() -> dict[str, str | None] | None:
    text = (request.form.get("mapping") or "").strip()
    if not text:
        return None
    try:
        mapping = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(
            "'mapping' must be a JSON object of column name to field.", {"mapping": "Invalid JSON."}
        ) from exc
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in mapping.items()
    ):
        raise InvalidInput(
            "'mapping' must be a JSON object of column name to field (or null to ignore).",
            {"mapping": "Invalid."},
        )
    return mapping


def import_upload() -> tuple[BinaryIO, str, ImportOptions]:
    """The uploaded export and its import options, as every import endpoint reads them."""
    upload = request.files.get("file")
    if not isinstance(upload, FileStorage) or not upload.filename:
        raise InvalidInput("Send the export as multipart field 'file'.", {"file": "Required."})
    options = import_options(
        request_mapping(),
        request_flag("dayfirst"),
        dry_run=bool(request_flag("dry_run")),
        sheet=(request.form.get("sheet") or "").strip() or None,
    )
    return cast(BinaryIO, upload.stream), upload.filename, options


@api.post("/crm/imports")
@require_roles(*IMPORTERS)
def post_crm_import() -> tuple[Response, int]:
    stream, filename, options = import_upload()
    who = identity()
    try:
        summary = upload_and_import(
            db(),
            stream,
            import_context(),
            options,
            filename=filename,
            source=request.form.get("source"),
            uploaded_by=who.user_id if who else None,
        )
    except (ImportRefused, ImportBusy) as exc:
        return _answer(exc)
    return jsonify(import_json(summary, credited=True)), 201


@api.post("/crm/imports/<int:import_id>/run")
@require_roles(*IMPORTERS)
def run_crm_import(import_id: int) -> tuple[Response, int]:
    """Run a stored import again: resumes an interrupted one, with its recorded options."""
    try:
        summary = import_crm_file(db(), import_id, import_context())
    except (ImportRefused, ImportBusy) as exc:
        return _answer(exc)
    return jsonify(import_json(summary, credited=True)), 200


def _answer(exc: ImportRefused | ImportBusy) -> tuple[Response, int]:
    """The import as it stands, with why it was refused (422) or not run now (409)."""
    db().rollback()
    body = import_json(get_import(db(), exc.import_id))
    body.update(error=exc.message, fields=exc.fields)
    return jsonify(body), exc.status


@api.get("/crm/imports")
@require_roles(*CRM_READERS)
def get_crm_imports() -> Response:
    limit = int_arg("limit", default=50, minimum=1, maximum=MAX_PAGE)
    offset = int_arg("offset", default=0, maximum=MAX_OFFSET)
    imports = list_imports(db(), limit=limit, offset=offset)
    return jsonify({"imports": [import_json(i) for i in imports]})


@api.get("/crm/imports/<int:import_id>")
@require_roles(*CRM_READERS)
def get_crm_import(import_id: int) -> Response:
    return jsonify(import_json(get_import(db(), import_id), credited=True))


@api.get("/crm/imports/<int:import_id>/raw")
@require_roles(*IMPORTERS)  # customer emails in clear: not for marketers
def get_crm_import_raw(import_id: int) -> Response:
    return raw_import_file(import_id)


@api.get("/crm/imports/<int:import_id>/rejected.csv")
@require_roles(*CRM_READERS)
def get_crm_import_rejected(import_id: int) -> Response:
    return rejected_rows_file(import_id)
