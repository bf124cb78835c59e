"""The attributed records of a rep or a campaign, a page at a time (keyset paging).

A page starts right after (or right before) the last (first) row of the page it was reached
from: the cursor is that row's sort value and id, so a page costs the same at the millionth
record as at the first, read in order from an index on (employee_id or campaign_id, sort
column, id). Sorts: creation time and amount, either direction. Amounts may be missing:
descending, records without one come after the others (by id), ascending before them, so the
walk runs in two phases, each an index range.

Search narrows to records whose name, company, owner, stage or id contains the text; a page
then reads index entries until it has found a page of matches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from linktracker.campaigns.models import Campaign
from linktracker.crm.models import CrmRecord
from linktracker.employees.models import Employee
from linktracker.errors import InvalidInput
from linktracker.reports.filters import ReportFilters
from linktracker.reports.queries import AttributedClick, Scope, record_channel, record_conditions
from linktracker.reports.scope import resolve_scope

__all__ = [
    "PAGE_SIZE",
    "RECORD_SORTS",
    "PagedRecord",
    "RecordPage",
    "RecordsQuery",
    "list_records",
    "records_page",
]

PAGE_SIZE: Final = 25
MAX_PAGE_SIZE: Final = 500
MAX_SEARCH: Final = 100
RECORD_SORTS: Final = ("created", "amount")
_ALL_TIME: Final = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))
Sort = Literal["created", "amount"]


@dataclass(frozen=True)
class PagedRecord:
    """An attributed record as the records tables and CSV show it."""

    id: int
    source: str
    external_id: str
    name: str | None
    company: str | None
    owner: str | None
    stage: str | None
    kind: str
    created_at: datetime
    method: str
    won: bool
    closed_at: datetime | None
    amount: Decimal | None
    currency: str | None
    campaign: str | None
    employee: str | None  # handle
    employee_name: str | None
    channel: str | None
    click_at: datetime | None
    seconds_from_click: int | None = None


@dataclass(frozen=True)
class RecordPage:
    """One page of records and the cursors of the pages beside it (None: there is none)."""

    records: tuple[PagedRecord, ...]
    sort: Sort
    descending: bool
    search: str
    next_cursor: str | None
    previous_cursor: str | None


def _cursor(record: PagedRecord, sort: Sort) -> str:
    if sort == "created":
        value = record.created_at.astimezone(UTC).isoformat()
    else:
        value = "" if record.amount is None else str(record.amount)
    return f"{value}~{record.id}"


def _parse_cursor(text: str, sort: Sort) -> tuple[Any, int]:
    value, _, number = text.rpartition("~")
    try:
        row_id = int(number)
        if sort == "created":
            parsed: Any = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise ValueError("naive")
        else:
            parsed = Decimal(value) if value else None
    except (ValueError, InvalidOperation):
        raise InvalidInput(
            "That page link is out of date: start again from the first page.",
            {"after": "Invalid cursor."},
        ) from None
    return parsed, row_id


def records_page(
    session: Session,
    scope: Scope,
    *,
    sort: str = "created",
    descending: bool = True,
    search: str = "",
    after: str | None = None,
    before: str | None = None,
    limit: int = PAGE_SIZE,
    import_id: int | None = None,
    currency: str | None = None,
    customer_search: bool = True,
) -> RecordPage:
    """A page of the attributed records in ``scope`` (a rep's or a campaign's), sorted.

    ``after``/``before`` are cursors from an earlier page; ``import_id`` keeps the records an
    import wrote (whatever their creation date); ``currency`` is the default currency. Without
    ``customer_search`` the search looks only at the stage and the record id: an employee, who
    is not shown customers' names, companies or owners, cannot probe for them either.
    """
    if sort not in RECORD_SORTS:
        raise InvalidInput(
            f"Unknown sort {sort!r}.", {"sort": f"Use one of: {', '.join(RECORD_SORTS)}."}
        )
    chosen: Sort = "created" if sort == "created" else "amount"
    search = search.strip()[:MAX_SEARCH]
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    if import_id is not None:
        scope = replace(scope, start=_ALL_TIME[0], end=_ALL_TIME[1])
    searched = _SEARCHED if customer_search else _SEARCHED_WITHOUT_CUSTOMERS
    base = _base_query(scope, search, searched, import_id, chosen)
    backwards = before is not None and after is None
    cursor_text = before if backwards else after
    cursor = _parse_cursor(cursor_text, chosen) if cursor_text else None
    # Walking backwards is walking the other order, then showing the rows reversed.
    walk_descending = descending != backwards
    rows = _walk(session, base, chosen, walk_descending, cursor, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    records = tuple(_record(row, currency) for row in rows)
    first, last = (records[0], records[-1]) if records else (None, None)
    if backwards:
        next_cursor = _cursor(last, chosen) if last else None
        previous_cursor = _cursor(first, chosen) if first and more else None
    else:
        next_cursor = _cursor(last, chosen) if last and more else None
        previous_cursor = _cursor(first, chosen) if first and cursor is not None else None
    return RecordPage(records, chosen, descending, search, next_cursor, previous_cursor)


def _conditions(scope: Scope, sort: Sort) -> list[ColumnElement[bool]]:
    """The report's record conditions; by amount, the date range kept out of index choice.

    Sorted by amount, a page must be read from the (rep or campaign, amount, id) index; left
    as it is, the range on the creation time lets SQLite choose the (…, created_at, id) index
    and sort every record of the range for each page. The range is then tested on each row
    read instead (coalesce(x, x) is x, and no index is chosen for an expression).
    """
    terms = record_conditions(scope, advocacy=True)
    if sort == "amount":
        created = func.coalesce(CrmRecord.created_at, CrmRecord.created_at)
        range_terms = [CrmRecord.created_at >= scope.start, CrmRecord.created_at < scope.end]
        kept = [t for t in terms if not any(t.compare(r) for r in range_terms)]
        assert len(kept) == len(terms) - 2, "record_conditions no longer starts with the range"
        terms = [created >= scope.start, created < scope.end, *kept]
    return terms


_SEARCHED_WITHOUT_CUSTOMERS = (CrmRecord.stage, CrmRecord.external_id)
_SEARCHED = (CrmRecord.name, CrmRecord.company, CrmRecord.owner, *_SEARCHED_WITHOUT_CUSTOMERS)


def _base_query(
    scope: Scope,
    search: str,
    searched: tuple[Any, ...],
    import_id: int | None,
    sort: Sort,
) -> Select[Any]:
    statement: Any = (
        select(
            CrmRecord.id,
            CrmRecord.source,
            CrmRecord.external_id,
            CrmRecord.name,
            CrmRecord.company,
            CrmRecord.owner,
            CrmRecord.stage,
            CrmRecord.kind,
            CrmRecord.created_at,
            CrmRecord.attribution_method,
            CrmRecord.won,
            CrmRecord.closed_at,
            CrmRecord.amount,
            CrmRecord.currency,
            Employee.handle,
            Employee.name.label("employee_name"),
            Campaign.slug,
            record_channel().label("channel"),
            AttributedClick.created_at.label("click_at"),
            CrmRecord.seconds_from_click,
        )
        .select_from(CrmRecord)
        .outerjoin(AttributedClick, AttributedClick.id == CrmRecord.attributed_click_id)
        .outerjoin(Campaign, Campaign.id == CrmRecord.campaign_id)
        .outerjoin(Employee, Employee.id == CrmRecord.employee_id)
        .where(*_conditions(scope, sort))
    )
    if import_id is not None:
        statement = statement.where(CrmRecord.last_import_id == import_id)
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        statement = statement.where(
            or_(*(column.ilike(pattern, escape="\\") for column in searched))
        )
    query: Select[Any] = statement
    return query


def _walk(
    session: Session,
    base: Select[Any],
    sort: Sort,
    descending: bool,
    cursor: tuple[Any, int] | None,
    limit: int,
) -> list[Any]:
    """Up to ``limit`` rows from ``cursor`` on, in the walk's order (both amount phases)."""
    column = CrmRecord.created_at if sort == "created" else CrmRecord.amount
    key = tuple_(column, CrmRecord.id)
    valued = column.is_not(None)
    missing = column.is_(None)
    # Phases in walk order: rows with a value, and (amounts) those without one after them
    # when descending, before them when ascending.
    phases: list[tuple[ColumnElement[bool], bool]] = [(valued, True)]
    if sort == "amount":
        phases = phases + [(missing, False)] if descending else [(missing, False), *phases]
    start = 0
    if cursor is not None:  # the walk goes on in the cursor's phase
        in_valued = cursor[0] is not None
        start = next(i for i, (_, has_value) in enumerate(phases) if has_value == in_valued)
    rows: list[Any] = []
    for index, (where, has_value) in enumerate(phases[start:], start):
        terms: list[ColumnElement[bool]] = [where]
        if cursor is not None and index == start:
            value, row_id = cursor
            if has_value:
                # Bound with the columns' own types: SQLite stores amounts as REAL and times
                # as text, which a bare Decimal or datetime would not compare with.
                bound = tuple_(literal(value, column.type), literal(row_id, CrmRecord.id.type))
                terms.append(key < bound if descending else key > bound)
            else:
                terms.append(CrmRecord.id < row_id if descending else CrmRecord.id > row_id)
        order: list[Any] = [column, CrmRecord.id] if has_value else [CrmRecord.id]
        if descending:
            order = [term.desc() for term in order]
        query = base.where(and_(*terms)).order_by(*order).limit(limit - len(rows))
        rows += session.execute(query).all()
        if len(rows) >= limit:
            break
    return rows


def _record(row: Any, currency: str | None) -> PagedRecord:
    return PagedRecord(
        id=row.id,
        source=row.source,
        external_id=row.external_id,
        name=row.name,
        company=row.company,
        owner=row.owner,
        stage=row.stage,
        kind=row.kind,
        created_at=row.created_at,
        method=row.attribution_method,
        won=bool(row.won),
        closed_at=row.closed_at,
        amount=row.amount,
        currency=row.currency or (currency if row.amount is not None else None),
        campaign=row.slug,
        employee=row.handle,
        employee_name=row.employee_name,
        channel=row.channel,
        click_at=row.click_at,
        seconds_from_click=row.seconds_from_click,
    )


@dataclass(frozen=True)
class RecordsQuery:
    """What a records table was asked for: sort, direction, search, position, import."""

    sort: str = "created"
    descending: bool = True
    search: str = ""
    after: str | None = None
    before: str | None = None
    import_id: int | None = None
    limit: int = PAGE_SIZE
    customer_search: bool = True


def list_records(
    session: Session,
    filters: ReportFilters,
    asked: RecordsQuery,
    *,
    timezone: str,
    currency: str | None = None,
) -> RecordPage:
    """A page of the attributed records the filters select (a rep's: ``filters.employee``)."""
    scope = resolve_scope(session, filters, timezone, currency)
    return records_page(
        session,
        scope,
        sort=asked.sort,
        descending=asked.descending,
        search=asked.search,
        after=asked.after,
        before=asked.before,
        limit=asked.limit,
        import_id=asked.import_id,
        currency=currency,
        customer_search=asked.customer_search,
    )


def all_records(
    session: Session,
    filters: ReportFilters,
    *,
    timezone: str,
    currency: str | None = None,
) -> Iterator[PagedRecord]:
    """Every attributed record the filters select, newest first, read a page at a time.

    For the records CSV: memory stays at one page however many records the range holds.
    """
    asked = RecordsQuery(limit=MAX_PAGE_SIZE)
    while True:
        page = list_records(session, filters, asked, timezone=timezone, currency=currency)
        yield from page.records
        if page.next_cursor is None:
            return
        asked = replace(asked, after=page.next_cursor)
