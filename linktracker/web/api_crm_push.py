"""CRM records pushed to the JSON API: a batch of records, or a HubSpot workflow webhook."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from linktracker.auth.roles import IMPORTERS
from linktracker.crm.hubspot import hubspot_records
from linktracker.crm.push import PushRefused, push_records
from linktracker.crm.services import ImportBusy, ImportRefused
from linktracker.web.api import BadRequest, api
from linktracker.web.api_crm import import_json
from linktracker.web.context import db, identity, require_roles
from linktracker.web.crm_import import import_context, import_options


def _body() -> Any:
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        raise BadRequest("The JSON body is nested too deeply.") from None
    if not isinstance(data, dict | list):
        raise BadRequest("Send a JSON object or list with Content-Type: application/json.")
    return data


def _push(
    records: list[Any], source: str | None, dayfirst: bool | None = None
) -> tuple[Response, int]:
    who = identity()
    try:
        summary = push_records(
            db(),
            records,
            import_context(),
            import_options(None, dayfirst),
            source=source,
            uploaded_by=who.user_id if who else None,
        )
    except PushRefused as exc:
        db().rollback()
        return _refused(exc)
    except (ImportRefused, ImportBusy) as exc:
        db().rollback()
        return jsonify({"error": exc.message, "fields": exc.fields}), exc.status
    return jsonify(import_json(summary)), 201


def _refused(exc: PushRefused) -> tuple[Response, int]:
    errors = [{"index": e.index, "field": e.field, "reason": e.reason} for e in exc.errors]
    return jsonify({"error": exc.message, "fields": exc.fields, "errors": errors}), 422


@api.post("/crm/records")
@require_roles(*IMPORTERS)
def post_crm_records() -> tuple[Response, int]:
    """`{source?, dayfirst?, records: [...]}`, `{source?, record: {...}}` or a bare record."""
    data = _body()
    if isinstance(data, list):
        return _push(data, request.args.get("source"))
    source = data.get("source") if isinstance(data.get("source"), str) else None
    dayfirst = data.get("dayfirst") if isinstance(data.get("dayfirst"), bool) else None
    if "records" in data:
        records = data["records"]
        if not isinstance(records, list):
            raise BadRequest("'records' must be a list of record objects.")
    elif isinstance(data.get("record"), dict):
        records = [data["record"]]
    else:
        records = [{k: v for k, v in data.items() if k not in ("source", "dayfirst")}]
    return _push(records, source, dayfirst)


@api.post("/crm/hooks/hubspot")
@require_roles(*IMPORTERS)
def post_hubspot_hook() -> tuple[Response, int]:
    """A HubSpot workflow webhook: its object(s) mapped to records, source `hubspot`."""
    data = _body()
    try:
        records = hubspot_records(data)
    except PushRefused as exc:
        return _refused(exc)
    return _push(records, request.args.get("source") or "hubspot")
