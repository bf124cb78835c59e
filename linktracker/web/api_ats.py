"""ATS import endpoints of the JSON API: upload, history, one import, raw file, rejected rows."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from linktracker.auth.roles import CRM_READERS, IMPORTERS
from linktracker.crm.services import ImportBusy, ImportRefused
from linktracker.recruiting.imports import (
    AtsImportResult,
    get_ats_import,
    import_ats_file,
    list_ats_imports,
    upload_and_import_ats,
)
from linktracker.web.api import api
from linktracker.web.api_crm import MAX_OFFSET, MAX_PAGE, import_json, import_upload
from linktracker.web.context import db, identity, require_roles
from linktracker.web.crm_import import import_context
from linktracker.web.downloads import raw_import_file, rejected_rows_file
from linktracker.web.params import int_arg


def ats_import_json(result: AtsImportResult) -> dict[str, Any]:
    """The API shape of an ATS import: a CRM import's fields, and the ambiguous referrers."""
    body = import_json(result.summary)
    body["run_url"] = None
    body["ambiguous_referrers"] = [
        {"referrer": a.referrer, "employees": a.employees, "applications": a.applications}
        for a in result.ambiguous_referrers
    ]
    return body


@api.post("/ats/imports")
@require_roles(*IMPORTERS)
def post_ats_import() -> tuple[Response, int]:
    stream, filename, options = import_upload()
    who = identity()
    try:
        result = upload_and_import_ats(
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
    return jsonify(ats_import_json(result)), 201


@api.post("/ats/imports/<int:import_id>/run")
@require_roles(*IMPORTERS)
def run_ats_import(import_id: int) -> tuple[Response, int]:
    """Run a stored ATS import again: resumes an interrupted one with its recorded options."""
    try:
        result = import_ats_file(db(), import_id, import_context())
    except (ImportRefused, ImportBusy) as exc:
        return _answer(exc)
    return jsonify(ats_import_json(result)), 200


def _answer(exc: ImportRefused | ImportBusy) -> tuple[Response, int]:
    db().rollback()
    body = ats_import_json(AtsImportResult(get_ats_import(db(), exc.import_id)))
    body.update(error=exc.message, fields=exc.fields)
    return jsonify(body), exc.status


@api.get("/ats/imports")
@require_roles(*CRM_READERS)
def get_ats_imports() -> Response:
    limit = int_arg("limit", default=50, minimum=1, maximum=MAX_PAGE)
    offset = int_arg("offset", default=0, maximum=MAX_OFFSET)
    imports = list_ats_imports(db(), limit=limit, offset=offset)
    return jsonify({"imports": [ats_import_json(AtsImportResult(i)) for i in imports]})


@api.get("/ats/imports/<int:import_id>")
@require_roles(*CRM_READERS)
def get_ats_import_json(import_id: int) -> Response:
    return jsonify(ats_import_json(AtsImportResult(get_ats_import(db(), import_id))))


@api.get("/ats/imports/<int:import_id>/raw")
@require_roles(*IMPORTERS)  # candidate emails in clear
def get_ats_import_raw(import_id: int) -> Response:
    get_ats_import(db(), import_id)
    return raw_import_file(import_id)


@api.get("/ats/imports/<int:import_id>/rejected.csv")
@require_roles(*CRM_READERS)
def get_ats_import_rejected(import_id: int) -> Response:
    get_ats_import(db(), import_id)
    return rejected_rows_file(import_id)
