"""CRM imports for sales ops: upload, mapping preview, import summary, history, downloads."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from linktracker.attribution.credits import count_credits, import_credits, preview_credits
from linktracker.auth.roles import IMPORTERS
from linktracker.crm.parsing.headers import TARGETS
from linktracker.crm.services import (
    get_import,
    import_crm_file,
    list_imports,
    preview_import,
    refuse_import,
)
from linktracker.errors import DomainError
from linktracker.web.context import db, require_roles
from linktracker.web.crm_import import import_context
from linktracker.web.downloads import raw_import_file, rejected_rows_file
from linktracker.web.forms import CrmUploadForm
from linktracker.web.import_pages import (
    ImportPages,
    MappingState,
    counts_message,
    index_page,
    preview_page,
    run_options,
)

crm = Blueprint("crm", __name__, url_prefix="/app/crm")
SHOWN_ERRORS = 500
PAGES = ImportPages(
    area="crm",
    pipeline="crm",
    fields=TARGETS,
    preview=preview_import,
    refuse=refuse_import,
    summary=lambda session, import_id: get_import(session, import_id, error_limit=0),
)


@crm.route("/", methods=["GET", "POST"])
@require_roles(*IMPORTERS)
def index() -> BaseResponse:
    imports = partial(list_imports, db(), limit=100)
    return index_page(PAGES, CrmUploadForm(), "crm/index.html", imports)


def _credits(state: MappingState) -> dict[str, Any]:
    """Whom the previewed rows would be credited to, row by row and counted."""
    credits = preview_credits(db(), state.preview.records if state.preview else ())
    return {"credits": credits, "credit_counts": count_credits(credits)}


@crm.route("/<int:import_id>/preview", methods=["GET", "POST"])
@require_roles(*IMPORTERS)
def preview(import_id: int) -> str | BaseResponse:
    return preview_page(PAGES, import_id, "crm/preview.html", extra=_credits)


@crm.post("/<int:import_id>/run")
@require_roles(*IMPORTERS)
def run(import_id: int) -> BaseResponse:
    try:
        # The pages never start a dry run; an interrupted one (from the API) resumes as one.
        dry_run = get_import(db(), import_id, error_limit=0).dry_run
        options = run_options(PAGES, import_id, dry_run=dry_run)
        done = import_crm_file(db(), import_id, import_context(), options)
    except DomainError as exc:
        db().rollback()
        flash(exc.message, "error")
    else:
        flash(counts_message(done), "warning" if done.rejected else "success")
    return redirect(url_for("crm.detail", import_id=import_id))


@crm.get("/<int:import_id>")
@require_roles(*IMPORTERS)
def detail(import_id: int) -> str:
    summary = get_import(db(), import_id, error_limit=SHOWN_ERRORS)
    credits = import_credits(db(), import_id) if summary.state == "done" else None
    return render_template(
        "crm/detail.html", summary=summary, shown_errors=SHOWN_ERRORS, credits=credits
    )


@crm.get("/<int:import_id>/raw")
@require_roles(*IMPORTERS)
def download_raw(import_id: int) -> BaseResponse:
    return raw_import_file(import_id)


@crm.get("/<int:import_id>/rejected.csv")
@require_roles(*IMPORTERS)
def download_rejected(import_id: int) -> BaseResponse:
    return rejected_rows_file(import_id)
