"""ATS imports for sales ops and recruiters: upload, mapping preview, summary, history, files.

The same steps as the CRM import pages (crm_pages), reading and writing applications.
"""

from __future__ import annotations

from functools import partial

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from linktracker.auth.roles import IMPORTERS
from linktracker.errors import DomainError
from linktracker.recruiting.imports import (
    get_ats_import,
    import_ats_file,
    list_ats_imports,
    load_ats_import,
    preview_ats_import,
    refuse_ats_import,
)
from linktracker.recruiting.parsing import ATS_FIELDS
from linktracker.web.context import db, require_roles
from linktracker.web.crm_import import import_context
from linktracker.web.downloads import raw_import_file, rejected_rows_file
from linktracker.web.forms import AtsUploadForm
from linktracker.web.import_pages import (
    ImportPages,
    counts_message,
    index_page,
    preview_page,
    run_options,
)

recruiting = Blueprint("recruiting", __name__, url_prefix="/app/recruiting")
SHOWN_ERRORS = 500
PAGES = ImportPages(
    area="recruiting",
    pipeline="ats",
    fields=ATS_FIELDS,
    preview=preview_ats_import,
    refuse=refuse_ats_import,
    summary=get_ats_import,
)


@recruiting.route("/", methods=["GET", "POST"])
@require_roles(*IMPORTERS)
def index() -> BaseResponse:
    imports = partial(list_ats_imports, db(), limit=100)
    return index_page(PAGES, AtsUploadForm(), "recruiting/index.html", imports)


@recruiting.route("/<int:import_id>/preview", methods=["GET", "POST"])
@require_roles(*IMPORTERS)
def preview(import_id: int) -> str | BaseResponse:
    return preview_page(PAGES, import_id, "recruiting/preview.html")


@recruiting.post("/<int:import_id>/run")
@require_roles(*IMPORTERS)
def run(import_id: int) -> BaseResponse:
    try:
        dry_run = get_ats_import(db(), import_id).dry_run
        options = run_options(PAGES, import_id, dry_run=dry_run)
        done = import_ats_file(db(), import_id, import_context(), options)
    except DomainError as exc:
        db().rollback()
        flash(exc.message, "error")
    else:
        summary = done.summary
        kind = "warning" if summary.rejected or done.ambiguous_referrers else "success"
        flash(counts_message(summary), kind)
        for item in done.ambiguous_referrers:
            flash(
                f"Referrer {item.referrer!r} is the name of {item.employees} employees: "
                f"{item.applications} application(s) not credited. Put the referrer's email "
                "in the export to credit them.",
                "warning",
            )
    return redirect(url_for("recruiting.detail", import_id=import_id))


@recruiting.get("/<int:import_id>")
@require_roles(*IMPORTERS)
def detail(import_id: int) -> str:
    load_ats_import(db(), import_id)
    from linktracker.crm.services import get_import

    summary = get_import(db(), import_id, error_limit=SHOWN_ERRORS)
    return render_template("recruiting/detail.html", summary=summary, shown_errors=SHOWN_ERRORS)


@recruiting.get("/<int:import_id>/raw")
@require_roles(*IMPORTERS)
def download_raw(import_id: int) -> BaseResponse:
    load_ats_import(db(), import_id)
    return raw_import_file(import_id)


@recruiting.get("/<int:import_id>/rejected.csv")
@require_roles(*IMPORTERS)
def download_rejected(import_id: int) -> BaseResponse:
    load_ats_import(db(), import_id)
    return rejected_rows_file(import_id)
