"""Attribution pages for marketers: program dashboard, leaderboard, per rep/campaign/channel."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, g, render_template, request, url_for

from linktracker.auth.roles import EVERYONE, MANAGERS
from linktracker.campaigns.channels import CHANNELS
from linktracker.campaigns.services import get_campaign, list_campaigns
from linktracker.employees.models import Employee
from linktracker.employees.services import list_employees
from linktracker.errors import NotFound
from linktracker.reports.filters import Bucket, ReportFilters, read_report_filters, today_in
from linktracker.reports.own import report_standing
from linktracker.reports.participation import report_participation
from linktracker.reports.records import RecordsQuery, list_records
from linktracker.reports.recruiting import RecruitingReport, list_jobs, report_recruiting
from linktracker.reports.results import ChannelsReport, GroupedReport, SeriesPoint
from linktracker.reports.services import (
    report_campaigns,
    report_channels,
    report_program,
    report_rep,
    report_reps,
)
from linktracker.reports.trend import report_trend
from linktracker.web.audience_pages import audience_section, report_csv_url
from linktracker.web.context import db, identity, require_roles, settings
from linktracker.web.forms import CHANNEL_LABELS

reports = Blueprint("reports", __name__, url_prefix="/app/reports")
PAGE_FILTERS = ("campaign", "channel", "team")  # the form's; a rep's page is by its path


@dataclass(frozen=True)
class FilterState:
    filters: ReportFilters
    errors: dict[str, str]
    campaigns: list[tuple[str, str]]
    channels: list[tuple[str, str]]
    teams: list[str]
    query: dict[str, str]

    def export_url(self, endpoint: str, **extra: str) -> str:
        """The API's CSV export of the same report, same filters."""
        values: dict[str, Any] = {**self.query, **extra, "format": "csv"}
        return url_for(endpoint, **values)


def read_filters(default_days: int = 30) -> FilterState:
    """Filters from the query string; a bad value falls back to the default and says why."""
    campaigns = [(c.slug, c.name) for c in list_campaigns(db())]
    reading = read_report_filters(
        request.args,
        today=today_in(settings().reporting_timezone),
        campaigns={slug for slug, _name in campaigns},
        channels=CHANNELS,
        default_days=default_days,
        offered=PAGE_FILTERS,
    )
    filters, errors = reading.filters, reading.errors
    start, end = filters.date_from, filters.date_to
    slug, channel, team = filters.campaign, filters.channel, filters.team
    teams = sorted({e.team for e in list_employees(db()) if e.team})
    query = {"from": start.isoformat(), "to": end.isoformat()}
    query.update({k: v for k, v in (("campaign", slug), ("channel", channel), ("team", team)) if v})
    g.filter_errors = errors
    return FilterState(
        filters,
        errors,
        campaigns,
        [(c, CHANNEL_LABELS.get(c, c)) for c in CHANNELS],
        teams,
        query,
    )


# The leads axis spans at least this many: a single lead must not look as tall as the busiest
# click day.
MIN_LEADS_AXIS = 5


def leads_axis(title: str, top: int) -> dict[str, Any]:
    """The right-hand axis of leads: whole numbers, at least 0 to MIN_LEADS_AXIS."""
    return {
        "beginAtZero": True,
        "position": "right",
        "grid": {"drawOnChartArea": False},
        "title": {"display": True, "text": title},
        "ticks": {"precision": 0},
        "suggestedMax": max(MIN_LEADS_AXIS, top),
    }


def chart_spec(points: tuple[SeriesPoint, ...], bucket: str) -> str:
    """Chart.js data for clicks (left axis) and leads (right axis) per bucket."""
    labels = [p.start.isoformat() if bucket == "day" else f"{bucket} of {p.start}" for p in points]
    top_leads = max((max(p.leads, p.won) for p in points), default=0)
    spec: dict[str, Any] = {
        "type": "line",
        "labels": labels,
        "series": [
            {"label": "Clicks", "data": [p.clicks for p in points]},
            {"label": "Leads", "data": [p.leads for p in points], "axis": "y2"},
            {"label": "Won", "data": [p.won for p in points], "axis": "y2"},
        ],
        "scales": {
            "y": {
                "beginAtZero": True,
                "position": "left",
                "title": {"display": True, "text": "Clicks"},
                "ticks": {"precision": 0},
            },
            "y2": leads_axis("Leads / won", top_leads),
        },
    }
    return json.dumps(spec)


def series_total(points: tuple[SeriesPoint, ...]) -> int:
    return sum(p.clicks + p.leads for p in points)


@reports.after_request
def flag_refused_filters(response: Response) -> Response:
    """A page drawn with a refused filter falls back to the default and answers 422."""
    if g.get("filter_errors") and response.status_code == 200:
        response.status_code = 422
    return response


@reports.get("/")
@require_roles(*MANAGERS)
def dashboard() -> str:
    state = read_filters()
    program = settings()
    report = report_program(
        db(),
        state.filters,
        timezone=program.reporting_timezone,
        cpm=program.cpm,
        cost_per_lead=program.cost_per_lead,
        currency=program.default_currency,
    )
    bucket, points = report_trend(db(), state.filters, timezone=program.reporting_timezone)
    return render_template(
        "reports/dashboard.html",
        state=state,
        report=report,
        chart=chart_spec(points, bucket),
        has_series=series_total(points) > 0,
        **audience_section(state.filters, report_csv_url(state.query)),
    )


@reports.get("/leaderboard")
@require_roles(*MANAGERS)
def leaderboard() -> str:
    state = read_filters()
    program = settings()
    report = report_reps(
        db(), state.filters, timezone=program.reporting_timezone, currency=program.default_currency
    )
    participation = report_participation(db(), state.filters, timezone=program.reporting_timezone)
    return render_template(
        "reports/leaderboard.html",
        state=state,
        report=report,
        participation=participation,
        show_inactive=request.args.get("inactive") == "1",
    )


def _grouped_page(report_by: Callable[..., GroupedReport], template: str, **extra: Any) -> str:
    """A report by group (rep, campaign, channel) in the filters asked for, on its page."""
    state = read_filters()
    program = settings()
    report = report_by(
        db(), state.filters, timezone=program.reporting_timezone, currency=program.default_currency
    )
    return render_template(template, state=state, report=report, **extra)


@reports.get("/reps/<handle>")
@require_roles(*MANAGERS, "employee")
def rep(handle: str) -> str:
    who = identity()
    assert who is not None
    if who.role not in MANAGERS:
        own = db().get(Employee, who.employee_id) if who.employee_id else None
        if own is None or own.handle != handle:
            # The same answer as an unknown handle: others' pages cannot be probed.
            raise NotFound(f"No employee with handle '{handle}'.")
    return _rep_page(handle, own_page=who.role not in MANAGERS)


@reports.get("/me")
@require_roles(*EVERYONE)
def my_results() -> str:
    """The signed-in person's own results: their per-rep page, with their rank."""
    who = identity()
    assert who is not None
    own = db().get(Employee, who.employee_id) if who.employee_id else None
    if own is None:
        return render_template("reports/no_results.html")
    return _rep_page(own.handle, own_page=True)


def _rep_page(handle: str, *, own_page: bool) -> str:
    state = read_filters()
    span = (state.filters.date_to - state.filters.date_from).days
    bucket: Bucket = "day" if span < 92 else "week"
    program = settings()
    detail = report_rep(
        db(),
        handle,
        state.filters,
        timezone=program.reporting_timezone,
        bucket=bucket,
        currency=program.default_currency,
        with_records=False,
    )
    asked = replace(records_query(), customer_search=not own_page)
    page = list_records(
        db(),
        replace(state.filters, employee=handle),
        asked,
        timezone=program.reporting_timezone,
        currency=program.default_currency,
    )
    standing = None
    if own_page and program.show_ranks:
        standing = report_standing(
            db(),
            handle,
            state.filters,
            timezone=program.reporting_timezone,
            currency=program.default_currency,
        )
    own = replace(state.filters, employee=handle)
    return render_template(
        "reports/rep.html",
        state=state,
        detail=detail,
        chart=chart_spec(detail.series, bucket),
        has_series=series_total(detail.series) > 0,
        handle=handle,
        own_page=own_page,
        standing=standing,
        **audience_section(own, report_csv_url({**state.query, "employee": handle})),
        page=page,
        records_state=records_state(state, asked),
    )


def records_query() -> RecordsQuery:
    """The records table's sort, direction, search, page cursor and import, from the query."""
    import_id = request.args.get("import", "")
    return RecordsQuery(
        sort=request.args.get("sort", "created"),
        descending=request.args.get("dir", "desc") != "asc",
        search=request.args.get("q", ""),
        after=request.args.get("after") or None,
        before=request.args.get("before") or None,
        import_id=int(import_id) if import_id.isdigit() else None,
    )


def records_state(state: FilterState, asked: RecordsQuery) -> dict[str, str]:
    """The query a records table's links keep: the report's filters, sort, search, import."""
    return {
        **state.query,
        "sort": asked.sort,
        "dir": "desc" if asked.descending else "asc",
        "q": asked.search,
        "import": str(asked.import_id or ""),
    }


@reports.get("/campaigns")
@require_roles(*MANAGERS)
def campaigns() -> str:
    return _grouped_page(report_campaigns, "reports/campaigns.html")


@reports.get("/campaigns/<slug>")
@require_roles(*MANAGERS)
def campaign(slug: str) -> str:
    """One campaign's results: figures, series, funnel, its reps and its channels."""
    found = get_campaign(db(), slug)
    state = read_filters()
    state = replace(
        state,
        filters=replace(state.filters, campaign=found.slug),
        query={**state.query, "campaign": found.slug},
    )
    program = settings()
    zone, currency = program.reporting_timezone, program.default_currency
    reps = report_reps(db(), state.filters, timezone=zone, currency=currency)
    by_channel = report_channels(db(), state.filters, timezone=zone, currency=currency)
    bucket, points = report_trend(db(), state.filters, timezone=zone)
    return render_template(
        "reports/campaign.html",
        state=state,
        campaign=found,
        reps=reps,
        by_channel=by_channel,
        f=reps.totals,
        chart=chart_spec(points, bucket),
        bucket=bucket,
        has_series=series_total(points) > 0,
        labels=CHANNEL_LABELS,
        **audience_section(state.filters, report_csv_url(state.query)),
    )


@reports.get("/channels")
@require_roles(*MANAGERS)
def channels() -> str:
    state = read_filters()
    program = settings()
    report = report_channels(
        db(), state.filters, timezone=program.reporting_timezone, currency=program.default_currency
    )
    return render_template(
        "reports/channels.html",
        state=state,
        report=report,
        labels=CHANNEL_LABELS,
        chart=channel_chart(report, CHANNEL_LABELS),
    )


def channel_chart(report: ChannelsReport, labels: dict[str, str]) -> str:
    """Chart.js bars: clicks and leads per channel (leads on their own axis)."""
    rows = report.channels
    names = [
        labels.get(row.channel, row.channel) if row.channel else "Unknown channel" for row in rows
    ]
    top_leads = max((row.figures.leads for row in rows), default=0)
    spec: dict[str, Any] = {
        "type": "bar",
        "labels": names,
        "series": [
            {"label": "Clicks", "data": [row.figures.clicks or 0 for row in rows]},
            {"label": "Leads", "data": [row.figures.leads for row in rows], "axis": "y2"},
        ],
        "scales": {
            "y": {"beginAtZero": True, "title": {"display": True, "text": "Clicks"}},
            "y2": leads_axis("Leads", top_leads),
        },
    }
    return json.dumps(spec)


@reports.app_template_filter("pct")
def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@reports.app_template_filter("days")
def days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


@reports.app_template_filter("num")
def num(value: float | int | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


@reports.app_template_filter("money")
def money(revenue: Any) -> str:
    if not revenue:
        return "—"
    return ", ".join(f"{amount:,.0f} {currency}" for currency, amount in sorted(revenue.items()))


@reports.app_template_global("query_with")
def query_with(base: dict[str, str], **changes: str) -> str:
    merged = {**base, **changes}
    return urlencode({k: v for k, v in merged.items() if v})


def recruiting_chart(report: RecruitingReport) -> str:
    """Chart.js data: applications and hires per rep (bars), the baseline last."""
    rows = [(r.name, r.figures.applications, r.figures.hires) for r in report.reps]
    rows.append(("All other sources", report.baseline.applications, report.baseline.hires))
    spec = {
        "type": "bar",
        "labels": [name for name, _a, _h in rows],
        "series": [
            {"label": "Applications", "data": [a for _n, a, _h in rows]},
            {"label": "Hires", "data": [h for _n, _a, h in rows]},
        ],
    }
    return json.dumps(spec)


@reports.get("/recruiting")
@require_roles(*MANAGERS)
def recruiting() -> str:
    state = read_filters()
    job = (request.args.get("job") or "").strip() or None
    report = report_recruiting(db(), state.filters, timezone=settings().reporting_timezone, job=job)
    extra = {"job": job} if job else {}
    exports = {
        "reps": state.export_url("api.get_recruiting_report", **extra),
        "jobs": state.export_url("api.get_recruiting_report", table="jobs", **extra),
    }
    return render_template(
        "reports/recruiting.html",
        state=state,
        report=report,
        job=job,
        jobs=list_jobs(db()),
        exports=exports,
        chart=recruiting_chart(report),
        has_chart=bool(report.reps or report.baseline.applications),
    )
