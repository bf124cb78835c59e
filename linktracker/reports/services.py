"""The report use cases: per rep, campaign, channel, program, and one rep's detail.

Each turns ReportFilters (reports/filters.py) into a scope (reports/scope.py), counts in SQL
(reports/groups.py, reports/queries.py, the rollups, the series of reports/trend.py) and
returns frozen dataclasses (reports/results.py) whose rates, days and money are computed in
reports/figures.py.

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
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker.campaigns.models import Campaign
from linktracker.contributions.services import approved_per_employee, count_contributions
from linktracker.employees.models import Employee
from linktracker.errors import InvalidInput, NotFound
from linktracker.reports import figures as metrics
from linktracker.reports import groups, queries
from linktracker.reports.figures import FORMULAS
from linktracker.reports.filters import Bucket, ReportFilters, parse_bucket
from linktracker.reports.groups import Grouped
from linktracker.reports.queries import NO_CURRENCY, Scope
from linktracker.reports.results import (
    AttributedRecord,
    CampaignRef,
    CampaignRow,
    CampaignsReport,
    ChannelRow,
    ChannelsReport,
    Contributor,
    EmployeeRef,
    Funnel,
    LinkFigures,
    ProgramReport,
    Ranking,
    RepDetail,
    RepRow,
    RepsReport,
)
from linktracker.reports.scope import prepare_scope, resolve_scope
from linktracker.reports.trend import MAX_DAY_BUCKETS, bucket_starts, series_points

TOP_CONTRIBUTORS = 10
RECORDS_LIMIT = 1000


def _rep_rows(grouped: Grouped, people: dict[int, EmployeeRef]) -> tuple[RepRow, ...]:
    rows = [RepRow(people[key], grouped.figures(key)) for key in grouped.groups() if key in people]
    rows.sort(key=lambda r: (-(r.figures.clicks or 0), -r.figures.leads, r.employee.handle))
    return tuple(rows)


# ---------------------------------------------------------------- reports


def report_reps(
    session: Session, filters: ReportFilters, *, timezone: str, currency: str | None = None
) -> RepsReport:
    """The leaderboard: one row per rep with clicks (any request) or leads in range."""
    scope = resolve_scope(session, filters, timezone, currency)
    split = prepare_scope(session, scope)
    per_rep = groups.gather(session, scope, "employee", split=split)
    reps = _rep_rows(per_rep, groups.employee_refs(groups.employee_rows(session, per_rep.groups())))
    totals = groups.combined(session, scope, per_rep, split).figures(0)
    baseline = groups.baseline(session, scope)
    return RepsReport(
        filters=filters, timezone=timezone, reps=reps, totals=totals, baseline=baseline
    )


def report_campaigns(
    session: Session, filters: ReportFilters, *, timezone: str, currency: str | None = None
) -> CampaignsReport:
    """One row per campaign with activity in range (plus leads credited without a campaign)."""
    scope = resolve_scope(session, filters, timezone, currency)
    split = prepare_scope(session, scope)
    grouped = groups.gather(session, scope, "campaign")
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
    totals, baseline = groups.totals_and_baseline(session, scope, split)
    return CampaignsReport(
        filters=filters, timezone=timezone, campaigns=tuple(rows), totals=totals, baseline=baseline
    )


def report_channels(
    session: Session, filters: ReportFilters, *, timezone: str, currency: str | None = None
) -> ChannelsReport:
    """One row per channel (link channel for clicks; click channel, else utm_source, for leads)."""
    scope = resolve_scope(session, filters, timezone, currency)
    split = prepare_scope(session, scope)
    grouped = groups.gather(session, scope, "channel")
    rows = [ChannelRow(key, grouped.figures(key)) for key in grouped.groups()]
    rows.sort(key=lambda r: (-(r.figures.clicks or 0), -r.figures.leads, r.channel or "\uffff"))
    totals, baseline = groups.totals_and_baseline(session, scope, split)
    return ChannelsReport(
        filters=filters, timezone=timezone, channels=tuple(rows), totals=totals, baseline=baseline
    )


def _link_figures(session: Session, employee_id: int, by_link: Grouped) -> tuple[LinkFigures, ...]:
    """Every link of the rep, with its figures in the scope."""
    return tuple(
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
        for row in session.execute(queries.link_list_query(employee_id))
        for f in [by_link.figures(row.id)]
    )


def _attributed_records(
    session: Session, scope: Scope, currency: str | None
) -> tuple[AttributedRecord, ...]:
    """The first RECORDS_LIMIT attributed records in the scope."""
    return tuple(
        AttributedRecord(
            source=r.source,
            external_id=r.external_id,
            name=r.name,
            company=r.company,
            owner=r.owner,
            stage=r.stage,
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


def report_rep(
    session: Session,
    handle: str,
    filters: ReportFilters,
    *,
    timezone: str,
    bucket: Bucket = "day",
    currency: str | None = None,
    with_records: bool = True,
) -> RepDetail:
    """One rep: figures, time series, links with figures, attributed records, funnel.

    ``with_records=False`` leaves the records out (the page lists them a page at a time)."""
    bucket = parse_bucket(bucket)
    employee = session.scalar(select(Employee).where(Employee.handle == handle))
    if employee is None:
        raise NotFound(f"No employee with handle '{handle}'.")
    starts = bucket_starts(filters.date_from, filters.date_to, bucket)
    if len(starts) > MAX_DAY_BUCKETS:
        raise InvalidInput("Too many time buckets.", {"bucket": "Use week or month buckets."})
    filters = replace(filters, employee=handle)
    scope = resolve_scope(session, filters, timezone, currency)
    prepare_scope(session, scope)  # an employee scope: never the rollup
    figures = groups.gather(session, scope, "all").figures(0)
    baseline = groups.baseline(session, scope)
    series = series_points(session, scope, starts, timezone)
    links = _link_figures(session, employee.id, groups.gather(session, scope, "link"))
    records = _attributed_records(session, scope, currency) if with_records else ()
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


def _rankings(
    session: Session, scope: Scope, per_rep: Grouped, people: Mapping[int, Any]
) -> tuple[Ranking, ...]:
    """Top contributors by clicks, by clicks per link, by leads and by approved stories."""
    traffic = per_rep.traffic
    per_link = (
        (key, metrics.clicks_per_link(row.clicks, row.links_shared)) for key, row in traffic.items()
    )
    approved = approved_per_employee(session, scope.start, scope.end, team=scope.team)
    # Story contributors need not have clicks: their names are read here.
    missing = [key for key, _n in approved if key not in people]
    suggesters = {**people, **groups.employee_rows(session, missing)} if missing else people
    return (
        _ranking("clicks", ((key, float(row.clicks)) for key, row in traffic.items()), people),
        _ranking("clicks_per_link", ((k, v) for k, v in per_link if v is not None), people),
        _ranking("leads", ((key, float(n)) for key, (n, _) in per_rep.leads.items()), people),
        _ranking("approved_contributions", ((k, float(n)) for k, n in approved), suggesters),
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
    split = prepare_scope(session, scope)
    per_rep = groups.gather(session, scope, "employee", shares=True, split=split)
    people = groups.employee_rows(session, per_rep.groups())
    totals = groups.combined(session, scope, per_rep, split).figures(0)
    baseline = groups.baseline(session, scope)
    invited, joined = session.execute(queries.membership_query(filters.team)).one()
    traffic = per_rep.traffic
    # A share is a distinct (employee, campaign) pair with a human click in range.
    active = sum(1 for row in traffic.values() if row.campaigns_shared)
    impressions = metrics.estimated_impressions(
        (people[key].connections, row.campaigns_shared)
        for key, row in traffic.items()
        if key in people
    )
    return ProgramReport(
        filters=filters,
        timezone=timezone,
        invited=int(invited),
        joined=int(joined),
        join_rate=metrics.join_rate(int(joined), int(invited)),
        active=int(active),
        participation_rate=metrics.participation_rate(int(active), int(joined)),
        clicks=totals.clicks or 0,
        unique_visitors=totals.unique_visitors or 0,
        leads=totals.leads,
        won=totals.won,
        lead_to_won_rate=totals.lead_to_won_rate,
        click_to_lead_rate=totals.click_to_lead_rate,
        revenue=totals.revenue,
        estimated_impressions=impressions,
        earned_media_value=metrics.earned_media_value(impressions, cpm),
        lead_cost_savings=metrics.lead_cost_savings(totals.leads, cost_per_lead),
        cpm=cpm,
        cost_per_lead=cost_per_lead,
        currency=currency or NO_CURRENCY,
        top_contributors=_rankings(session, scope, per_rep, people),
        totals=totals,
        baseline=baseline,
        formulas=FORMULAS,
        contributions=count_contributions(session, scope.start, scope.end, team=scope.team),
    )
