"""What a reader asks a report for: an inclusive range of local dates and optional narrowing.

Dates are inclusive calendar dates in the reporting time zone (default: the last 30 days to
today), at most MAX_RANGE_DAYS long.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from linktracker.errors import InvalidInput
from linktracker.limits import parse_day

Bucket = Literal["day", "week", "month"]
BUCKETS: tuple[Bucket, ...] = ("day", "week", "month")
MAX_RANGE_DAYS = 3660


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
