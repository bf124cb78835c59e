"""Per-group counts of one report dimension, read in SQL and turned into Figures.

A group is a rep, a campaign, a channel, a link or "all" (queries.Dimension). Counting
happens in SQL; Python only joins the small per-group results and collects the won records'
durations, whose medians SQLite cannot compute in SQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker.employees.models import Employee
from linktracker.reports import queries, rollup_queries
from linktracker.reports.figures import CloseTimes, group_figures
from linktracker.reports.queries import Dimension, Scope
from linktracker.reports.results import EmployeeRef, Figures
from linktracker.reports.rollup import Split

CENTS = Decimal("0.01")
IN_LIST_LIMIT = 200


@dataclass(frozen=True)
class Grouped:
    """Per-key raw aggregates of one dimension."""

    traffic: dict[Any, Any]
    leads: dict[Any, tuple[int, int]]
    revenue: dict[Any, dict[str, Decimal]]
    close_times: dict[Any, CloseTimes]

    def groups(self) -> set[Any]:
        """Every key with traffic or leads."""
        return set(self.traffic) | set(self.leads)

    def figures(self, key: Any, *, traffic: bool = True) -> Figures:
        """The Figures of one key (without `traffic`: the baseline's, traffic left out)."""
        leads, won = self.leads.get(key, (0, 0))
        return group_figures(
            self.traffic.get(key),
            leads,
            won,
            self.close_times.get(key, CloseTimes()),
            self.revenue.get(key, {}),
            with_traffic=traffic,
        )


def gather(
    session: Session,
    scope: Scope,
    dimension: Dimension,
    *,
    advocacy: bool = True,
    shares: bool = False,
    split: Split | None = None,
) -> Grouped:
    """Traffic, leads, revenue and close times per key of `dimension` (without `advocacy`:
    leads of non-advocacy records only, no traffic); per rep from the rollup given a split."""
    # Core execution on the session's connection: these are plain column rows, and the ORM's
    # per-row loading costs more than the queries on a 2,000-rep leaderboard.
    connection = session.connection()
    traffic: dict[Any, Any] = {}
    if advocacy and split is not None and dimension == "employee":
        traffic = rollup_queries.rep_traffic(connection, split, shares=shares)
    elif advocacy:
        traffic = {
            row.key: row
            for row in connection.execute(queries.traffic_query(scope, dimension, shares=shares))
        }
    leads = {
        key: (int(n), int(won))
        for key, n, won in connection.execute(
            queries.leads_query(scope, dimension, advocacy=advocacy)
        )
        if n
    }
    # Won records are few: one pass gives time to close (medians need the values) and revenue.
    revenue: dict[Any, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    close_times: dict[Any, CloseTimes] = defaultdict(CloseTimes)
    won_rows = connection.execute(queries.won_records_query(scope, dimension, advocacy=advocacy))
    for key, created_at, closed_at, seconds_from_click, currency, amount in won_rows:
        close_times[key].add(created_at, closed_at, seconds_from_click)
        if amount is not None:
            revenue[key][currency] += Decimal(amount).quantize(CENTS)
    return Grouped(traffic, leads, {k: dict(v) for k, v in revenue.items()}, dict(close_times))


@dataclass(frozen=True)
class _Traffic:
    clicks: int
    unique_visitors: int
    bot_clicks: int
    preview_clicks: int
    links_shared: int


def combined(
    session: Session, scope: Scope, per_rep: Grouped, split: Split | None = None
) -> Grouped:
    """Whole-advocacy aggregates (key 0) from the per-rep ones: every click, link and
    attributed record belongs to exactly one rep, so sums are exact; only distinct visitors
    need SQL."""
    rows = per_rep.traffic.values()
    traffic = _Traffic(
        clicks=sum(r.clicks for r in rows),
        unique_visitors=rollup_queries.unique_visitors(session, split)
        if split is not None
        else int(session.scalar(queries.unique_visitors_query(scope)) or 0),
        bot_clicks=sum(r.bot_clicks for r in rows),
        preview_clicks=sum(r.preview_clicks for r in rows),
        links_shared=sum(r.links_shared for r in rows),
    )
    leads = sum(n for n, _ in per_rep.leads.values())
    won = sum(w for _, w in per_rep.leads.values())
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for amounts in per_rep.revenue.values():
        for currency, amount in amounts.items():
            revenue[currency] += amount
    close_times = CloseTimes()
    for part in per_rep.close_times.values():
        close_times.merge(part)
    return Grouped(
        {0: traffic}, {0: (leads, won)} if leads else {}, {0: dict(revenue)}, {0: close_times}
    )


def baseline(session: Session, scope: Scope) -> Figures:
    """ "All other sources": every non-advocacy record created in the scope's interval."""
    return gather(session, scope, "all", advocacy=False).figures(0, traffic=False)


def totals_and_baseline(
    session: Session, scope: Scope, split: Split | None
) -> tuple[Figures, Figures]:
    """The whole advocacy program's figures and the baseline's."""
    per_rep = gather(session, scope, "employee", split=split)
    totals = combined(session, scope, per_rep, split).figures(0)
    return totals, baseline(session, scope)


def employee_rows(session: Session, ids: Iterable[int]) -> dict[int, Any]:
    """id, handle, name, team and connections of these employees. Beyond IN_LIST_LIMIT ids
    the whole table is read instead: sending and parsing a long IN list costs more than
    reading as many short rows."""
    wanted = {i for i in ids if i is not None}
    statement = select(
        Employee.id, Employee.handle, Employee.name, Employee.team, Employee.connections
    )
    if len(wanted) <= IN_LIST_LIMIT:
        statement = statement.where(Employee.id.in_(wanted))
    rows = session.connection().execute(statement)  # Core rows: no ORM loading per row
    return {row.id: row for row in rows if row.id in wanted}


def employee_refs(rows: Mapping[int, Any]) -> dict[int, EmployeeRef]:
    """EmployeeRefs of employee_rows' rows, by id."""
    return {key: EmployeeRef(row.handle, row.name, row.team) for key, row in rows.items()}
