"""Previews: what an import of a file would read (mapping, dates, first rows), writing nothing."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, Final, Protocol

from sqlalchemy.orm import Session

from linktracker.crm.import_summary import ImportRowError, load_import, raw_path
from linktracker.crm.options import ImportOptions, check_options, inspect_with_options
from linktracker.crm.parsing import (
    WORKBOOK_ENCODING,
    CsvView,
    ExportInfo,
    RowError,
    UnreadableExport,
    Workbook,
    csv_view,
    export_header,
)
from linktracker.crm.parsing.headers import TARGETS

PREVIEW_ROWS: Final = 20
HEADER_ROWS: Final = 60  # sheet rows that hold the header row, title lines above it included


@dataclass(frozen=True)
class ImportPreview:
    """What an import of a file would read, without writing anything."""

    format: str
    kind: str
    source: str
    encoding: str
    delimiter: str
    header: tuple[str, ...]
    mapping: dict[str, str | None]
    fields: tuple[str, ...]
    dayfirst: bool
    dayfirst_reason: str
    decimal_separator: str
    decimal_reason: str
    won_rule: str
    timezone: str
    records: tuple[dict[str, str | None], ...]
    errors: tuple[ImportRowError, ...]
    sheet: str | None = None  # the workbook sheet read (None: a text file)
    sheets: tuple[str, ...] = ()  # every sheet of the workbook, to choose another


def preview_import(
    session: Session,
    import_id: int,
    *,
    upload_folder: str | os.PathLike[str],
    options: ImportOptions | None = None,
    limit: int = PREVIEW_ROWS,
) -> ImportPreview:
    """Read a stored upload as an import would (mapping, dates, first rows); write nothing."""
    record = load_import(session, import_id)
    path = raw_path(record, upload_folder)
    with path.open("rb") as stream:
        return preview_export(
            stream, options=options, source=record.source or None, limit=limit, folder=path.parent
        )


def import_header(
    session: Session,
    import_id: int,
    *,
    upload_folder: str | os.PathLike[str],
    sheet: str | None = None,
) -> tuple[str, ...]:
    """The columns of a stored upload as the import reads them; () when it finds no header.

    For mapping columns by hand after a refusal that recognised none.
    """
    record = load_import(session, import_id)
    path = raw_path(record, upload_folder)
    with path.open("rb") as stream:
        try:
            with csv_view(stream, sheet=sheet, limit=HEADER_ROWS, folder=path.parent) as view:
                return export_header(view.stream)
        except UnreadableExport:
            return ()


def preview_export(
    stream: BinaryIO,
    *,
    options: ImportOptions | None = None,
    source: str | None = None,
    limit: int = PREVIEW_ROWS,
    folder: str | os.PathLike[str] | None = None,
) -> ImportPreview:
    """The mapping preview of a file: format, encoding, mapping, first records and errors.

    A workbook's sheet is read whole, as the import would (what the pre-scan decides, such
    as duplicate ids, depends on every row); ``folder`` holds its CSV text meanwhile. Raises
    ``UnreadableExport`` when the file would be refused.
    """
    options = options or ImportOptions()
    check_options(options)
    with csv_view(stream, sheet=options.sheet, folder=folder) as view:
        return _preview(view, options, source, limit)


def _preview(
    view: CsvView, options: ImportOptions, source: str | None, limit: int
) -> ImportPreview:
    stream = view.stream
    info, rows = inspect_with_options(stream, options, source)
    found = preview_rows(rows.read(stream), display_row, limit)
    return preview_of(info, view.workbook, TARGETS, found)


class _Parsed(Protocol):
    """A parsed row (``ParsedRecord``, ``ParsedApplication``): a named tuple with its line."""

    @property
    def line(self) -> int: ...
    @property
    def _fields(self) -> tuple[str, ...]: ...


def display_row(parsed: _Parsed, hidden: Sequence[str] = ()) -> dict[str, str | None]:
    """A parsed row as a preview shows it: every field as text, but ``raw`` and ``hidden``."""
    shown: dict[str, str | None] = {"line": str(parsed.line)}
    for name in parsed._fields:
        if name in ("line", "raw") or name in hidden:
            continue
        value = getattr(parsed, name)
        if value is None:
            shown[name] = None
        elif isinstance(value, datetime):
            shown[name] = value.isoformat()
        elif isinstance(value, bool):
            shown[name] = "true" if value else "false"
        else:
            shown[name] = str(value)
    return shown


def preview_rows(
    items: Iterable[Any], display: Callable[[Any], dict[str, str | None]], limit: int
) -> tuple[list[dict[str, str | None]], list[ImportRowError]]:
    """The first ``limit`` rows read and rows rejected, stopping once both are full."""
    records: list[dict[str, str | None]] = []
    errors: list[ImportRowError] = []
    for item in items:
        if isinstance(item, RowError):
            if len(errors) < limit:
                errors.append(ImportRowError(item.line, item.column, item.reason))
        elif len(records) < limit:
            records.append(display(item))
        if len(records) >= limit and len(errors) >= limit:
            break
    return records, errors


def preview_of(
    info: ExportInfo,
    workbook: Workbook | None,
    fields: tuple[str, ...],
    rows: tuple[list[dict[str, str | None]], list[ImportRowError]],
) -> ImportPreview:
    """The preview of a file read as ``info`` says, with its first rows and errors."""
    records, errors = rows
    return ImportPreview(
        format=info.format,
        kind=info.kind,
        source=info.source,
        encoding=info.encoding if workbook is None else WORKBOOK_ENCODING,
        delimiter=info.delimiter if workbook is None else "",
        header=info.header,
        mapping=dict(info.mapping),
        fields=fields,
        dayfirst=info.dayfirst,
        dayfirst_reason=info.dayfirst_reason,
        decimal_separator=info.decimal_separator,
        decimal_reason=info.decimal_reason,
        won_rule=info.won_rule,
        timezone=info.timezone,
        records=tuple(records),
        errors=tuple(errors),
        sheet=None if workbook is None else workbook.sheet,
        sheets=() if workbook is None else workbook.sheets,
    )
