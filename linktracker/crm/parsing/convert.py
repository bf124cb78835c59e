"""Row conversion: one data row to a :class:`ParsedRecord`, or a :class:`RowError` saying why not.

Everything a row needs from the whole file (date order, decimal separator, superseded
rows) is decided before the first row, in a :class:`ConvertPlan`. The converter is built
from small readers, one per concern (shape, kind, amount, outcome, attribution), each a
closure over the column positions it reads: one is called per row, so positions are
looked up once per file and the readers stay cheap.

* Unmapped fields read an empty sentinel cell appended to every row.
* A currency column beats a currency symbol (``$`` in a Canadian export is CAD); a
  currency without an amount means nothing.
* closed_at is only set on closed records (won, lost, or a closed flag), because CRMs
  fill Close Date with the expected date on open deals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

from linktracker.crm.parsing.dates import DateParser
from linktracker.crm.parsing.headers import HeaderMapping, normalise_kind
from linktracker.crm.parsing.records import Converter, ParsedRecord, RowError
from linktracker.crm.parsing.values import (
    Outcome,
    ValueProblem,
    classify_stage,
    currency_code,
    normalise_email,
    parse_amount,
    parse_flag,
    query_params,
)

__all__ = ["ConvertPlan", "build_converter", "won_rule"]

_CACHE_LIMIT: Final = 1024
_NO_MONEY: Final = (None, None)
_new_record: Final = tuple.__new__
_UTM_FIELDS: Final = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


@dataclass(frozen=True)
class ConvertPlan:
    """Everything the row converter needs, decided before the first row is yielded."""

    header: HeaderMapping
    delimiter: str
    dates: DateParser
    decimal_comma: bool
    click_id_param: str
    superseded: dict[str, int]
    suspicious: bool  # decoding replaced bytes or NULs occur: check cells for them


class _CellError(Exception):
    """A cell that cannot be read: its column and the reason, for the row's RowError."""

    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


class _Columns:
    """Where each field is in a row: -1 (the empty sentinel cell) when it is not mapped."""

    def __init__(self, header: HeaderMapping) -> None:
        self.header = header
        self.names = header.columns

    def at(self, target: str) -> int:
        found = self.header.index(target)
        return -1 if found is None else found

    def name(self, position: int) -> str | None:
        return self.names[position] if position >= 0 else None


def _shape_check(plan: ConvertPlan) -> Callable[[int, list[str]], RowError | None]:
    """Refuse rows of the wrong width, and cells holding replaced bytes or NULs."""
    columns = plan.header.columns
    width = len(columns)
    delimiter = plan.delimiter

    def check(line: int, row: list[str]) -> RowError | None:
        count = len(row)
        if count < width:
            reason = (
                f"short row: {count} of {width} cells, nothing for {columns[count]!r} and after"
            )
            return RowError(line, columns[count], reason, tuple(row))
        if count > width and any(cell.strip() for cell in row[width:]):
            reason = (
                f"row has {count} cells but the header has {width} "
                f"(a value with an unquoted {delimiter!r}?)"
            )
            return RowError(line, None, reason, tuple(row))
        if plan.suspicious:
            for position, cell in enumerate(row):
                if "\ufffd" in cell or "\x00" in cell:
                    column = columns[position] if position < width else None
                    reason = "bytes that are not valid text in this encoding"
                    return RowError(line, column, reason, tuple(row))
        return None

    return check


def _kind_reader(plan: ConvertPlan, cols: _Columns) -> Callable[[list[str]], str]:
    """The record's kind: a kind cell, else the kind of the whole file."""
    file_kind = plan.header.kind
    i_kind = cols.at("kind")
    c_kind = cols.name(i_kind)

    def kind(row: list[str]) -> str:
        text = row[i_kind].strip()
        if not text:
            return file_kind
        found = normalise_kind(text)
        if found is None:
            raise _CellError(c_kind, f"unknown record kind {text!r} (lead, contact, deal)")
        return found

    return kind


def _money_reader(
    plan: ConvertPlan, cols: _Columns
) -> Callable[[str, list[str]], tuple[Decimal | None, str | None]]:
    """The amount (its cell's text) and its currency (ISO 4217): a currency column, else
    the amount's symbol."""
    decimal_comma = plan.decimal_comma
    i_currency = cols.at("currency")
    c_amount, c_currency = cols.name(cols.at("amount")), cols.name(i_currency)

    def money(text: str, row: list[str]) -> tuple[Decimal | None, str | None]:
        try:
            parsed = parse_amount(text, decimal_comma=decimal_comma)
        except ValueProblem as problem:
            raise _CellError(c_amount, str(problem)) from None
        if parsed is None:
            return None, None
        if not (text := row[i_currency]):
            return parsed
        try:
            return parsed[0], currency_code(text) or parsed[1]
        except ValueProblem as problem:
            raise _CellError(c_currency, str(problem)) from None

    return money


def _flag_reader(cols: _Columns, target: str) -> Callable[[list[str]], bool | None]:
    """A yes/no column's value (None: empty or unmapped)."""
    at = cols.at(target)
    column = cols.name(at)
    # Flags take few distinct values: caching them saves a parse per row. The cache is
    # cleared when full, so a hostile file cannot grow it.
    cache: dict[str, bool | None] = {}

    def flag(row: list[str]) -> bool | None:
        text = row[at]
        if text not in cache:
            if len(cache) >= _CACHE_LIMIT:
                cache.clear()
            try:
                cache[text] = parse_flag(text)
            except ValueProblem as problem:
                raise _CellError(column, str(problem)) from None
        return cache[text]

    return flag


def _outcome_reader(
    plan: ConvertPlan, cols: _Columns
) -> Callable[[list[str], datetime], tuple[bool, datetime | None, str | None]]:
    """Whether the record is won, when it closed (closed records only), and its stage.

    Won: a won flag, else a won status or stage. Closed: won, else a closed flag, else a
    status or stage that is not open, else any close or lost date.
    """
    won_flag, closed_flag = _flag_reader(cols, "won"), _flag_reader(cols, "closed")
    i_stage, i_status = cols.at("stage"), cols.at("status")
    closing = plan.dates.closing
    i_closed_at, i_won_at, i_lost_at = cols.at("closed_at"), cols.at("won_at"), cols.at("lost_at")
    names = {i: cols.name(i) for i in (i_closed_at, i_won_at, i_lost_at)}
    outcomes: dict[str, Outcome | None] = {}

    def classify(text: str) -> Outcome | None:
        # Stages take few distinct values: caching them saves a regex per row.
        if text not in outcomes:
            if len(outcomes) >= _CACHE_LIMIT:
                outcomes.clear()
            outcomes[text] = classify_stage(text)
        return outcomes[text]

    def outcome(row: list[str], created: datetime) -> tuple[bool, datetime | None, str | None]:
        won = won_flag(row)
        closed = closed_flag(row)
        stage = row[i_stage].strip() or None
        status = row[i_status].strip() or None
        status_outcome = classify(status) if status else None
        # The status says it first (Pipedrive's open/won/lost), else the stage.
        said = status_outcome or (classify(stage) if stage else None)
        if won is None:
            won = said == "won"
        at = i_closed_at
        try:
            close_date = closing(text, created) if (text := row[at]) else None
            at = i_won_at
            won_at = closing(text, created) if (text := row[at]) else None
            at = i_lost_at
            lost_at = closing(text, created) if (text := row[at]) else None
        except ValueProblem as problem:
            raise _CellError(names[at], str(problem)) from None
        if won:
            closed = True
        elif closed is None:
            # Nothing says whether the record is closed: a close date does.
            closed = said != "open" if said else (close_date or lost_at) is not None
        # CRMs fill Close Date with the expected date on open deals: only closed records
        # get a closed_at.
        closed_at = ((won_at if won else lost_at) or close_date) if closed else None
        if stage is None or status_outcome in ("won", "lost"):
            # Pipedrive keeps the last pipeline stage on closed deals; the status is news.
            stage = status
        return won, closed_at, stage

    return outcome


_Attribution = tuple[
    str | None, str | None, str | None, str | None, str | None, str | None, str | None
]


def _attribution_reader(plan: ConvertPlan, cols: _Columns) -> Callable[[list[str]], _Attribution]:
    """The UTM fields, click id and landing URL; the URL's query fills empty ones."""
    i_source, i_medium, i_campaign, i_content, i_term = (cols.at(t) for t in _UTM_FIELDS)
    i_click, i_url = cols.at("click_id"), cols.at("landing_url")
    click_param = plan.click_id_param
    from_url = frozenset([*_UTM_FIELDS, click_param])
    read_url = i_url >= 0

    def attribution(row: list[str]) -> _Attribution:
        source = row[i_source].strip() or None
        medium = row[i_medium].strip() or None
        campaign = row[i_campaign].strip() or None
        content = row[i_content].strip() or None
        term = row[i_term].strip() or None
        click_id = row[i_click].strip() or None
        url = row[i_url].strip() or None
        if (
            read_url
            and url is not None
            and "?" in url
            and None in (source, medium, campaign, content, term, click_id)
            and (params := query_params(url, from_url))
        ):
            get = params.get
            source = source or get("utm_source")
            medium = medium or get("utm_medium")
            campaign = campaign or get("utm_campaign")
            content = content or get("utm_content")
            term = term or get("utm_term")
            click_id = click_id or get(click_param)
        return source, medium, campaign, content, term, click_id, url

    return attribution


def _details_reader(plan: ConvertPlan) -> Callable[[list[str]], str | None] | None:
    """Source details (HubSpot drill-downs), joined with " / "; None when none is mapped."""
    i_details = plan.header.indexes("source_detail")

    def details(row: list[str]) -> str | None:
        return " / ".join(filter(None, [row[i].strip() for i in i_details])) or None

    return details if i_details else None


def build_converter(plan: ConvertPlan) -> Converter:
    """Build the function turning one row into a record or an error."""
    cols = _Columns(plan.header)
    check_shape, width = _shape_check(plan), len(cols.names)
    read_kind = _kind_reader(plan, cols) if cols.at("kind") >= 0 else None
    read_money, read_outcome = _money_reader(plan, cols), _outcome_reader(plan, cols)
    read_attribution, read_details = _attribution_reader(plan, cols), _details_reader(plan)
    i_id, i_created = cols.at("external_id"), cols.at("created_at")
    i_owner, i_email, i_source = cols.at("owner"), cols.at("email"), cols.at("source")
    i_amount, i_name, i_company = cols.at("amount"), cols.at("name"), cols.at("company")
    dates, superseded, suspicious = plan.dates, plan.superseded, plan.suspicious
    file_kind = plan.header.kind

    def convert(line: int, row: list[str]) -> ParsedRecord | RowError:
        if (len(row) != width or suspicious) and (error := check_shape(line, row)):
            return error
        raw = tuple(row)
        row.append("")
        external_id = row[i_id].strip()
        if not external_id:
            return RowError(line, cols.names[i_id], "missing id", raw)
        if (later := superseded.get(external_id, line)) != line:
            reason = f"duplicate id {external_id}, superseded by line {later}"
            return RowError(line, cols.names[i_id], reason, raw)
        try:
            created_at = dates(row[i_created])  # the only reader raising ValueProblem
            if created_at is None:
                return RowError(line, cols.names[i_created], "missing creation date", raw)
            kind = read_kind(row) if read_kind else file_kind
            amount, currency = read_money(text, row) if (text := row[i_amount]) else _NO_MONEY
            won, closed_at, stage = read_outcome(row, created_at)
        except ValueProblem as problem:
            return RowError(line, cols.names[i_created], str(problem), raw)
        except _CellError as problem:
            return RowError(line, problem.column, problem.reason, raw)
        # One tuple in field order: ParsedRecord(...) would cost a Python call more per row.
        return _new_record(
            ParsedRecord,
            (
                line,
                external_id,
                kind,
                created_at,
                row[i_owner].strip() or None,
                stage,
                won,
                closed_at,
                amount,
                currency,
                normalise_email(text) if (text := row[i_email]) else None,
                *read_attribution(row),
                row[i_source].strip() or None,
                read_details(row) if read_details else None,
                row[i_name].strip() or None,
                row[i_company].strip() or None,
                raw,
            ),
        )

    return convert


def won_rule(header: HeaderMapping) -> str:
    """How won and closed_at are derived from this header's columns, for people."""

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
