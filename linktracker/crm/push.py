"""CRM records pushed as JSON (the API, a CRM's workflow webhook): imported like CSV rows.

The records become a CSV file, header from their keys, that goes through the very import
a CSV upload takes: the same header aliases, value parsing, checks, upsert by (source,
external id) and attribution, and it is kept in the import history like an upload. Unlike
an upload, a push is all or nothing: every record is checked first and, if any is wrong,
nothing is written and each wrong record is reported by its position.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from linktracker.crm.context import ImportContext
from linktracker.crm.import_summary import ImportSummary
from linktracker.crm.options import ImportOptions, check_options, inspect_with_options
from linktracker.crm.parsing import RowError, UnreadableExport
from linktracker.crm.raw_files import normalise_source
from linktracker.crm.record_values import value_builder
from linktracker.crm.services import upload_and_import
from linktracker.errors import InvalidInput

MAX_PUSH_RECORDS: Final = 1000
DEFAULT_SOURCE: Final = "api"
_LINE: Final = re.compile(r"\bline (\d+)")


@dataclass(frozen=True)
class PushError:
    """What is wrong with one pushed record (index: its position in the batch, from 0)."""

    index: int
    field: str | None
    reason: str


class PushRefused(InvalidInput):
    """Some pushed records are wrong: nothing was written."""

    def __init__(self, message: str, errors: Sequence[PushError]) -> None:
        super().__init__(message, {"records": message})
        self.errors = list(errors)


def _cell(index: int, key: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise PushRefused(
        f"Record {index}: '{key}' must be a string, a number, true, false or null.",
        [PushError(index, key, "must be a string, a number, true, false or null")],
    )


def records_csv(records: Sequence[Mapping[str, Any]]) -> tuple[bytes, list[int]]:
    """The records as CSV bytes, and the line each record starts on (the header is line 1)."""
    if not records:
        raise PushRefused("Send at least one record.", [])
    if len(records) > MAX_PUSH_RECORDS:
        raise PushRefused(
            f"Send at most {MAX_PUSH_RECORDS} records per request ({len(records)} sent).", []
        )
    columns: dict[str, None] = {}
    for index, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise PushRefused(
                f"Record {index} is not a JSON object.", [PushError(index, None, "not an object")]
            )
        columns.update(dict.fromkeys(str(key) for key in record))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    starts: list[int] = []
    for index, record in enumerate(records):
        starts.append(out.getvalue().count("\n") + 1)
        writer.writerow(_cell(index, key, record.get(key)) for key in columns)
    return out.getvalue().encode(), starts


def check_records(data: bytes, starts: list[int], options: ImportOptions, source: str) -> None:
    """Read the records as the import will and refuse the push if any is wrong (no writes)."""
    by_line = {line: index for index, line in enumerate(starts)}
    try:
        _, rows = inspect_with_options(io.BytesIO(data), options, source)
    except UnreadableExport as exc:
        raise PushRefused(f"The records cannot be imported: {exc}", []) from None
    to_values = value_builder(None if options.keep_emails else b"check only")
    errors: list[PushError] = []
    seen: dict[str, int] = {}
    for item in rows.read(io.BytesIO(data)):
        problem = item if isinstance(item, RowError) else to_values(item)
        if isinstance(problem, RowError):
            # The import's reasons name CSV lines; a push names records by position.
            reason = _LINE.sub(lambda m: f"record {by_line.get(int(m[1]), m[1])}", problem.reason)
            errors.append(PushError(by_line.get(problem.line, -1), problem.column, reason))
            continue
        assert not isinstance(item, RowError)
        index, external_id = by_line.get(item.line, -1), item.external_id
        if external_id in seen:
            reason = f"duplicate id {external_id}, also record {seen[external_id]}"
            errors.append(PushError(index, None, reason))
        seen[external_id] = index
    if errors:
        first = errors[0]
        raise PushRefused(
            f"{len(errors)} record(s) refused, nothing written; record {first.index}: "
            f"{first.reason}.",
            errors,
        )


def push_records(
    session: Session,
    records: Sequence[Mapping[str, Any]],
    context: ImportContext,
    options: ImportOptions,
    *,
    source: str | None = None,
    uploaded_by: int | None = None,
    filename: str | None = None,
) -> ImportSummary:
    """Import pushed records exactly as CSV rows, all or nothing (PushRefused: nothing written)."""
    check_options(options)
    chosen = normalise_source(source) or DEFAULT_SOURCE
    data, starts = records_csv(records)
    check_records(data, starts, options, chosen)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return upload_and_import(
        session,
        io.BytesIO(data),
        context,
        options,
        filename=filename or f"push-{chosen}-{stamp}.csv",
        source=chosen,
        uploaded_by=uploaded_by,
    )


__all__ = [
    "MAX_PUSH_RECORDS",
    "PushError",
    "PushRefused",
    "check_records",
    "push_records",
    "records_csv",
]
