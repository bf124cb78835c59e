"""The "all time" range: from the first day anything was recorded to today."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.clicks.models import Click
from linktracker.crm.models import CrmRecord
from linktracker.reports.filters import ReportFilters


def first_activity_on(session: Session, timezone: str) -> date | None:
    """The local date of the first click or CRM record (None: nothing recorded yet)."""
    firsts = [
        session.scalar(select(func.min(Click.created_at))),
        session.scalar(select(func.min(CrmRecord.created_at))),
    ]
    known: list[datetime] = [moment for moment in firsts if moment is not None]
    if not known:
        return None
    return min(known).astimezone(ZoneInfo(timezone)).date()


def all_time(
    session: Session, filters: ReportFilters, *, timezone: str, today: date
) -> ReportFilters:
    """The same filters over every day with data, up to today."""
    first = first_activity_on(session, timezone) or today
    return replace(filters, date_from=min(first, today), date_to=today)
