"""Previews: what an import of a file would read (mapping, dates, first rows), writing nothing."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Final

from sqlalchemy.orm import Session

from linktracker.crm.csv_rows import ParsedRecord, RowError, UnreadableExport, export_header
from linktracker.crm.headers import TARGETS
from linktracker.crm.options import ImportOptions, check_options, inspect_with_options
from linktracker.crm.summary import ImportRowError, load_import, raw_path

PREVIEW_ROWS: Final = 20


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
    with raw_path(record, upload_folder).open("rb") as stream:
        return preview_export(stream, options=options, source=record.source or None, limit=limit)


def import_header(
    session: Session, import_id: int, *, upload_folder: str | os.PathLike[str]
) -> tuple[str, ...]:
    """The columns of a stored upload as the import reads them; () when it finds no header.

    For mapping columns by hand after a refusal that recognised none.
    """
    record = load_import(session, import_id)
    with raw_path(record, upload_folder).open("rb") as stream:
        try:
            return export_header(stream)
        except UnreadableExport:
            return ()


def preview_export(
    stream: BinaryIO,
    *,
    options: ImportOptions | None = None,
    source: str | None = None,
    limit: int = PREVIEW_ROWS,
) -> ImportPreview:
    """The mapping preview of a file: format, encoding, mapping, first records and errors.

    Raises ``UnreadableExport`` when the file would be refused.
    """
    options = options or ImportOptions()
    check_options(options)
    info, rows = inspect_with_options(stream, options, source)
    items = rows.read(stream)
    records: list[dict[str, str | None]] = []
    errors: list[ImportRowError] = []
    for item in items:
        if isinstance(item, RowError):
            if len(errors) < limit:
                errors.append(ImportRowError(item.line, item.column, item.reason))
        elif len(records) < limit:
            records.append(_display(item))
        if len(records) >= limit and len(errors) >= limit:
            break
    return ImportPreview(
        format=info.format,
        kind=info.kind,
        source=info.source,
        encoding=info.encoding,
        delimiter=info.delimiter,
        header=info.header,
        mapping=dict(info.mapping),
        fields=TARGETS,
        dayfirst=info.dayfirst,
        dayfirst_reason=info.dayfirst_reason,
        decimal_separator=info.decimal_separator,
        decimal_reason=info.decimal_reason,
        won_rule=info.won_rule,
        timezone=info.timezone,
        records=tuple(records),
        errors=tuple(errors),
    )


def _display(record: ParsedRecord) -> dict[str, str | None]:
    shown: dict[str, str | None] = {"line": str(record.line)}
    for name in ParsedRecord._fields:
        if name in ("line", "raw"):
            continue
        value = getattr(record, name)
        if value is None:
            shown[name] = None
        elif isinstance(value, datetime):
            shown[name] = value.isoformat()
        elif isinstance(value, bool):
            shown[name] = "true" if value else "false"
        else:
            shown[name] = str(value)
    return shown
