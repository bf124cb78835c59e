"""Per-UTC-day (and -month) rollups: the unfiltered leaderboard and program report sum days.

Why per UTC day: a visitor hash is keyed on the click's UTC day (clicks/visitor.py), so the
hashes of two different UTC days never coincide and distinct visitors over any set of whole
UTC days are the sum of each day's distinct visitors. Clicks, bots and previews are plain
counts. Links and campaigns shared are distinct over the range, so LinkDay keeps the
(rep, campaign, link) triples and the report de-duplicates those, far fewer than clicks.

A report splits its UTC interval into whole closed UTC days (read from the rollup) and at
most two live pieces: the partial first day that a non-UTC reporting time zone cuts off, and
the tail from the last whole day (or today's still-open UTC day) to the end, counted from the
clicks as before. The pieces cover disjoint UTC days, so every figure adds up exactly.

Why it stays exact without touching the click writers: click rows are written once, never
updated or deleted, so a day's set of rows can only grow. A refresh of day d stores the
day's row count (ClickDay.clicks_seen) in its FIRST statement, then writes the aggregates in
later statements, which see a superset of those rows. Before reading, a report compares the
stored counts with the live counts of those days (one range count; per day only when the sum
differs): equal counts mean the rows are the very ones the aggregates were built from. Any
late row — spool replay of hours-old clicks, a writer whose sequence value committed out of
order, demo data — changes a count and gets its day rebuilt wholesale. Ids play no part.

Whole UTC months inside the range are read from month rows built from the (fresh) day rows,
with the same trick one level up: a month stores the sum of its days' counts first, and is
rebuilt when that sum no longer matches the days' stored counts.

Each day is refreshed in its own short transaction (PostgreSQL: under an advisory lock per
day, so two refreshers cannot both insert), so a first refresh over a year never holds
SQLite's write lock for long and never touches what the redirect writes.

Reading the rollups: reports/rollup_queries.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    and_,
    case,
    delete,
    distinct,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Delete

from linktracker.clicks.models import Click
from linktracker.reports.models import ClickDay, ClickMonth, LinkDay, LinkMonth, RepDay, RepMonth
from linktracker.reports.queries import BOT, HUMAN, PREVIEW, Scope

ONE_DAY = timedelta(days=1)
DAY_LOCKS, MONTH_LOCKS = 0x4C54, 0x4C55  # PostgreSQL advisory lock keys: (kind, ordinal)
COUNTS_PER_STATEMENT = 200  # SQLite allows 500 terms in a compound SELECT


@dataclass(frozen=True)
class Split:
    """A scope as whole UTC days [first_day, end_day) from the rollup plus live pieces; the
    whole UTC months among those days, [first_month, end_month), are read from the month
    tables and only the loose days around them from the day tables."""

    first_day: date
    end_day: date
    live: tuple[Scope, ...]
    first_month: date
    end_month: date

    @property
    def has_days(self) -> bool:
        return self.end_day > self.first_day

    def loose_days(self, column: Any) -> Any:
        """WHERE term: a day column in the whole days but outside the whole months."""
        return or_(
            and_(column >= self.first_day, column < self.first_month),
            and_(column >= self.end_month, column < self.end_day),
        )

    def months(self) -> list[date]:
        months, month = [], self.first_month
        while month < self.end_month:
            months.append(month)
            month = _next_month(month)
        return months


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def in_day(day: date) -> tuple[Any, Any]:
    return Click.created_at >= midnight(day), Click.created_at < midnight(day + ONE_DAY)


def can_use(scope: Scope) -> bool:
    """Rollups hold whole-program traffic per rep: any advocacy filter needs the live query."""
    return (scope.campaign_id, scope.channel, scope.team, scope.employee_id) == (None,) * 4


def split_scope(scope: Scope, today: date) -> Split:
    """Whole UTC days of the scope before `today` (UTC), and the live pieces around them."""
    start_day = scope.start.astimezone(UTC).date()
    first = start_day if midnight(start_day) == scope.start else start_day + ONE_DAY
    end = min(scope.end.astimezone(UTC).date(), today)
    if end <= first:
        return Split(first, first, (scope,), first, first)
    live = []
    if scope.start < midnight(first):
        live.append(Scope(start=scope.start, end=midnight(first)))
    if midnight(end) < scope.end:
        live.append(Scope(start=midnight(end), end=scope.end))
    first_month = first if first.day == 1 else _next_month(first)
    end_month = end.replace(day=1)
    if end_month <= first_month:
        first_month = end_month = end
    return Split(first, end, tuple(live), first_month, end_month)


# ---------------------------------------------------------------- refresh


def live_counts(session: Session, days: Sequence[date]) -> dict[date, int]:
    counts: dict[date, int] = {}
    for start in range(0, len(days), COUNTS_PER_STATEMENT):
        chunk = days[start : start + COUNTS_PER_STATEMENT]
        parts = [
            select(literal(n).label("n"), func.count().label("clicks"))
            .select_from(Click)
            .where(*in_day(day))
            for n, day in enumerate(chunk)
        ]
        statement = union_all(*parts) if len(parts) > 1 else parts[0]
        counts.update({chunk[row.n]: int(row.clicks) for row in session.execute(statement)})
    return counts


def stale_days(session: Session, first_day: date, end_day: date) -> list[date]:
    """Days in [first_day, end_day) whose rollup is missing or was built from fewer rows."""
    days = [first_day + timedelta(days=n) for n in range((end_day - first_day).days)]
    if not days:
        return []
    stored = {
        row.day: row.clicks_seen
        for row in session.execute(
            select(ClickDay.day, ClickDay.clicks_seen).where(
                ClickDay.day >= first_day, ClickDay.day < end_day
            )
        )
    }
    if len(stored) == len(days):
        # Each live count >= its stored one (rows only grow), so equal sums mean equal days.
        total = session.scalar(
            select(func.count())
            .select_from(Click)
            .where(Click.created_at >= midnight(first_day), Click.created_at < midnight(end_day))
        )
        if total == sum(stored.values()):
            return []
    live = live_counts(session, days)
    return [day for day in days if stored.get(day) != live[day]]


def _begin_rebuild(session: Session, locks: int, key: date, old_rows: Sequence[Delete]) -> None:
    """Start rebuilding one day or month in a transaction of its own: rebuilds of the same
    key wait for each other (PostgreSQL), then its old rows go."""
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(locks, key.toordinal())))
    for statement in old_rows:
        session.execute(statement)


def refresh_day(session: Session, day: date) -> None:
    """Rebuild one UTC day's rollup rows in a transaction of its own, and commit."""
    old_rows = [delete(m).where(m.day == day) for m in (LinkDay, RepDay, ClickDay)]
    _begin_rebuild(session, DAY_LOCKS, day, old_rows)
    on_day = literal(day, Date)
    day_terms = in_day(day)
    # First: the row count the aggregates below are at least as new as (module docstring).
    session.execute(
        insert(ClickDay).from_select(
            ["day", "clicks_seen", "unique_visitors"],
            select(
                on_day,
                func.count(),
                func.count(distinct(case((HUMAN, Click.visitor_hash)))),
            ).where(*day_terms),
        )
    )
    session.execute(
        insert(RepDay).from_select(
            ["day", "employee_id", "clicks", "unique_visitors", "bot_clicks", "preview_clicks"],
            select(
                on_day,
                Click.employee_id,
                func.count(case((HUMAN, 1))),
                func.count(distinct(case((HUMAN, Click.visitor_hash)))),
                func.count(case((BOT, 1))),
                func.count(case((PREVIEW, 1))),
            )
            .where(*day_terms)
            .group_by(Click.employee_id),
        )
    )
    session.execute(
        insert(LinkDay).from_select(
            ["day", "employee_id", "campaign_id", "link_id"],
            select(on_day, Click.employee_id, Click.campaign_id, Click.link_id)
            .where(HUMAN, *day_terms)
            .group_by(Click.employee_id, Click.campaign_id, Click.link_id),
        )
    )
    session.commit()


def stale_months(session: Session, months: Sequence[date]) -> list[date]:
    """Months missing or built when their (fresh) days' counts summed to something else."""
    if not months:
        return []
    end = _next_month(months[-1])
    sums: dict[date, int] = defaultdict(int)
    for row in session.execute(
        select(ClickDay.day, ClickDay.clicks_seen).where(
            ClickDay.day >= months[0], ClickDay.day < end
        )
    ):
        sums[row.day.replace(day=1)] += row.clicks_seen
    stored = {
        row.month: row.clicks_seen
        for row in session.execute(
            select(ClickMonth.month, ClickMonth.clicks_seen).where(
                ClickMonth.month >= months[0], ClickMonth.month < end
            )
        )
    }
    return [month for month in months if stored.get(month) != sums[month]]


def refresh_month(session: Session, month: date) -> None:
    """Rebuild one whole month from its day rows (fresh: refreshed just before), and commit.

    Same order as a day: the day counts first, the aggregates after, so a day rebuilt in
    between makes the stored sum differ and the month is rebuilt on the next check."""
    old_rows = [delete(m).where(m.month == month) for m in (LinkMonth, RepMonth, ClickMonth)]
    _begin_rebuild(session, MONTH_LOCKS, month, old_rows)
    on_month = literal(month, Date)
    end = _next_month(month)
    session.execute(
        insert(ClickMonth).from_select(
            ["month", "clicks_seen"],
            select(on_month, func.coalesce(func.sum(ClickDay.clicks_seen), 0)).where(
                ClickDay.day >= month, ClickDay.day < end
            ),
        )
    )
    session.execute(
        insert(RepMonth).from_select(
            ["month", "employee_id", "clicks", "unique_visitors", "bot_clicks", "preview_clicks"],
            select(
                on_month,
                RepDay.employee_id,
                func.sum(RepDay.clicks),
                func.sum(RepDay.unique_visitors),
                func.sum(RepDay.bot_clicks),
                func.sum(RepDay.preview_clicks),
            )
            .where(RepDay.day >= month, RepDay.day < end)
            .group_by(RepDay.employee_id),
        )
    )
    session.execute(
        insert(LinkMonth).from_select(
            ["month", "employee_id", "campaign_id", "link_id"],
            select(on_month, LinkDay.employee_id, LinkDay.campaign_id, LinkDay.link_id)
            .where(LinkDay.day >= month, LinkDay.day < end)
            .group_by(LinkDay.employee_id, LinkDay.campaign_id, LinkDay.link_id),
        )
    )
    session.commit()


def refresh_days(session: Session, first_day: date, end_day: date) -> int:
    """Rebuild every stale day in [first_day, end_day); returns how many were rebuilt."""
    stale = stale_days(session, first_day, end_day)
    for day in stale:
        refresh_day(session, day)
    return len(stale)


def refresh_split(session: Session, split: Split) -> int:
    """Rebuild the split's stale days, then its stale whole months; returns the days rebuilt."""
    rebuilt = refresh_days(session, split.first_day, split.end_day)
    for month in stale_months(session, split.months()):
        refresh_month(session, month)
    return rebuilt


@dataclass(frozen=True)
class RefreshSummary:
    days: int  # closed UTC days from the first click's day to yesterday
    rebuilt: int  # of those, the days that were missing or had changed


def refresh_rollups(session: Session, today: date) -> RefreshSummary:
    """Roll up every closed UTC day (before `today`) since the first click, where needed."""
    first = session.scalar(select(func.min(Click.created_at)))
    if first is None:
        return RefreshSummary(0, 0)
    first_day = first.astimezone(UTC).date()
    end_day = max(first_day, today)
    whole = Scope(start=midnight(first_day), end=midnight(end_day))
    return RefreshSummary(
        (end_day - first_day).days, refresh_split(session, split_scope(whole, today))
    )


def prepare(session: Session, scope: Scope, today: date) -> Split | None:
    """The scope's split with its whole days refreshed, or None when filters need live SQL."""
    if not can_use(scope):
        return None
    split = split_scope(scope, today)
    refresh_split(session, split)
    return split
