"""Report and attribution timings over 1,000,000 clicks and 100,000 CRM records.

    .venv/bin/python bench/reports.py                       # SQLite in /tmp
    .venv/bin/python bench/reports.py --database-url postgresql+psycopg://postgres@127.0.0.1/lt_bench
    .venv/bin/python bench/reports.py --reuse               # keep already generated data

Generates 2,000 employees, 40 campaigns, ~12,000 links, 1,000,000 clicks over 365 days (5 % bots,
1 % link previews) and 100,000 CRM records (click id, UTM and unattributed ones), then prints
the median of 5 warm runs of the 90-day leaderboard, one rep's detail and the program report,
the median of 3 full re-attributions, the time of a first rollup of every UTC day
(reports/rollup.py: what `linktracker report refresh` or the first report does once), and the
EXPLAIN of the leaderboard's traffic query (rollup months + loose days + live edges).
Targets: each report <= 300 ms, re-attribution <= 10 s.

The machine may be busy: every figure is also given as a multiple of a reference query timed
in the same run (counting the 90 days' clicks from the created_at index). PostgreSQL tables are
vacuumed after generation and attribution, as autovacuum would do on a live server (without a
visibility map PostgreSQL cannot read an index alone).
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linktracker.attribution.services import attribute_records  # noqa: E402
from linktracker.campaigns.models import Campaign  # noqa: E402
from linktracker.clicks.models import Click  # noqa: E402
from linktracker.crm.models import CrmRecord  # noqa: E402
from linktracker.db import make_engine, make_session_factory  # noqa: E402
from linktracker.employees.models import Employee  # noqa: E402
from linktracker.links.models import Link  # noqa: E402
from linktracker.migrate import upgrade_database  # noqa: E402
from linktracker.reports import rollup, rollup_queries  # noqa: E402
from linktracker.reports.filters import ReportFilters  # noqa: E402
from linktracker.reports.models import (  # noqa: E402
    ClickDay,
    ClickMonth,
    LinkDay,
    LinkMonth,
    RepDay,
    RepMonth,
)
from linktracker.reports.scope import resolve_scope  # noqa: E402
from linktracker.reports.services import report_program, report_rep, report_reps  # noqa: E402

EMPLOYEES = 2000
CAMPAIGNS = 40
CLICKS = 1_000_000
RECORDS = 100_000
CHANNELS = ("linkedin", "x", "facebook", "email")
END = datetime(2026, 11, 20, tzinfo=UTC)
START = END - timedelta(days=365)
TIMEZONE = "Europe/Berlin"
SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


class Explain(Executable, ClauseElement):
    inherit_cache = False

    def __init__(self, statement: Any) -> None:
        self.statement = statement


@compiles(Explain, "sqlite")
def _explain_sqlite(element: Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN QUERY PLAN " + str(compiler.process(element.statement, **kw))


@compiles(Explain, "postgresql")
def _explain_pg(element: Explain, compiler: Any, **kw: Any) -> str:
    statement = str(compiler.process(element.statement, **kw))
    return "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + statement


def _stamp(moment: datetime, sqlite: bool) -> str:
    return moment.strftime(SQLITE_FORMAT) if sqlite else moment.isoformat()


def _reset(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    else:
        path = Path(engine.url.database or "")
        engine.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    upgrade_database(engine)


def generate(engine: Engine, seed: int = 1) -> None:
    """Fill an empty, migrated database with the benchmark's program."""
    rng = random.Random(seed)
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as connection:
        connection.execute(
            insert(Employee),
            [
                {
                    "name": f"Advocate {i:04d}",
                    "email": f"advocate{i}@example.com",
                    "handle": f"rep-{i:04d}",
                    "team": f"Team {i % 20:02d}",
                    "program_role": "advocate",
                    "connections": rng.randint(50, 3000),
                    "invited_at": START,
                    "joined_at": START + timedelta(days=rng.randint(0, 30))
                    if rng.random() < 0.85
                    else None,
                    "active": True,
                }
                for i in range(1, EMPLOYEES + 1)
            ],
        )
        connection.execute(
            insert(Campaign),
            [
                {
                    "name": f"Campaign {i}",
                    "slug": f"campaign-{i}",
                    "destination_url": f"https://www.example.com/c{i}",
                    "goal": "leads",
                    "channels": list(CHANNELS),
                    "utm_lowercase": True,
                    "active": True,
                    "created_at": START,
                }
                for i in range(1, CAMPAIGNS + 1)
            ],
        )
        links: list[dict[str, Any]] = []
        seen: set[tuple[int, int, str]] = set()
        for employee in range(1, EMPLOYEES + 1):
            for _ in range(6):
                key = (rng.randint(1, CAMPAIGNS), employee, rng.choice(CHANNELS))
                if key in seen:
                    continue
                seen.add(key)
                links.append({"campaign_id": key[0], "employee_id": key[1], "channel": key[2],
                              "code": f"c{len(links):06d}", "destination_url": "https://www.example.com/",
                              "vanity": False, "created_at": START, "disabled": False})  # fmt: skip
        connection.execute(insert(Link), links)
        link_rows = connection.execute(
            select(Link.id, Link.employee_id, Link.campaign_id, Link.channel).order_by(Link.id)
        ).all()
    # Busy and quiet reps: a heavy-tailed weight per link.
    weights = [rng.paretovariate(1.3) for _ in link_rows]
    chosen = rng.choices(link_rows, weights=weights, k=CLICKS)
    span = int((END - START).total_seconds())
    offsets = sorted(rng.randrange(span) for _ in range(CLICKS))
    human_clicks: list[tuple[str, datetime, int, int]] = []
    bot_clicks: list[str] = []
    click_rows: list[tuple[Any, ...]] = []
    for n, (link, offset) in enumerate(zip(chosen, offsets, strict=True)):
        moment = START + timedelta(seconds=offset)
        roll = rng.random()
        is_bot, is_preview = roll < 0.05, 0.05 <= roll < 0.06
        is_bot = is_bot or is_preview
        click_id = f"k{n:09d}"
        # 32 hex digits like the real keyed hash; a visitor's hash changes every day.
        visitor = f"{rng.randrange(400_000):016x}{moment.date().toordinal():016x}"
        if is_bot:
            bot_clicks.append(click_id)
        else:
            human_clicks.append((click_id, moment, link.employee_id, link.campaign_id))
        click_rows.append((click_id, _stamp(moment, sqlite), link.id, link.employee_id,
                           link.campaign_id, link.channel, "GET", None, None, None, "Chrome",
                           "Windows", "desktop", is_bot, "Googlebot" if is_bot else None,
                           is_preview, visitor, None))  # fmt: skip
    columns = ("click_id, created_at, link_id, employee_id, campaign_id, channel, method, "
               "referrer, referrer_host, referrer_channel, browser, os, device_type, is_bot, "
               "bot_name, is_preview, visitor_hash, country")  # fmt: skip
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if sqlite:
            cursor.executemany(
                f"INSERT INTO clicks ({columns}) VALUES ({', '.join('?' * 18)})", click_rows
            )
        else:
            with cursor.copy(f"COPY clicks ({columns}) FROM STDIN") as copy:
                for row in click_rows:
                    copy.write_row(row)
        raw.commit()
    finally:
        raw.close()
    handles = {i: f"rep-{i:04d}" for i in range(1, EMPLOYEES + 1)}
    records: list[dict[str, Any]] = []
    for n in range(RECORDS):
        roll = rng.random()
        values: dict[str, Any] = {"click_id": None, "utm_content": None, "utm_campaign": None}
        if roll < 0.25:
            click_id, moment, _employee, _campaign = rng.choice(human_clicks)
            created = moment + timedelta(seconds=rng.randint(60, 5 * 86400))
            values["click_id"] = click_id
        elif roll < 0.27:
            created = START + timedelta(seconds=rng.randrange(span))
            values["click_id"] = rng.choice(bot_clicks)  # falls through
        elif roll < 0.52:
            click_id, moment, employee, campaign = rng.choice(human_clicks)
            created = moment + timedelta(seconds=rng.randint(60, 40 * 86400))
            values["utm_content"] = handles[employee]
            if rng.random() < 0.8:  # else no utm_campaign: the rep's last click on any campaign
                values["utm_campaign"] = f"campaign-{campaign}"
        else:
            created = START + timedelta(seconds=rng.randrange(span))
        won = rng.random() < 0.25
        records.append(
            values
            | {
                "source": "bench",
                "external_id": f"X{n:07d}",
                "kind": rng.choice(("lead", "lead", "lead", "contact", "deal")),
                "created_at": created,
                "won": won,
                "closed_at": created + timedelta(days=rng.randint(1, 120)) if won else None,
                "amount": rng.randint(100, 50_000) if won else None,
                "currency": rng.choice(("EUR", "USD")) if won else None,
                "content_hash": f"{n:032x}",
                "imported_at": END,
                "updated_at": END,
                "attribution_method": "none",
            }
        )
    with engine.begin() as connection:
        for start in range(0, RECORDS, 20_000):
            connection.execute(insert(CrmRecord), records[start : start + 20_000])
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def _vacuum(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


def median_ms(action: Callable[[], object], runs: int = 5) -> float:
    action()  # warm up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite:////tmp/lt_bench_reports.db")
    parser.add_argument("--reuse", action="store_true", help="Keep data generated before.")
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    sessions = make_session_factory(engine)
    backend = engine.dialect.name
    if args.reuse:
        upgrade_database(engine)  # data generated before a schema change keeps its clicks
    with sessions() as session:
        have = session.scalar(select(func.count()).select_from(Click)) if args.reuse else 0
    if have != CLICKS:
        started = time.perf_counter()
        _reset(engine)
        generate(engine)
        _vacuum(engine)
        print(f"[{backend}] generated in {time.perf_counter() - started:.1f} s", flush=True)
    last = (END - timedelta(days=1)).date()
    ninety = ReportFilters(last - timedelta(days=89), last)
    results: list[tuple[str, float, float]] = []
    with sessions() as session:
        session.execute(
            update(CrmRecord).values(
                attribution_method="none", employee_id=None, campaign_id=None,
                attributed_click_id=None, seconds_from_click=None,
            )
        )  # fmt: skip
        session.commit()
        started = time.perf_counter()
        summary = attribute_records(session, window_days=30)
        first = (time.perf_counter() - started) * 1000
        print(f"[{backend}] attribution: " + ", ".join(summary.lines()), flush=True)
        reattribute = median_ms(lambda: attribute_records(session, window_days=30), runs=3)
        results.append(("attribution of 100,000 records, from scratch", first, 10_000))
        results.append(("re-attribution of 100,000 records (unchanged)", reattribute, 10_000))
        session.commit()
        _vacuum(engine)
        for model in (LinkMonth, RepMonth, ClickMonth, LinkDay, RepDay, ClickDay):
            session.execute(delete(model))
        session.commit()
        started = time.perf_counter()
        refreshed = rollup.refresh_rollups(session, datetime.now(UTC).date())
        results.append((f"first rollup of {refreshed.rebuilt} UTC days (CLI or 1st report)",
                        (time.perf_counter() - started) * 1000, 60_000))  # fmt: skip
        _vacuum(engine)
        scope = resolve_scope(session, ninety, TIMEZONE)
        in_range = (Click.created_at >= scope.start, Click.created_at < scope.end)
        reference = median_ms(
            lambda: session.scalar(select(func.count()).select_from(Click).where(*in_range))
        )
        busiest = session.execute(
            select(Employee.handle)
            .join(Click, Click.employee_id == Employee.id)
            .group_by(Employee.handle)
            .order_by(func.count().desc())
            .limit(1)
        ).scalar_one()
        leaderboard = median_ms(lambda: report_reps(session, ninety, timezone=TIMEZONE))
        results.append(("leaderboard, 90 days", leaderboard, 300))
        detail = median_ms(
            lambda: report_rep(session, busiest, ninety, timezone=TIMEZONE, bucket="day")
        )
        results.append((f"rep detail ({busiest}, 90 days, daily)", detail, 300))
        program = median_ms(
            lambda: report_program(session, ninety, timezone=TIMEZONE, cpm=10, cost_per_lead=50)
        )
        results.append(("program report, 90 days", program, 300))
        year = ReportFilters(last - timedelta(days=364), last)
        results.append(("leaderboard, 365 days", median_ms(
            lambda: report_reps(session, year, timezone=TIMEZONE)), 1000))  # fmt: skip
        split = rollup.split_scope(scope, datetime.now(UTC).date())
        whole_days = (ClickDay.day >= split.first_day, ClickDay.day < split.end_day)
        plans = {
            "per-rep traffic (UTC months + loose UTC days + live edges)": (
                rollup_queries.rep_traffic_query(split, union_first=backend == "postgresql")
            ),
            "rollup check (stored counts of the whole days)": select(
                func.sum(ClickDay.clicks_seen)
            ).where(*whole_days),
        }
        explained = {name: session.execute(Explain(q)).all() for name, q in plans.items()}
    print(f"\n{backend}: {CLICKS:,} clicks, {RECORDS:,} CRM records, {EMPLOYEES:,} employees")
    print(f"reference (count of the 90 days' clicks): {reference:.1f} ms")
    print(f"{'measurement':<44} {'median ms':>10} {'x ref':>7} {'target ms':>10}  ok")
    for name, value, target in results:
        ok = "yes" if value <= target else "NO"
        print(f"{name:<44} {value:>10.1f} {value / reference:>7.1f} {target:>10,}  {ok}")
    for name, plan in explained.items():
        print(f"\nEXPLAIN of the leaderboard's {name} ({backend}):")
        buffer = io.StringIO()
        for row in plan:
            buffer.write(("  " + " | ".join(str(v) for v in row[-1:])) + "\n")
        print(buffer.getvalue(), end="")
    engine.dispose()


if __name__ == "__main__":
    main()
