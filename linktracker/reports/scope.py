"""From ReportFilters to a Scope: the UTC interval and ids the queries count in.

Dates are inclusive calendar dates in the reporting time zone, so a scope runs from the first
day's local midnight to the midnight after the last day, in UTC.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from linktracker.campaigns.models import Campaign
from linktracker.employees.models import Employee
from linktracker.errors import InvalidInput
from linktracker.reports import rollup
from linktracker.reports.filters import ReportFilters
from linktracker.reports.queries import NO_CURRENCY, Scope
from linktracker.reports.rollup import Split

REPORT_WORK_MEM = "64MB"


def utc_midnight(day: date, zone: zoneinfo.ZoneInfo) -> datetime:
    """The first instant of a local day, in UTC."""
    return datetime.combine(day, time(), zone).astimezone(UTC)


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
        start=utc_midnight(filters.date_from, zone),
        end=utc_midnight(filters.date_to + timedelta(days=1), zone),
        campaign_id=campaign_id,
        channel=filters.channel,
        team=filters.team,
        employee_id=employee_id,
        currency=currency or NO_CURRENCY,
    )


def prepare_scope(session: Session, scope: Scope) -> Split | None:
    """Refresh the rollup days the scope can read (None: it cannot, see reports/rollup.py),
    then, PostgreSQL: give this transaction's sorts and hash aggregates room in memory (the 4 MB
    default spills the de-duplication of ~250,000 visitor hashes to disk)."""
    split = rollup.prepare(session, scope, datetime.now(UTC).date())
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))
    return split
