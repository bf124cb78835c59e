"""Who takes part: joined employees with and without a human click in range, per team.

"Active" is the program report's: a joined employee with a human click in range on a link of
theirs (a share). The leaderboard lists only employees with activity; this is the other half.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker.employees.models import Employee
from linktracker.reports import figures as metrics
from linktracker.reports import groups
from linktracker.reports.filters import ReportFilters
from linktracker.reports.results import EmployeeRef
from linktracker.reports.scope import prepare_scope, resolve_scope


@dataclass(frozen=True)
class TeamParticipation:
    team: str | None
    joined: int
    active: int
    participation_rate: float | None


@dataclass(frozen=True)
class Participation:
    filters: ReportFilters
    timezone: str
    joined: int
    active: int
    participation_rate: float | None
    teams: tuple[TeamParticipation, ...]
    inactive: tuple[EmployeeRef, ...]  # joined, no human click in range; by name


def report_participation(
    session: Session, filters: ReportFilters, *, timezone: str
) -> Participation:
    """Joined and active employees per team, and the joined ones without activity in range."""
    scope = resolve_scope(session, filters, timezone)
    per_rep = groups.gather(
        session, scope, "employee", shares=True, split=prepare_scope(session, scope)
    )
    active_ids = {key for key, row in per_rep.traffic.items() if row.campaigns_shared}
    statement = select(Employee.id, Employee.handle, Employee.name, Employee.team).where(
        Employee.joined_at.is_not(None)
    )
    if filters.team is not None:
        statement = statement.where(Employee.team == filters.team)
    joined = session.execute(statement.order_by(Employee.name, Employee.id)).all()
    per_team: dict[str | None, list[int]] = {}
    for row in joined:
        counts = per_team.setdefault(row.team, [0, 0])
        counts[0] += 1
        counts[1] += row.id in active_ids
    teams = tuple(
        TeamParticipation(team, n, active, metrics.participation_rate(active, n))
        for team, (n, active) in sorted(
            per_team.items(), key=lambda item: (item[0] is None, item[0] or "")
        )
    )
    active = sum(team.active for team in teams)
    return Participation(
        filters=filters,
        timezone=timezone,
        joined=len(joined),
        active=active,
        participation_rate=metrics.participation_rate(active, len(joined)),
        teams=teams,
        inactive=tuple(
            EmployeeRef(row.handle, row.name, row.team)
            for row in joined
            if row.id not in active_ids
        ),
    )
