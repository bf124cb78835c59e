"""The recruiting report: job-link clicks, applications, referrals, hires and time to hire.

For a date range (inclusive calendar days in the reporting time zone), optionally one team
and one job:

* **job-link clicks**: human, non-preview clicks on campaigns of goal ``recruiting``,
  counted by click time;
* **applications**: applications applied in the range (``job``: that job title only);
  a rep's are those credited to them by any method (click id, UTM, referral);
* **referrals**: of those, the ones credited by the referrer column (method ``referral``);
* **hires**: of those, the hired ones;
* **median days to hire**: over those hires with a hired date, the median of days from the
  first contact (else the application) to the hire, rounded to 0.1; ``None`` without one.

``reps`` lists each employee (of ``team``) with a job-link click or an application in the
range, by applications, then clicks, then name; ``baseline`` is the applications credited
to nobody (method ``none``: every other source); ``jobs`` counts every application per job;
``program`` sums the reps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.campaigns.models import Campaign
from linktracker.clicks.models import HUMAN_CLICK, Click
from linktracker.employees.models import Employee
from linktracker.recruiting.models import Application
from linktracker.reports.figures import SECONDS_PER_DAY, median
from linktracker.reports.filters import ReportFilters
from linktracker.reports.present import Table
from linktracker.reports.scope import resolve_scope

__all__ = [
    "list_jobs",
    "RecruitingFigures",
    "RecruitingReport",
    "recruiting_dict",
    "recruiting_table",
    "report_recruiting",
]


def days_to_hire(
    applied_at: datetime, first_contact_at: datetime | None, hired_at: datetime
) -> float | None:
    """Days from the first contact (else the application) to the hire; None if negative."""
    seconds = (hired_at - (first_contact_at or applied_at)).total_seconds()
    return seconds / SECONDS_PER_DAY if seconds >= 0 else None


@dataclass
class RecruitingFigures:
    """One row's figures: applications, referrals, hires, and the days each hire took."""

    clicks: int = 0
    applications: int = 0
    referrals: int = 0
    hires: int = 0
    days: list[float] = field(default_factory=list)

    @property
    def median_days_to_hire(self) -> float | None:
        value = median(self.days)
        return None if value is None else round(value, 1)

    def add(self, method: str, hired: bool, days: float | None) -> None:
        self.applications += 1
        self.referrals += method == "referral"
        if hired:
            self.hires += 1
            if days is not None:
                self.days.append(days)


@dataclass(frozen=True)
class RepRow:
    handle: str
    name: str
    team: str | None
    figures: RecruitingFigures


@dataclass(frozen=True)
class RecruitingReport:
    date_from: str
    date_to: str
    team: str | None
    job: str | None
    reps: list[RepRow]
    baseline: RecruitingFigures
    jobs: list[tuple[str | None, int, int]]
    program: RecruitingFigures


def report_recruiting(
    session: Session, filters: ReportFilters, *, timezone: str, job: str | None = None
) -> RecruitingReport:
    """The recruiting report for the filters' range and team (and one job when given)."""
    scope = resolve_scope(session, filters, timezone)
    employees = select(Employee.id)
    if filters.team is not None:
        employees = employees.where(Employee.team == filters.team)
    clicks = dict(
        session.execute(
            select(Click.employee_id, func.count())
            .join(Campaign, Campaign.id == Click.campaign_id)
            .where(
                Campaign.goal == "recruiting",
                HUMAN_CLICK,
                Click.created_at >= scope.start,
                Click.created_at < scope.end,
                Click.employee_id.in_(employees),
            )
            .group_by(Click.employee_id)
        ).all()
    )
    query = select(
        Application.employee_id,
        Application.attribution_method,
        Application.job,
        Application.hired,
        Application.applied_at,
        Application.first_contact_at,
        Application.hired_at,
    ).where(Application.applied_at >= scope.start, Application.applied_at < scope.end)
    if job is not None:
        query = query.where(Application.job == job)
    team_ids = None
    if filters.team is not None:
        team_ids = set(session.scalars(employees))
    per_rep: dict[int, RecruitingFigures] = defaultdict(RecruitingFigures)
    baseline = RecruitingFigures()
    jobs: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    for employee_id, method, job_title, hired, applied, first, hired_at in session.execute(query):
        days = days_to_hire(applied, first, hired_at) if hired and hired_at else None
        counts = jobs[job_title]
        counts[0] += 1
        counts[1] += bool(hired)
        if employee_id is None or method == "none":
            baseline.add(method, hired, days)
        elif team_ids is None or employee_id in team_ids:
            per_rep[employee_id].add(method, hired, days)
    for employee_id, count in clicks.items():
        per_rep[employee_id].clicks = count
    return RecruitingReport(
        date_from=filters.date_from.isoformat(),
        date_to=filters.date_to.isoformat(),
        team=filters.team,
        job=job,
        reps=_rep_rows(session, per_rep),
        baseline=baseline,
        jobs=sorted(
            ((title, a, h) for title, (a, h) in jobs.items()),
            key=lambda row: (-row[1], row[0] is None, row[0] or ""),
        ),
        program=_summed(per_rep.values()),
    )


def list_jobs(session: Session) -> list[str]:
    """Every job title applications name, for the job filter."""
    query = select(Application.job).where(Application.job.is_not(None)).distinct()
    return sorted(job for job in session.scalars(query) if job)


def _rep_rows(session: Session, per_rep: dict[int, RecruitingFigures]) -> list[RepRow]:
    if not per_rep:
        return []
    people = session.execute(
        select(Employee.id, Employee.handle, Employee.name, Employee.team).where(
            Employee.id.in_(list(per_rep))
        )
    )
    rows = [RepRow(handle, name, team, per_rep[id_]) for id_, handle, name, team in people]
    rows.sort(key=lambda r: (-r.figures.applications, -r.figures.clicks, r.name, r.handle))
    return rows


def _summed(rows: Iterable[RecruitingFigures]) -> RecruitingFigures:
    total = RecruitingFigures()
    for row in rows:
        total.clicks += row.clicks
        total.applications += row.applications
        total.referrals += row.referrals
        total.hires += row.hires
        total.days.extend(row.days)
    return total


def recruiting_dict(report: RecruitingReport) -> dict[str, Any]:
    """The API shape of the recruiting report."""
    program = report.program
    return {
        "from": report.date_from,
        "to": report.date_to,
        "team": report.team,
        "job": report.job,
        "reps": [
            {
                "employee": {"handle": r.handle, "name": r.name, "team": r.team},
                "clicks": r.figures.clicks,
                "applications": r.figures.applications,
                "referrals": r.figures.referrals,
                "hires": r.figures.hires,
                "median_days_to_hire": r.figures.median_days_to_hire,
            }
            for r in report.reps
        ],
        "baseline": {
            "applications": report.baseline.applications,
            "hires": report.baseline.hires,
            "median_days_to_hire": report.baseline.median_days_to_hire,
        },
        "jobs": [{"job": job, "applications": a, "hires": h} for job, a, h in report.jobs],
        "program": {
            "job_link_clicks": program.clicks,
            "applications": program.applications,
            "referrals": program.referrals,
            "hires": program.hires,
            "median_days_to_hire": program.median_days_to_hire,
        },
    }


_REP_HEADER = [
    "handle",
    "name",
    "team",
    "clicks",
    "applications",
    "referrals",
    "hires",
    "median_days_to_hire",
]


def recruiting_table(report: RecruitingReport, name: str = "reps") -> Table:
    """One of the report's tables (``reps`` with the baseline and program rows, ``jobs``)."""
    if name == "jobs":
        return ["job", "applications", "hires"], [[j, a, h] for j, a, h in report.jobs]
    rows: list[list[object]] = [
        [
            r.handle,
            r.name,
            r.team,
            f.clicks,
            f.applications,
            f.referrals,
            f.hires,
            f.median_days_to_hire,
        ]
        for r in report.reps
        for f in (r.figures,)
    ]
    b, p = report.baseline, report.program
    rows.append(
        [
            "(baseline)",
            "all other sources",
            None,
            None,
            b.applications,
            None,
            b.hires,
            b.median_days_to_hire,
        ]
    )
    rows.append(
        [
            "(program)",
            "all reps",
            None,
            p.clicks,
            p.applications,
            p.referrals,
            p.hires,
            p.median_days_to_hire,
        ]
    )
    return _REP_HEADER, rows
