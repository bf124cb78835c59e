"""ATS imports for sales ops and recruiters: upload, mapping preview, summary, history, files.

The same steps as the CRM import pages (crm_pages), reading and writing applications.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from linktracker.auth.roles import IMPORTERS
from linktracker.crm.parsing import UnreadableExport
from linktracker.crm.preview import ImportPreview, import_header
from linktracker.crm.raw_files import store_upload
from linktracker.errors import DomainError, InvalidInput
from linktracker.recruiting.imports import (
    get_ats_import,
    import_ats_file,
    list_ats_imports,
    load_ats_import,
    preview_ats_import,
    refuse_ats_import,
)
from linktracker.recruiting.parsing import ATS_FIELDS
from linktracker.web.context import db, identity, require_roles, runtime
from linktracker.web.crm_import import import_context, import_options
from linktracker.web.downloads import raw_import_file, rejected_rows_file
from linktracker.web.forms import AtsUploadForm, render_form, show_errors

recruiting = Blueprint("recruiting", __name__, url_prefix="/app/recruiting")
DAYFIRST = {"": None, "dayfirst": True, "monthfirst": False}
SHOWN_ERRORS = 500


@recruiting.route("/", methods=["GET", "POST"])
@require_roles(*IMPORTERS)
def index() -> str | BaseResponse:
    form = AtsUploadForm()
    error = None
    if form.validate_on_submit():
        who = identity()
        try:
            stored = store_upload(
                db(),
                form.file.data.stream,
                filename=form.file.data.filename or "upload.csv",
                upload_folder=runtime().config.upload_folder,
                max_bytes=runtime().config.max_content_length,
                source=form.source.data or None,
                uploaded_by=who.user_id if who else None,
                pipeline="ats",
            )
        except DomainError as exc:
            error = show_errors(form, exc)
        else:
            return redirect(url_for("recruiting.preview", import_id=stored.id))
    return render_form(
        "recruiting/index.html", form=form, error=error, imports=list_ats_imports(db(), limit=100)
    )


@dataclass(frozen=True)
class MappingState:
    header: tuple[str, ...]
    preview: ImportPreview | None
    chosen: dict[str, str | None]
    error: str | None
    refusal: UnreadableExport | None


def _chosen_mapping(header: tuple[str, ...]) -> dict[str, str | None] | None:
    if "map-0" not in request.form:
        return None
    mapping: dict[str, str | None] = {}
    for index, column in enumerate(header):
        target = request.form.get(f"map-{index}", "")
        if target and target not in ATS_FIELDS:
            raise InvalidInput(f"Unknown field {target!r}.", {"mapping": "Unknown field."})
        mapping[column] = target or None
    return mapping


def _preview(import_id: int, mapping: dict[str, str | None] | None) -> ImportPreview:
    dayfirst = DAYFIRST.get(request.form.get("dayfirst", ""))
    return preview_ats_import(
        db(),
        import_id,
        upload_folder=runtime().config.upload_folder,
        options=import_options(mapping, dayfirst),
    )


def read_mapping(import_id: int) -> MappingState:
    """Detect the mapping, then apply what the person corrected in the form (if posted)."""
    error = None
    result: ImportPreview | None = None
    refusal: UnreadableExport | None = None
    recognised: dict[str, str | None] | None = None
    folder = runtime().config.upload_folder
    try:
        result = _preview(import_id, None)
        header = result.header
    except UnreadableExport as exc:
        error, refusal, recognised = exc.message, exc, exc.mapping
        header = (
            tuple(recognised)
            if recognised
            else import_header(db(), import_id, upload_folder=folder)
        )
    except DomainError as exc:
        error = exc.message
        header = import_header(db(), import_id, upload_folder=folder)
    chosen = _chosen_mapping(header) if request.method == "POST" and header else None
    if chosen is not None:
        try:
            result, error = _preview(import_id, chosen), None
        except DomainError as exc:
            result, error = None, exc.message
    if chosen is None:
        chosen = dict(result.mapping) if result else dict(recognised or dict.fromkeys(header))
    return MappingState(header, result, chosen, error, refusal)


@recruiting.route("/<int:import_id>/preview", methods=["GET", "POST"])
@require_roles(*IMPORTERS)
def preview(import_id: int) -> str | BaseResponse:
    summary = get_ats_import(db(), import_id)
    if summary.state not in ("pending", "refused"):
        return redirect(url_for("recruiting.detail", import_id=import_id))
    state = read_mapping(import_id)
    if state.refusal is not None:
        summary = refuse_ats_import(db(), import_id, state.refusal, import_options(None, None))
    if summary.state == "refused" and not state.header:
        return redirect(url_for("recruiting.detail", import_id=import_id))
    return render_template(
        "recruiting/preview.html",
        summary=summary,
        state=state,
        preview=state.preview,
        error=state.error,
        targets=ATS_FIELDS,
        dayfirst_choice=request.form.get("dayfirst", ""),
    ), 422 if state.error else 200  # type: ignore[return-value]


@recruiting.post("/<int:import_id>/run")
@require_roles(*IMPORTERS)
def run(import_id: int) -> BaseResponse:
    dayfirst = DAYFIRST.get(request.form.get("dayfirst", ""))
    try:
        dry_run = get_ats_import(db(), import_id).dry_run
        options = import_options(None, dayfirst, dry_run=dry_run)
        if "map-0" in request.form:
            options = import_options(read_mapping(import_id).chosen, dayfirst, dry_run=dry_run)
        done = import_ats_file(db(), import_id, import_context(), options)
    except DomainError as exc:
        db().rollback()
        flash(exc.message, "error")
    else:
        summary = done.summary
        kind = "warning" if summary.rejected or done.ambiguous_referrers else "success"
        flash(
            f"Imported {summary.rows:,} rows: {summary.inserted:,} new, {summary.updated:,} "
            f"updated, {summary.unchanged:,} unchanged, {summary.rejected:,} rejected.",
            kind,
        )
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
