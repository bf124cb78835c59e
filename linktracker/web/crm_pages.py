"""CRM imports for sales ops: upload, mapping preview, import summary, history, downloads."""

from __future__ import annotations

from dataclasses import dataclass

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from linktracker.attribution.credits import count_credits, import_credits, preview_credits
from linktracker.auth.roles import IMPORTERS
from linktracker.crm.parsing.headers import TARGETS
from linktracker.crm.services import (
    ImportPreview,
    UnreadableExport,
    get_import,
    import_crm_file,
    import_header,
    list_imports,
    preview_import,
    refuse_import,
    store_upload,
)
from linktracker.errors import DomainError, InvalidInput
from linktracker.web.context import db, identity, require_roles, runtime
from linktracker.web.crm_import import import_context, import_options
from linktracker.web.downloads import raw_import_file, rejected_rows_file
from linktracker.web.forms import CrmUploadForm, render_form, show_errors

crm = Blueprint("crm", __name__, url_prefix="/app/crm")
DAYFIRST = {"": None, "dayfirst": True, "monthfirst": False}
SHOWN_ERRORS = 500


def _chosen_mapping(header: tuple[str, ...]) -> dict[str, str | None] | None:
    """The mapping the person corrected in the preview form (None: not sent)."""
    if "map-0" not in request.form:
        return None
    mapping: dict[str, str | None] = {}
    for index, column in enumerate(header):
        target = request.form.get(f"map-{index}", "")
        if target and target not in TARGETS:
            raise InvalidInput(f"Unknown field {target!r}.", {"mapping": "Unknown field."})
        mapping[column] = target or None
    return mapping


@crm.route("/", methods=["GET", "POST"])
@require_roles(*IMPORTERS)
def index() -> str | BaseResponse:
    form = CrmUploadForm()
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
            )
        except DomainError as exc:
            error = show_errors(form, exc)
        else:
            sheet = (form.sheet.data or "").strip() or None
            return redirect(url_for("crm.preview", import_id=stored.id, sheet=sheet))
    return render_form(
        "crm/index.html", form=form, error=error, imports=list_imports(db(), limit=100)
    )


def _header(import_id: int) -> tuple[str, ...]:
    return import_header(
        db(), import_id, upload_folder=runtime().config.upload_folder, sheet=_sheet()
    )


def _sheet() -> str | None:
    """The workbook sheet chosen: on the upload form (query) or in the preview form."""
    return (request.values.get("sheet") or "").strip() or None


@dataclass(frozen=True)
class MappingState:
    header: tuple[str, ...]
    preview: ImportPreview | None
    chosen: dict[str, str | None]
    error: str | None
    refusal: UnreadableExport | None  # why the detected mapping cannot import the file


def read_mapping(import_id: int) -> MappingState:
    """Detect the mapping, then apply what the person corrected in the form (if posted)."""
    error = None
    result: ImportPreview | None = None
    refusal: UnreadableExport | None = None
    recognised: dict[str, str | None] | None = None
    try:
        result = preview_import(
            db(),
            import_id,
            upload_folder=runtime().config.upload_folder,
            options=import_options(None, None, sheet=_sheet()),
        )
        header = result.header
    except UnreadableExport as exc:
        error, refusal, recognised = exc.message, exc, exc.mapping
        header = tuple(recognised) if recognised else _header(import_id)
    except DomainError as exc:
        error = exc.message
        header = _header(import_id)
    # Columns mapped for another sheet do not apply to the one now chosen.
    same_sheet = request.form.get("mapped_sheet", _sheet() or "") == (_sheet() or "")
    posted = request.method == "POST" and header and same_sheet
    chosen = _chosen_mapping(header) if posted else None
    if chosen is not None:
        try:
            dayfirst = DAYFIRST.get(request.form.get("dayfirst", ""))
            result = preview_import(
                db(),
                import_id,
                upload_folder=runtime().config.upload_folder,
                options=import_options(chosen, dayfirst, sheet=_sheet()),
            )
            error = None
        except DomainError as exc:
            result, error = None, exc.message
    if chosen is None:
        # After a refusal the recognised columns stay mapped: only the missing ones are left.
        chosen = dict(result.mapping) if result else dict(recognised or dict.fromkeys(header))
    return MappingState(header, result, chosen, error, refusal)


@crm.route("/<int:import_id>/preview", methods=["GET", "POST"])
@require_roles(*IMPORTERS)
def preview(import_id: int) -> str | BaseResponse:
    summary = get_import(db(), import_id, error_limit=0)
    if summary.state not in ("pending", "refused"):
        return redirect(url_for("crm.detail", import_id=import_id))
    state = read_mapping(import_id)
    if state.refusal is not None:
        # Refused as the API and the CLI would refuse it; the history says so too.
        options = import_options(None, None, sheet=_sheet())
        summary = refuse_import(db(), import_id, state.refusal, options=options)
    if summary.state == "refused" and not state.header:
        # Nothing to map by hand: the import's own page shows the refusal, and survives a reload.
        return redirect(url_for("crm.detail", import_id=import_id))
    records = state.preview.records if state.preview else ()
    credits = preview_credits(db(), records)
    return render_template(
        "crm/preview.html",
        summary=summary,
        state=state,
        preview=state.preview,
        credits=credits,
        credit_counts=count_credits(credits),
        error=state.error,
        targets=TARGETS,
        dayfirst_choice=request.form.get("dayfirst", ""),
        sheet_choice=_sheet() or "",
    ), 422 if state.error else 200  # type: ignore[return-value]


@crm.post("/<int:import_id>/run")
@require_roles(*IMPORTERS)
def run(import_id: int) -> BaseResponse:
    dayfirst = DAYFIRST.get(request.form.get("dayfirst", ""))
    try:
        # The pages never start a dry run; an interrupted one (from the API) resumes as one.
        dry_run = get_import(db(), import_id, error_limit=0).dry_run
        sheet = _sheet()
        options = import_options(None, dayfirst, dry_run=dry_run, sheet=sheet)
        if "map-0" in request.form:
            chosen = read_mapping(import_id).chosen
            options = import_options(chosen, dayfirst, dry_run=dry_run, sheet=sheet)
        done = import_crm_file(db(), import_id, import_context(), options)
    except DomainError as exc:
        db().rollback()
        flash(exc.message, "error")
    else:
        kind = "warning" if done.rejected else "success"
        flash(
            f"Imported {done.rows:,} rows: {done.inserted:,} new, {done.updated:,} updated, "
            f"{done.unchanged:,} unchanged, {done.rejected:,} rejected.",
            kind,
        )
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
