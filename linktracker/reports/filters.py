"""What a reader asks a report for: an inclusive range of local dates and optional narrowing.

The one reader of report filters for the API, the pages and the CLI: `from`/`to` are
inclusive YYYY-MM-DD dates in the reporting time zone (default: the last 30 days to today),
at most MAX_RANGE_DAYS long; `campaign` (slug), `channel`, `team` and `employee` (handle)
narrow the advocacy figures, an empty value meaning no filter. The API and the CLI refuse a
bad date range (parse_report_filters); a page falls back to the default and says why
(read_report_filters). An unknown campaign or employee is refused by the report itself
(scope.resolve_scope), where the database is at hand.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from linktracker.errors import InvalidInput
from linktracker.limits import parse_day

Bucket = Literal["day", "week", "month"]
BUCKETS: tuple[Bucket, ...] = ("day", "week", "month")
MAX_RANGE_DAYS = 3660
NARROWING = ("campaign", "channel", "team", "employee")
DEFAULT_DAYS = 30


def parse_bucket(value: str) -> Bucket:
    """A time bucket name (day, week or month), or InvalidInput."""
    for bucket in BUCKETS:
        if value == bucket:
            return bucket
    raise InvalidInput("Unknown time bucket.", {"bucket": "Use day, week or month."})


@dataclass(frozen=True)
class ReportFilters:
    """What the reader asked for: inclusive local dates and optional narrowing."""

    date_from: date
    date_to: date
    campaign: str | None = None
    channel: str | None = None
    team: str | None = None
    employee: str | None = None


def parse_report_dates(
    date_from: str | None, date_to: str | None, *, today: date, default_days: int = DEFAULT_DAYS
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


@dataclass(frozen=True)
class FilterReading:
    """Filters read leniently: each refused value fell back to its default, said in `errors`."""

    filters: ReportFilters
    errors: dict[str, str]


def _narrowing(values: Mapping[str, str | None], offered: Collection[str]) -> dict[str, str | None]:
    return {name: (values.get(name) or None) if name in offered else None for name in NARROWING}


def _filters(start: date, end: date, narrowing: Mapping[str, str | None]) -> ReportFilters:
    return ReportFilters(
        start,
        end,
        campaign=narrowing["campaign"],
        channel=narrowing["channel"],
        team=narrowing["team"],
        employee=narrowing["employee"],
    )


def parse_report_filters(
    values: Mapping[str, str | None],
    *,
    today: date,
    default_days: int = DEFAULT_DAYS,
    offered: Collection[str] = NARROWING,
) -> ReportFilters:
    """Filters from `from`, `to` and the `offered` narrowing values; InvalidInput ("The date
    range is invalid.") for a bad date range."""
    start, end = parse_report_dates(
        values.get("from"), values.get("to"), today=today, default_days=default_days
    )
    return _filters(start, end, _narrowing(values, offered))


def read_report_filters(
    values: Mapping[str, str | None],
    *,
    today: date,
    campaigns: Collection[str],
    channels: Collection[str],
    default_days: int = DEFAULT_DAYS,
    offered: Collection[str] = NARROWING,
) -> FilterReading:
    """As parse_report_filters, but a bad date range falls back to the default range and a
    campaign slug or channel outside `campaigns`/`channels` to no filter, each said in
    `errors` by field."""
    errors: dict[str, str] = {}
    try:
        start, end = parse_report_dates(
            values.get("from"), values.get("to"), today=today, default_days=default_days
        )
    except InvalidInput as exc:
        errors.update(exc.fields)
        start, end = today - timedelta(days=default_days - 1), today
    narrowing = _narrowing(values, offered)
    for name, known, message in (
        ("campaign", campaigns, "Unknown campaign."),
        ("channel", channels, "Unknown channel."),
    ):
        if narrowing[name] and narrowing[name] not in known:
            errors[name] = message
            narrowing[name] = None
    return FilterReading(_filters(start, end, narrowing), errors)
