"""select() builders that read the rollups: per-rep traffic and distinct visitors of a Split.

How the rollups stay exact, and how a report's interval splits into whole UTC months, loose
whole days and live pieces: reports/rollup.py. Each builder here gives the same rows as its
live counterpart in reports/queries.py over the same clicks.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, and_, case, cast, distinct, func, select, union, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from linktracker.clicks.models import Click
from linktracker.reports import queries
from linktracker.reports.models import ClickDay, LinkDay, LinkMonth, RepDay, RepMonth
from linktracker.reports.queries import BOT, HUMAN, PREVIEW, Query, Scope
from linktracker.reports.rollup import Split

SUMMED = ("clicks", "unique_visitors", "bot_clicks", "preview_clicks")


def shared_query(split: Split, *, campaigns: bool = False, union_first: bool = True) -> Query:
    """Per rep: distinct links (and campaigns) with a human click, from the whole months, the
    loose days and the live pieces together: a link counts once however often it recurs.

    union_first: de-duplicate the triples with UNION before counting per rep, which suits
    PostgreSQL's hashing; SQLite's count(DISTINCT) over UNION ALL beats its UNION b-tree.
    Same counts either way."""
    parts: list[Query] = []
    if split.has_days:
        parts.append(
            select(LinkMonth.employee_id, LinkMonth.campaign_id, LinkMonth.link_id).where(
                LinkMonth.month >= split.first_month, LinkMonth.month < split.end_month
            )
        )
        parts.append(
            select(LinkDay.employee_id, LinkDay.campaign_id, LinkDay.link_id).where(
                split.loose_days(LinkDay.day)
            )
        )
    parts += [
        select(Click.employee_id, Click.campaign_id, Click.link_id).where(
            HUMAN, *queries.click_conditions(piece)
        )
        for piece in split.live
    ]
    if len(parts) == 1:
        triples = parts[0].subquery()
    else:
        triples = (union(*parts) if union_first else union_all(*parts)).subquery()
    statement: Query = select(
        triples.c.employee_id.label("key"),
        func.count(distinct(triples.c.link_id)).label("links_shared"),
    ).group_by(triples.c.employee_id)
    if campaigns:
        statement = statement.add_columns(
            func.count(distinct(triples.c.campaign_id)).label("campaigns_shared")
        )
    return statement


def _live_sums(piece: Scope) -> Query:
    """Per-rep sums of a live piece, as traffic_query counts them. Grouped by employee_id + 0:
    for a few hours of clicks SQLite then reads the created_at index instead of skip-scanning
    the per-rep index with a seek per rep."""
    key = (Click.employee_id + 0).label("key")
    statement: Query = (
        select(
            key,
            func.count(case((HUMAN, 1))).label("clicks"),
            func.count(distinct(case((HUMAN, Click.visitor_hash)))).label("unique_visitors"),
            func.count(case((BOT, 1))).label("bot_clicks"),
            func.count(case((PREVIEW, 1))).label("preview_clicks"),
        )
        .where(*queries.click_conditions(piece))
        .group_by(key)
    )
    return statement


def rep_traffic_query(split: Split, *, shares: bool = False, union_first: bool = True) -> Query:
    """key, clicks, unique_visitors, bot_clicks, preview_clicks, links_shared (and with
    `shares` campaigns_shared) per rep, as the live traffic_query gives them: the sums of the
    whole months, the loose whole days and the live pieces (one statement, so the database
    adds up the ~40,000 rows and returns one row per rep)."""
    parts: list[Query] = []
    if split.has_days:
        parts += [
            select(model.employee_id.label("key"), *(getattr(model, c).label(c) for c in SUMMED))
            .where(term)
            for model, term in (
                (RepMonth, and_(RepMonth.month >= split.first_month,
                                RepMonth.month < split.end_month)),
                (RepDay, split.loose_days(RepDay.day)),
            )
        ]  # fmt: skip
    parts += [_live_sums(piece) for piece in split.live]
    rows = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    sums = (
        # PostgreSQL sums bigint counts as numeric: back to integers, as the live counts are.
        select(rows.c.key, *(cast(func.sum(rows.c[c]), BigInteger).label(c) for c in SUMMED))
        .group_by(rows.c.key)
        .subquery()
    )
    shared = shared_query(split, campaigns=shares, union_first=union_first).subquery()
    columns = [sums.c.key, *(sums.c[c] for c in SUMMED)]
    columns.append(func.coalesce(shared.c.links_shared, 0).label("links_shared"))
    if shares:
        columns.append(func.coalesce(shared.c.campaigns_shared, 0).label("campaigns_shared"))
    statement: Query = select(*columns).select_from(
        sums.outerjoin(shared, shared.c.key == sums.c.key)
    )
    return statement


def rep_traffic(connection: Connection, split: Split, *, shares: bool = False) -> dict[int, Any]:
    """Per-rep traffic rows of the split's scope, equal to the live traffic_query's rows."""
    union_first = connection.dialect.name == "postgresql"
    statement = rep_traffic_query(split, shares=shares, union_first=union_first)
    return {row.key: row for row in connection.execute(statement)}


def unique_visitors(session: Session, split: Split) -> int:
    """Distinct human visitors across reps: whole days' sums plus the live pieces."""
    total = 0
    if split.end_day > split.first_day:
        total += int(
            session.scalar(
                select(func.sum(ClickDay.unique_visitors)).where(
                    ClickDay.day >= split.first_day, ClickDay.day < split.end_day
                )
            )
            or 0
        )
    for piece in split.live:
        total += int(session.scalar(queries.unique_visitors_query(piece)) or 0)
    return total
