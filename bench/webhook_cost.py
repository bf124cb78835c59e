"""CPU a click.created webhook costs per click, in one process: the redirect vs the event.

    .venv/bin/python bench/webhook_cost.py [--db sqlite,postgresql] [--rounds 5] [--requests 2000]

Socket benchmarks (bench/redirect.py --webhook) swing by ±20 % on a busy machine; CPU time in
one process much less. Per database, in alternating rounds: `--requests` redirects through the
app's WSGI callable (process CPU, so the click writer's thread counts too), then one delivery
round for their clicks (ClickEvents.queue and deliver_due, the delivery thread's work: that
thread's CPU only, so the loopback receiver's does not count). Prints medians of the µs per
click (queue: reading the stored clicks and writing their events to the outbox; deliver:
sending them, up to 1,000 clicks an event) and the share of CPU left for redirects with a webhook,
redirect / (redirect + queue + deliver). `clicks`: the fewest clicks a round covered.
A subscriber with include_bots: every click is an event.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.redirect import (  # noqa: E402
    app_env,
    create_bench_link,
    fresh_database,
    subscribe_clicks,
    webhook_receiver,
)
from linktracker.webhooks.services import deliver_due  # noqa: E402


def measure(kind: str, args: argparse.Namespace, base: Path) -> str:
    from linktracker import create_app

    workdir = base / kind
    workdir.mkdir()
    url = fresh_database(kind, workdir, args.pg_database)
    code = create_bench_link(url)
    app = create_app({**app_env(url, workdir), "INSTANCE_PATH": str(workdir / "instance")})
    runtime = app.extensions["linktracker"]
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": f"/{code}", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_USER_AGENT": "wrk", "wsgi.url_scheme": "http",
    }  # fmt: skip

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        assert status.startswith("302"), status

    redirect_us: list[float] = []
    queue_us: list[float] = []
    deliver_us: list[float] = []
    counts: list[int] = []
    with webhook_receiver() as receiver:
        subscribe_clicks(url, receiver.url)
        try:
            for n in range(args.rounds + 1):
                started = time.process_time()
                for _ in range(args.requests):
                    app(dict(environ), start_response)
                assert runtime.recorder.flush(30)
                redirect = (time.process_time() - started) / args.requests * 1e6
                # PostgreSQL: clicks past the horizon of every open transaction on the server
                # (another database's too) wait for it; thread CPU does not count the wait.
                queue_cpu, queued, deadline = 0.0, 0, time.monotonic() + 60
                while queued < args.requests and time.monotonic() < deadline:
                    started = time.thread_time()
                    queued += runtime.click_events.queue()
                    queue_cpu += time.thread_time() - started
                    time.sleep(0.05)
                started = time.thread_time()
                deliver_due(runtime.sessions, allow_private=True)
                deliver_cpu = time.thread_time() - started
                if n:  # the first round warms up
                    redirect_us.append(redirect)
                    queue_us.append(queue_cpu / max(queued, 1) * 1e6)
                    deliver_us.append(deliver_cpu / max(queued, 1) * 1e6)
                    counts.append(queued)
        finally:
            runtime.dispose()
    r, q, d = (statistics.median(v) for v in (redirect_us, queue_us, deliver_us))
    return (
        f"{kind:<11} {r:>12.1f} {q:>9.1f} {d:>11.1f} {r / (r + q + d):>9.3f} "
        f"{len(redirect_us):>7} {min(counts):>7}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--pg-database", default="lt_bench_webhook_cost")
    args = parser.parse_args()
    header = (
        f"{'database':<11} {'redirect µs':>12} {'queue µs':>9} {'deliver µs':>11} {'share':>9} "
        f"{'rounds':>7} {'clicks':>7}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory(prefix="lt-webhook-cost-") as base:
        for kind in [k.strip() for k in args.db.split(",") if k.strip()]:
            print(measure(kind, args, Path(base)), flush=True)


if __name__ == "__main__":
    main()
