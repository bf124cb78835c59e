"""CRM import throughput and memory: HubSpot-style exports of 100,000 and 1,000,000 rows.

    .venv/bin/python bench/crm_import.py                      # SQLite + PostgreSQL, both sizes
    .venv/bin/python bench/crm_import.py --rows 100000 --no-postgres
    .venv/bin/python bench/crm_import.py --rows 100000 --repeat 5       # median of five runs
    .venv/bin/python bench/crm_import.py --database-url postgresql+psycopg://postgres@127.0.0.1/lt_crm_bench

Each export is generated into a temporary folder (streamed, never held in memory), then
imported twice through `linktracker.crm.services.upload_and_import` into an empty database:
a fresh import (every row inserted) and a full re-import of the same file (every row
unchanged). Every import runs in its own process, so its peak RSS is its own; files of
2 MB and more are parsed in processes of the import's own (two on two cores), whose
memory is shown beside it: the peak of their summed RSS, sampled every 20 ms (their own
peak RSS counts the importing process's pages at the fork that starts them), so the sum of
the two columns bounds the import's peak. Rows/s are
wall-clock over `import_crm_file` (parse, upsert in 5,000-row transactions, row errors,
attribution); the attribution step is also shown on its own. With `--repeat N` every size and
database runs N times, the databases alternating; the table shows the median run (of an even
number, the slower middle one), every run's rows/s, and the worst run's peak memory.
Targets: >= 20,000 rows/s for both runs on both databases; peak RSS < 300 MB at 1,000,000 rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/lt_crm_bench"
HEADER = (
    "Record ID", "Deal Name", "Deal Stage", "Create Date", "Close Date", "Deal owner", "Amount",
    "Pipeline", "Original Source", "First Page Seen", "UTM Content", "UTM Campaign", "Email",
)  # fmt: skip
STAGES = (
    "Appointment scheduled", "Qualified to buy", "Presentation scheduled",
    "Decision maker bought-in", "Contract sent", "Closed won", "Closed lost",
)  # fmt: skip
CAMPAIGNS = ("spring-launch", "we-are-hiring", "security-whitepaper", "q4-product-launch")


def generate(path: Path, rows: int, seed: int = 1) -> None:
    """Write a HubSpot deals export of ``rows`` rows, row by row."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1)
    handles = [f"rep{n:04d}" for n in range(500)]
    with path.open("w", newline="", encoding="utf-8-sig") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADER)
        for n in range(1, rows + 1):
            created = start + timedelta(minutes=rng.randrange(0, 400_000))
            stage = STAGES[rng.randrange(len(STAGES))]
            closed = created + timedelta(days=rng.randrange(1, 90)) if "Closed" in stage else None
            amount = f"{rng.uniform(500, 90_000):.2f}" if rng.random() < 0.7 else ""
            if rng.random() < 0.5:
                handle, campaign = rng.choice(handles), rng.choice(CAMPAIGNS)
                url = (
                    f"https://www.example.com/{campaign}?utm_source=linkedin&utm_medium=social"
                    f"&utm_campaign={campaign}&utm_content={handle}&lt_cid=C{n:011d}"
                )
                source = "SOCIAL_MEDIA"
            else:
                handle = campaign = ""
                url, source = "https://www.example.com/pricing", "PAID_SEARCH"
            writer.writerow((
                9_000_000_000 + n, f"Deal {n:07d}", stage, created.strftime("%Y-%m-%d %H:%M"),
                closed.strftime("%Y-%m-%d %H:%M") if closed else "", f"Sales rep {n % 7}",
                amount, "Sales Pipeline", source, url, handle, campaign,
                f"buyer{n}@customer{n % 977}.test",
            ))  # fmt: skip


def reset(url: str) -> None:
    """An empty, migrated database."""
    from sqlalchemy import text

    from linktracker.db import make_engine
    from linktracker.migrate import upgrade_database

    if url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade_database(engine)
    engine.dispose()


def child(url: str, path: str, uploads: str) -> None:
    """Import one file (in its own process) and print the figures as JSON."""
    import linktracker.crm.services as crm
    import linktracker.models  # noqa: F401  (every mapper, for the foreign keys)
    from linktracker.attribution.services import attribute_records
    from linktracker.db import make_engine, make_session_factory

    attribution = [0.0]

    def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return attribute_records(*args, **kwargs)
        finally:
            attribution[0] += time.perf_counter() - started

    parsers = _ChildrenMemory()
    parsers.start()
    engine = make_engine(url)
    with make_session_factory(engine)() as session, open(path, "rb") as stream:
        stored = crm.store_upload(session, stream, filename=Path(path).name, upload_folder=uploads)
        started, cpu = time.perf_counter(), time.process_time()
        context = crm.ImportContext(uploads, b"bench-secret", attribute=timed)
        summary = crm.import_crm_file(session, stored.id, context)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    parser = resource.getrusage(resource.RUSAGE_CHILDREN)  # the parsing processes, if any
    print(json.dumps({
        "rows": summary.rows, "inserted": summary.inserted, "updated": summary.updated,
        "unchanged": summary.unchanged, "rejected": summary.rejected, "seconds": seconds,
        "cpu": cpu, "attribution": attribution[0], "parser_cpu": parser.ru_utime + parser.ru_stime,
        "parser_rss_mb": parsers.stop(),
    }))  # fmt: skip


class _ChildrenMemory(threading.Thread):
    """Samples the summed RSS of this process's children (the parsing processes)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.done = threading.Event()

    def run(self) -> None:
        task = Path(f"/proc/{os.getpid()}/task")
        while not self.done.wait(0.02):
            total = 0
            for thread in task.iterdir():
                try:
                    children = (thread / "children").read_text().split()
                except OSError:
                    continue  # the thread ended meanwhile
                for pid in children:
                    try:
                        status = Path(f"/proc/{pid}/status").read_text()
                    except OSError:
                        continue  # ended meanwhile
                    total += next(
                        (int(line.split()[1]) for line in status.splitlines()
                         if line.startswith("VmRSS:")), 0
                    )  # fmt: skip
            self.peak_kb = max(self.peak_kb, total)

    def stop(self) -> float:
        self.done.set()
        self.join()
        return self.peak_kb / 1024


def run_child(url: str, path: Path, uploads: Path) -> dict[str, float]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", url, str(path), str(uploads)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"import failed ({process.returncode}): {output}")
    figures: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    figures["rss_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--database-url", default=DEFAULT_PG, help="PostgreSQL (emptied!).")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per size and database; the median is shown"
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as folder:
        work = Path(folder)
        databases = []
        if not args.no_sqlite:
            databases.append(("sqlite", f"sqlite:///{work / 'bench.db'}"))
        if not args.no_postgres:
            databases.append(("postgresql", args.database_url))
        table = []
        for rows in args.rows:
            path = work / f"hubspot-{rows}.csv"
            started = time.perf_counter()
            generate(path, rows)
            size, took = path.stat().st_size / 1e6, time.perf_counter() - started
            print(f"generated {rows:,} rows ({size:.0f} MB) in {took:.1f} s", flush=True)
            runs: dict[tuple[str, str], list[dict[str, float]]] = {}
            for repeat in range(args.repeat):  # databases alternate: noise hits both alike
                for name, url in databases:
                    reset(url)
                    for run in ("fresh", "re-import"):
                        figures = run_child(url, path, work / "uploads")
                        expected = "inserted" if run == "fresh" else "unchanged"
                        assert figures[expected] == rows, figures
                        runs.setdefault((name, run), []).append(figures)
                        print(f"  {name:<10} {run:<9} {rows / figures['seconds']:>9,.0f} rows/s"
                              f"  ({repeat + 1}/{args.repeat})", flush=True)  # fmt: skip
            table += [(name, rows, run, found) for (name, run), found in runs.items()]
            path.unlink()
    print_table(table)


def print_table(table: list[tuple[str, int, str, list[dict[str, float]]]]) -> None:
    """One line per size, database and run: the median run's figures (by seconds)."""
    print()
    print("| database | rows | run | seconds | rows/s | rows/s of all runs | attribution s | "
          "rows/s without attribution | CPU s (import + parser) | "
          "peak RSS MB, worst run (import + parser) |")  # fmt: skip
    print("| --- | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |")
    for name, rows, run, found in table:
        ordered = sorted(found, key=lambda figures: figures["seconds"])
        f = ordered[len(ordered) // 2]  # the median run (of an even number, the slower middle one)
        every = " / ".join(f"{rows / figures['seconds']:,.0f}" for figures in found)
        without = rows / max(f["seconds"] - f["attribution"], 1e-9)
        print(
            f"| {name} | {rows:,} | {run} | {f['seconds']:.1f} | {rows / f['seconds']:,.0f} | "
            f"{every} | {f['attribution']:.1f} | {without:,.0f} | "
            f"{f['cpu']:.1f} + {f['parser_cpu']:.1f} | "
            f"{max(x['rss_mb'] for x in found):.0f} + "
            f"{max(x['parser_rss_mb'] for x in found):.0f} |"
        )


if __name__ == "__main__":
    main()
