"""Program-wide time series (clicks, visitors, leads, won) for the dashboard's trend chart."""

from __future__ import annotations

from sqlalchemy.orm import Session

from linktracker.reports.filters import Bucket, ReportFilters
from linktracker.reports.results import SeriesPoint
from linktracker.reports.services import (
    MAX_DAY_BUCKETS,
    bucket_starts,
    resolve_scope,
    series_points,
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
