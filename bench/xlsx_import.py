"""CRM import of an .xlsx workbook against the same data as CSV: rows/s and peak memory.

    .venv/bin/python bench/xlsx_import.py                 # 100,000 rows, SQLite + PostgreSQL
    .venv/bin/python bench/xlsx_import.py --rows 100000 --repeat 3 --no-postgres
    .venv/bin/python bench/xlsx_import.py --database-url postgresql+psycopg://postgres@127.0.0.1/lt_xlsx_bench

The HubSpot-style export of ``bench/crm_import.py`` is generated as CSV, then written as a
workbook with typed cells (ids and amounts as numbers, dates as date cells, as Excel stores
them after opening the CSV) by openpyxl's write-only mode (inline strings: the larger sheet
XML, so the slower case to read). Both files are imported fresh, then again (every row
unchanged), each import in its own process through `upload_and_import`'s two steps as
`bench/crm_import.py` runs them; the CSV is the baseline in the same run. Rows/s are
wall-clock over `import_crm_file` (converting the sheet included); CPU seconds are the
importing process's and its parsing processes' (less disturbed by other work on the machine
than wall-clock); peak RSS is the importing process's plus the summed parsing processes'
(sampled). With `--repeat N` the median run is shown, and every run's rows/s. Targets: a
100,000-row workbook at >= 10,000 rows/s, in < 300 MB.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.crm_import import DEFAULT_PG, generate, reset, run_child  # noqa: E402

SECONDS = "seconds"
_DATE_COLUMNS = {"Create Date", "Close Date"}
_NUMBER_COLUMNS = {"Record ID", "Amount"}


def write_workbook(source: Path, target: Path) -> None:
    """Write the CSV export as a workbook, row by row, dates and numbers typed."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Deals")
    with source.open(newline="", encoding="utf-8-sig") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        sheet.append(header)
        dates = [i for i, name in enumerate(header) if name in _DATE_COLUMNS]
        numbers = [i for i, name in enumerate(header) if name in _NUMBER_COLUMNS]
        for row in reader:
            cells: list[object] = list(row)
            for i in dates:
                cells[i] = datetime.strptime(row[i], "%Y-%m-%d %H:%M") if row[i] else None
            for i in numbers:
                cells[i] = (float(row[i]) if "." in row[i] else int(row[i])) if row[i] else None
            sheet.append(cells)
    book.save(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=DEFAULT_PG, help="PostgreSQL (emptied!).")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="runs each; the median is shown")
    args = parser.parse_args()
    rows = args.rows
    with tempfile.TemporaryDirectory(prefix="xlsx-bench-") as folder:
        work = Path(folder)
        databases = []
        if not args.no_sqlite:
            databases.append(("sqlite", f"sqlite:///{work / 'bench.db'}"))
        if not args.no_postgres:
            databases.append(("postgresql", args.database_url))
        text = work / "deals.csv"
        book = work / "deals.xlsx"
        started = time.perf_counter()
        generate(text, rows)
        write_workbook(text, book)
        print(
            f"generated {rows:,} rows: CSV {text.stat().st_size / 1e6:.1f} MB, xlsx "
            f"{book.stat().st_size / 1e6:.1f} MB, in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        runs: dict[tuple[str, str, str], list[dict[str, float]]] = {}
        for repeat in range(args.repeat):
            for name, url in databases:
                for kind, path in (("csv", text), ("xlsx", book)):
                    reset(url)
                    for run in ("fresh", "re-import"):
                        figures = run_child(url, path, work / "uploads")
                        expected = "inserted" if run == "fresh" else "unchanged"
                        assert figures[expected] == rows, figures
                        runs.setdefault((name, run, kind), []).append(figures)
                        print(
                            f"  {name:<10} {kind:<4} {run:<9} "
                            f"{rows / figures['seconds']:>9,.0f} rows/s "
                            f"({repeat + 1}/{args.repeat})",
                            flush=True,
                        )
    print_table(rows, runs)


def _median(found: list[dict[str, float]]) -> dict[str, float]:
    ordered = sorted(found, key=lambda figures: figures["seconds"])
    return ordered[len(ordered) // 2]


def print_table(rows: int, runs: dict[tuple[str, str, str], list[dict[str, float]]]) -> None:
    """A line per database, run and file: median rows/s, peak memory, the ratio to CSV."""
    print()
    print(
        "| database | run | file | rows | seconds | rows/s | rows/s of all runs | vs CSV | "
        "CPU s (import + parser) | peak RSS MB, worst run (import + parser) |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    for (name, run, kind), found in runs.items():
        figures = _median(found)
        baseline = _median(runs[(name, run, "csv")])
        ratio = baseline["seconds"] / figures["seconds"]
        print(
            f"| {name} | {run} | {kind} | {rows:,} | {figures['seconds']:.1f} | "
            f"{rows / figures['seconds']:,.0f} | "
            f"{' / '.join(f'{rows / x[SECONDS]:,.0f}' for x in found)} | {ratio:.2f}× | "
            f"{figures['cpu']:.1f} + {figures['parser_cpu']:.1f} | "
            f"{max(x['rss_mb'] for x in found):.0f} + "
            f"{max(x['parser_rss_mb'] for x in found):.0f} |"
        )


if __name__ == "__main__":
    main()
