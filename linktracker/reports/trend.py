"""Program-wide time series (clicks, visitors, leads, won) for the dashboard's trend chart."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, time

from sqlalchemy.orm import Session

from linktracker.reports import queries
from linktracker.reports.services import (
    MAX_DAY_BUCKETS,
    Bucket,
    ReportFilters,
    SeriesPoint,
    bucket_starts,
    resolve_scope,
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
    zone = zoneinfo.ZoneInfo(timezone)
    bounds = [
        max(datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC), scope.start)
        for day in starts
    ]
    traffic = {r.bucket: r for r in session.execute(queries.series_query(scope, bounds))}
    leads = {
        r.bucket: r for r in session.execute(queries.series_query(scope, bounds, records=True))
    }
    points = tuple(
        SeriesPoint(
            start=day,
            clicks=traffic[i].clicks if i in traffic else 0,
            unique_visitors=traffic[i].unique_visitors if i in traffic else 0,
            leads=leads[i].leads if i in leads else 0,
            won=leads[i].won if i in leads else 0,
        )
        for i, day in enumerate(starts)
    )
    return bucket, points
