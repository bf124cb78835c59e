"""No click lost under load: 64 connections, database outages and SIGKILLed workers.

    .venv/bin/python bench/outage.py [--seconds 12] [--connections 64] [--db sqlite,postgresql]
        [--pg-database lt_bench]

Scenarios, each a fixed-time wrk run against a fresh database and gunicorn (the buffered worker, 2
workers x 8 threads, a listening socket each as `linktracker run` gives them):
  steady        no fault
  outage        the database is unavailable from 25 % to 60 % of the run: PostgreSQL is
                reached through a TCP proxy we cut and restore (the shared server is never
                stopped); SQLite is locked by another connection holding BEGIN EXCLUSIVE
  kill          one worker is SIGKILLed at 40 % of the run (gunicorn starts a new one)
  kill+outage   the same kill, in the middle of the outage (its spool file is orphaned)
After the run the server stops gracefully; whatever is still spooled is then replayed
(as `linktracker spool replay` would). "lost" counts answered requests without a click.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import make_url  # noqa: E402

from bench.redirect import (  # noqa: E402
    LoadResult,
    ServerSettings,
    app_env,
    count_clicks,
    create_bench_link,
    fresh_database,
    replay_spool_left,
    require_wrk,
    run_wrk,
    scratch_run,
    serving,
)
from bench.tcp_proxy import TcpProxy  # noqa: E402
from linktracker.db import utcnow  # noqa: E402

SCENARIOS = ("steady", "outage", "kill", "kill+outage")


@dataclass(frozen=True)
class Outcome:
    scenario: str
    database: str
    load: LoadResult
    clicks_at_stop: int
    replayed_after: int
    clicks: int
    killed: int

    @property
    def lost(self) -> int:
        return max(self.load.requests - self.clicks, 0)


@contextlib.contextmanager
def unavailable_database(kind: str, url: str, proxy: TcpProxy | None) -> Iterator[None]:
    """The database the app uses cannot be written while inside this block."""
    if kind == "postgresql" and proxy is not None:
        proxy.cut()
        try:
            yield
        finally:
            proxy.restore()
        return
    holder = sqlite3.connect(str(make_url(url).database), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def at(delay: float, action: Callable[[], None]) -> threading.Timer:
    timer = threading.Timer(delay, action)
    timer.daemon = True
    timer.start()
    return timer


def run_scenario(
    scenario: str, kind: str, args: argparse.Namespace, settings: ServerSettings, base: Path
) -> Outcome:
    workdir = Path(tempfile.mkdtemp(prefix=f"{kind}-{scenario.replace('+', '-')}-", dir=base))
    url = fresh_database(kind, workdir, args.pg_database)
    code = create_bench_link(url)
    with contextlib.ExitStack() as stack:
        proxy = None
        app_url = url
        if kind == "postgresql":
            parsed = make_url(url)
            proxy = stack.enter_context(TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432))
            app_url = parsed.set(port=proxy.port).render_as_string(hide_password=False)
        env = app_env(app_url, workdir)
        server = stack.enter_context(
            serving("wsgi:app", settings, env, workdir / "gunicorn.log", "/healthz")
        )
        target = server.url + f"/{code}"
        for _ in range(2):  # warm up; the second pass replays any warm-up spool
            time.sleep(1.2)
            run_wrk(target, 1, args.connections, workdir)
        time.sleep(0.5)
        started = utcnow()  # clicks are counted by their time: warm-up ones come before
        killed: list[int] = []
        outage_on = threading.Event()
        outage_off = threading.Event()
        seconds = args.seconds

        def outage() -> None:
            with unavailable_database(kind, url, proxy):
                outage_on.set()
                time.sleep(seconds * 0.35)
            outage_off.set()

        def kill() -> None:
            pids = server.worker_pids()
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

        if "outage" in scenario:
            at(seconds * 0.25, outage)
        if "kill" in scenario:
            at(seconds * 0.4, kill)
        load = run_wrk(target, seconds, args.connections, workdir)
        if "outage" in scenario:
            outage_off.wait(timeout=seconds)
    # Graceful stop done: every answered click is in the database or in a spool file.
    at_stop = count_clicks(url, started)
    replayed = replay_spool_left(url, workdir / "spool")
    return Outcome(scenario, kind, load, at_stop, replayed, count_clicks(url, started), len(killed))


def print_outcomes(outcomes: list[Outcome]) -> None:
    header = (
        f"{'scenario':<12} {'database':<11} {'answered':>9} {'4xx/5xx':>7} {'sock err':>8} "
        f"{'p99 ms':>7} {'max ms':>7} {'clicks@stop':>11} {'replayed':>8} {'clicks':>8} "
        f"{'lost':>5} {'extra':>5}"
    )
    print(header)
    print("-" * len(header))
    for o in outcomes:
        extra = max(o.clicks - o.load.requests, 0)
        print(
            f"{o.scenario:<12} {o.database:<11} {o.load.requests:>9} {o.load.error_statuses:>7} "
            f"{o.load.socket_errors:>8} {o.load.p99_ms:>7.1f} {o.load.max_ms:>7.1f} "
            f"{o.clicks_at_stop:>11} {o.replayed_after:>8} {o.clicks:>8} {o.lost:>5} {extra:>5}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--pg-database",
        default="lt_bench",
        help="PostgreSQL database to drop, re-create and use (on 127.0.0.1:5432)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, spool)")
    args = parser.parse_args()
    require_wrk()
    settings = ServerSettings.of("buffered", args.workers, args.threads, None)  # as `run` serves
    base = Path(tempfile.mkdtemp(prefix="lt-outage-"))
    outcomes: list[Outcome] = []
    with scratch_run(base, keep=args.keep, kept="logs"):
        for scenario in args.scenarios.split(","):
            for kind in args.db.split(","):
                outcomes.append(run_scenario(scenario.strip(), kind.strip(), args, settings, base))
    print(
        f"\nwrk -t2 -c{args.connections} -d{args.seconds}s, {settings.label}; "
        "lost = answered requests with no click after replay"
    )
    print_outcomes(outcomes)


if __name__ == "__main__":
    main()
