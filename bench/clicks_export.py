"""Raw click export throughput over 1,000,000 clicks: the CLI and the API, CSV and NDJSON.

    .venv/bin/python bench/clicks_export.py                 # SQLite in a temp folder
    .venv/bin/python bench/clicks_export.py --database-url postgresql+psycopg://postgres@127.0.0.1/lt_bench
    .venv/bin/python bench/clicks_export.py --reuse         # keep already generated clicks

Generates 200 employees, 20 campaigns, ~1,000 links and 1,000,000 clicks (5 % bots, 1 % link
previews, stored in 10 transactions), then times, for each format:

* cli: `linktracker export clicks --include-bots --format F --output FILE`, the whole table
  paged through 10,000 clicks at a time, each page in a transaction of its own;
* api: GET /api/v1/clicks?include_bots=1&limit=10000&format=F page after page, each page's
  body read as it streams (a token, as a client would);
* baseline: the same pages' SELECT alone, rows fetched and dropped: what the database costs.

Each figure is the median of --runs runs; "x base" is its time over the baseline's, so a busy
machine shows as a slower baseline rather than as a slower export. "max RSS" is the process's
peak resident memory after the run: flat across formats and 1,000,000 rows is constant memory.
Target: >= 50,000 rows/s.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import Flask  # noqa: E402

from linktracker import create_app  # noqa: E402
from linktracker.auth.services import create_token, create_user  # noqa: E402
from linktracker.campaigns.models import Campaign  # noqa: E402
from linktracker.clicks.export import MAX_LIMIT, ClickExport, export_rows, row_position  # noqa: E402
from linktracker.clicks.models import Click  # noqa: E402
from linktracker.db import make_engine  # noqa: E402
from linktracker.employees.models import Employee  # noqa: E402
from linktracker.links.models import Link  # noqa: E402
from linktracker.migrate import upgrade_database  # noqa: E402

CLICKS = 1_000_000
EMPLOYEES = 200
CAMPAIGNS = 20
CHANNELS = ("linkedin", "x", "facebook", "email")
REFERRERS = (
    (None, None), ("linkedin.com", "linkedin"), ("t.co", "x"), ("facebook.com", "facebook"),
    ("mail.google.com", "email"), ("news.ycombinator.com", None),
)  # fmt: skip
BROWSERS = (("Chrome", "Windows", "desktop"), ("Safari", "iOS", "mobile"),
            ("Firefox", "Linux", "desktop"), ("Chrome Mobile", "Android", "mobile"))  # fmt: skip
COUNTRIES = ("US", "DE", "GB", "FR", "IN", None)
END = datetime(2026, 11, 20, tzinfo=UTC)
START = END - timedelta(days=365)
TRANSACTIONS = 10
TOKEN_USER = "export-bench@example.com"
TARGET = 50_000


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


def generate(engine: Engine, clicks: int = CLICKS, seed: int = 1) -> None:
    """Fill an empty, migrated database with the benchmark's clicks."""
    rng = random.Random(seed)
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as connection:
        connection.execute(insert(Employee), [
            {"name": f"Advocate {i:04d}", "email": f"advocate{i}@example.com",
             "handle": f"rep-{i:04d}", "program_role": "advocate", "connections": 500,
             "invited_at": START, "active": True}
            for i in range(1, EMPLOYEES + 1)
        ])  # fmt: skip
        connection.execute(insert(Campaign), [
            {"name": f"Campaign {i}", "slug": f"campaign-{i}",
             "destination_url": f"https://www.example.com/c{i}", "goal": "leads",
             "channels": list(CHANNELS), "utm_lowercase": True, "active": True,
             "created_at": START}
            for i in range(1, CAMPAIGNS + 1)
        ])  # fmt: skip
        links = [
            {"campaign_id": 1 + (n // EMPLOYEES * 3) % CAMPAIGNS, "employee_id": 1 + n % EMPLOYEES,
             "channel": CHANNELS[n // EMPLOYEES % len(CHANNELS)], "code": f"c{n:06d}",
             "destination_url": "https://www.example.com/", "vanity": False,
             "created_at": START, "disabled": False}
            for n in range(EMPLOYEES * 5)
        ]  # fmt: skip
        connection.execute(insert(Link), links)
        link_rows = connection.execute(
            select(Link.id, Link.employee_id, Link.campaign_id, Link.channel)
        ).all()
    span = int((END - START).total_seconds())
    columns = ("click_id, created_at, link_id, employee_id, campaign_id, channel, method, "
               "referrer, referrer_host, referrer_channel, browser, os, device_type, is_bot, "
               "bot_name, is_preview, visitor_hash, country")  # fmt: skip
    per_transaction = clicks // TRANSACTIONS
    raw = engine.raw_connection()
    try:
        for part in range(TRANSACTIONS):
            rows = []
            for n in range(part * per_transaction, (part + 1) * per_transaction):
                link = rng.choice(link_rows)
                moment = START + timedelta(seconds=span * n // clicks)
                roll = rng.random()
                is_bot, is_preview = roll < 0.06, 0.05 <= roll < 0.06
                host, channel = rng.choice(REFERRERS)
                browser, os_name, device = rng.choice(BROWSERS)
                stamp = moment.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else moment
                rows.append((f"{n:09d}{rng.getrandbits(56):014x}", stamp, link.id,
                             link.employee_id, link.campaign_id, link.channel, "GET",
                             None, host, channel, browser, os_name, device, is_bot,
                             "Googlebot" if is_bot else None, is_preview,
                             f"{rng.getrandbits(128):032x}", rng.choice(COUNTRIES)))  # fmt: skip
            cursor = raw.cursor()
            if sqlite:
                marks = ", ".join("?" * 18)
                cursor.executemany(f"INSERT INTO clicks ({columns}) VALUES ({marks})", rows)
            else:
                with cursor.copy(f"COPY clicks ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            raw.commit()
    finally:
        raw.close()
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    if not sqlite:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE clicks"))


def bench_app(url: str, folder: Path) -> Flask:
    return create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-secret-bench-secret",
            "INSTANCE_PATH": str(folder / "instance"),
            "UPLOAD_FOLDER": str(folder / "uploads"),
            "SPOOL_FOLDER": str(folder / "spool"),
            "RATELIMIT_ENABLED": False,
        }
    )


def run_cli(app: Flask, export_format: str, folder: Path) -> int:
    target = folder / f"clicks.{export_format}"
    args = ["export", "clicks", "--include-bots", "--format", export_format, "-o", str(target)]
    result = app.test_cli_runner().invoke(args=args)
    if result.exit_code != 0:
        raise RuntimeError(result.output)
    lines = _count_lines(target) - (export_format == "csv")
    target.unlink()
    return lines


def _count_lines(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))


def run_api(app: Flask, export_format: str, token: str) -> int:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    total, after = 0, ""
    while True:
        url = f"/api/v1/clicks?include_bots=1&limit={MAX_LIMIT}&format={export_format}{after}"
        response = client.get(url, headers=headers, buffered=False)
        if response.status_code != 200:
            raise RuntimeError(response.get_data(as_text=True))
        lines: list[bytes] = []
        last = b""
        for chunk in response.iter_encoded():
            lines.append(chunk)
            last = chunk
        response.close()
        body = b"".join(lines)
        rows = body.count(b"\n") - (export_format == "csv")
        if rows == 0:
            return total
        total += rows
        final = last.rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
        click_id = final.split(b'"', 4)[3] if export_format == "ndjson" else final.split(b",")[0]
        after = f"&after={click_id.decode()}"


def run_baseline(app: Flask) -> int:
    runtime = app.extensions["linktracker"]
    postgresql = runtime.engine.dialect.name == "postgresql"
    export = ClickExport(limit=MAX_LIMIT, include_bots=True)
    total = 0
    while True:
        last = None
        with runtime.sessions() as session:
            for row in export_rows(session, export):
                last = row
                total += 1
        if last is None:
            return total
        export = export.following(row_position(last, postgresql=postgresql))


def timed(action: Callable[[], int], runs: int) -> tuple[float, int]:
    """Median seconds of `runs` runs, and the rows the last one exported."""
    seconds = []
    rows = 0
    for _ in range(runs):
        started = time.perf_counter()
        rows = action()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), rows


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a SQLite file in a temp folder")
    parser.add_argument("--reuse", action="store_true", help="keep clicks already generated")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--formats", default="csv,ndjson")
    parser.add_argument("--clicks", type=int, default=CLICKS, help="a smaller table to try it")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="lt-export-bench-"))
    url = args.database_url or f"sqlite:///{Path(tempfile.gettempdir()) / 'lt-export-bench.db'}"
    engine = make_engine(url)
    with engine.connect() as connection:
        try:
            existing = connection.scalar(select(func.count()).select_from(Click)) or 0
        except Exception:  # noqa: BLE001 - no table yet
            existing = 0
    if not (args.reuse and existing == args.clicks):
        started = time.perf_counter()
        _reset(engine)
        generate(engine, args.clicks)
        print(f"generated {args.clicks:,} clicks in {time.perf_counter() - started:.0f} s")
    engine.dispose()
    app = bench_app(url, folder)
    with app.extensions["linktracker"].sessions() as session:
        create_user(session, TOKEN_USER, "marketer", "bench password, long enough")
        token = create_token(session, TOKEN_USER).token
    try:
        run_baseline(app)  # warm the caches
        base_seconds, base_rows = timed(lambda: run_baseline(app), args.runs)
        table: list[tuple[str, str, int, float]] = [("baseline", "-", base_rows, base_seconds)]
        rss: dict[tuple[str, str], float] = {("baseline", "-"): max_rss_mb()}
        for export_format in [f.strip() for f in args.formats.split(",") if f.strip()]:
            for path, action in (
                ("cli", lambda f=export_format: run_cli(app, f, folder)),
                ("api", lambda f=export_format: run_api(app, f, token)),
            ):
                seconds, rows = timed(action, args.runs)
                table.append((path, export_format, rows, seconds))
                rss[(path, export_format)] = max_rss_mb()
    finally:
        with app.extensions["linktracker"].sessions() as session:
            from linktracker.auth.models import ApiToken, User

            session.query(ApiToken).delete()
            session.query(User).filter(User.email == TOKEN_USER).delete()
            session.commit()
        app.extensions["linktracker"].dispose()
    database = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(
        f"\n{database}, {args.clicks:,} clicks, median of {args.runs} run(s), "
        f"pages of {MAX_LIMIT:,}"
    )
    header = (
        f"{'path':<9} {'format':<7} {'rows':>10} {'seconds':>8} {'rows/s':>9} {'x base':>7} "
        f"{'max RSS MB':>10} {'target':>7}"
    )
    print(header)
    print("-" * len(header))
    for path, export_format, rows, seconds in table:
        rate = rows / seconds if seconds else 0.0
        verdict = "-" if path == "baseline" else ("ok" if rate >= TARGET else "MISSED")
        print(
            f"{path:<9} {export_format:<7} {rows:>10,} {seconds:>8.2f} {rate:>9,.0f} "
            f"{seconds / base_seconds:>7.2f} {rss[(path, export_format)]:>10.0f} {verdict:>7}"
        )


if __name__ == "__main__":
    main()
