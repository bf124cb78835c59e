"""An employee's own data as JSON: from My links (a download) and from the API (their token)."""

from __future__ import annotations

import json

from flask import Response, jsonify

from linktracker.errors import NotFound
from linktracker.reports.employee_data import export_employee_data
from linktracker.reports.filters import today_in
from linktracker.web.context import db, identity, settings


def own_data(*, download: bool) -> Response:
    """The signed-in person's export; 404 when their account has no employee profile."""
    who = identity()
    assert who is not None
    if who.employee_id is None:
        raise NotFound("Your account is not linked to an employee profile: no data is held.")
    timezone = settings().reporting_timezone
    data = export_employee_data(db(), who.employee_id, timezone=timezone)
    if not download:
        return jsonify(data)
    filename = f"my-data-{data['profile']['handle']}-{today_in(timezone).isoformat()}.json"
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
