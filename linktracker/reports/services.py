"""Reports as frozen dataclasses: per rep, campaign, channel, program, rep detail.

Counting happens in SQL (reports/queries.py). Python only joins the small per-group results
and computes medians over the won records' durations, which SQLite cannot do in SQL.

Decisions (documented in the README):
- Dates are inclusive calendar dates in the reporting time zone; traffic is dated by click
  time, leads by record creation time.
- A won record without close date counts as won and is left out of time to close; a won
  record closed before it was created is left out of time to close and counted in
  `closed_before_created` (the import keeps it: the CRM is the source of truth). Pages that
  show days to close say how many records it leaves out. A close date without a time was
  imported as a whole day (closed at the creation's time of day), so same-day wins are 0.
- Rates and days are None when their denominator is empty (never 0, never an error).
- The baseline ("All other sources") is every non-advocacy record (method `none`) created in
  the range; campaign/channel/team/employee filters describe advocacy, so they do not apply.
"""

from __future__ import annotations

import heapq
import statistics
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from linktracker.campaigns.models import Campaign
from linktracker.employees.models import Employee
from linktracker.errors import InvalidInput, NotFound
from linktracker.limits import parse_day
from linktracker.reports import queries, rollup
from linktracker.reports.queries import NO_CURRENCY, Dimension, Scope
from linktracker.reports.rollup import Split

Bucket = Literal["day", "week", "month"]
BUCKETS: tuple[Bucket, ...] = ("day", "week", "month")
MAX_RANGE_DAYS = 3660
MAX_DAY_BUCKETS = 800
TOP_CONTRIBUTORS = 10
RECORDS_LIMIT = 1000
SECONDS_PER_DAY = 86400
CENTS = Decimal("0.01")
REPORT_WORK_MEM = "64MB"
IN_LIST_LIMIT = 200

FORMULAS: dict[str, str] = {
    "clicks": "count of human, non-preview click rows in range",
    "unique_visitors": "count of distinct per-day visitor hashes of those clicks "
    "(= daily unique visitors summed over the range)",
    "bot_clicks": "count of bot requests (not previews) in range, excluded from clicks",
    "preview_clicks": "count of link-preview requests (incl. HEAD) in range, excluded from clicks",
    "links_shared": "count of links with >= 1 human click in range",
    "leads": "count of attributed CRM records (kind lead/contact/deal) created in range",
    "won": "leads with the won flag",
    "click_to_lead_rate": "leads / unique_visitors (null when unique_visitors = 0)",
    "lead_to_won_rate": "won / leads (null when leads = 0)",
    "median_days_to_close": "median over won leads with closed_at >= created_at of "
    "(closed_at - created_at) in days (a close date without a time counts whole days)",
    "mean_days_to_close": "mean over the same records of (closed_at - created_at) in days",
    "median_days_click_to_close": "median over those with an attributed click of "
    "(closed_at - attributed click time) in days",
    "mean_days_click_to_close": "mean of (closed_at - attributed click time) in days",
    "revenue": "sum of amount over won leads, per currency (the default currency for "
    "amounts imported without one)",
    "invited": "employees on file",
    "joined": "employees who signed in or got a link (joined_at set)",
    "join_rate": "joined / invited",
    "active": "employees with >= 1 human click in range",
    "participation_rate": "active / joined",
    "estimated_impressions": "sum over shares of the sharer's connections; a share is a "
    "distinct (employee, campaign) pair with >= 1 human click in range",
    "earned_media_value": "estimated_impressions / 1000 * CPM",
    "lead_cost_savings": "leads * cost per lead",
    "top_by_clicks": "clicks",
    "top_by_clicks_per_link": "clicks / links_shared",
    "top_by_leads": "leads",
}


@dataclass(frozen=True)
class ReportFilters:
    """What the reader asked for: inclusive local dates and optional narrowing."""

    date_from: date
    date_to: date
    campaign: str | None = None
    channel: str | None = None
    team: str | None = None
    employee: str | None = None


@dataclass(frozen=True)
class EmployeeRef:
    handle: str
    name: str
    team: str | None


@dataclass(frozen=True)
class CampaignRef:
    slug: str
    name: str


@dataclass(frozen=True)
class Figures:
    """The report figures of one group; traffic fields are None for the baseline."""

    clicks: int | None
    unique_visitors: int | None
    bot_clicks: int | None
    preview_clicks: int | None
    links_shared: int | None
    leads: int
    won: int
    click_to_lead_rate: float | None
    lead_to_won_rate: float | None
    median_days_to_close: float | None
    mean_days_to_close: float | None
    median_days_click_to_close: float | None
    mean_days_click_to_close: float | None
    won_without_close_date: int
    closed_before_created: int
    revenue: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class RepRow:
    employee: EmployeeRef
    figures: Figures


@dataclass(frozen=True)
class CampaignRow:
    campaign: CampaignRef | None  # None: leads credited to a rep without a campaign
    figures: Figures


@dataclass(frozen=True)
class ChannelRow:
    channel: str | None  # None: leads whose channel is unknown
    figures: Figures


@dataclass(frozen=True)
class RepsReport:
    filters: ReportFilters
    timezone: str
    reps: tuple[RepRow, ...]
    totals: Figures
    baseline: Figures


@dataclass(frozen=True)
class CampaignsReport:
    filters: ReportFilters
    timezone: str
    campaigns: tuple[CampaignRow, ...]
    totals: Figures
    baseline: Figures


@dataclass(frozen=True)
class ChannelsReport:
    filters: ReportFilters
    timezone: str
    channels: tuple[ChannelRow, ...]
    totals: Figures
    baseline: Figures


@dataclass(frozen=True)
class SeriesPoint:
    start: date
    clicks: int
    unique_visitors: int
    leads: int
    won: int


@dataclass(frozen=True)
class LinkFigures:
    code: str
    campaign: str
    channel: str
    created_at: datetime
    disabled: bool
    clicks: int
    unique_visitors: int
    bot_clicks: int
    preview_clicks: int
    leads: int
    won: int


@dataclass(frozen=True)
class AttributedRecord:
    source: str
    external_id: str
    kind: str
    created_at: datetime
    method: str
    won: bool
    closed_at: datetime | None
    amount: Decimal | None
    currency: str | None
    campaign: str | None
    channel: str | None
    click_at: datetime | None
    seconds_from_click: int | None


@dataclass(frozen=True)
class Funnel:
    clicks: int
    unique_visitors: int
    leads: int
    won: int


@dataclass(frozen=True)
class RepDetail:
    filters: ReportFilters
    timezone: str
    bucket: Bucket
    employee: EmployeeRef
    figures: Figures
    baseline: Figures
    funnel: Funnel
    series: tuple[SeriesPoint, ...]
    links: tuple[LinkFigures, ...]
    records: tuple[AttributedRecord, ...]
    records_total: int


@dataclass(frozen=True)
class Contributor:
    employee: EmployeeRef
    value: float


@dataclass(frozen=True)
class Ranking:
    metric: str
    formula: str
    contributors: tuple[Contributor, ...]


@dataclass(frozen=True)
class ProgramReport:
    filters: ReportFilters
    timezone: str
    invited: int
    joined: int
    join_rate: float | None
    active: int
    participation_rate: float | None
    clicks: int
    unique_visitors: int
    leads: int
    won: int
    lead_to_won_rate: float | None
    click_to_lead_rate: float | None
    revenue: Mapping[str, Decimal]
    estimated_impressions: int
    earned_media_value: float
    lead_cost_savings: float
    cpm: float
    cost_per_lead: float
    currency: str  # of earned media value, lead-cost savings, CPM and cost per lead
    top_contributors: tuple[Ranking, ...]
    totals: Figures
    baseline: Figures
    formulas: Mapping[str, str]


# ---------------------------------------------------------------- input


def parse_report_dates(
    date_from: str | None, date_to: str | None, *, today: date, default_days: int = 30
) -> tuple[date, date]:
    """Parse inclusive YYYY-MM-DD bounds (default: the last `default_days` days to today)."""
    errors: dict[str, str] = {}
    parsed: dict[str, date | None] = {}
    for name, raw in (("from", date_from), ("to", date_to)):
        try:
            parsed[name] = parse_day(name, raw)
        except InvalidInput as exc:
            parsed[name] = None
            errors.update(exc.fields)
    if errors:
        raise InvalidInput("The date range is invalid.", errors)
    end = parsed["to"] or today
    start = parsed["from"] or end - timedelta(days=default_days - 1)
    if start > end:
        raise InvalidInput("The date range is invalid.", {"from": "Must not be after 'to'."})
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise InvalidInput(
            "The date range is invalid.", {"from": f"Ranges are limited to {MAX_RANGE_DAYS} days."}
        )
    return start, end


def today_in(timezone: str) -> date:
    """Today's date in the reporting time zone."""
    return datetime.now(zoneinfo.ZoneInfo(timezone)).date()


def _utc_midnight(day: date, zone: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(UTC)


def series_points(
    session: Session, scope: Scope, starts: Sequence[date], timezone: str
) -> tuple[SeriesPoint, ...]:
    """Clicks, unique visitors, leads and won per bucket starting on each of `starts`."""
    zone = zoneinfo.ZoneInfo(timezone)
    bounds = [max(_utc_midnight(day, zone), scope.start) for day in starts]
    traffic = {r.bucket: r for r in session.execute(queries.series_query(scope, bounds))}
    leads = {
        r.bucket: r for r in session.execute(queries.series_query(scope, bounds, records=True))
    }
    return tuple(
        SeriesPoint(
            start=day,
            clicks=traffic[i].clicks if i in traffic else 0,
            unique_visitors=traffic[i].unique_visitors if i in traffic else 0,
            leads=leads[i].leads if i in leads else 0,
            won=leads[i].won if i in leads else 0,
        )
        for i, day in enumerate(starts)
    )


def resolve_scope(
    session: Session, filters: ReportFilters, timezone: str, currency: str | None = None
) -> Scope:
    """Turn filters into a UTC interval and ids; unknown campaign or employee -> InvalidInput.

    ``currency`` is the default currency: amounts recorded without one are counted in it."""
    zone = zoneinfo.ZoneInfo(timezone)
    errors: dict[str, str] = {}
    campaign_id = employee_id = None
    if filters.campaign is not None:
        campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == filters.campaign))
        if campaign_id is None:
            errors["campaign"] = f"No campaign with slug '{filters.campaign}'."
    if filters.employee is not None:
        employee_id = session.scalar(select(Employee.id).where(Employee.handle == filters.employee))
        if employee_id is None:
            errors["employee"] = f"No employee with handle '{filters.employee}'."
    if errors:
        raise InvalidInput("Unknown filter value.", errors)
    return Scope(
        start=_utc_midnight(filters.date_from, zone),
        end=_utc_midnight(filters.date_to + timedelta(days=1), zone),
        campaign_id=campaign_id,
        channel=filters.channel,
        team=filters.team,
        employee_id=employee_id,
        currency=currency or NO_CURRENCY,
    )


def _prepare(session: Session, scope: Scope) -> Split | None:
    """Refresh the rollup days the scope can read (None: it cannot, see reports/rollup.py),
    then, PostgreSQL: give this transaction's sorts and hash aggregates room in memory (the 4 MB
    default spills the de-duplication of ~250,000 visitor hashes to disk)."""
    split = rollup.prepare(session, scope, datetime.now(UTC).date())
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))
    return split


# ---------------------------------------------------------------- figures


def _rate(numerator: int, denominator: int | None) -> float | None:
    return numerator / denominator if denominator else None


@dataclass
class _Durations:
    to_close: list[float] = field(default_factory=list)
    click_to_close: list[float] = field(default_factory=list)
    without_close_date: int = 0
    closed_before_created: int = 0

    def add(self, created: datetime, closed: datetime | None, from_click: int | None) -> None:
        if closed is None:
            self.without_close_date += 1
            return
        seconds = (closed - created).total_seconds()
        if seconds < 0:
            self.closed_before_created += 1
            return
        self.to_close.append(seconds / SECONDS_PER_DAY)
        if from_click is not None:
            self.click_to_close.append((seconds + from_click) / SECONDS_PER_DAY)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


@dataclass(frozen=True)
class _Grouped:
    """Per-key raw aggregates of one dimension."""

    traffic: dict[Any, Any]
    leads: dict[Any, tuple[int, int]]
    revenue: dict[Any, dict[str, Decimal]]
    durations: dict[Any, _Durations]

    def groups(self) -> set[Any]:
        return set(self.traffic) | set(self.leads)

    def figures(self, key: Any, *, traffic: bool = True) -> Figures:
        row = self.traffic.get(key)
        leads, won = self.leads.get(key, (0, 0))
        durations = self.durations.get(key, _Durations())
        clicks = unique = bots = previews = shared = None
        if traffic:
            clicks, unique, bots, previews, shared = (
                (row.clicks, row.unique_visitors, row.bot_clicks, row.preview_clicks,
                 row.links_shared) if row is not None else (0, 0, 0, 0, 0)
            )  # fmt: skip
        return Figures(
            clicks=clicks,
            unique_visitors=unique,
            bot_clicks=bots,
            preview_clicks=previews,
            links_shared=shared,
            leads=leads,
            won=won,
            click_to_lead_rate=_rate(leads, unique) if traffic else None,
            lead_to_won_rate=_rate(won, leads),
            median_days_to_close=_median(durations.to_close),
            mean_days_to_close=_mean(durations.to_close),
            median_days_click_to_close=_median(durations.click_to_close),
            mean_days_click_to_close=_mean(durations.click_to_close),
            won_without_close_date=durations.without_close_date,
            closed_before_created=durations.closed_before_created,
            revenue=dict(sorted(self.revenue.get(key, {}).items())),
        )


def _gather(
    session: Session,
    scope: Scope,
    dimension: Dimension,
    *,
    advocacy: bool = True,
    shares: bool = False,
    split: Split | None = None,
) -> _Grouped:
    # Core execution on the session's connection: these are plain column rows, and the ORM's
    # per-row loading costs more than the queries on a 2,000-rep leaderboard.
    connection = session.connection()
    traffic: dict[Any, Any] = {}
    if advocacy and split is not None and dimension == "employee":
        traffic = rollup.rep_traffic(connection, split, shares=shares)
    elif advocacy:
        traffic = {
            row.key: row
            for row in connection.execute(queries.traffic_query(scope, dimension, shares=shares))
        }
    leads = {
        key: (int(n), int(won))
        for key, n, won in connection.execute(
            queries.leads_query(scope, dimension, advocacy=advocacy)
        )
        if n
    }
    # Won records are few: one pass gives time to close (medians need the values) and revenue.
    revenue: dict[Any, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    durations: dict[Any, _Durations] = defaultdict(_Durations)
    won_rows = connection.execute(queries.won_records_query(scope, dimension, advocacy=advocacy))
    for key, created_at, closed_at, seconds_from_click, currency, amount in won_rows:
        durations[key].add(created_at, closed_at, seconds_from_click)
        if amount is not None:
            revenue[key][currency] += Decimal(amount).quantize(CENTS)
    return _Grouped(traffic, leads, {k: dict(v) for k, v in revenue.items()}, dict(durations))


@dataclass(frozen=True)
class _Traffic:
    clicks: int
    unique_visitors: int
    bot_clicks: int
    preview_clicks: int
    links_shared: int


def _combined(
    session: Session, scope: Scope, per_rep: _Grouped, split: Split | None = None
) -> _Grouped:
    """Whole-advocacy aggregates from the per-rep ones: every click, link and attributed
    record belongs to exactly one rep, so sums are exact; only distinct visitors need SQL."""
    rows = per_rep.traffic.values()
    traffic = _Traffic(
        clicks=sum(r.clicks for r in rows),
        unique_visitors=rollup.unique_visitors(session, split)
        if split is not None
        else int(session.scalar(queries.unique_visitors_query(scope)) or 0),
        bot_clicks=sum(r.bot_clicks for r in rows),
        preview_clicks=sum(r.preview_clicks for r in rows),
        links_shared=sum(r.links_shared for r in rows),
    )
    leads = sum(n for n, _ in per_rep.leads.values())
    won = sum(w for _, w in per_rep.leads.values())
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for amounts in per_rep.revenue.values():
        for currency, amount in amounts.items():
            revenue[currency] += amount
    durations = _Durations()
    for part in per_rep.durations.values():
        durations.to_close += part.to_close
        durations.click_to_close += part.click_to_close
        durations.without_close_date += part.without_close_date
        durations.closed_before_created += part.closed_before_created
    return _Grouped(
        {0: traffic}, {0: (leads, won)} if leads else {}, {0: dict(revenue)}, {0: durations}
    )


def _baseline(session: Session, scope: Scope) -> Figures:
    return _gather(session, scope, "all", advocacy=False).figures(0, traffic=False)


def _totals_and_baseline(
    session: Session, scope: Scope, split: Split | None
) -> tuple[Figures, Figures]:
    per_rep = _gather(session, scope, "employee", split=split)
    totals = _combined(session, scope, per_rep, split).figures(0)
    return totals, _baseline(session, scope)


def _employee_rows(session: Session, ids: Iterable[int]) -> dict[int, Any]:
    """id, handle, name, team and connections of these employees. Beyond IN_LIST_LIMIT ids
    the whole table is read instead: sending and parsing a long IN list costs more than
    reading as many short rows."""
    wanted = {i for i in ids if i is not None}
    statement = select(
        Employee.id, Employee.handle, Employee.name, Employee.team, Employee.connections
    )
    if len(wanted) <= IN_LIST_LIMIT:
        statement = statement.where(Employee.id.in_(wanted))
    rows = session.connection().execute(statement)  # Core rows: no ORM loading per row
    return {row.id: row for row in rows if row.id in wanted}


def _employees(rows: Mapping[int, Any]) -> dict[int, EmployeeRef]:
    return {key: EmployeeRef(row.handle, row.name, row.team) for key, row in rows.items()}


def _rep_rows(grouped: _Grouped, people: dict[int, EmployeeRef]) -> tuple[RepRow, ...]:
    rows = [RepRow(people[key], grouped.figures(key)) for key in grouped.groups() if key in people]
    rows.sort(key=lambda r: (-(r.figures.clicks or 0), -r.figures.leads, r.employee.handle))
    return tuple(rows)


# ---------------------------------------------------------------- reports


def report_reps(
    session: Session, filters: ReportFilters, *, timezone: str, currency: str | None = None
) -> RepsReport:
    """The leaderboard: one row per rep with clicks (any request) or leads in range."""
    scope = resolve_scope(session, filters, timezone, currency)
    split = _prepare(session, scope)
    per_rep = _gather(session, scope, "employee", split=split)
    reps = _rep_rows(per_rep, _employees(_employee_rows(session, per_rep.groups())))
    totals = _combined(session, scope, per_rep, split).figures(0)
    return RepsReport(filters, timezone, reps, totals, _baseline(session, scope))


def report_campaigns(
    session: Session, filters: ReportFilters, *, timezone: str, currency: str | None = None
) -> CampaignsReport:
    """One row per campaign with activity in range (plus leads credited without a campaign)."""
    scope = resolve_scope(session, filters, timezone, currency)
    split = _prepare(session, scope)
    grouped = _gather(session, scope, "campaign")
    campaigns = {
        row.id: CampaignRef(row.slug, row.name)
        for row in session.execute(select(Campaign.id, Campaign.slug, Campaign.name))
    }
    rows = [
        CampaignRow(campaigns.get(key) if key is not None else None, grouped.figures(key))
        for key in grouped.groups()
    ]
    rows.sort(key=lambda r: (-(r.figures.clicks or 0), -r.figures.leads,
                             r.campaign.slug if r.campaign else "\uffff"))  # fmt: skip
    totals, baseline = _totals_and_baseline(session, scope, split)
    return CampaignsReport(filters, timezone, tuple(rows), totals, baseline)


def report_channels(
    session: Session, filters: ReportFilters, *, timezone: str, currency: str | None = None
) -> ChannelsReport:
    """One row per channel (link channel for clicks; click channel, else utm_source, for leads)."""
    scope = resolve_scope(session, filters, timezone, currency)
    split = _prepare(session, scope)
    grouped = _gather(session, scope, "channel")
    rows = [ChannelRow(key, grouped.figures(key)) for key in grouped.groups()]
    rows.sort(key=lambda r: (-(r.figures.clicks or 0), -r.figures.leads, r.channel or "\uffff"))
    totals, baseline = _totals_and_baseline(session, scope, split)
    return ChannelsReport(filters, timezone, tuple(rows), totals, baseline)


def bucket_starts(date_from: date, date_to: date, bucket: Bucket) -> list[date]:
    """First local day of every bucket touching the range (weeks start on Monday)."""
    if bucket == "day":
        first = date_from
    elif bucket == "week":
        first = date_from - timedelta(days=date_from.weekday())
    else:
        first = date_from.replace(day=1)
    starts: list[date] = []
    current = first
    while current <= date_to:
        starts.append(current)
        if bucket == "day":
            current += timedelta(days=1)
        elif bucket == "week":
            current += timedelta(days=7)
        else:
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
    return starts


def report_rep(
    session: Session,
    handle: str,
    filters: ReportFilters,
    *,
    timezone: str,
    bucket: Bucket = "day",
    currency: str | None = None,
) -> RepDetail:
    """One rep: figures, time series, links with figures, attributed records, funnel."""
    if bucket not in BUCKETS:
        raise InvalidInput("Unknown time bucket.", {"bucket": "Use day, week or month."})
    employee = session.scalar(select(Employee).where(Employee.handle == handle))
    if employee is None:
        raise NotFound(f"No employee with handle '{handle}'.")
    starts = bucket_starts(filters.date_from, filters.date_to, bucket)
    if len(starts) > MAX_DAY_BUCKETS:
        raise InvalidInput("Too many time buckets.", {"bucket": "Use week or month buckets."})
    filters = replace(filters, employee=handle)
    scope = resolve_scope(session, filters, timezone, currency)
    _prepare(session, scope)  # an employee scope: never the rollup
    figures = _gather(session, scope, "all").figures(0)
    baseline = _baseline(session, scope)
    series = series_points(session, scope, starts, timezone)
    by_link = _gather(session, scope, "link")
    links = tuple(
        LinkFigures(
            code=row.code,
            campaign=row.slug,
            channel=row.channel,
            created_at=row.created_at,
            disabled=row.disabled,
            clicks=f.clicks or 0,
            unique_visitors=f.unique_visitors or 0,
            bot_clicks=f.bot_clicks or 0,
            preview_clicks=f.preview_clicks or 0,
            leads=f.leads,
            won=f.won,
        )
        for row in session.execute(queries.link_list_query(employee.id))
        for f in [by_link.figures(row.id)]
    )
    records = tuple(
        AttributedRecord(
            source=r.source,
            external_id=r.external_id,
            kind=r.kind,
            created_at=r.created_at,
            method=r.attribution_method,
            won=bool(r.won),
            closed_at=r.closed_at,
            amount=r.amount,
            currency=r.currency or (currency if r.amount is not None else None),
            campaign=r.slug,
            channel=r.channel,
            click_at=r.click_at,
            seconds_from_click=r.seconds_from_click,
        )
        for r in session.execute(queries.attributed_records_query(scope, RECORDS_LIMIT))
    )
    return RepDetail(
        filters=filters,
        timezone=timezone,
        bucket=bucket,
        employee=EmployeeRef(employee.handle, employee.name, employee.team),
        figures=figures,
        baseline=baseline,
        funnel=Funnel(
            figures.clicks or 0, figures.unique_visitors or 0, figures.leads, figures.won
        ),
        series=series,
        links=links,
        records=records,
        records_total=figures.leads,
    )


def _ranking(
    metric: str, values: Iterable[tuple[int, float]], people: Mapping[int, Any]
) -> Ranking:
    """The TOP_CONTRIBUTORS employees with the highest positive value (ties by handle).

    Only the top few become EmployeeRefs: the program report ranks every rep three times,
    and building everyone's full Figures only to sort them was a large part of its time."""
    candidates = (
        (-value, people[key].handle, key) for key, value in values if value > 0 and key in people
    )
    top = heapq.nsmallest(TOP_CONTRIBUTORS, candidates)
    return Ranking(
        metric=metric,
        formula=FORMULAS[f"top_by_{metric}"],
        contributors=tuple(
            Contributor(EmployeeRef(handle, people[key].name, people[key].team), -negative)
            for negative, handle, key in top
        ),
    )


def report_program(
    session: Session,
    filters: ReportFilters,
    *,
    timezone: str,
    cpm: float,
    cost_per_lead: float,
    currency: str | None = None,
) -> ProgramReport:
    """Program results: participation, reach, value, top contributors."""
    scope = resolve_scope(session, filters, timezone, currency)
    split = _prepare(session, scope)
    per_rep = _gather(session, scope, "employee", shares=True, split=split)
    people = _employee_rows(session, per_rep.groups())
    totals = _combined(session, scope, per_rep, split).figures(0)
    baseline = _baseline(session, scope)
    invited, joined = session.execute(queries.membership_query(filters.team)).one()
    traffic = per_rep.traffic
    # A share is a distinct (employee, campaign) pair with a human click in range.
    active = sum(1 for row in traffic.values() if row.campaigns_shared)
    impressions = sum(
        people[key].connections * row.campaigns_shared
        for key, row in traffic.items()
        if key in people
    )
    clicks = totals.clicks or 0
    rankings = (
        _ranking("clicks", ((key, float(row.clicks)) for key, row in traffic.items()), people),
        _ranking(
            "clicks_per_link",
            (
                (key, row.clicks / row.links_shared)
                for key, row in traffic.items()
                if row.links_shared
            ),
            people,
        ),
        _ranking("leads", ((key, float(n)) for key, (n, _) in per_rep.leads.items()), people),
    )
    return ProgramReport(
        filters=filters,
        timezone=timezone,
        invited=int(invited),
        joined=int(joined),
        join_rate=_rate(int(joined), int(invited)),
        active=int(active),
        participation_rate=_rate(int(active), int(joined)),
        clicks=clicks,
        unique_visitors=totals.unique_visitors or 0,
        leads=totals.leads,
        won=totals.won,
        lead_to_won_rate=totals.lead_to_won_rate,
        click_to_lead_rate=totals.click_to_lead_rate,
        revenue=totals.revenue,
        estimated_impressions=impressions,
        earned_media_value=round(impressions / 1000 * cpm, 2),
        lead_cost_savings=round(totals.leads * cost_per_lead, 2),
        cpm=cpm,
        cost_per_lead=cost_per_lead,
        currency=currency or NO_CURRENCY,
        top_contributors=rankings,
        totals=totals,
        baseline=baseline,
        formulas=FORMULAS,
    )
