"""Audience: where clicks come from, on a link's own page and as CSV for every block.

The Audience section itself is drawn by templates/reports/_audience.html on the rep,
campaign and program pages too (their views call audience_section). An employee sees a
link's page and downloads only for their own links; another's code is a 404, the answer an
unknown code gets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for
from sqlalchemy import select

from linktracker.auth.roles import EVERYONE
from linktracker.campaigns.channels import CHANNELS
from linktracker.campaigns.models import Campaign
from linktracker.csvsafe import to_csv
from linktracker.employees.models import Employee
from linktracker.errors import NotFound
from linktracker.reports.audience import AUDIENCE_BLOCKS, Audience, report_audience
from linktracker.reports.audience_present import block_table
from linktracker.reports.filters import ReportFilters, read_report_filters, today_in
from linktracker.web.api_reports import own_handle_only
from linktracker.web.context import db, require_roles, settings
from linktracker.web.downloads import attachment
from linktracker.web.my_links import FIGURE_DAYS, own_link, short_url

audience = Blueprint("audience", __name__)
BLOCKS = (*AUDIENCE_BLOCKS, "matrix", "heatmap")
NARROWING = ("campaign", "channel", "team", "employee")


def audience_section(
    filters: ReportFilters, csv_url: Callable[[str], str], link: str | None = None
) -> dict[str, Any]:
    """Template values of an Audience section: the report and its blocks' CSV addresses."""
    report = report_audience(db(), filters, timezone=settings().reporting_timezone, link=link)
    return {"audience": report, "audience_csv": csv_url}


def report_csv_url(query: Mapping[str, str]) -> Callable[[str], str]:
    """CSV addresses of the blocks of a report page with these filters (managers)."""
    values: dict[str, Any] = dict(query)
    return lambda block: url_for("audience.report_csv", block=block, **values)


def _csv(report: Audience, block: str, name: str) -> Response:
    header, rows = block_table(report, block)
    filters = report.filters
    filename = f"audience-{name}-{block}-{filters.date_from}-{filters.date_to}.csv"
    response = Response(to_csv(header, rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = attachment(filename)
    return response


def _block(block: str) -> str:
    if block not in BLOCKS:
        raise NotFound(f"No audience block '{block}'.")
    return block


@audience.get("/app/reports/audience/<block>.csv")
@require_roles(*EVERYONE)
def report_csv(block: str) -> Response:
    """One block of the Audience section of a report page, same filters, as CSV (an employee:
    of their own results page, `employee=` their handle)."""
    own_handle_only(request.args.get("employee") or None)
    block = _block(block)
    reading = read_report_filters(
        request.args,
        today=today_in(settings().reporting_timezone),
        campaigns=set(db().scalars(select(Campaign.slug))),
        channels=CHANNELS,
        offered=NARROWING,
    )
    report = report_audience(db(), reading.filters, timezone=settings().reporting_timezone)
    narrowed = [reading.filters.campaign, reading.filters.employee, reading.filters.team]
    return _csv(report, block, "-".join(v for v in narrowed if v) or "program")


@dataclass(frozen=True)
class LinkRange:
    """The link page's range (reports/_filters.html draws it with every narrowing hidden)."""

    filters: ReportFilters
    errors: dict[str, str]
    query: dict[str, str]


def _link_range() -> LinkRange:
    reading = read_report_filters(
        request.args,
        today=today_in(settings().reporting_timezone),
        campaigns=(),
        channels=(),
        default_days=FIGURE_DAYS,
        offered=(),
    )
    filters = reading.filters
    query = {"from": filters.date_from.isoformat(), "to": filters.date_to.isoformat()}
    return LinkRange(filters, reading.errors, query)


@audience.get("/app/links/<code>")
@require_roles(*EVERYONE)
def link_detail(code: str) -> tuple[str, int]:
    """One link: what it is and its Audience section."""
    link = own_link(code)
    state = _link_range()
    campaign = db().get(Campaign, link.campaign_id)
    employee = db().get(Employee, link.employee_id)
    query: dict[str, Any] = dict(state.query)
    section = audience_section(
        state.filters,
        lambda block: url_for("audience.link_csv", code=link.code, block=block, **query),
        link=link.code,
    )
    page = render_template(
        "links/detail.html",
        link=link,
        campaign=campaign,
        employee=employee,
        short_url=short_url(link.code),
        state=state,
        **section,
    )
    return page, 422 if state.errors else 200


@audience.get("/app/links/<code>/audience/<block>.csv")
@require_roles(*EVERYONE)
def link_csv(code: str, block: str) -> Response:
    """One block of a link's Audience section as CSV."""
    link = own_link(code)
    block = _block(block)
    timezone = settings().reporting_timezone
    report = report_audience(db(), _link_range().filters, timezone=timezone, link=link.code)
    return _csv(report, block, link.code)


@audience.app_template_filter("flag")
def flag(country: str | None) -> str:
    """The flag emoji of a two-letter ISO country code ('' for anything else)."""
    if not country or len(country) != 2 or not country.isascii() or not country.isalpha():
        return ""
    return "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in country.upper())


@audience.app_template_filter("heat")
def heat(clicks: int, peak: int) -> int:
    """Shade 0 (no clicks) to 5 (the busiest hour) of a heatmap cell."""
    if clicks <= 0 or peak <= 0:
        return 0
    return max(1, min(5, -(-clicks * 5 // peak)))
