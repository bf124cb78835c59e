"""Click breakdowns (GET /api/v1/reports/clicks?by=…) over 1,000,000 clicks, every `by=`.

    .venv/bin/python bench/clicks_breakdown.py                      # SQLite and PostgreSQL
    .venv/bin/python bench/clicks_breakdown.py --db sqlite --reuse  # keep generated data

Generates 2,000 employees, 40 campaigns, ~12,000 links and 1,000,000 clicks over 365 days
(heavy-tailed link popularity as in bench/reports.py; varied referrers, countries, browsers,
devices; 5 % bots, 1 % previews) in a SQLite file in /tmp and in the PostgreSQL database
`lt_bench_clicks` (`--pg-database`, on 127.0.0.1:5432, created when missing, dropped and
re-created without --reuse). Then, for each breakdown over the whole year (reporting zone
Europe/Berlin, two DST changes inside), prints the median of 5 warm runs of:
  all       the whole program (audience rollup: closed UTC days + live edges)
  campaign  the busiest campaign (the rollup's per-campaign rows + live edges)
  employee  the busiest rep (live SQL on their clicks, through the per-rep index)
and, as baselines of the same run, a reference query (counting the year's clicks from the
created_at index; the machine may be busy, so each figure is also given as a multiple of it)
and by=country over the whole program counted live without the rollup, once. Also the time
of the first rollup of every UTC day. Target: every figure <= 300 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linktracker.campaigns.models import Campaign  # noqa: E402
from linktracker.clicks.models import Click  # noqa: E402
from linktracker.clicks.referrers import referrer_channel, referrer_host  # noqa: E402
from linktracker.db import make_engine, make_session_factory  # noqa: E402
from linktracker.employees.models import Employee  # noqa: E402
from linktracker.links.models import Link  # noqa: E402
from linktracker.migrate import upgrade_database  # noqa: E402
from linktracker.reports import audience_rollup  # noqa: E402
from linktracker.reports.audience import report_clicks  # noqa: E402
from linktracker.reports.audience_queries import DIMENSIONS  # noqa: E402
from linktracker.reports.filters import ReportFilters  # noqa: E402
from linktracker.reports.models import AudienceCount, AudienceDay  # noqa: E402

EMPLOYEES = 2000
CAMPAIGNS = 40
CLICKS = 1_000_000
CHANNELS = ("linkedin", "x", "facebook", "email")
END = datetime(2026, 11, 20, tzinfo=UTC)
START = END - timedelta(days=365)
TIMEZONE = "Europe/Berlin"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
TARGET_MS = 300

REFERRERS = [None] * 8 + [
    "https://www.linkedin.com/feed/", "https://lnkd.in/x", "https://t.co/x", "https://x.com/",
    "https://l.facebook.com/", "https://mail.google.com/", "https://app.slack.com/client",
    "https://teams.microsoft.com/", "https://www.google.com/", "https://news.ycombinator.com/",
    "https://www.reddit.com/r/x", "https://outlook.office.com/", "https://web.whatsapp.com/",
]  # fmt: skip
COUNTRIES = [None] * 3 + ["DE"] * 6 + ["US"] * 5 + ["GB"] * 3 + [
    "FR", "NL", "AT", "CH", "IN", "BR", "ES", "IT", "PL", "SE", "CA", "AU", "JP", "MX", "NZ",
]  # fmt: skip
AGENTS = [  # browser, os, device
    ("Chrome", "Windows", "desktop"), ("Chrome", "Windows", "desktop"),
    ("Edge", "Windows", "desktop"), ("Safari", "Mac OS X", "desktop"),
    ("Firefox", "Linux", "desktop"), ("Chrome", "Mac OS X", "desktop"),
    ("Mobile Safari", "iOS", "mobile"), ("Mobile Safari", "iOS", "mobile"),
    ("Chrome Mobile", "Android", "mobile"), ("Chrome Mobile", "Android", "mobile"),
    ("Samsung Internet", "Android", "mobile"), ("Mobile Safari", "iOS", "tablet"),
    ("LinkedIn App", "iOS", "mobile"), (None, None, "other"),
]  # fmt: skip
BOTS = ["Googlebot", "bingbot", "AhrefsBot", "python-requests", "curl"]
PREVIEWS = ["LinkedInBot", "Twitterbot", "facebookexternalhit", "Slackbot-LinkExpanding"]


def _database(kind: str, pg_database: str, reuse: bool) -> Engine:
    if kind == "sqlite":
        path = Path("/tmp/lt_bench_clicks.db")
        if not reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{path}")
    elif kind == "postgresql":
        admin = make_engine(f"{PG_SERVER}/postgres").execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            quoted = admin.dialect.identifier_preparer.quote(pg_database)
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": pg_database}
            )
            if exists and not reuse:
                connection.execute(text(f"DROP DATABASE {quoted} WITH (FORCE)"))
            if not exists or not reuse:
                connection.execute(text(f"CREATE DATABASE {quoted}"))
        admin.dispose()
        engine = make_engine(f"{PG_SERVER}/{pg_database}")
    else:
        raise SystemExit(f"unknown database {kind!r} (sqlite or postgresql)")
    upgrade_database(engine)
    return engine


def _program(engine: Engine, rng: random.Random) -> list[Any]:
    with engine.begin() as connection:
        connection.execute(insert(Employee), [
            {"name": f"Advocate {i:04d}", "email": f"advocate{i}@example.com",
             "handle": f"rep-{i:04d}", "team": f"Team {i % 20:02d}", "program_role": "advocate",
             "connections": 500, "invited_at": START, "joined_at": START, "active": True}
            for i in range(1, EMPLOYEES + 1)
        ])  # fmt: skip
        connection.execute(insert(Campaign), [
            {"name": f"Campaign {i}", "slug": f"campaign-{i}",
             "destination_url": f"https://www.example.com/c{i}", "goal": "leads",
             "channels": list(CHANNELS), "utm_lowercase": True, "active": True,
             "created_at": START}
            for i in range(1, CAMPAIGNS + 1)
        ])  # fmt: skip
        links: list[dict[str, Any]] = []
        seen: set[tuple[int, int, str]] = set()
        for employee in range(1, EMPLOYEES + 1):
            for _ in range(6):
                key = (rng.randint(1, CAMPAIGNS), employee, rng.choice(CHANNELS))
                if key not in seen:
                    seen.add(key)
                    links.append({"campaign_id": key[0], "employee_id": key[1],
                                  "channel": key[2], "code": f"c{len(links):06d}",
                                  "destination_url": "https://www.example.com/", "vanity": False,
                                  "created_at": START, "disabled": False})  # fmt: skip
        connection.execute(insert(Link), links)
        return list(
            connection.execute(
                select(Link.id, Link.employee_id, Link.campaign_id, Link.channel).order_by(Link.id)
            )
        )


def generate(engine: Engine, seed: int = 1) -> None:
    """Fill an empty, migrated database with the benchmark's program and clicks."""
    rng = random.Random(seed)
    sqlite = engine.dialect.name == "sqlite"
    link_rows = _program(engine, rng)
    weights = [rng.paretovariate(1.3) for _ in link_rows]
    chosen = rng.choices(link_rows, weights=weights, k=CLICKS)
    span = int((END - START).total_seconds())
    offsets = sorted(rng.randrange(span) for _ in range(CLICKS))
    hosts = {ref: referrer_host(ref) for ref in REFERRERS}
    rows: list[tuple[Any, ...]] = []
    for n, (link, offset) in enumerate(zip(chosen, offsets, strict=True)):
        moment = START + timedelta(seconds=offset)
        roll = rng.random()
        is_preview = 0.05 <= roll < 0.06
        is_bot = roll < 0.06
        browser, os, device = rng.choice(AGENTS)
        bot_name = None
        if is_bot:
            browser = os = None
            device = "bot"
            bot_name = rng.choice(PREVIEWS if is_preview else BOTS)
        referrer = rng.choice(REFERRERS)
        host = hosts[referrer]
        visitor = f"{rng.randrange(400_000):016x}{moment.date().toordinal():016x}"
        stamp = moment.strftime(SQLITE_FORMAT) if sqlite else moment.isoformat()
        rows.append((f"k{n:09d}", stamp, link.id, link.employee_id, link.campaign_id,
                     link.channel, "GET", referrer, host, referrer_channel(host), browser, os,
                     device, is_bot, bot_name, is_preview, visitor,
                     rng.choice(COUNTRIES)))  # fmt: skip
    columns = ("click_id, created_at, link_id, employee_id, campaign_id, channel, method, "
               "referrer, referrer_host, referrer_channel, browser, os, device_type, is_bot, "
               "bot_name, is_preview, visitor_hash, country")  # fmt: skip
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if sqlite:
            cursor.executemany(
                f"INSERT INTO clicks ({columns}) VALUES ({', '.join('?' * 18)})", rows
            )
        else:
            with cursor.copy(f"COPY clicks ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        raw.commit()
    finally:
        raw.close()
    if sqlite:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    else:
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


def _busiest(session: Any, column: Any, model: Any, name: Any) -> str:
    return str(
        session.execute(
            select(name)
            .join(Click, column == model.id)
            .group_by(name)
            .order_by(func.count().desc())
            .limit(1)
        ).scalar_one()
    )


def measure(
    engine: Engine, keep_rollup: bool = False
) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """Per breakdown: median ms unfiltered, by campaign, by employee, and live (baseline).
    keep_rollup: start from the rollup left by an earlier run (only stale days rebuilt)."""
    sessions = make_session_factory(engine)
    year = ReportFilters((START + timedelta(days=1)).date(), (END - timedelta(days=1)).date())
    results: dict[str, dict[str, float]] = {}
    with sessions() as session:
        if not keep_rollup:
            session.execute(delete(AudienceCount))
            session.execute(delete(AudienceDay))
            session.commit()
        started = time.perf_counter()
        days = audience_rollup.refresh_all(session, TIMEZONE, datetime.now(UTC).date())
        info: dict[str, Any] = {
            "rollup_s": time.perf_counter() - started,
            "rollup_days": days,
            "campaign": _busiest(session, Click.campaign_id, Campaign, Campaign.slug),
            "employee": _busiest(session, Click.employee_id, Employee, Employee.handle),
        }
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        info["employee_clicks"] = session.scalar(
            select(func.count())
            .select_from(Click)
            .join(Employee, Employee.id == Click.employee_id)
            .where(Employee.handle == info["employee"])
        )
        info["campaign_clicks"] = session.scalar(
            select(func.count())
            .select_from(Click)
            .join(Campaign, Campaign.id == Click.campaign_id)
            .where(Campaign.slug == info["campaign"])
        )
        first, last = year.date_from, year.date_to
        variants: dict[str, tuple[ReportFilters, bool]] = {
            "all": (year, True),
            "campaign": (ReportFilters(first, last, campaign=info["campaign"]), True),
            "employee": (ReportFilters(first, last, employee=info["employee"]), True),
        }
        in_year = (Click.created_at >= START, Click.created_at < END)
        info["reference"] = median_ms(
            lambda: session.scalar(select(func.count()).select_from(Click).where(*in_year))
        )
        # The whole program counted live, once: what the rollup saves (slow, so one dimension).
        started = time.perf_counter()
        report_clicks(session, year, "country", timezone=TIMEZONE, rollup=False)
        session.rollback()
        info["live_country"] = (time.perf_counter() - started) * 1000
        for by in DIMENSIONS:
            results[by] = {}
            for name, (filters, rollup) in variants.items():

                def run(
                    by: Any = by, filters: ReportFilters = filters, rollup: bool = rollup
                ) -> None:
                    report_clicks(session, filters, by, timezone=TIMEZONE, rollup=rollup)
                    session.rollback()

                results[by][name] = median_ms(run)
            print(f"  {by}: " + ", ".join(f"{v:.0f}" for v in results[by].values()), flush=True)
    return results, info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--pg-database", default="lt_bench_clicks")
    parser.add_argument("--reuse", action="store_true", help="Keep data generated before.")
    parser.add_argument(
        "--keep-rollup", action="store_true", help="With --reuse: keep the rollup built before."
    )
    args = parser.parse_args()
    tables = []
    for kind in args.db.split(","):
        engine = _database(kind, args.pg_database, args.reuse)
        with engine.connect() as connection:
            have = connection.scalar(select(func.count()).select_from(Click))
        if have != CLICKS:
            if have:
                raise SystemExit(f"{kind}: {have:,} clicks found; run without --reuse")
            started = time.perf_counter()
            generate(engine)
            print(f"[{kind}] generated in {time.perf_counter() - started:.1f} s", flush=True)
        print(f"[{kind}] measuring", flush=True)
        tables.append((kind, *measure(engine, args.reuse and args.keep_rollup)))
        engine.dispose()
    for kind, results, info in tables:
        print(f"\n{kind}: {CLICKS:,} clicks over 365 days, zone {TIMEZONE}; first rollup of "
              f"{info['rollup_days']} UTC days {info['rollup_s']:.1f} s")  # fmt: skip
        print(f"campaign filter: {info['campaign']} ({info['campaign_clicks']:,} clicks); "
              f"employee filter: {info['employee']} "
              f"({info['employee_clicks']:,} clicks)")  # fmt: skip
        reference = info["reference"]
        print(f"reference (count of the year's clicks): {reference:.1f} ms; by=country over the "
              f"whole program without the rollup: {info['live_country']:.0f} ms")  # fmt: skip
        print(f"{'by':<18} {'all':>8} {'campaign':>9} {'employee':>9} {'worst x ref':>12}"
              f"  ok (<= {TARGET_MS} ms)")  # fmt: skip
        for by, row in results.items():
            worst = max(row["all"], row["campaign"], row["employee"])
            ok = "yes" if worst <= TARGET_MS else "NO"
            figures = f"{row['all']:>8.1f} {row['campaign']:>9.1f} {row['employee']:>9.1f}"
            print(f"{by:<18} {figures} {worst / reference:>12.1f}  {ok}")


if __name__ == "__main__":
    main()
