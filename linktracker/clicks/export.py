"""The raw click export: every stored click, page by page, none skipped and none twice.

A reader pages with `after` = the last click id it received; an empty page ends the export.
Pages follow the order clicks were *stored* in, not the order their ids were made: a click
spooled during a database outage, or held a moment in a worker's journal, is stored after
clicks made later, and a reader that had already paged past its id would never see it.

Why a page never skips a row that commits later:

* SQLite has one writer at a time. A writer takes the database's write lock before its first
  insert and holds it to its commit, and every row id it takes is larger than every committed
  one, so rows become visible in id order: any snapshot sees every row below its largest id.
  Pages follow `id`.
* PostgreSQL runs writers side by side (one click writer per server process, spool replays,
  imports), each taking ids from a shared sequence and committing whenever it finishes: a
  transaction holding id 100 may commit after one holding id 101 did. So each row also keeps
  the id of the transaction that stored it (clicks.xact_id, defaulting to
  pg_current_xact_id()), pages follow (xact_id, id), and a page only holds rows whose
  xact_id is below the xmin of the statement's snapshot (pg_snapshot_xmin()): every
  transaction with an id below xmin had ended when the snapshot was taken (committed, so
  its rows are all visible, or rolled back), and every transaction still running or yet to
  start has an id of at least xmin. The rows below that horizon are therefore final, and a
  page ending inside them leaves nothing behind it that could still appear. A transaction
  left open anywhere on the server holds the horizon back: the export then ends early (an
  empty page) and the next run picks up from there; it never skips.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    text,
    tuple_,
    type_coerce,
)
from sqlalchemy.orm import Session

from linktracker.campaigns.models import Campaign
from linktracker.clicks.models import HUMAN_CLICK, Click
from linktracker.csvsafe import FORMULA_STARTERS
from linktracker.employees.models import Employee
from linktracker.errors import InvalidInput
from linktracker.limits import parse_day, parse_whole_number, text_problem
from linktracker.links.models import Link

FIELDS = (
    "click_id",
    "created_at",
    "code",
    "campaign",
    "employee",
    "channel",
    "referrer_host",
    "referrer_channel",
    "country",
    "device",
    "browser",
    "os",
    "is_bot",
    "is_preview",
    "bot_name",
    "visitor_hash",
)
FORMATS = ("ndjson", "csv")
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
# Rows fetched from the database at a time inside a page, and written out at a time.
_FETCH_ROWS = 5000
_CHUNK_ROWS = 1000
_CLICK_ID_MAX = 40
# The lowest transaction id any transaction still running (or yet to start) may have.
HORIZON = text("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")


def read_horizon(session: Session) -> int:
    """PostgreSQL: HORIZON now; every click stored from now on has an xact_id at or above it."""
    return int(session.scalar(select(cast(HORIZON, BigInteger))) or 0)


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page starts: after this stored click (xact_id is PostgreSQL's only)."""

    id: int
    xact_id: int | None = None


@dataclass(frozen=True)
class ClickExport:
    """One page's question: from where, how many, which clicks."""

    after: Position | None = None
    limit: int = DEFAULT_LIMIT
    start: datetime | None = None  # UTC, inclusive
    end: datetime | None = None  # UTC, exclusive
    campaign_id: int | None = None
    employee_id: int | None = None
    include_bots: bool = False
    format: str = "ndjson"

    def following(self, position: Position) -> ClickExport:
        """The same question for the page after `position`."""
        return replace(self, after=position)


def prepare_click_export(
    session: Session, values: Mapping[str, str | None], *, timezone: str
) -> ClickExport:
    """Read `after`, `limit`, `from`, `to` (inclusive days in `timezone`), `campaign` (slug),
    `employee` (handle), `include_bots` (0 or 1) and `format` (ndjson or csv); InvalidInput
    naming every bad one."""
    errors: dict[str, str] = {}
    limit = DEFAULT_LIMIT
    try:
        limit = parse_whole_number(
            "limit", values.get("limit"), default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT
        )
    except InvalidInput as exc:
        errors.update(exc.fields)
    days: dict[str, date | None] = {}
    for name in ("from", "to"):
        try:
            days[name] = parse_day(name, values.get(name))
        except InvalidInput as exc:
            days[name] = None
            errors.update(exc.fields)
    if days["from"] and days["to"] and days["from"] > days["to"]:
        errors["from"] = "Must not be after 'to'."
    include_bots = (values.get("include_bots") or "0").strip()
    if include_bots not in ("0", "1"):
        errors["include_bots"] = "Use 0 (people's clicks only) or 1 (bots and previews too)."
    wanted = (values.get("format") or "ndjson").strip()
    if wanted not in FORMATS:
        errors["format"] = "Use ndjson or csv."
    after = _after(session, values.get("after"), errors)
    campaign_id = _lookup(session, Campaign.id, Campaign.slug, "campaign", values, errors)
    employee_id = _lookup(session, Employee.id, Employee.handle, "employee", values, errors)
    if errors:
        raise InvalidInput("The click export's parameters are invalid.", errors)
    zone = zoneinfo.ZoneInfo(timezone)
    return ClickExport(
        after=after,
        limit=limit,
        start=_midnight(days["from"], zone),
        end=_midnight(days["to"] + timedelta(days=1), zone) if days["to"] else None,
        campaign_id=campaign_id,
        employee_id=employee_id,
        include_bots=include_bots == "1",
        format=wanted,
    )


def _midnight(day: date | None, zone: zoneinfo.ZoneInfo) -> datetime | None:
    return datetime.combine(day, time(), zone).astimezone(UTC) if day else None


def _after(session: Session, raw: str | None, errors: dict[str, str]) -> Position | None:
    click_id = (raw or "").strip()
    if not click_id:
        return None
    problem = text_problem(click_id, _CLICK_ID_MAX)
    if problem:
        errors["after"] = problem
        return None
    found = session.execute(
        select(Click.id, Click.xact_id).where(Click.click_id == click_id)
    ).one_or_none()
    if found is None:
        errors["after"] = (
            f"No click has the id '{click_id}'. Give the last click_id of the page before."
        )
        return None
    return _position(session, found.id, found.xact_id)


def _position(session: Session, row_id: int, xact_id: int | None) -> Position:
    if session.get_bind().dialect.name == "postgresql":
        return Position(row_id, xact_id if xact_id is not None else 0)
    return Position(row_id)


def _lookup(
    session: Session,
    id_column: Any,
    key_column: Any,
    name: str,
    values: Mapping[str, str | None],
    errors: dict[str, str],
) -> int | None:
    value = (values.get(name) or "").strip()
    if not value:
        return None
    found: int | None = session.scalar(select(id_column).where(key_column == value))
    if found is None:
        kind = "slug" if name == "campaign" else "handle"
        errors[name] = f"No {name} with {kind} '{value}'."
    return found


def export_statement(export: ClickExport, dialect_name: str) -> Select[*tuple[Any, ...]]:
    """The SELECT of one page: FIELDS, then the row's Position (id, xact_id).

    The database hands `created_at` over already written as the export writes it (ISO 8601
    in UTC, see _created_at) and the flags as 'true'/'false', so no row needs a datetime or
    a bool built and formatted in Python."""
    postgresql = dialect_name == "postgresql"
    statement = (
        select(
            Click.click_id,
            _created_at(postgresql),
            Link.code,
            Campaign.slug,
            Employee.handle,
            Click.channel,
            Click.referrer_host,
            Click.referrer_channel,
            Click.country,
            Click.device_type,
            Click.browser,
            Click.os,
            _flag(Click.is_bot),
            _flag(Click.is_preview),
            Click.bot_name,
            Click.visitor_hash,
            Click.id,
            Click.xact_id,
        )
        .join(Link, Link.id == Click.link_id)
        .join(Campaign, Campaign.id == Click.campaign_id)
        .join(Employee, Employee.id == Click.employee_id)
        .limit(export.limit)
    )
    conditions: list[ColumnElement[bool]] = []
    if postgresql:
        # Rows stored before xact_id existed read 0 (the migration); no row is stored without.
        conditions.append(Click.xact_id < cast(HORIZON, BigInteger))
        if export.after is not None:
            conditions.append(
                tuple_(Click.xact_id, Click.id)
                > tuple_(
                    literal(export.after.xact_id or 0, BigInteger),
                    literal(export.after.id, BigInteger),
                )
            )
        statement = statement.order_by(Click.xact_id, Click.id)
    else:
        if export.after is not None:
            conditions.append(Click.id > export.after.id)
        statement = statement.order_by(Click.id)
    if export.start is not None:
        conditions.append(Click.created_at >= export.start)
    if export.end is not None:
        conditions.append(Click.created_at < export.end)
    if export.campaign_id is not None:
        conditions.append(Click.campaign_id == export.campaign_id)
    if export.employee_id is not None:
        conditions.append(Click.employee_id == export.employee_id)
    if not export.include_bots:
        conditions.append(HUMAN_CLICK)
    return statement.where(*conditions)


_TRUE = literal_column("'true'", String)
_FALSE = literal_column("'false'", String)


def _flag(column: Any) -> ColumnElement[str]:
    return case((column.is_(True), _TRUE), else_=_FALSE)


def _created_at(postgresql: bool) -> ColumnElement[str]:
    """created_at as datetime.isoformat() writes an aware UTC time:
    2026-03-10T12:00:00.123456+00:00, and without the fraction when it is zero."""
    if postgresql:
        utc = func.timezone("UTC", Click.created_at)
        whole = func.date_trunc("second", Click.created_at) == Click.created_at
        pattern = case(
            (whole, literal_column("""'YYYY-MM-DD"T"HH24:MI:SS"+00:00"' """.strip(), String)),
            else_=literal_column("""'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"' """.strip(), String),
        )
        return func.to_char(utc, pattern, type_=String)
    # SQLite holds the naive UTC text SQLAlchemy writes, 2026-03-10 12:00:00.123456 (always
    # six fraction digits). Any other shape comes through as stored, for _iso() to read.
    raw = type_coerce(Click.created_at, String)

    def part(start: int, length: int | None = None) -> ColumnElement[str]:
        if length is None:
            return func.substr(raw, start, type_=String)
        return func.substr(raw, start, length, type_=String)

    standard = and_(
        func.length(raw) == 26, part(11, 1) == literal_column("' '"), part(20, 1) == "."
    )
    clock = case((part(21) == "000000", part(12, 8)), else_=part(12))
    formatted = part(1, 10).concat("T").concat(clock).concat("+00:00")
    return case((standard, formatted), else_=raw)


def created_at_text(cell: str) -> str:
    """An exported row's created_at cell as datetime.isoformat() writes the aware UTC time."""
    return cell if cell.endswith("+00:00") else _iso(cell)


def _iso(stored: str) -> str:
    """The slow way for a created_at stored in another shape (naive means UTC)."""
    moment = datetime.fromisoformat(stored)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def export_rows(session: Session, export: ClickExport) -> Iterator[Sequence[Any]]:
    """One page's rows (FIELDS as text or None, then id and xact_id), fetched in batches."""
    statement = export_statement(export, session.get_bind().dialect.name)
    # Core, not the ORM: plain rows, no per-row ORM bookkeeping.
    result = session.connection().execute(statement.execution_options(yield_per=_FETCH_ROWS))
    for partition in result.partitions():
        yield from partition


def row_position(row: Sequence[Any], *, postgresql: bool) -> Position:
    """Where the page after this row starts."""
    xact_id = row[-1]
    return Position(row[-2], (xact_id or 0) if postgresql else None)


_CACHE_MAX = 4096


class _Encoded(dict[str | None, str]):
    """Text cells as written, remembered: most columns repeat a few values (codes, slugs,
    handles, channels, hosts, browsers) and a lookup is cheaper than encoding again. Bounded:
    it starts afresh once it holds _CACHE_MAX values, so memory stays the same."""

    def __init__(self, encode: Callable[[str], str], none: str) -> None:
        super().__init__()
        self._encode = encode
        self._none = none

    def __missing__(self, key: str | None) -> str:
        if len(self) >= _CACHE_MAX:
            self.clear()
        value = self[key] = self._none if key is None else self._encode(key)
        return value


# A JSON string as json.dumps(ensure_ascii=False) writes it (the same C function).
_json_string: Callable[[str], str] = encode_basestring


def ndjson_chunks(rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """One JSON object per line (keys in FIELDS order, no spaces, UTF-8 as is), a few hundred
    lines per chunk; the same bytes json.dumps(ensure_ascii=False, separators=(",", ":"))
    gives for the click's dict."""
    text = _json_string
    cell = _Encoded(text, "null")
    lines: list[str] = []
    append = lines.append
    for (
        click_id, created_at, code, campaign, employee, channel, referrer_host,
        referrer_channel, country, device, browser, os, is_bot, is_preview, bot_name,
        visitor_hash, _id, _xact_id,
    ) in rows:  # fmt: skip
        if not created_at.endswith("+00:00"):
            created_at = _iso(created_at)
        append(
            f'{{"click_id":{text(click_id)},"created_at":"{created_at}",'
            f'"code":{cell[code]},"campaign":{cell[campaign]},"employee":{cell[employee]},'
            f'"channel":{cell[channel]},"referrer_host":{cell[referrer_host]},'
            f'"referrer_channel":{cell[referrer_channel]},"country":{cell[country]},'
            f'"device":{cell[device]},"browser":{cell[browser]},"os":{cell[os]},'
            f'"is_bot":{is_bot},"is_preview":{is_preview},"bot_name":{cell[bot_name]},'
            f'"visitor_hash":{text(visitor_hash)}}}'
        )
        if len(lines) >= _CHUNK_ROWS:
            yield "\n".join(lines) + "\n"
            lines.clear()
    if lines:
        yield "\n".join(lines) + "\n"


def _csv_text(value: str) -> str:
    """A text cell as csv.writer writes it (minimal quoting, quotes doubled) after safe_cell's
    rule: a leading quote when a spreadsheet would run it as a formula."""
    if value.startswith(FORMULA_STARTERS):
        value = "'" + value
    if _csv_needs_quotes(value):
        return '"' + value.replace('"', '""') + '"'
    return value


_csv_needs_quotes = re.compile('[,"\r\n]').search
_CSV_HEADER = ",".join(FIELDS) + "\r\n"


def csv_chunks(rows: Iterable[Sequence[Any]], *, header: bool = True) -> Iterator[str]:
    """CSV lines (CRLF, every text cell spreadsheet-safe, None as an empty cell), a few
    hundred per chunk; the same bytes csv.writer gives for safe_cell's cells."""
    if header:
        yield _CSV_HEADER
    text = _csv_text
    cell = _Encoded(text, "")
    lines: list[str] = []
    append = lines.append
    for (
        click_id, created_at, code, campaign, employee, channel, referrer_host,
        referrer_channel, country, device, browser, os, is_bot, is_preview, bot_name,
        visitor_hash, _id, _xact_id,
    ) in rows:  # fmt: skip
        if not created_at.endswith("+00:00"):
            created_at = _iso(created_at)
        append(
            f"{text(click_id)},{created_at},{cell[code]},{cell[campaign]},{cell[employee]},"
            f"{cell[channel]},{cell[referrer_host]},{cell[referrer_channel]},{cell[country]},"
            f"{cell[device]},{cell[browser]},{cell[os]},{is_bot},{is_preview},{cell[bot_name]},"
            f"{text(visitor_hash)}\r\n"
        )
        if len(lines) >= _CHUNK_ROWS:
            yield "".join(lines)
            lines.clear()
    if lines:
        yield "".join(lines)


def export_chunks(
    rows: Iterable[Sequence[Any]], export_format: str, *, header: bool = True
) -> Iterator[str]:
    """Rows as text in the asked format."""
    if export_format == "csv":
        return csv_chunks(rows, header=header)
    return ndjson_chunks(rows)
