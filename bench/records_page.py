"""A rep's and a campaign's records table with 1,000,000 records: milliseconds per page.

    .venv/bin/python bench/records_page.py                       # SQLite + PostgreSQL
    .venv/bin/python bench/records_page.py --records 200000 --no-postgres
    .venv/bin/python bench/records_page.py --database-url postgresql+psycopg://postgres@127.0.0.1/lt_records_bench

One rep on one campaign holds every record (created over the last 25 days, so the default
30-day range selects them all; one in ten without an amount), inserted by SQL in one
statement, then analysed. Each page is asked ``--repeat`` times (default 7) through
`linktracker.reports.records.list_records`, as the rep and campaign pages ask it; the table
shows the median and the slowest, and the median against the first page's (the baseline: a
page deep in the table should cost the same). Pages: first, second, middle (cursor at record
500,000), last, by creation and by amount, a search, and the campaign's first page.
Target: <= 300 ms per page on both databases.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.crm_import import reset  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/lt_records_bench"

_SQLITE_FILL = """
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < :count)
INSERT INTO crm_records (source, external_id, kind, created_at, owner, stage, won, amount,
    currency, content_hash, imported_at, updated_at, attribution_method, employee_id,
    campaign_id, name, company)
SELECT 'bench', printf('D%07d', x), 'deal',
    strftime('%Y-%m-%d %H:%M:%S', :start, '+' || (x * 2) || ' seconds') || '.000000',
    'Owner ' || (x % 17), 'Qualified', 0,
    CASE WHEN x % 10 = 0 THEN NULL ELSE (x * 7919) % 100000 END, 'EUR', 'h' || x,
    :now, :now, 'utm', :employee, :campaign, printf('Deal %07d', x), 'Company ' || (x % 977)
FROM n
"""
_POSTGRES_FILL = """
INSERT INTO crm_records (source, external_id, kind, created_at, owner, stage, won, amount,
    currency, content_hash, imported_at, updated_at, attribution_method, employee_id,
    campaign_id, name, company)
SELECT 'bench', 'D' || lpad(x::text, 7, '0'), 'deal',
    CAST(:start AS timestamptz) + x * interval '2 seconds',
    'Owner ' || (x % 17), 'Qualified', false,
    CASE WHEN x % 10 = 0 THEN NULL ELSE (x::bigint * 7919) % 100000 END, 'EUR', 'h' || x,
    :now, :now, 'utm', :employee, :campaign, 'Deal ' || lpad(x::text, 7, '0'),
    'Company ' || (x % 977)
FROM generate_series(1, :count) AS x
"""


def fill(url: str, count: int) -> None:
    """An employee, a campaign and ``count`` records credited to both."""
    from sqlalchemy import text

    import linktracker.models  # noqa: F401  (every mapper)
    from linktracker.campaigns.models import Campaign
    from linktracker.db import make_engine, make_session_factory
    from linktracker.employees.models import Employee

    engine = make_engine(url)
    now = datetime.now(UTC)
    start = now - timedelta(days=25)
    postgres = engine.dialect.name == "postgresql"
    stamp = start.isoformat() if postgres else start.strftime("%Y-%m-%d %H:%M:%S")
    with make_session_factory(engine)() as session:
        employee = Employee(name="Rep One", email="rep@example.com", handle="rep0001")
        campaign = Campaign(name="Spring", slug="spring", destination_url="https://example.com/")
        session.add_all([employee, campaign])
        session.commit()
        ids = (employee.id, campaign.id)
    with engine.begin() as connection:
        connection.execute(
            text(_POSTGRES_FILL if postgres else _SQLITE_FILL),
            {
                "count": count,
                "start": stamp,
                "now": now if postgres else now.strftime("%Y-%m-%d %H:%M:%S.%f"),
                "employee": ids[0],
                "campaign": ids[1],
            },
        )
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()


def measure(url: str, count: int, repeat: int) -> list[tuple[str, list[float]]]:
    """Milliseconds per call of each page, ``repeat`` times."""
    from sqlalchemy import select

    from linktracker.crm.models import CrmRecord
    from linktracker.db import make_engine, make_session_factory
    from linktracker.reports.filters import ReportFilters
    from linktracker.reports.records import RecordsQuery, list_records

    engine = make_engine(url)
    today = datetime.now(UTC).date()
    rep = ReportFilters(today - timedelta(days=29), today, employee="rep0001")
    campaign = ReportFilters(today - timedelta(days=29), today, campaign="spring")
    results: list[tuple[str, list[float]]] = []
    with make_session_factory(engine)() as session:

        def cursor_at(position: int, sort: str) -> str:
            column = CrmRecord.created_at if sort == "created" else CrmRecord.amount
            row = session.execute(
                select(column, CrmRecord.id)
                .where(column.is_not(None))
                .order_by(column.desc(), CrmRecord.id.desc())
                .offset(position)
                .limit(1)
            ).one()
            value = row[0].astimezone(UTC).isoformat() if sort == "created" else str(row[0])
            return f"{value}~{row[1]}"

        first = list_records(session, rep, RecordsQuery(), timezone="UTC")
        cases: list[tuple[str, ReportFilters, RecordsQuery]] = [
            ("rep, newest first: page 1", rep, RecordsQuery()),
            ("rep, newest first: page 2", rep, RecordsQuery(after=first.next_cursor)),
            ("rep, newest first: at record 500,000", rep,
             RecordsQuery(after=cursor_at(count // 2, "created"))),
            ("rep, oldest first: page 1", rep, RecordsQuery(descending=False)),
            ("rep, by amount: page 1", rep, RecordsQuery(sort="amount")),
            ("rep, by amount: at record 500,000", rep,
             RecordsQuery(sort="amount", after=cursor_at(count // 2, "amount"))),
            ("rep, by amount: previous page", rep,
             RecordsQuery(sort="amount", before=cursor_at(count // 2, "amount"))),
            ("rep, search 'company 12' (1 in 90 match)", rep, RecordsQuery(search="company 12")),
            ("campaign, newest first: page 1", campaign, RecordsQuery()),
            ("campaign, by amount: at record 500,000", campaign,
             RecordsQuery(sort="amount", after=cursor_at(count // 2, "amount"))),
        ]  # fmt: skip
        for name, filters, asked in cases:
            timings = []
            for _ in range(repeat):
                started = time.perf_counter()
                page = list_records(session, filters, asked, timezone="UTC")
                timings.append((time.perf_counter() - started) * 1000)
                session.rollback()
            assert len(page.records) == 25, (name, len(page.records))
            results.append((name, timings))
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--database-url", default=DEFAULT_PG, help="PostgreSQL (emptied!).")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    table: list[tuple[str, list[tuple[str, list[float]]]]] = []
    with tempfile.TemporaryDirectory(prefix="records-bench-") as folder:
        databases = []
        if not args.no_sqlite:
            databases.append(("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}"))
        if not args.no_postgres:
            databases.append(("postgresql", args.database_url))
        for name, url in databases:
            reset(url)
            started = time.perf_counter()
            fill(url, args.records)
            took = time.perf_counter() - started
            print(f"{name}: {args.records:,} records in {took:.0f} s", flush=True)
            table.append((name, measure(url, args.records, args.repeat)))
            print_table(args.records, table[-1:])  # each database's as soon as it is measured
    print_table(args.records, table)


def print_table(count: int, table: list[tuple[str, list[tuple[str, list[float]]]]]) -> None:
    print()
    print(f"| database | page ({count:,} records, 25 a page) | median ms | slowest ms | "
          "vs page 1 |")  # fmt: skip
    print("| --- | --- | ---: | ---: | ---: |")
    for database, results in table:
        baseline = statistics.median(results[0][1])
        for name, timings in results:
            median = statistics.median(timings)
            print(f"| {database} | {name} | {median:.1f} | {max(timings):.1f} | "
                  f"{median / baseline:.2f}× |")  # fmt: skip


if __name__ == "__main__":
    main()
