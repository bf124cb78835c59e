"""Time series (clicks, visitors, leads, won per day, week or month): the dashboard's trend
chart and a rep's chart."""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy.orm import Session

from linktracker.reports import queries
from linktracker.reports.filters import Bucket, ReportFilters
from linktracker.reports.queries import Scope
from linktracker.reports.results import SeriesPoint
from linktracker.reports.scope import resolve_scope, utc_midnight

MAX_DAY_BUCKETS = 800


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


def series_points(
    session: Session, scope: Scope, starts: Sequence[date], timezone: str
) -> tuple[SeriesPoint, ...]:
    """Clicks, unique visitors, leads and won per bucket starting on each of `starts`."""
    zone = zoneinfo.ZoneInfo(timezone)
    bounds = [max(utc_midnight(day, zone), scope.start) for day in starts]
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


def pick_bucket(filters: ReportFilters) -> Bucket:
    """Days for ranges up to ~3 months, weeks up to ~2 years, months beyond."""
    days = (filters.date_to - filters.date_from).days + 1
    if days <= 92:
        return "day"
    return "week" if days <= 730 else "month"


def report_trend(
    session: Session, filters: ReportFilters, *, timezone: str, bucket: Bucket | None = None
) -> tuple[Bucket, tuple[SeriesPoint, ...]]:
    """Clicks, unique visitors, leads and won per time bucket over the filtered scope."""
    bucket = bucket or pick_bucket(filters)
    starts = bucket_starts(filters.date_from, filters.date_to, bucket)[:MAX_DAY_BUCKETS]
    scope = resolve_scope(session, filters, timezone)
    points = series_points(session, scope, starts, timezone)
    return bucket, points
