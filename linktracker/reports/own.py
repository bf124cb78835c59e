"""An employee's own view of the reports: their recent figures and where they stand.

Ranks count the employees active in the range (at least one human click) for clicks, and the
employees with at least one lead for leads; equal values share a rank ("1, 2, 2, 4").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy.orm import Session

from linktracker.reports.filters import ReportFilters
from linktracker.reports.results import Contributor, RepRow
from linktracker.reports.services import TOP_CONTRIBUTORS, report_reps


@dataclass(frozen=True)
class OwnFigures:
    clicks: int
    unique_visitors: int
    leads: int
    won: int


@dataclass(frozen=True)
class Standing:
    """One employee among the others over a range: ranks and the top contributors."""

    handle: str
    active: int  # employees with at least one human click in range
    with_leads: int  # employees with at least one lead in range
    rank_by_clicks: int | None  # None: no click in range
    rank_by_leads: int | None  # None: no lead in range
    top_by_clicks: tuple[Contributor, ...]
    top_by_leads: tuple[Contributor, ...]


def report_own_figures(
    session: Session,
    handle: str,
    *,
    today: date,
    days: int,
    timezone: str,
    currency: str | None = None,
) -> OwnFigures:
    """This employee's clicks, unique visitors, leads and won over the last ``days`` days."""
    filters = ReportFilters(today - timedelta(days=days - 1), today, employee=handle)
    report = report_reps(session, filters, timezone=timezone, currency=currency)
    if not report.reps:
        return OwnFigures(0, 0, 0, 0)
    f = report.reps[0].figures
    return OwnFigures(f.clicks or 0, f.unique_visitors or 0, f.leads, f.won)


def _rank(rows: list[RepRow], handle: str, value: str) -> tuple[int, int | None]:
    """(how many have a positive value, this handle's competition rank or None)."""
    values = {r.employee.handle: getattr(r.figures, value) or 0 for r in rows}
    positive = [v for v in values.values() if v > 0]
    mine = values.get(handle, 0)
    if mine <= 0:
        return len(positive), None
    return len(positive), 1 + sum(1 for v in positive if v > mine)


def _top(rows: list[RepRow], value: str) -> tuple[Contributor, ...]:
    ranked = sorted(
        (r for r in rows if (getattr(r.figures, value) or 0) > 0),
        key=lambda r: (-(getattr(r.figures, value) or 0), r.employee.handle),
    )
    return tuple(
        Contributor(r.employee, float(getattr(r.figures, value) or 0))
        for r in ranked[:TOP_CONTRIBUTORS]
    )


def report_standing(
    session: Session,
    handle: str,
    filters: ReportFilters,
    *,
    timezone: str,
    currency: str | None = None,
) -> Standing:
    """Where this employee stands by clicks and by leads, and the top 10 of each, in range.

    Counted over every campaign, channel and team: a rank is the program's, whatever the page
    is filtered on."""
    everyone = replace(filters, campaign=None, channel=None, team=None, employee=None)
    rows = list(report_reps(session, everyone, timezone=timezone, currency=currency).reps)
    active, by_clicks = _rank(rows, handle, "clicks")
    with_leads, by_leads = _rank(rows, handle, "leads")
    return Standing(
        handle=handle,
        active=active,
        with_leads=with_leads,
        rank_by_clicks=by_clicks,
        rank_by_leads=by_leads,
        top_by_clicks=_top(rows, "clicks"),
        top_by_leads=_top(rows, "leads"),
    )
