"""select() builders for click breakdowns: one dimension's key per click, counted in SQL.

Local times (hour, weekday, day) come from the click's UTC instant plus the reporting time
zone's UTC offset at that instant. Offsets are constant between the zone's transitions, so
the offset is a CASE over the few transitions inside the interval and the rest is integer
arithmetic on epoch seconds: exact for any zone, half-hour and DST changes included.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    String,
    case,
    cast,
    distinct,
    func,
    literal,
    not_,
    select,
)

from linktracker.clicks.models import Click
from linktracker.reports.queries import BOT, HUMAN, PREVIEW, Query, Scope, click_conditions

Dimension = Literal[
    "referrer_host",
    "referrer_channel",
    "link_channel",
    "country",
    "device",
    "browser",
    "os",
    "hour",
    "weekday",
    "day",
    "bot_name",
]
DIMENSIONS: tuple[Dimension, ...] = (
    "referrer_host",
    "referrer_channel",
    "link_channel",
    "country",
    "device",
    "browser",
    "os",
    "hour",
    "weekday",
    "day",
    "bot_name",
)
LOCAL = ("hour", "weekday", "day")
# Not a `by=`: the referrer channel beside the link's channel, for the mismatch matrix.
MATRIX = "channel_pair"
# Not a `by=` either: weekday * 24 + hour, for the heatmap.
WEEK_HOURS = "week_hour"
# The rollup's totals, each one row per day (key ''): what it counts, as
# (name of its clicks, name of its unique visitors or '').
TOTALS = {
    "total": ("clicks", "unique_visitors"),
    "bot_total": ("bot_requests", "bot_visitors"),
    "bots": ("bots", ""),
    "previews": ("previews", ""),
}
PAIR_SEPARATOR = "\t"
EPOCH_DAY = date(1970, 1, 1).toordinal()

ONE_DAY = timedelta(days=1)
ONE_SECOND = timedelta(seconds=1)


def offsets(zone: zoneinfo.ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The zone's UTC offsets (seconds) over [start, end): (from instant, offset) pairs, the
    first from `start`. Found day by day, each change pinned to the second by bisection."""

    def offset(moment: datetime) -> int:
        delta = moment.astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    found = [(start, offset(start))]
    moment = start
    while moment < end:
        step = min(moment + ONE_DAY, end)
        if offset(step) != found[-1][1]:
            low, high = moment, step  # offset(low) is the current one, offset(high) is not
            while high - low > ONE_SECOND:
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if middle <= low:
                    break
                if offset(middle) == found[-1][1]:
                    low = middle
                else:
                    high = middle
            found.append((high, offset(high)))
        moment = step
    return found


def _epoch_seconds(dialect: str) -> ColumnElement[int]:
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", Click.created_at)), BigInteger)
    return cast(func.strftime("%s", Click.created_at), Integer)


def local_seconds(dialect: str, spans: Sequence[tuple[datetime, int]]) -> ColumnElement[int]:
    """Epoch seconds of the click's local wall-clock time (offsets as `offsets` gives them)."""
    if len(spans) == 1:
        shift: Any = literal(spans[0][1])
    else:
        whens = [(Click.created_at < spans[n + 1][0], spans[n][1]) for n in range(len(spans) - 1)]
        shift = case(*whens, else_=spans[-1][1])
    result: ColumnElement[int] = _epoch_seconds(dialect) + shift
    return result


def key_column(dimension: str, dialect: str, spans: Sequence[tuple[datetime, int]]) -> Any:
    """The dimension's value of a click: text, or for hour, weekday and day an integer (day:
    days since 1970-01-01 in local time)."""
    plain = {
        "referrer_host": Click.referrer_host,
        "referrer_channel": Click.referrer_channel,
        "link_channel": Click.channel,
        "country": Click.country,
        "device": Click.device_type,
        "browser": Click.browser,
        "os": Click.os,
        "bot_name": Click.bot_name,
    }
    if dimension in plain:
        return plain[dimension]
    if dimension in TOTALS:
        return literal("")
    if dimension == MATRIX:
        return func.coalesce(Click.referrer_channel, "") + PAIR_SEPARATOR + Click.channel
    seconds = local_seconds(dialect, spans)
    if dimension == "hour":
        return (seconds // 3600) % 24
    if dimension == WEEK_HOURS:
        return ((seconds // 86400 + 3) % 7) * 24 + (seconds // 3600) % 24
    days = seconds // 86400
    if dimension == "weekday":
        return (days + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    if dimension == "day":
        return days
    raise ValueError(dimension)


def population(dimension: str) -> ColumnElement[bool]:
    """Which requests a breakdown counts: people's clicks, or for bot_name bots and previews."""
    if dimension in ("bot_name", "bot_total"):
        return not_(HUMAN)
    return {"bots": BOT, "previews": PREVIEW}.get(dimension, HUMAN)


def breakdown_query(
    scope: Scope,
    dimension: str,
    dialect: str,
    spans: Sequence[tuple[datetime, int]],
    link_id: int | None = None,
) -> Query:
    """key, clicks, unique_visitors per value of the dimension, over the scope's clicks."""
    key = key_column(dimension, dialect, spans).label("key")
    statement: Query = (
        select(
            key,
            func.count().label("clicks"),
            func.count(distinct(Click.visitor_hash)).label("unique_visitors"),
        )
        .where(population(dimension), *conditions(scope, link_id))
        .group_by(key)
    )
    return statement


def totals_query(scope: Scope, link_id: int | None = None) -> Query:
    """clicks, unique_visitors (people), bots, previews, bot_requests and bot_visitors."""
    statement: Query = select(
        func.count(case((HUMAN, 1))).label("clicks"),
        func.count(distinct(case((HUMAN, Click.visitor_hash)))).label("unique_visitors"),
        func.count(case((BOT, 1))).label("bots"),
        func.count(case((PREVIEW, 1))).label("previews"),
        func.count(case((not_(HUMAN), 1))).label("bot_requests"),
        func.count(distinct(case((not_(HUMAN), Click.visitor_hash)))).label("bot_visitors"),
    ).where(*conditions(scope, link_id))
    return statement


def conditions(scope: Scope, link_id: int | None = None) -> list[ColumnElement[bool]]:
    """The scope's click terms, narrowed to one link when asked."""
    terms = click_conditions(scope)
    if link_id is not None:
        terms.append(Click.link_id == link_id)
    return terms


def stored_key(column: Any) -> Any:
    """A key as the rollup stores it: text, '' where unknown."""
    return func.coalesce(cast(column, String), "")
