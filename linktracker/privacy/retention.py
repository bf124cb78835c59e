"""CRM record retention: records go ``months`` calendar months after they closed.

ATS applications follow the same setting: a hired application goes ``months`` months after
its hire, any other ``months`` months after the application.

A closed record (won or lost, with a close date) is kept ``months`` months after its close
date; an open record (no close date) ``months`` months after it was created in the CRM, so
a lead that never closes does not stay forever. 0 keeps records forever. The preview and the
run use the same condition, so a run deletes what the preview announced (as of that time).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.orm import Session

from linktracker.crm.models import CrmRecord
from linktracker.db import utcnow
from linktracker.recruiting.models import Application


def months_before(moment: datetime, months: int) -> datetime:
    """``moment`` ``months`` calendar months earlier (the 31st falls back to the month's end)."""
    ordinal = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(ordinal, 12)
    month += 1
    next_month = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=moment.tzinfo)
    last_day = (next_month - datetime(year, month, 1, tzinfo=moment.tzinfo)).days
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def _past(months: int, now: datetime) -> ColumnElement[bool]:
    cutoff = months_before(now, months)
    return or_(
        and_(CrmRecord.closed_at.is_not(None), CrmRecord.closed_at <= cutoff),
        and_(CrmRecord.closed_at.is_(None), CrmRecord.created_at <= cutoff),
    )


def records_due(session: Session, months: int, *, now: datetime | None = None) -> int:
    """How many records a run with ``months`` would delete now (0 months: none)."""
    if months <= 0:
        return 0
    return (
        session.scalar(
            select(func.count()).select_from(CrmRecord).where(_past(months, now or utcnow()))
        )
        or 0
    )


def delete_records_due(session: Session, months: int, *, now: datetime | None = None) -> int:
    """Delete the records past retention (and commit); how many went."""
    if months <= 0:
        return 0
    result = session.execute(delete(CrmRecord).where(_past(months, now or utcnow())))
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _applications_past(months: int, now: datetime) -> ColumnElement[bool]:
    cutoff = months_before(now, months)
    return or_(
        and_(Application.hired_at.is_not(None), Application.hired_at <= cutoff),
        and_(Application.hired_at.is_(None), Application.applied_at <= cutoff),
    )


def applications_due(session: Session, months: int, *, now: datetime | None = None) -> int:
    """How many applications a run with ``months`` would delete now (0 months: none)."""
    if months <= 0:
        return 0
    query = select(func.count()).select_from(Application)
    return session.scalar(query.where(_applications_past(months, now or utcnow()))) or 0


def delete_applications_due(session: Session, months: int, *, now: datetime | None = None) -> int:
    """Delete the applications past retention (and commit); how many went."""
    if months <= 0:
        return 0
    result = session.execute(delete(Application).where(_applications_past(months, now or utcnow())))
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
