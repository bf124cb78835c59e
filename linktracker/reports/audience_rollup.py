"""Per-UTC-day counts of every breakdown: the program-wide breakdowns add up closed days.

Same reasoning as reports/rollup.py, whose Split this reuses: a visitor hash is keyed on the
click's UTC day, so distinct visitors of any value over whole UTC days are the sum of each
day's distinct visitors, and click counts simply add up. A report's interval is whole closed
UTC days (read here) plus at most two live pieces (the first UTC day cut by a local midnight,
and the tail up to the end or to today's open day), counted from the clicks.

Hour, weekday and day are local times, so a day's rows are built in one reporting time zone
and stored with it: any zone works (half-hour offsets, DST changes inside the day), because
a key is computed per click from the zone's offset at that instant, and the day's distinct
visitors of an hour are counted over the whole UTC day. A change of the zone setting makes
every day stale; the next report rebuilds the days it reads.

Exactness with late rows (spool replays, demo data, writers committing out of order): the
day's row count is stored in the FIRST statement of its rebuild and the aggregates written
after it see a superset of those rows, so a day whose live count equals its stored one is
complete (rows only grow). Before reading, `settle` finds the days that may have grown
without counting the range: it reads only the clicks stored since a mark (AudienceMark), in
the order clicks.export pages them for the same reason (SQLite: by id, as one writer at a
time makes ids visible in order; PostgreSQL: by the storing transaction's id from the last
horizon on, so a row committed late with a low id is still read), compares each rolled-up
day they fall on with its live count, drops the grown ones and moves the mark to the
horizon taken before reading. A dropped or missing day is rebuilt wholesale when read, in a
transaction of its own (PostgreSQL: under an advisory lock per day, which `settle` waits
for too, so a rebuild under way is compared after it commits).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from datetime import UTC, date, timedelta
from typing import Any

from sqlalchemy import Date, cast, delete, distinct, func, insert, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from linktracker.clicks.export import read_horizon
from linktracker.clicks.models import Click
from linktracker.reports import audience_queries as q
from linktracker.reports.models import AudienceCount, AudienceDay, AudienceMark
from linktracker.reports.queries import Scope
from linktracker.reports.rollup import Split, in_day, live_counts, midnight, split_scope

MARK_ID = 1
AUDIENCE_LOCKS = 0x4C56  # PostgreSQL advisory lock key: (kind, day ordinal)
STORED = (*q.DIMENSIONS, q.MATRIX, q.WEEK_HOURS, *q.TOTALS)
TOTAL_NAMES = ("clicks", "unique_visitors", "bots", "previews", "bot_requests", "bot_visitors")


def _bound(session: Session, dialect: str) -> int:
    """A position every click stored from now on is at or above (see AudienceMark)."""
    if dialect == "postgresql":
        return read_horizon(session)
    return int(session.scalar(select(func.coalesce(func.max(Click.id), 0))) or 0) + 1


def _utc_day(dialect: str) -> Any:
    if dialect == "postgresql":
        return cast(func.timezone("UTC", Click.created_at), Date)
    return func.date(Click.created_at)  # stored as naive UTC text


def _touched_days(session: Session, dialect: str, since: int) -> set[date]:
    """UTC days of the clicks stored at or after position `since` (read from its index)."""
    position = Click.xact_id if dialect == "postgresql" else Click.id
    day = _utc_day(dialect).label("day")
    found = session.scalars(select(day).where(position >= since).group_by(day))
    return {value if isinstance(value, date) else date.fromisoformat(value) for value in found}


def settle(session: Session) -> None:
    """Drop the rolled-up days whose clicks changed since the mark, then move the mark.

    Reads only the clicks stored since the mark (SQLite: by id, PostgreSQL: by transaction
    id from the horizon on, clicks committed late included); a day they fall on is compared
    with its live count, and dropped (rebuilt when next read) when it grew. Without a mark,
    every rolled-up day is counted once."""
    dialect = session.get_bind().dialect.name
    bound = _bound(session, dialect)
    mark = session.scalar(select(AudienceMark.position).where(AudienceMark.id == MARK_ID))
    touched: set[date] = set()
    if mark is None:
        candidates = sorted(session.scalars(select(AudienceDay.day)))
    else:
        touched = _touched_days(session, dialect, mark)
        candidates = sorted(session.scalars(select(AudienceDay.day).where(
            AudienceDay.day.in_(touched)))) if touched else []  # fmt: skip
    if candidates:
        if dialect == "postgresql":
            # Wait for a rebuild of a candidate under way; its row is then read below.
            for day in candidates:
                session.execute(select(func.pg_advisory_xact_lock(AUDIENCE_LOCKS, day.toordinal())))
        stored = {row.day: row.clicks_seen for row in session.execute(
            select(AudienceDay.day, AudienceDay.clicks_seen).where(
                AudienceDay.day.in_(candidates)))}  # fmt: skip
        live = live_counts(session, candidates)
        changed = [day for day in candidates if day in stored and stored[day] != live[day]]
        if changed:
            session.execute(delete(AudienceDay).where(AudienceDay.day.in_(changed)))
    # No click since the mark: it stays (moving it would cost PostgreSQL a write per report).
    if mark is None or (touched and mark != bound):
        insert_for = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert_for(AudienceMark).values(id=MARK_ID, position=bound)
        session.execute(statement.on_conflict_do_update(
            index_elements=["id"], set_={"position": bound}))  # fmt: skip
    session.commit()


def stale_days(session: Session, first_day: date, end_day: date, timezone: str) -> list[date]:
    """Days in [first_day, end_day) missing, built in another zone or from fewer rows."""
    days = [first_day + timedelta(days=n) for n in range((end_day - first_day).days)]
    if not days:
        return []
    settle(session)
    stored: dict[date, str] = {
        row.day: row.timezone
        for row in session.execute(
            select(AudienceDay.day, AudienceDay.timezone).where(
                AudienceDay.day >= first_day, AudienceDay.day < end_day
            )
        )
    }
    return [day for day in days if stored.get(day) != timezone]


def refresh_day(session: Session, day: date, timezone: str) -> None:
    """Rebuild one UTC day's audience rows in a transaction of its own, and commit."""
    session.commit()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(AUDIENCE_LOCKS, day.toordinal())))
    session.execute(delete(AudienceCount).where(AudienceCount.dimension.in_(STORED),
                                                AudienceCount.day == day))  # fmt: skip
    session.execute(delete(AudienceDay).where(AudienceDay.day == day))
    # First: the row count the aggregates below are at least as new as (module docstring).
    session.execute(
        insert(AudienceDay).from_select(
            ["day", "timezone", "clicks_seen"],
            select(literal(day, Date), literal(timezone), func.count()).where(*in_day(day)),
        )
    )
    piece = (midnight(day), midnight(day + timedelta(days=1)))
    spans = q.offsets(zoneinfo.ZoneInfo(timezone), *piece)
    columns = ["dimension", "campaign_id", "day", "key", "clicks", "unique_visitors"]
    for dimension in STORED:
        key = q.stored_key(q.key_column(dimension, dialect, spans)).label("key")
        # The whole program (campaign 0), then each campaign.
        for campaign, groups in (
            (literal(0), (key,)),
            (Click.campaign_id, (Click.campaign_id, key)),
        ):
            session.execute(
                insert(AudienceCount).from_select(
                    columns,
                    select(
                        literal(dimension),
                        campaign,
                        literal(day, Date),
                        key,
                        func.count(),
                        func.count(distinct(Click.visitor_hash)),
                    )
                    .where(q.population(dimension), *in_day(day))
                    .group_by(*groups),
                )
            )
    session.commit()


def prepare(session: Session, scope: Scope, timezone: str, today: date) -> Split | None:
    """The scope's split with its whole days fresh, or None when filters need live SQL
    (the rollup holds the whole program and each campaign: a channel, team or rep filter)."""
    if (scope.channel, scope.team, scope.employee_id) != (None,) * 3:
        return None
    split = split_scope(scope, today)
    for day in stale_days(session, split.first_day, split.end_day, timezone):
        refresh_day(session, day, timezone)
    return split


def refresh_all(session: Session, timezone: str, today: date) -> int:
    """Roll up every closed UTC day since the first click where needed; days rebuilt."""
    first = session.scalar(select(func.min(Click.created_at)))
    if first is None:
        return 0
    stale = stale_days(session, first.astimezone(UTC).date(), today, timezone)
    for day in stale:
        refresh_day(session, day, timezone)
    return len(stale)


def stored_rows(
    session: Session, split: Split, dimension: str, campaign_id: int | None
) -> Sequence[tuple[str, int, int]]:
    """(key, clicks, unique_visitors) of the split's whole days, summed per key, for the
    whole program or one campaign."""
    if not split.has_days:
        return []
    rows = session.execute(
        select(
            AudienceCount.key,
            func.sum(AudienceCount.clicks),
            func.sum(AudienceCount.unique_visitors),
        )
        .where(
            AudienceCount.dimension == dimension,
            AudienceCount.campaign_id == (campaign_id or 0),
            AudienceCount.day >= split.first_day,
            AudienceCount.day < split.end_day,
        )
        .group_by(AudienceCount.key)
    )
    return [(row[0], int(row[1]), int(row[2])) for row in rows]


def stored_totals(session: Session, split: Split, campaign_id: int | None) -> dict[str, int]:
    """The whole days' totals: clicks, unique_visitors, bots, previews, bot_requests and
    bot_visitors."""
    sums = dict.fromkeys(TOTAL_NAMES, 0)
    for dimension, names in q.TOTALS.items():
        for _key, clicks, visitors in stored_rows(session, split, dimension, campaign_id):
            sums[names[0]] += clicks
            if names[1]:
                sums[names[1]] += visitors
    return sums
