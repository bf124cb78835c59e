"""Where the clicks come from: breakdowns by referrer, channel, country, device, time, bot.

Counts are people's clicks (human, non-preview rows) and their distinct visitors, except the
bot_name breakdown, which counts bot and preview requests. Every click has exactly one value
per breakdown (None where unknown: no referrer is "direct or dark social"), so the rows add
up to the total. Hour, weekday (0 = Monday) and day are local times in the reporting zone.

The breakdowns of the whole program or of one campaign read closed UTC days from the
audience rollup (reports/audience_rollup.py); a channel, team, rep or link filter counts the
clicks themselves (their indexes narrow them first).
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from linktracker.errors import InvalidInput, NotFound
from linktracker.links.models import Link
from linktracker.reports import audience_queries as q
from linktracker.reports import audience_rollup
from linktracker.reports.audience_queries import DIMENSIONS, Dimension
from linktracker.reports.filters import ReportFilters
from linktracker.reports.queries import Scope
from linktracker.reports.rollup import Split
from linktracker.reports.scope import REPORT_WORK_MEM, resolve_scope

Key = str | int | date | None


def parse_dimension(value: str | None) -> Dimension:
    """A breakdown name (`by=`), or InvalidInput listing the names there are."""
    for dimension in DIMENSIONS:
        if value == dimension:
            return dimension
    allowed = ", ".join(DIMENSIONS)
    if not value:
        raise InvalidInput(f"'by' is required: one of {allowed}.", {"by": f"Use one of {allowed}."})
    raise InvalidInput(
        f"Unknown breakdown '{value}': use one of {allowed}.", {"by": f"Use one of {allowed}."}
    )


@dataclass(frozen=True)
class AudienceRow:
    key: Key
    clicks: int
    unique_visitors: int


@dataclass(frozen=True)
class Breakdown:
    """One breakdown over a range: rows sorted by clicks (descending), and the totals."""

    filters: ReportFilters
    timezone: str
    by: Dimension
    rows: tuple[AudienceRow, ...]
    clicks: int
    unique_visitors: int
    bots: int
    previews: int


@dataclass(frozen=True)
class ChannelMatrix:
    """People's clicks per (referrer channel, link channel): where a link was meant to be
    shared against where its visitors came from. None: no referrer (direct or dark social)."""

    referrer_channels: tuple[str | None, ...]
    link_channels: tuple[str, ...]
    cells: Mapping[tuple[str | None, str], int] = field(default_factory=dict)

    def clicks(self, referrer_channel: str | None, link_channel: str) -> int:
        return self.cells.get((referrer_channel, link_channel), 0)

    @property
    def matching(self) -> int:
        """Clicks whose referrer channel is the link's own channel."""
        return sum(n for (ref, link), n in self.cells.items() if ref == link)

    @property
    def elsewhere(self) -> int:
        """Clicks from a known referrer channel other than the link's: a mismatch, kept."""
        return sum(n for (ref, link), n in self.cells.items() if ref is not None and ref != link)

    @property
    def direct(self) -> int:
        return sum(n for (ref, _link), n in self.cells.items() if ref is None)


@dataclass(frozen=True)
class Audience:
    """Every block of an Audience section, for one range and narrowing."""

    filters: ReportFilters
    timezone: str
    breakdowns: Mapping[str, Breakdown]
    matrix: ChannelMatrix
    heatmap: Mapping[tuple[int, int], int]  # (weekday, hour) -> clicks

    @property
    def total(self) -> Breakdown:
        return self.breakdowns["referrer_channel"]

    @property
    def heatmap_peak(self) -> int:
        return max(self.heatmap.values(), default=0)


def _native(dimension: str, value: Any) -> Key:
    if value is None or value == "":
        return None
    if dimension in ("hour", "weekday", q.WEEK_HOURS):
        return int(value)
    if dimension == "day":
        return date.fromordinal(q.EPOCH_DAY + int(value))
    return str(value)


def _sort_key(row: AudienceRow) -> tuple[int, bool, int, str]:
    """Clicks descending; ties by key (numbers as numbers), unknown last."""
    number = row.key if isinstance(row.key, int) else 0
    return (-row.clicks, row.key is None, number, "" if row.key is None else str(row.key))


class _Counter:
    """Counts one report's clicks: the rollup's whole days plus live SQL for the rest."""

    def __init__(
        self, session: Session, scope: Scope, timezone: str, link_id: int | None, rollup: bool
    ) -> None:
        self.session = session
        self.scope = scope
        self.timezone = timezone
        self.link_id = link_id
        self.dialect = session.get_bind().dialect.name
        self.zone = zoneinfo.ZoneInfo(timezone)
        split: Split | None = None
        if link_id is None and rollup:
            today = datetime.now(UTC).date()
            split = audience_rollup.prepare(session, scope, timezone, today)
        self.split = split
        # The live pieces keep the scope's narrowing (a split's pieces carry times only).
        pieces = split.live if split is not None else (scope,)
        self.live = tuple(replace(scope, start=p.start, end=p.end) for p in pieces)
        if self.dialect == "postgresql":
            # Room for the distinct-visitor sorts (the 4 MB default spills them to disk).
            session.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))

    def rows(self, dimension: str) -> dict[Key, tuple[int, int]]:
        counted: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
        stored: Iterable[tuple[Any, int, int]] = ()
        if self.split is not None:
            stored = audience_rollup.stored_rows(
                self.session, self.split, dimension, self.scope.campaign_id
            )
        for key, clicks, visitors in stored:
            entry = counted[_native(dimension, key)]
            entry[0] += clicks
            entry[1] += visitors
        for piece in self.live:
            spans = q.offsets(self.zone, piece.start, piece.end)
            statement = q.breakdown_query(piece, dimension, self.dialect, spans, self.link_id)
            for key, clicks, visitors in self.session.execute(statement):
                entry = counted[_native(dimension, key)]
                entry[0] += int(clicks)
                entry[1] += int(visitors)
        return {key: (clicks, visitors) for key, (clicks, visitors) in counted.items()}

    def totals(self) -> dict[str, int]:
        sums: dict[str, int] = defaultdict(int)
        if self.split is not None:
            sums.update(
                audience_rollup.stored_totals(self.session, self.split, self.scope.campaign_id)
            )
        for piece in self.live:
            row = self.session.execute(q.totals_query(piece, self.link_id)).one()
            for name, value in row._mapping.items():
                sums[name] += int(value or 0)
        return sums

    def breakdown(self, filters: ReportFilters, by: Dimension, totals: dict[str, int]) -> Breakdown:
        rows = [AudienceRow(key, *counts) for key, counts in self.rows(by).items()]
        rows.sort(key=_sort_key)
        bots = by == "bot_name"
        return Breakdown(
            filters=filters,
            timezone=self.timezone,
            by=by,
            rows=tuple(rows),
            clicks=totals["bot_requests" if bots else "clicks"],
            unique_visitors=totals["bot_visitors" if bots else "unique_visitors"],
            bots=totals["bots"],
            previews=totals["previews"],
        )


def _link_id(session: Session, code: str | None) -> int | None:
    if code is None:
        return None
    link_id = session.scalar(select(Link.id).where(Link.code == code))
    if link_id is None:
        raise NotFound(f"No link with code '{code}'.")
    return link_id


def report_clicks(
    session: Session,
    filters: ReportFilters,
    by: Dimension,
    *,
    timezone: str,
    link: str | None = None,
    rollup: bool = True,
) -> Breakdown:
    """People's clicks (bot_name: bot and preview requests) per value of `by` in range, for
    one link when `link` (its code) is given. rollup=False counts every click live (the
    benchmark's baseline, and the tests' yardstick)."""
    link_id = _link_id(session, link)
    scope = resolve_scope(session, filters, timezone)
    counter = _Counter(session, scope, timezone, link_id, rollup)
    return counter.breakdown(filters, by, counter.totals())


def _matrix(counted: Mapping[Key, tuple[int, int]]) -> ChannelMatrix:
    cells: dict[tuple[str | None, str], int] = {}
    for key, (clicks, _visitors) in counted.items():
        referrer, _tab, link = str(key).partition(q.PAIR_SEPARATOR)
        cells[(referrer or None, link)] = cells.get((referrer or None, link), 0) + clicks
    links = sorted({link for _ref, link in cells})
    referrers = sorted({ref for ref, _link in cells if ref is not None})
    if any(ref is None for ref, _link in cells):
        referrers.append(None)  # type: ignore[arg-type]  # "direct or dark social" last
    return ChannelMatrix(tuple(referrers), tuple(links), cells)


AUDIENCE_BLOCKS: tuple[Dimension, ...] = (
    "referrer_host",
    "referrer_channel",
    "link_channel",
    "country",
    "device",
    "browser",
    "os",
    "bot_name",
)


def report_audience(
    session: Session, filters: ReportFilters, *, timezone: str, link: str | None = None
) -> Audience:
    """The Audience section of a page: its breakdowns, channel matrix and hour heatmap."""
    link_id = _link_id(session, link)
    scope = resolve_scope(session, filters, timezone)
    counter = _Counter(session, scope, timezone, link_id, True)
    totals = counter.totals()
    breakdowns: dict[str, Breakdown] = {
        by: counter.breakdown(filters, by, totals) for by in AUDIENCE_BLOCKS
    }
    heatmap = {
        (key // 24, key % 24): clicks
        for key, (clicks, _visitors) in counter.rows(q.WEEK_HOURS).items()
        if isinstance(key, int)
    }
    return Audience(
        filters=filters,
        timezone=timezone,
        breakdowns=breakdowns,
        matrix=_matrix(counter.rows(q.MATRIX)),
        heatmap=heatmap,
    )
