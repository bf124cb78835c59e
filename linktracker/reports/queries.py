"""select() builders for reports: the heavy lifting (counting clicks and records) is SQL.

Definitions (docs/attribution-and-metrics.md): clicks are human, non-preview rows; unique
visitors are distinct (per-day) visitor hashes; leads are attributed CRM records of kind
lead/contact/deal created in the range; the baseline is the same for records attributed to
nobody (method `none`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    String,
    case,
    distinct,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.orm import aliased

from linktracker.campaigns.models import Campaign
from linktracker.clicks.models import BOT_CLICK, HUMAN_CLICK, PREVIEW_CLICK, Click
from linktracker.crm.models import CrmRecord
from linktracker.employees.models import Employee
from linktracker.links.models import Link

LEAD_KINDS = ("lead", "contact", "deal")
NO_CURRENCY = "XXX"  # ISO 4217 code for "no currency": amounts imported without one

# Any statement, whatever its columns.
Query = Select[*tuple[Any, ...]]
Dimension = Literal["employee", "campaign", "channel", "link", "all"]

HUMAN, BOT, PREVIEW = HUMAN_CLICK, BOT_CLICK, PREVIEW_CLICK

# The click a record is attributed to: its channel and link give records those dimensions.
AttributedClick = aliased(Click, name="attributed_click")


@dataclass(frozen=True)
class Scope:
    """Resolved filters: a half-open UTC interval plus optional ids and values."""

    start: datetime
    end: datetime
    campaign_id: int | None = None
    channel: str | None = None
    team: str | None = None
    employee_id: int | None = None
    currency: str = NO_CURRENCY  # of amounts recorded without one (the default currency)


def _team_members(team: str) -> Query:
    return select(Employee.id).where(Employee.team == team)


def click_conditions(scope: Scope) -> list[ColumnElement[bool]]:
    """WHERE terms for clicks in the scope (traffic is dated by click time)."""
    terms: list[ColumnElement[bool]] = [
        Click.created_at >= scope.start,
        Click.created_at < scope.end,
    ]
    if scope.campaign_id is not None:
        terms.append(Click.campaign_id == scope.campaign_id)
    if scope.channel is not None:
        terms.append(Click.channel == scope.channel)
    if scope.employee_id is not None:
        terms.append(Click.employee_id == scope.employee_id)
    if scope.team is not None:
        terms.append(Click.employee_id.in_(_team_members(scope.team)))
    return terms


def record_channel() -> ColumnElement[str]:
    """A record's channel: its attributed click's, else its utm_source (lowercased)."""
    return func.coalesce(AttributedClick.channel, func.lower(CrmRecord.utm_source), type_=String)


def record_conditions(scope: Scope, *, advocacy: bool) -> list[ColumnElement[bool]]:
    """WHERE terms for leads (dated by record creation); the baseline ignores advocacy filters."""
    terms: list[ColumnElement[bool]] = [
        CrmRecord.created_at >= scope.start,
        CrmRecord.created_at < scope.end,
        CrmRecord.kind.in_(LEAD_KINDS),
    ]
    if not advocacy:
        # employee_id is NULL exactly for method `none`; saying so lets the index serve it.
        terms += [CrmRecord.attribution_method == "none", CrmRecord.employee_id.is_(None)]
        return terms
    terms.append(CrmRecord.attribution_method != "none")
    if scope.campaign_id is not None:
        terms.append(CrmRecord.campaign_id == scope.campaign_id)
    if scope.channel is not None:
        terms.append(record_channel() == scope.channel)
    if scope.employee_id is not None:
        terms.append(CrmRecord.employee_id == scope.employee_id)
    if scope.team is not None:
        terms.append(CrmRecord.employee_id.in_(_team_members(scope.team)))
    return terms


def _click_key(dimension: Dimension) -> Any:
    keys: dict[str, Any] = {
        "employee": Click.employee_id,
        "campaign": Click.campaign_id,
        "channel": Click.channel,
        "link": Click.link_id,
        "all": literal(0),
    }
    return keys[dimension]


def _record_key(dimension: Dimension) -> Any:
    keys: dict[str, Any] = {
        "employee": CrmRecord.employee_id,
        "campaign": CrmRecord.campaign_id,
        "channel": record_channel(),
        "link": AttributedClick.link_id,
        "all": literal(0),
    }
    return keys[dimension]


def _needs_attributed_click(scope: Scope, dimension: Dimension, advocacy: bool) -> bool:
    return advocacy and (scope.channel is not None or dimension in ("channel", "link"))


def _records_from(statement: Query, scope: Scope, dimension: Dimension, advocacy: bool) -> Query:
    statement = statement.select_from(CrmRecord)
    if _needs_attributed_click(scope, dimension, advocacy):
        statement = statement.outerjoin(
            AttributedClick, AttributedClick.id == CrmRecord.attributed_click_id
        )
    return statement.where(*record_conditions(scope, advocacy=advocacy))


def _grouped(statement: Query, key: ColumnElement[Any], dimension: Dimension) -> Query:
    return statement if dimension == "all" else statement.group_by(key)


def traffic_query(scope: Scope, dimension: Dimension, *, shares: bool = False) -> Query:
    """key, clicks, unique_visitors, bot_clicks, preview_clicks, links_shared per group.

    shares: also campaigns_shared (distinct campaigns with a human click), for the program
    report's impressions; each count(DISTINCT) costs a de-duplication per group."""
    key = _click_key(dimension).label("key")
    statement = select(
        key,
        func.count(case((HUMAN, 1))).label("clicks"),
        func.count(distinct(case((HUMAN, Click.visitor_hash)))).label("unique_visitors"),
        func.count(case((BOT, 1))).label("bot_clicks"),
        func.count(case((PREVIEW, 1))).label("preview_clicks"),
        func.count(distinct(case((HUMAN, Click.link_id)))).label("links_shared"),
    ).where(*click_conditions(scope))
    if shares:
        statement = statement.add_columns(
            func.count(distinct(case((HUMAN, Click.campaign_id)))).label("campaigns_shared")
        )
    return _grouped(statement, key, dimension)


def unique_visitors_query(scope: Scope) -> Query:
    """Distinct visitor hashes of the human clicks in scope (across reps).

    Counted as the rows of a GROUP BY: PostgreSQL de-duplicates with a hash table and SQLite
    with its sorter, both faster than count(DISTINCT), which inserts every hash into a
    B-tree."""
    visitors = select(Click.visitor_hash).where(HUMAN, *click_conditions(scope))
    visitors = visitors.group_by(Click.visitor_hash)
    return select(func.count()).select_from(visitors.subquery())


def leads_query(scope: Scope, dimension: Dimension, *, advocacy: bool = True) -> Query:
    """key, leads, won per group."""
    key = _record_key(dimension if advocacy else "all").label("key")
    statement = select(
        key,
        func.count().label("leads"),
        func.count(case((CrmRecord.won.is_(True), 1))).label("won"),
    )
    statement = _records_from(statement, scope, dimension, advocacy)
    return _grouped(statement, key, dimension if advocacy else "all")


def won_records_query(scope: Scope, dimension: Dimension, *, advocacy: bool = True) -> Query:
    """Every won record (few): key, dates and seconds from click for time to close, amount and
    currency for revenue.

    The dates are only subtracted from each other, so they are read as the stored UTC values
    without the UTCDateTime conversion to aware datetimes, which would copy each one."""
    key = _record_key(dimension if advocacy else "all").label("key")
    statement = select(
        key,
        type_coerce(CrmRecord.created_at, DateTime()).label("created_at"),
        type_coerce(CrmRecord.closed_at, DateTime()).label("closed_at"),
        CrmRecord.seconds_from_click,
        func.coalesce(CrmRecord.currency, scope.currency).label("currency"),
        CrmRecord.amount,
    )
    return _records_from(statement, scope, dimension, advocacy).where(CrmRecord.won.is_(True))


def series_query(scope: Scope, bounds: list[datetime], *, records: bool = False) -> Query:
    """Counts per time bucket; bucket i covers [bounds[i], bounds[i+1]) (UTC instants)."""
    column = CrmRecord.created_at if records else Click.created_at
    # Bucket edges come from local midnights, so any time zone and DST change is exact.
    bucket = _bucket_of(column, bounds, 0, len(bounds)).label("bucket")
    if records:
        statement = select(
            bucket,
            func.count().label("leads"),
            func.count(case((CrmRecord.won.is_(True), 1))).label("won"),
        )
        statement = _records_from(statement, scope, "employee", True)
    else:
        statement = select(
            bucket,
            func.count(case((HUMAN, 1))).label("clicks"),
            func.count(distinct(case((HUMAN, Click.visitor_hash)))).label("unique_visitors"),
        ).where(*click_conditions(scope))
    return statement.group_by(bucket)


def _bucket_of(column: Any, bounds: list[datetime], low: int, high: int) -> Any:
    """Bucket index in [low, high) by binary search: log2(n) comparisons per row, not n."""
    if high - low == 1:
        return literal(low)
    middle = (low + high) // 2
    return case(
        (column < bounds[middle], _bucket_of(column, bounds, low, middle)),
        else_=_bucket_of(column, bounds, middle, high),
    )


def link_list_query(employee_id: int) -> Query:
    """Every link of one employee with its campaign slug."""
    statement: Query = (
        select(Link.id, Link.code, Campaign.slug, Link.channel, Link.created_at, Link.disabled)
        .join(Campaign, Campaign.id == Link.campaign_id)
        .where(Link.employee_id == employee_id)
        .order_by(Campaign.slug, Link.channel)
    )
    return statement


def attributed_records_query(scope: Scope, limit: int) -> Query:
    """The attributed records in scope, newest first, with campaign slug and click time."""
    statement: Query = (
        select(
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
            Campaign.slug,
            record_channel().label("channel"),
            AttributedClick.created_at.label("click_at"),
            CrmRecord.seconds_from_click,
        )
        .select_from(CrmRecord)
        .outerjoin(AttributedClick, AttributedClick.id == CrmRecord.attributed_click_id)
        .outerjoin(Campaign, Campaign.id == CrmRecord.campaign_id)
        .where(*record_conditions(scope, advocacy=True))
        .order_by(CrmRecord.created_at.desc(), CrmRecord.id.desc())
        .limit(limit)
    )
    return statement


def membership_query(team: str | None) -> Query:
    """invited employees (every employee on file) and joined ones (first login or link)."""
    statement: Query = select(func.count(), func.count(Employee.joined_at))
    if team is not None:
        statement = statement.where(Employee.team == team)
    return statement
