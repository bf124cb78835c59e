"""CRM imports for sales ops: upload, mapping preview, import summary, history, downloads."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from linktracker.crm.parsing.encodings import NotText, decode_sample, detect_encoding
from linktracker.crm.parsing.headers import TARGETS
from linktracker.crm.services import (
    ImportOptions,
    ImportPreview,
    UnreadableExport,
    get_import,
    import_crm_file,
    iter_rejected_rows_csv,
    list_imports,
    preview_import,
    raw_upload,
    refuse_import,
    store_upload,
)
from linktracker.errors import DomainError, InvalidInput
from linktracker.web.context import db, identity, require_roles, runtime, settings
from linktracker.web.downloads import streamed_csv
from linktracker.web.forms import CrmUploadForm, render_form, show_errors

crm = Blueprint("crm", __name__, url_prefix="/app/crm")
IMPORTERS = ("sales_ops", "admin")
DAYFIRST = {"": None, "dayfirst": True, "monthfirst": False}
SHOWN_ERRORS = 500
SAMPLE_BYTES = 64 * 1024


def _config(name: str) -> str:
    return str(runtime().config[name])


def _options(mapping: dict[str, str | None] | None, dayfirst: bool | None) -> ImportOptions:
    return ImportOptions(
        mapping=mapping,
        dayfirst=dayfirst,
        timezone=_config("CRM_TIMEZONE"),
        click_id_param=settings().click_id_param,
        keep_emails=bool(runtime().config["CRM_KEEP_EMAILS"]),
    )


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
                upload_folder=_config("UPLOAD_FOLDER"),
                max_bytes=int(runtime().config["MAX_CONTENT_LENGTH"]),
                source=form.source.data or None,
                uploaded_by=who.user_id if who else None,
            )
        except DomainError as exc:
            error = show_errors(form, exc)
        else:
            return redirect(url_for("crm.preview", import_id=stored.id))
    return render_form(
        "crm/index.html", form=form, error=error, imports=list_imports(db(), limit=100)
    )


def _header_cells(import_id: int) -> tuple[str, ...]:
    """The header row of a stored upload whose columns were not recognised ( () if unreadable).

    Only used to offer a manual mapping; the import itself always parses with the service.
    """
    path = raw_upload(db(), import_id, upload_folder=_config("UPLOAD_FOLDER")).path
    with path.open("rb") as stream:
        sample = stream.read(SAMPLE_BYTES)
    try:
        encoding = detect_encoding(sample, complete=len(sample) < SAMPLE_BYTES)
    except NotText:
        return ()
    text = decode_sample(sample, encoding, complete=len(sample) < SAMPLE_BYTES)
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        dialect: Any = csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return tuple(cell.strip() for cell in next(csv.reader([first], dialect), []))


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
            db(), import_id, upload_folder=_config("UPLOAD_FOLDER"), options=_options(None, None)
        )
        header = result.header
    except UnreadableExport as exc:
        error, refusal, recognised = exc.message, exc, exc.mapping
        header = tuple(recognised) if recognised else _header_cells(import_id)
    except DomainError as exc:
        error = exc.message
        header = _header_cells(import_id)
    chosen = _chosen_mapping(header) if request.method == "POST" and header else None
    if chosen is not None:
        try:
            dayfirst = DAYFIRST.get(request.form.get("dayfirst", ""))
            result = preview_import(
                db(),
                import_id,
                upload_folder=_config("UPLOAD_FOLDER"),
                options=_options(chosen, dayfirst),
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
        summary = refuse_import(db(), import_id, state.refusal, options=_options(None, None))
    if summary.state == "refused" and not state.header:
        # Nothing to map by hand: the import's own page shows the refusal, and survives a reload.
        return redirect(url_for("crm.detail", import_id=import_id))
    return render_template(
        "crm/preview.html",
        summary=summary,
        state=state,
        preview=state.preview,
        error=state.error,
        targets=TARGETS,
        dayfirst_choice=request.form.get("dayfirst", ""),
    ), 422 if state.error else 200  # type: ignore[return-value]


@crm.post("/<int:import_id>/run")
@require_roles(*IMPORTERS)
def run(import_id: int) -> BaseResponse:
    dayfirst = DAYFIRST.get(request.form.get("dayfirst", ""))
    options = _options(None, dayfirst)
    try:
        if "map-0" in request.form:
            options = _options(read_mapping(import_id).chosen, dayfirst)
        done = import_crm_file(
            db(),
            import_id,
            upload_folder=_config("UPLOAD_FOLDER"),
            email_secret=runtime().secret,
            mapping=options.mapping,
            dayfirst=options.dayfirst,
            timezone=options.timezone,
            click_id_param=options.click_id_param,
            keep_emails=options.keep_emails,
            window_days=settings().attribution_window_days,
            wait_seconds=float(runtime().config["CRM_IMPORT_WAIT_SECONDS"]),
            raw_retention_days=int(runtime().config["CRM_RAW_RETENTION_DAYS"]),
        )
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
    return render_template("crm/detail.html", summary=summary, shown_errors=SHOWN_ERRORS)


@crm.get("/<int:import_id>/raw")
@require_roles(*IMPORTERS)
def download_raw(import_id: int) -> BaseResponse:
    raw = raw_upload(db(), import_id, upload_folder=_config("UPLOAD_FOLDER"))
    return send_file(
        raw.path,
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=raw.filename,
    )


@crm.get("/<int:import_id>/rejected.csv")
@require_roles(*IMPORTERS)
def download_rejected(import_id: int) -> BaseResponse:
    summary = get_import(db(), import_id, error_limit=0)
    name = summary.filename.rsplit(".", 1)[0] or "import"
    return streamed_csv(
        lambda session: iter_rejected_rows_csv(session, import_id), f"{name}-rejected.csv"
    )
