"""The import pages' shared steps (CRM and ATS): upload, sheet, mapping preview, run options.

Each area (``crm_pages``, ``recruiting_pages``) names its pipeline's use cases in an
:class:`ImportPages` and keeps its own routes; the steps between are these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from flask import redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from linktracker.crm.import_summary import ImportSummary
from linktracker.crm.options import ImportOptions
from linktracker.crm.parsing import UnreadableExport
from linktracker.crm.preview import ImportPreview, import_header
from linktracker.crm.raw_files import store_upload
from linktracker.errors import DomainError, InvalidInput
from linktracker.web.context import db, identity, runtime
from linktracker.web.crm_import import import_options
from linktracker.web.forms import render_form, show_errors

DAYFIRST = {"": None, "dayfirst": True, "monthfirst": False}


class PreviewImport(Protocol):
    def __call__(
        self, session: Session, import_id: int, *, upload_folder: str, options: ImportOptions
    ) -> ImportPreview: ...


class RefuseImport(Protocol):
    def __call__(
        self, session: Session, import_id: int, refusal: UnreadableExport, *, options: ImportOptions
    ) -> ImportSummary: ...


@dataclass(frozen=True)
class ImportPages:
    """One area's import pages: its blueprint, pipeline, fields and use cases."""

    area: str  # the blueprint, e.g. "crm": its routes index, preview, run and detail
    pipeline: str  # crm_imports.pipeline of its uploads
    fields: tuple[str, ...]  # what a column may be mapped to
    preview: PreviewImport
    refuse: RefuseImport
    summary: Callable[[Session, int], ImportSummary]  # a pending import, before its preview


@dataclass(frozen=True)
class MappingState:
    header: tuple[str, ...]
    preview: ImportPreview | None
    chosen: dict[str, str | None]
    error: str | None
    refusal: UnreadableExport | None  # why the detected mapping cannot import the file


def index_page(
    pages: ImportPages,
    form: FlaskForm,
    template: str,
    imports: Callable[[], list[ImportSummary]],
) -> BaseResponse:
    """The upload form and history; a valid upload is stored, then previewed."""
    error = None
    if form.validate_on_submit():
        stored = _upload(pages, form)
        if not isinstance(stored, str):
            return stored
        error = stored
    return render_form(template, form=form, error=error, imports=imports())


def _upload(pages: ImportPages, form: FlaskForm) -> BaseResponse | str:
    """Store the posted file as a pending import and go to its preview; else the error."""
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
            pipeline=pages.pipeline,
        )
    except DomainError as exc:
        return show_errors(form, exc)
    sheet = (form.sheet.data or "").strip() or None
    return redirect(url_for(f"{pages.area}.preview", import_id=stored.id, sheet=sheet))


def chosen_sheet() -> str | None:
    """The workbook sheet chosen: on the upload form (query) or in the preview form."""
    return (request.values.get("sheet") or "").strip() or None


def chosen_dayfirst() -> bool | None:
    return DAYFIRST.get(request.form.get("dayfirst", ""))


def _chosen_mapping(header: tuple[str, ...], fields: tuple[str, ...]) -> dict[str, str | None]:
    """The mapping the person corrected in the preview form."""
    mapping: dict[str, str | None] = {}
    for index, column in enumerate(header):
        target = request.form.get(f"map-{index}", "")
        if target and target not in fields:
            raise InvalidInput(f"Unknown field {target!r}.", {"mapping": "Unknown field."})
        mapping[column] = target or None
    return mapping


def _header(import_id: int) -> tuple[str, ...]:
    folder = runtime().config.upload_folder
    return import_header(db(), import_id, upload_folder=folder, sheet=chosen_sheet())


def _preview(
    pages: ImportPages, import_id: int, mapping: dict[str, str | None] | None, dayfirst: bool | None
) -> ImportPreview:
    return pages.preview(
        db(),
        import_id,
        upload_folder=runtime().config.upload_folder,
        options=import_options(mapping, dayfirst, sheet=chosen_sheet()),
    )


def read_mapping(pages: ImportPages, import_id: int) -> MappingState:
    """Detect the mapping, then apply what the person corrected in the form (if posted)."""
    error = None
    result: ImportPreview | None = None
    refusal: UnreadableExport | None = None
    recognised: dict[str, str | None] | None = None
    try:
        result = _preview(pages, import_id, None, None)
        header = result.header
    except UnreadableExport as exc:
        error, refusal, recognised = exc.message, exc, exc.mapping
        header = tuple(recognised) if recognised else _header(import_id)
    except DomainError as exc:
        error = exc.message
        header = _header(import_id)
    # Columns mapped for another sheet do not apply to the one now chosen.
    sheet = chosen_sheet() or ""
    same_sheet = request.form.get("mapped_sheet", sheet) == sheet
    posted = request.method == "POST" and header and same_sheet and "map-0" in request.form
    chosen = _chosen_mapping(header, pages.fields) if posted else None
    if chosen is not None:
        try:
            result, error = _preview(pages, import_id, chosen, chosen_dayfirst()), None
        except DomainError as exc:
            result, error = None, exc.message
    if chosen is None:
        # After a refusal the recognised columns stay mapped: only the missing ones are left.
        chosen = dict(result.mapping) if result else dict(recognised or dict.fromkeys(header))
    return MappingState(header, result, chosen, error, refusal)


def preview_page(
    pages: ImportPages,
    import_id: int,
    template: str,
    *,
    extra: Callable[[MappingState], dict[str, Any]] | None = None,
) -> str | BaseResponse:
    """The mapping preview of a pending (or refused) import; a finished one: its page.

    ``extra``: what the area's template shows besides, from the mapping state.
    """
    summary = pages.summary(db(), import_id)
    detail = url_for(f"{pages.area}.detail", import_id=import_id)
    if summary.state not in ("pending", "refused"):
        return redirect(detail)
    state = read_mapping(pages, import_id)
    if state.refusal is not None:
        # Refused as the API and the CLI would refuse it; the history says so too.
        options = import_options(None, None, sheet=chosen_sheet())
        summary = pages.refuse(db(), import_id, state.refusal, options=options)
    if summary.state == "refused" and not state.header:
        # Nothing to map by hand: the import's own page shows the refusal, and survives a reload.
        return redirect(detail)
    return render_template(
        template,
        summary=summary,
        state=state,
        preview=state.preview,
        error=state.error,
        targets=pages.fields,
        dayfirst_choice=request.form.get("dayfirst", ""),
        sheet_choice=chosen_sheet() or "",
        **(extra(state) if extra else {}),
    ), 422 if state.error else 200  # type: ignore[return-value]


def run_options(pages: ImportPages, import_id: int, *, dry_run: bool) -> ImportOptions:
    """How the preview form asks the import to run: date order, sheet and mapping."""
    dayfirst, sheet = chosen_dayfirst(), chosen_sheet()
    mapping = read_mapping(pages, import_id).chosen if "map-0" in request.form else None
    return import_options(mapping, dayfirst, dry_run=dry_run, sheet=sheet)


def counts_message(summary: ImportSummary) -> str:
    """What an import run from the pages did, in one line."""
    return (
        f"Imported {summary.rows:,} rows: {summary.inserted:,} new, {summary.updated:,} "
        f"updated, {summary.unchanged:,} unchanged, {summary.rejected:,} rejected."
    )
