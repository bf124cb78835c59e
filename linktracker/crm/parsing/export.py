"""Reading an export, start to end: ``inspect_export`` and the rows it returns.

``inspect_export`` reads a seekable binary stream in three steps, none of which holds the
file in memory; it does the first two and returns the third as :class:`ExportRows`, whose
``read`` any process can run on its own handle on the file:

1. ``layout``: a 64 KB sample (up to 4 MB when the header line is longer) decides
   encoding, delimiter and header row; ``headers`` maps the columns to fields with an
   alias table (the CRM's by default). A file that is not text or lacks an id or
   creation-date column is refused whole (:class:`UnreadableExport`);
2. ``prescan``: a pass over every row decides what only the whole file can tell: the
   day/month order of dates (``date_order``), the decimal separator of amounts, and which
   rows a later row with the same id supersedes; a file the csv module cannot split is
   refused here, before anything is imported;
3. ``ExportRows.read`` yields, in file order, a :class:`ParsedRecord` per good row and
   a :class:`RowError` per bad row (``convert``).

Decisions worth knowing:

* Duplicate ids: the last row with an id wins, even when it is itself rejected; each
  earlier row is yielded as a ``RowError`` ("duplicate id X, superseded by line N"),
  never as a record. Every yielded item is therefore final and a consumer can upsert
  records as they arrive.
* Footers: blank lines are skipped anywhere. Rows with a single non-empty cell that
  follow a blank line, or that read like a report footer (``Grand Totals (40
  records)``, ``Confidential…``, ``Copyright…``), are held back; if only such rows
  remain up to the end of the file they are the footer and are dropped, otherwise they
  are ordinary (short) rows and are rejected.
* Amounts: ``1.234`` and ``1,234`` are the only ambiguous shapes; the file's decimal
  separator decides them, taken from amounts that show it (``53.375,39``, ``12.50``)
  or, failing that, from the delimiter (``;`` files come from decimal-comma locales).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO, Final

from linktracker.crm.parsing.aliases import CRM_ALIASES, AliasTable
from linktracker.crm.parsing.convert import ConvertPlan, build_converter, won_rule
from linktracker.crm.parsing.date_order import decide_date_order
from linktracker.crm.parsing.dates import DateParser, zone
from linktracker.crm.parsing.encodings import open_text
from linktracker.crm.parsing.headers import MappingError, column_names, map_header
from linktracker.crm.parsing.layout import Layout, read_layout
from linktracker.crm.parsing.prescan import Scan, decide_decimal, filter_bits, prescan, skip_header
from linktracker.crm.parsing.records import Converter, ParsedRecord, Row, RowError, UnreadableExport

__all__ = ["ExportInfo", "ExportRows", "inspect_export"]

_TAIL_LIMIT: Final = 1000  # more single-cell rows than this are data, not a footer
# One-cell lines report tools append (Salesforce: `Grand Totals (40 records)`,
# `Confidential Information - Do Not Distribute`, `Copyright (c) 2000-2026 salesforce…`).
_FOOTER: Final = re.compile(
    r"(?i)\s*(?:grand\s+totals?\b|totals?\b|sub-?totals?\b|confidential|copyright|\(c\)|©"
    r"|generated\s+(?:by|on|at)\b|filtered\s+by\b|all\s+rights\s+reserved|report\s+generated)"
)


@dataclass(frozen=True)
class ExportInfo:
    """What ``inspect_export`` found out about a file, to store with the import and show."""

    encoding: str  # Python codec name: utf-8, utf-8-sig, utf-16-le, cp1252, …
    delimiter: str
    format: str  # salesforce, hubspot, pipedrive, zoho or generic
    kind: str  # lead, contact or deal; a kind column overrides it per row
    source: str  # source system for upsert keys: the `source` argument or `format`
    header: tuple[str, ...]  # column names, made unique
    header_line: int
    mapping: dict[str, str | None]  # column name -> field (None: ignored), file order
    timezone: str  # zone naive datetimes were read in
    dayfirst: bool
    dayfirst_reason: str
    decimal_separator: str
    decimal_reason: str
    won_rule: str  # how won and closed_at are derived, for people


def _rows(stream: BinaryIO, start: int, scan: Scan, layout: Layout) -> Iterator[Row]:
    """Yield each data row with its line, unconverted; skip blank lines and report footers."""
    text, _ = open_text(stream, start, scan.encoding, errors=scan.errors)
    last = 0
    try:
        reader = csv.reader(text, delimiter=layout.delimiter)
        skip_header(reader, lambda: reader.line_num, layout.body_line)
        last = reader.line_num
        # One-cell rows after a blank line, or that look like a footer, are held back:
        # if only such rows follow up to the end, they were the report's footer.
        held: list[Row] = []
        after_blank = False
        for row in reader:
            line, last = last + 1, reader.line_num
            if len(row) - row.count("") < 2:
                if not "".join(row).strip():
                    after_blank = True
                    continue
                if after_blank or held or _FOOTER.match(next(c for c in row if c)):
                    held.append((line, row))
                    if len(held) <= _TAIL_LIMIT:
                        continue
                    yield from held
                    held = []
                    after_blank = False
                    continue
            elif held:
                yield from held
                held = []
            after_blank = False
            yield line, row
    except csv.Error as exc:  # pragma: no cover - the pre-scan read the same bytes
        raise UnreadableExport(
            f"Line {last + 1}: the file cannot be split into rows ({exc})."
        ) from exc
    finally:
        text.close()


@dataclass(frozen=True)
class ExportRows:
    """The rows of an inspected export, as decided by its sample and pre-scan.

    Plain data (it pickles), so a process other than the inspecting one can read the rows
    from its own handle on the same bytes.
    """

    start: int  # where the export starts in its stream
    scan: Scan
    layout: Layout
    plan: ConvertPlan

    def read(self, stream: BinaryIO) -> Iterator[ParsedRecord | RowError]:
        """Yield a record or an error per data row of ``stream``, in file order."""
        convert = self.converter()
        return (convert(line, row) for line, row in self.rows(stream))

    def rows(self, stream: BinaryIO) -> Iterator[Row]:
        """Yield each data row of ``stream`` with its line, in file order, unconverted.

        Splitting rows costs a tenth of converting them: parsing processes sharing a file
        each split every row and convert only their own.
        """
        return _rows(stream, self.start, self.scan, self.layout)

    def rows_after(self, line: int) -> int:
        """About how many rows follow physical line ``line`` (blank lines count too)."""
        return max(0, self.scan.last_line - max(line, self.layout.body_line))

    def converter(self) -> Converter:
        """The function turning one row (as ``rows`` yields it) into a record or an error."""
        return build_converter(self.plan)


def export_header(stream: BinaryIO) -> tuple[str, ...]:
    """The header row's column names as the import finds them (raises UnreadableExport)."""
    return column_names(read_layout(stream).layout.header)


def inspect_export(
    stream: BinaryIO,
    *,
    mapping: Mapping[str, str | None] | None = None,
    dayfirst: bool | None = None,
    timezone: str = "UTC",
    click_id_param: str = "lt_cid",
    source: str | None = None,
    aliases: AliasTable = CRM_ALIASES,
) -> tuple[ExportInfo, ExportRows]:
    """Inspect an export: what was found, and its rows to read (raises UnreadableExport).

    ``aliases`` names the columns each field is read from: the CRM's by default.
    """
    if not stream.seekable():
        raise ValueError("inspect_export needs a seekable binary stream")
    zone(timezone)  # ValueError now: a misconfiguration, not the file's fault
    start = stream.tell()
    sample = read_layout(stream)
    layout = sample.layout
    try:
        header = map_header(
            layout.header, explicit=mapping, click_id_param=click_id_param, aliases=aliases
        )
    except MappingError as exc:
        raise UnreadableExport(str(exc), exc.mapping) from exc
    scan = prescan(
        stream,
        start,
        sample.encoding,
        layout,
        header,
        want_dates=dayfirst is None,
        filter_bits=filter_bits(stream, start, sample.data, sample.lines),
    )
    if dayfirst is None:
        dayfirst, dayfirst_reason = decide_date_order(scan.dates, layout.delimiter)
    else:
        dayfirst_reason = "explicit"
    decimal_separator, decimal_reason = decide_decimal(scan, header, layout.delimiter)
    plan = ConvertPlan(
        header=header,
        delimiter=layout.delimiter,
        dates=DateParser(dayfirst=dayfirst, timezone=timezone),
        decimal_comma=decimal_separator == ",",
        click_id_param=click_id_param,
        superseded=scan.superseded,
        suspicious=scan.errors == "replace" or scan.nul_seen,
    )
    info = _export_info(
        scan,
        layout,
        plan,
        source=source,
        timezone=timezone,
        dayfirst=(dayfirst, dayfirst_reason),
        decimal=(decimal_separator, decimal_reason),
    )
    return info, ExportRows(start, scan, layout, plan)


def _export_info(
    scan: Scan,
    layout: Layout,
    plan: ConvertPlan,
    *,
    source: str | None,
    timezone: str,
    dayfirst: tuple[bool, str],
    decimal: tuple[str, str],
) -> ExportInfo:
    header = plan.header
    return ExportInfo(
        encoding=scan.encoding.name,
        delimiter=layout.delimiter,
        format=header.format,
        kind=header.kind,
        source=source or header.format,
        header=header.columns,
        header_line=layout.header_line,
        mapping=header.as_dict(),
        timezone=timezone,
        dayfirst=dayfirst[0],
        dayfirst_reason=dayfirst[1],
        decimal_separator=decimal[0],
        decimal_reason=decimal[1],
        won_rule=won_rule(header),
    )
