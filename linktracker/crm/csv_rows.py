"""Streaming parser of CRM exports: from an uploaded CSV file to records and row errors.

``inspect_export`` reads a seekable binary stream in three steps, none of which holds the
file in memory; it does the first two and returns the third as :class:`ExportRows`, whose
``read`` any process can run on its own handle on the file:

1. a 64 KB sample (up to 4 MB when the header line is longer) decides encoding,
   delimiter, header row and column mapping; a file that is not text or lacks an id or
   creation-date column is refused whole (:class:`UnreadableExport`);
2. a pre-scan over every row decides what only the whole file can tell: day/month order
   of dates, the decimal separator of amounts, and which rows a later row with the same
   id supersedes; a file the csv module cannot split is refused here, before anything
   is imported;
3. ``ExportRows.read`` yields, in file order, a :class:`ParsedRecord` per good row and
   a :class:`RowError` per bad row.

Decisions worth knowing:

* Duplicate ids: the last row with an id wins, even when it is itself rejected; each
  earlier row is yielded as a ``RowError`` ("duplicate id X, superseded by line N"),
  never as a record. Every yielded item is therefore final and a consumer can upsert
  records as they arrive. The pre-scan finds repeats with a bit filter (one bit per id)
  plus an exact map of the few ids whose bit was already set, so memory stays at about
  4 bytes per row instead of a set of every id.
* Footers: blank lines are skipped anywhere. Rows with a single non-empty cell that
  follow a blank line, or that read like a report footer (``Grand Totals (40
  records)``, ``Confidential…``, ``Copyright…``), are held back; if only such rows
  remain up to the end of the file they are the footer and are dropped, otherwise they
  are ordinary (short) rows and are rejected.
* Amounts: ``1.234`` and ``1,234`` are the only ambiguous shapes; the file's decimal
  separator decides them, taken from amounts that show it (``53.375,39``, ``12.50``)
  or, failing that, from the delimiter (``;`` files come from decimal-comma locales).
  A currency column beats a currency symbol; a symbol beats nothing.
* closed_at is only set on closed records (won, lost, or a closed flag), because CRMs
  fill Close Date with the expected date on open deals.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import BinaryIO, Final, NamedTuple

from linktracker.crm.encodings import (
    CP1252,
    MAX_SAMPLE_SIZE,
    SAMPLE_SIZE,
    Encoding,
    NotText,
    decode_sample,
    detect_encoding,
    open_text,
    recheck_ascii_sample,
)
from linktracker.crm.headers import (
    HeaderMapping,
    MappingError,
    column_names,
    map_header,
    normalise_kind,
)
from linktracker.crm.values import (
    DateParser,
    Outcome,
    ValueProblem,
    amount_decimal_hint,
    classify_stage,
    currency_code,
    date_order_hint,
    normalise_email,
    parse_amount,
    parse_flag,
    query_params,
    zone,
)
from linktracker.errors import InvalidInput

__all__ = [
    "ExportInfo",
    "Converter",
    "ExportRows",
    "ParsedRecord",
    "Row",
    "RowError",
    "UnreadableExport",
    "inspect_export",
]

_DELIMITERS: Final = (",", ";", "\t", "|")
_HEADER_SEARCH_LINES: Final = 50  # report titles may precede the header row
_LAYOUT_ROWS: Final = 50  # data rows that vote on the delimiter
_TAIL_LIMIT: Final = 1000  # more single-cell rows than this are data, not a footer
_VOTE_LIMIT: Final = 1000  # unambiguous dates/amounts after which the pre-scan stops counting
_BITS_PER_ROW: Final = 32  # duplicate filter size: ~1.5 % of rows become exact candidates
_MIN_FILTER_BITS: Final = 1 << 16
_MAX_FILTER_BITS: Final = 1 << 28
_UNSIZED_FILTER_BITS: Final = 1 << 24  # 2 MB, for streams that cannot tell their size
_CACHE_LIMIT: Final = 1024
_DATE_TARGETS: Final = ("created_at", "closed_at", "won_at", "lost_at")
_UTM_FIELDS: Final = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
# Excel writes `sep=;` as the first line when asked to declare the delimiter.
_SEP_LINE: Final = re.compile(r"sep=(.)\r?\n")
# One-cell lines report tools append (Salesforce: `Grand Totals (40 records)`,
# `Confidential Information - Do Not Distribute`, `Copyright (c) 2000-2026 salesforce…`).
_FOOTER: Final = re.compile(
    r"(?i)\s*(?:grand\s+totals?\b|totals?\b|sub-?totals?\b|confidential|copyright|\(c\)|©"
    r"|generated\s+(?:by|on|at)\b|filtered\s+by\b|all\s+rights\s+reserved|report\s+generated)"
)


class UnreadableExport(InvalidInput):
    """The upload is refused whole; ``str(exc)`` is the message for the user.

    ``mapping`` is what was recognised of the header when a needed column is missing.
    """

    def __init__(self, message: str, mapping: dict[str, str | None] | None = None) -> None:
        super().__init__(message)
        self.mapping = mapping


class ParsedRecord(NamedTuple):
    """One good row of a CRM export, typed and normalised (datetimes are UTC-aware)."""

    # An immutable NamedTuple rather than a frozen dataclass: one is built per row, and a
    # frozen dataclass of this size costs several times as much to build.
    line: int  # physical line where the row starts, 1-based, header included
    external_id: str
    kind: str  # lead, contact or deal
    created_at: datetime
    owner: str | None
    stage: str | None
    won: bool
    closed_at: datetime | None  # only for closed (won or lost) records
    amount: Decimal | None
    currency: str | None  # ISO 4217
    email: str | None  # stripped, lowercased
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_content: str | None
    utm_term: str | None
    click_id: str | None
    landing_url: str | None
    source: str | None  # lead source / original source as the CRM reports it
    source_detail: str | None  # e.g. HubSpot drill-downs, joined with " / "
    name: str | None  # deal, opportunity or contact name
    company: str | None
    raw: tuple[str, ...]  # the row's cells as read


class RowError(NamedTuple):
    """A rejected row: where it starts, which column is at fault, and why."""

    line: int
    column: str | None  # header name, None when the row as a whole is malformed
    reason: str
    raw: tuple[str, ...]


# A data row as read: its physical line (where it starts, 1-based) and its cells.
Row = tuple[int, list[str]]
Converter = Callable[[int, list[str]], ParsedRecord | RowError]


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


@dataclass(frozen=True)
class _Layout:
    delimiter: str
    header: list[str]
    header_line: int
    body_line: int  # reader.line_num once the header row has been read


@dataclass
class _Scan:
    """What the pre-scan learned from every row."""

    encoding: Encoding
    errors: str
    nul_seen: bool = False
    last_line: int = 0  # the file's last physical line: how many rows, roughly
    superseded: dict[str, int] = field(default_factory=dict)  # id -> last line, maybe repeated
    day_votes: int = 0
    month_votes: int = 0
    ambiguous: int = 0
    dotted: int = 0
    comma_decimals: int = 0
    point_decimals: int = 0


def _filled(row: list[str]) -> int:
    return len(row) - row.count("")


def _trial(text: str, delimiter: str, *, skip_first: bool) -> tuple[tuple[float, int], _Layout]:
    """Parse the sample with ``delimiter``; score it by how regular its rows are."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: _Layout | None = None
    widths: list[int] = []
    last = 0
    try:
        for row in reader:
            line, last = last + 1, reader.line_num
            if skip_first and line == 1:
                continue
            if header is None:
                if _filled(row) >= 2:
                    header = _Layout(delimiter, row, line, last)
                elif line > _HEADER_SEARCH_LINES:
                    break
            elif _filled(row) >= 2:
                widths.append(len(row))
                if len(widths) >= _LAYOUT_ROWS:
                    break
    except csv.Error:
        pass
    if header is None:
        return (0.0, 0), _Layout(delimiter, [], 0, 0)
    width = len(header.header)
    regular = sum(1 for w in widths if w == width) / len(widths) if widths else 1.0
    return (regular, width), header


def _find_layout(text: str) -> _Layout:
    """Find the delimiter and the header row in the decoded sample."""
    declared = _SEP_LINE.match(text)
    delimiters = (declared[1],) if declared else _DELIMITERS
    trials = [_trial(text, d, skip_first=declared is not None) for d in delimiters]
    score, layout = max(trials, key=lambda trial: trial[0])  # ties: the earlier delimiter
    if score[1] >= 2:
        return layout
    first = next((line for line in text.splitlines() if line.strip()), "")
    raise UnreadableExport(
        f"No header row found: the first line ({first[:80]!r}) has a single column. "
        "A CRM export needs at least an id column and a creation-date column, "
        "separated by ',', ';', tab or '|'."
    )


def _filter_bits(stream: BinaryIO, start: int, sample: bytes, lines: int) -> int:
    """Size the duplicate filter from the file size and the sample's line length."""
    try:
        size = stream.seek(0, io.SEEK_END) - start
    except (OSError, ValueError):
        return _UNSIZED_FILTER_BITS
    rows = size * max(lines, 1) // max(len(sample), 1) + 1
    bits = _MIN_FILTER_BITS
    while bits < rows * _BITS_PER_ROW and bits < _MAX_FILTER_BITS:
        bits <<= 1
    return bits


def _skip_header(reader: Iterator[list[str]], line_num: Callable[[], int], body_line: int) -> None:
    while line_num() < body_line:
        if next(reader, None) is None:
            return


def _scan_rows(
    stream: BinaryIO,
    start: int,
    scan: _Scan,
    layout: _Layout,
    header: HeaderMapping,
    *,
    want_dates: bool,
    filter_bits: int,
) -> None:
    """One pass over every row: duplicate candidates, date order and decimal votes."""
    text, source = open_text(stream, start, scan.encoding, errors=scan.errors)
    last = 0
    try:
        reader = csv.reader(text, delimiter=layout.delimiter)
        _skip_header(reader, lambda: reader.line_num, layout.body_line)
        id_at = header.index("external_id")
        assert id_at is not None  # map_header refuses headers without one
        date_at = [i for t in _DATE_TARGETS for i in header.indexes(t)] if want_dates else []
        amount_at = header.index("amount")
        bits = bytearray(filter_bits // 8)
        mask = filter_bits - 1
        candidates: dict[str, int] = {}
        scanned = 0
        last = reader.line_num
        final: list[str] = []
        final_line = 0
        for row in reader:
            line, last = last + 1, reader.line_num
            final, final_line = row, line
            if len(row) <= id_at or len(row) - row.count("") < 2:
                continue
            external_id = row[id_at].strip()
            if external_id:
                # A Bloom-style bit filter: an id whose bit is already set may repeat,
                # so it is kept exactly with its last line; most ids cost one bit.
                bit = hash(external_id) & mask
                if bits[bit >> 3] & (1 << (bit & 7)):
                    candidates[external_id] = line
                else:
                    bits[bit >> 3] |= 1 << (bit & 7)
            if date_at:
                _vote_dates(scan, row, date_at)
                scanned += 1
                # Enough votes, or a file whose dates are not DD/MM-MM/DD-shaped at all.
                if scan.day_votes + scan.month_votes >= _VOTE_LIMIT or (
                    scanned >= _VOTE_LIMIT
                    and not scan.ambiguous
                    and not scan.day_votes
                    and not scan.month_votes
                ):
                    date_at = []
            if amount_at is not None and amount_at < len(row) and row[amount_at]:
                hint = amount_decimal_hint(row[amount_at])
                if hint == ",":
                    scan.comma_decimals += 1
                elif hint == ".":
                    scan.point_decimals += 1
                if scan.comma_decimals + scan.point_decimals >= _VOTE_LIMIT:
                    amount_at = None
        ends_with_quote = source.tail.decode(scan.encoding.codec, "ignore").rstrip().endswith('"')
        if final and final[-1].endswith(("\n", "\r")) and not ends_with_quote:
            # The csv module ends an unclosed quoted value at the end of the file, line
            # breaks included, where a closed one would have stopped at its quote.
            raise UnreadableExport(
                f"Line {final_line}: a quoted value is never closed, so the rest of the file "
                "cannot be split into rows."
            )
        scan.superseded = candidates
        scan.last_line = last
        scan.nul_seen = source.nul_seen
    except csv.Error as exc:
        raise UnreadableExport(
            f"Line {last + 1}: the file cannot be split into rows ({exc})."
        ) from exc
    finally:
        text.close()


def _vote_dates(scan: _Scan, row: list[str], date_at: list[int]) -> None:
    for i in date_at:
        if i < len(row) and row[i]:
            hint = date_order_hint(row[i])
            if hint is None:
                continue
            vote, separator = hint
            if vote > 0:
                scan.day_votes += 1
            elif vote < 0:
                scan.month_votes += 1
            else:
                scan.ambiguous += 1
                scan.dotted += separator == "."


def _prescan(
    stream: BinaryIO,
    start: int,
    encoding: Encoding,
    layout: _Layout,
    header: HeaderMapping,
    *,
    want_dates: bool,
    filter_bits: int,
) -> _Scan:
    """Run the pre-scan, settling the encoding if bytes beyond the sample disagree."""
    scan = _Scan(encoding=encoding, errors="strict")
    while True:
        try:
            _scan_rows(
                stream,
                start,
                scan,
                layout,
                header,
                want_dates=want_dates,
                filter_bits=filter_bits,
            )
            return scan
        except UnicodeDecodeError:
            if scan.encoding.ascii_sample:
                scan = _Scan(encoding=recheck_ascii_sample(stream, start), errors="strict")
                if scan.encoding != CP1252:
                    scan.errors = "replace"
            else:
                # Undecodable bytes in a file that is otherwise in this encoding: the
                # rows that hold them are rejected, the rest imports.
                scan = _Scan(encoding=scan.encoding, errors="replace")


def _decide_dayfirst(scan: _Scan, delimiter: str) -> tuple[bool, str]:
    day, month = scan.day_votes, scan.month_votes
    if day or month:
        dayfirst = day > month
        agree, disagree = (day, month) if dayfirst else (month, day)
        reason = f"detected from {agree} unambiguous date{'s' if agree != 1 else ''}"
        if disagree:
            reason += f" ({disagree} read the other way and are rejected)"
        return dayfirst, reason
    if not scan.ambiguous:
        return False, "not needed (no DD/MM or MM/DD dates)"
    if scan.dotted * 2 > scan.ambiguous:
        return True, "default for DD.MM.YYYY dates (day first)"
    if delimiter == ";":
        # Excel separates with ';' where ',' is the decimal mark: continental Europe and
        # Latin America, which write the day first.
        return True, "default for ';'-separated exports (day first)"
    return False, "default (month first)"


def _decide_decimal(scan: _Scan, header: HeaderMapping, delimiter: str) -> tuple[str, str]:
    if header.index("amount") is None:
        return ".", "not needed (no amount column)"
    comma, point = scan.comma_decimals, scan.point_decimals
    if comma or point:
        separator = "," if comma > point else "."
        count = max(comma, point)
        return separator, f"detected from {count} amount{'s' if count != 1 else ''}"
    if delimiter == ";":
        return ",", "default for ';'-separated exports (decimal comma)"
    return ".", "default (decimal point)"


def _won_rule(header: HeaderMapping) -> str:
    def column(target: str) -> str | None:
        at = header.index(target)
        return None if at is None else repr(header.columns[at])

    won, status, stage = column("won"), column("status"), column("stage")
    parts = []
    if won:
        parts.append(f"{won} is 1/true/yes")
    if status:
        parts.append(f"{status} is won (lost closes without winning)")
    if stage:
        parts.append(f"{stage} reads as won (e.g. 'Closed Won', 'Won', 'Converted')")
    rule = (
        ("won when " + ", else when ".join(parts))
        if parts
        else "never won (no won, status or stage column)"
    )
    dates = [c for c in (column("won_at"), column("lost_at"), column("closed_at")) if c]
    if dates:
        rule += f"; closed_at from {' / '.join(dates)}, only for closed records"
    return rule


@dataclass(frozen=True)
class _Plan:
    """Everything the row converter needs, decided before the first row is yielded."""

    header: HeaderMapping
    delimiter: str
    dates: DateParser
    decimal_comma: bool
    click_id_param: str
    superseded: dict[str, int]
    suspicious: bool  # decoding replaced bytes or NULs occur: check cells for them


def _converter(plan: _Plan) -> Converter:
    """Build the function turning one row into a record or an error."""
    header = plan.header
    columns = header.columns
    width = len(columns)

    def at(target: str) -> int:
        # Unmapped fields read the empty sentinel cell appended to every row.
        found = header.index(target)
        return -1 if found is None else found

    def name(position: int) -> str | None:
        return columns[position] if position >= 0 else None

    i_id, i_kind, i_created = at("external_id"), at("kind"), at("created_at")
    i_owner, i_stage, i_status = at("owner"), at("stage"), at("status")
    i_won, i_closed, i_closed_at = at("won"), at("closed"), at("closed_at")
    i_won_at, i_lost_at = at("won_at"), at("lost_at")
    i_amount, i_currency, i_email = at("amount"), at("currency"), at("email")
    i_click, i_url, i_source = at("click_id"), at("landing_url"), at("source")
    i_name, i_company = at("name"), at("company")
    i_utm = [at(t) for t in _UTM_FIELDS]
    i_utm_source, i_utm_medium, i_utm_campaign, i_utm_content, i_utm_term = i_utm
    i_details = header.indexes("source_detail")
    c_id, c_created = columns[i_id], columns[i_created]
    c_kind, c_won, c_closed = name(i_kind), name(i_won), name(i_closed)
    c_closed_at, c_won_at, c_lost_at = name(i_closed_at), name(i_won_at), name(i_lost_at)
    c_amount, c_currency = name(i_amount), name(i_currency)
    # Values the landing URL supplies when their column is missing or empty.
    click_param = plan.click_id_param
    from_url = frozenset([*_UTM_FIELDS, click_param])
    read_url = i_url >= 0
    dates = plan.dates
    decimal_comma = plan.decimal_comma
    superseded = plan.superseded
    suspicious = plan.suspicious
    file_kind = header.kind
    delimiter = plan.delimiter
    outcomes: dict[str, Outcome | None] = {}
    flags: dict[str, bool | None] = {}

    # Stages and flags take few distinct values: caching them saves a regex per row.
    # The caches are cleared when full, so a hostile file cannot grow them.
    def outcome(text: str) -> Outcome | None:
        if text not in outcomes:
            if len(outcomes) >= _CACHE_LIMIT:
                outcomes.clear()
            outcomes[text] = classify_stage(text)
        return outcomes[text]

    def flag(text: str) -> bool | None:
        if text not in flags:
            if len(flags) >= _CACHE_LIMIT:
                flags.clear()
            flags[text] = parse_flag(text)
        return flags[text]

    def convert(line: int, row: list[str]) -> ParsedRecord | RowError:
        raw = tuple(row)
        count = len(row)
        if count != width:
            if count < width:
                return RowError(
                    line,
                    columns[count],
                    f"short row: {count} of {width} cells, nothing for {columns[count]!r} "
                    "and after",
                    raw,
                )
            if any(cell.strip() for cell in row[width:]):
                return RowError(
                    line,
                    None,
                    f"row has {count} cells but the header has {width} "
                    f"(a value with an unquoted {delimiter!r}?)",
                    raw,
                )
        if suspicious:
            for position, cell in enumerate(row):
                if "\ufffd" in cell or "\x00" in cell:
                    return RowError(
                        line, name(position), "bytes that are not valid text in this encoding", raw
                    )
        row.append("")
        external_id = row[i_id].strip()
        if not external_id:
            return RowError(line, c_id, "missing id", raw)
        later = superseded.get(external_id)
        if later is not None and later != line:
            return RowError(
                line, c_id, f"duplicate id {external_id}, superseded by line {later}", raw
            )
        column: str | None = c_created
        try:
            created_at = dates(row[i_created])
            if created_at is None:
                return RowError(line, c_created, "missing creation date", raw)
            kind = file_kind
            if i_kind >= 0 and (kind_text := row[i_kind].strip()):
                found_kind = normalise_kind(kind_text)
                if found_kind is None:
                    return RowError(
                        line,
                        c_kind,
                        f"unknown record kind {kind_text!r} (lead, contact, deal)",
                        raw,
                    )
                kind = found_kind
            column = c_amount
            money = (
                parse_amount(text, decimal_comma=decimal_comma) if (text := row[i_amount]) else None
            )
            currency = None
            if money is not None:
                # A currency without an amount means nothing; a column beats a symbol,
                # since `$` in a Canadian export is CAD.
                column = c_currency
                currency = (currency_code(text) if (text := row[i_currency]) else None) or money[1]
            column = c_won
            won_flag = flag(row[i_won])
            column = c_closed
            closed_flag = flag(row[i_closed])
            stage = row[i_stage].strip() or None
            status = row[i_status].strip() or None
            status_outcome = outcome(status) if status else None
            stage_outcome = outcome(stage) if stage else None
            if won_flag is not None:
                won = won_flag
            elif status_outcome is not None:
                won = status_outcome == "won"
            else:
                won = stage_outcome == "won"
            column = c_closed_at
            closing = dates.closing
            close_date = closing(text, created_at) if (text := row[i_closed_at]) else None
            column = c_won_at
            won_at = closing(text, created_at) if (text := row[i_won_at]) else None
            column = c_lost_at
            lost_at = closing(text, created_at) if (text := row[i_lost_at]) else None
        except ValueProblem as problem:
            return RowError(line, column, str(problem), raw)

        if won:
            closed = True
        elif closed_flag is not None:
            closed = closed_flag
        elif status_outcome is not None:
            closed = status_outcome != "open"
        elif stage_outcome is not None:
            closed = stage_outcome != "open"
        else:
            # Nothing says whether the record is closed: a close date does.
            closed = close_date is not None or lost_at is not None
        # CRMs fill Close Date with the expected date on open deals: only closed records
        # get a closed_at.
        closed_at = ((won_at if won else lost_at) or close_date) if closed else None
        if stage is None or status_outcome in ("won", "lost"):
            # Pipedrive keeps the last pipeline stage on closed deals; the status is news.
            stage = status

        utm_source = row[i_utm_source].strip() or None
        utm_medium = row[i_utm_medium].strip() or None
        utm_campaign = row[i_utm_campaign].strip() or None
        utm_content = row[i_utm_content].strip() or None
        utm_term = row[i_utm_term].strip() or None
        click_id = row[i_click].strip() or None
        landing_url = row[i_url].strip() or None
        if (
            read_url
            and landing_url is not None
            and "?" in landing_url
            and not (
                click_id and utm_source and utm_medium and utm_campaign and utm_content and utm_term
            )
        ):
            params = query_params(landing_url, from_url)
            if params:
                get = params.get
                utm_source = utm_source or get("utm_source")
                utm_medium = utm_medium or get("utm_medium")
                utm_campaign = utm_campaign or get("utm_campaign")
                utm_content = utm_content or get("utm_content")
                utm_term = utm_term or get("utm_term")
                click_id = click_id or get(click_param)
        # Positional, in field order: keywords would cost another microsecond per row.
        return ParsedRecord(
            line,
            external_id,
            kind,
            created_at,
            row[i_owner].strip() or None,
            stage,
            won,
            closed_at,
            None if money is None else money[0],
            currency,
            normalise_email(text) if (text := row[i_email]) else None,
            utm_source,
            utm_medium,
            utm_campaign,
            utm_content,
            utm_term,
            click_id,
            landing_url,
            row[i_source].strip() or None,
            " / ".join(filter(None, [row[i].strip() for i in i_details])) or None
            if i_details
            else None,
            row[i_name].strip() or None,
            row[i_company].strip() or None,
            raw,
        )

    return convert


def _rows(stream: BinaryIO, start: int, scan: _Scan, layout: _Layout) -> Iterator[Row]:
    """Yield each data row with its line, unconverted; skip blank lines and report footers."""
    text, _ = open_text(stream, start, scan.encoding, errors=scan.errors)
    last = 0
    try:
        reader = csv.reader(text, delimiter=layout.delimiter)
        _skip_header(reader, lambda: reader.line_num, layout.body_line)
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
    scan: _Scan
    layout: _Layout
    plan: _Plan

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
        return _converter(self.plan)


def _read_sample(stream: BinaryIO) -> tuple[bytes, bool]:
    """The sample to decide the layout from, and whether it is the whole file.

    It holds at least the header line and the line after it: a sample of wide header lines
    grows (doubling) up to ``MAX_SAMPLE_SIZE``; a first line longer than that is refused.
    """
    want = SAMPLE_SIZE
    sample = stream.read(want)
    while True:
        complete = len(sample) < want or not stream.read(1)
        if complete or _line_breaks(sample) >= 2 or want >= MAX_SAMPLE_SIZE:
            break
        stream.seek(-1, io.SEEK_CUR)  # the byte read to tell whether the file ended
        sample += stream.read(want)
        want *= 2
    if not complete and not _line_breaks(sample):
        raise UnreadableExport(
            f"The first line is longer than {MAX_SAMPLE_SIZE // 1024 // 1024} MB "
            f"({MAX_SAMPLE_SIZE:,} bytes), the longest header line accepted: check that the "
            "file is a CSV export with one record per line."
        )
    return sample, complete


def _line_breaks(sample: bytes) -> int:
    return max(sample.count(b"\n"), sample.count(b"\r"))


def export_header(stream: BinaryIO) -> tuple[str, ...]:
    """The header row's column names as the import finds them (raises UnreadableExport)."""
    sample, complete = _read_sample(stream)
    try:
        text = decode_sample(sample, detect_encoding(sample, complete=complete), complete=complete)
    except NotText as exc:
        raise UnreadableExport(str(exc)) from exc
    return column_names(_find_layout(text).header)


def inspect_export(
    stream: BinaryIO,
    *,
    mapping: Mapping[str, str | None] | None = None,
    dayfirst: bool | None = None,
    timezone: str = "UTC",
    click_id_param: str = "lt_cid",
    source: str | None = None,
) -> tuple[ExportInfo, ExportRows]:
    """Inspect a CRM export: what was found, and its rows to read (raises UnreadableExport)."""
    if not stream.seekable():
        raise ValueError("inspect_export needs a seekable binary stream")
    zone(timezone)  # ValueError now: a misconfiguration, not the file's fault
    start = stream.tell()
    sample, complete = _read_sample(stream)
    try:
        encoding = detect_encoding(sample, complete=complete)
        text = decode_sample(sample, encoding, complete=complete)
    except NotText as exc:
        raise UnreadableExport(str(exc)) from exc
    if not text.strip():
        raise UnreadableExport("The file is empty.")
    layout = _find_layout(text)
    try:
        header = map_header(layout.header, explicit=mapping, click_id_param=click_id_param)
    except MappingError as exc:
        raise UnreadableExport(str(exc), exc.mapping) from exc

    lines = text.count("\n") or text.count("\r")
    scan = _prescan(
        stream,
        start,
        encoding,
        layout,
        header,
        want_dates=dayfirst is None,
        filter_bits=_filter_bits(stream, start, sample, lines),
    )
    if dayfirst is None:
        dayfirst, dayfirst_reason = _decide_dayfirst(scan, layout.delimiter)
    else:
        dayfirst_reason = "explicit"
    decimal_separator, decimal_reason = _decide_decimal(scan, header, layout.delimiter)
    info = ExportInfo(
        encoding=scan.encoding.name,
        delimiter=layout.delimiter,
        format=header.format,
        kind=header.kind,
        source=source or header.format,
        header=header.columns,
        header_line=layout.header_line,
        mapping=header.as_dict(),
        timezone=timezone,
        dayfirst=dayfirst,
        dayfirst_reason=dayfirst_reason,
        decimal_separator=decimal_separator,
        decimal_reason=decimal_reason,
        won_rule=_won_rule(header),
    )
    plan = _Plan(
        header=header,
        delimiter=layout.delimiter,
        dates=DateParser(dayfirst=dayfirst, timezone=timezone),
        decimal_comma=decimal_separator == ",",
        click_id_param=click_id_param,
        superseded=scan.superseded,
        suspicious=scan.errors == "replace" or scan.nul_seen,
    )
    return info, ExportRows(start, scan, layout, plan)
