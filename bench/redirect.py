"""Redirect throughput: our app under gunicorn vs a bare WSGI 302, on SQLite and PostgreSQL.

    .venv/bin/python bench/redirect.py [--seconds 10] [--connections 32] [--db sqlite,postgresql]
        [--webhook]
    .venv/bin/python bench/redirect.py --country-lookup --rounds 5   # its cost: with vs without

For each database it creates a fresh database (a temp SQLite file; PostgreSQL database
`lt_bench`, or `--pg-database`, on 127.0.0.1:5432, dropped and re-created), migrates it,
creates one campaign, employee and link through the services, serves the app with gunicorn on a
free 127.0.0.1 port and loads `GET /<code>` with wrk for a fixed time; the bare app runs under
the same gunicorn settings (with --pin, on the same CPU). Targets are loaded in alternating
rounds, so a noisy neighbour on the machine hits them all alike. "answered" is wrk's count of
complete responses. After a graceful stop (in-flight requests finish) the clicks created since
the load started are counted by their timestamp, so warm-up clicks do not count. clicks -
answered ("+N") are requests the server finished after wrk stopped counting: at most one per
connection per round. They are reported, not hidden. Any click still spooled is replayed and
said so. With --webhook each database is served twice, both servers starting what
`linktracker run` starts in a worker, one of them ("<db>+webhook") with a `click.created`
webhook to a receiver on loopback: the ratio of the medians of its rounds to its plain twin's
is what webhook delivery costs the redirect.


--country-lookup runs each database twice, as two servers on databases of their own loaded in
the same alternating rounds: once with the offline country lookup off (COUNTRY_LOOKUP=0) and
once on, every request coming from a public address (X-Forwarded-For from a trusted proxy, so
each click is really looked up), and prints the ratio of their per-round medians. It then
times the same redirect in-process (the app's WSGI callable, no network, the lookup switched
off and on between alternating rounds of --in-process-requests requests in one process), which
a busy machine disturbs far less than a load over sockets.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from linktracker.campaigns.services import create_campaign  # noqa: E402
from linktracker.clicks.models import Click  # noqa: E402
from linktracker.clicks.spool import replay_spool  # noqa: E402
from linktracker.clicks.webhook_events import ClickEvents  # noqa: E402
from linktracker.db import make_engine, make_session_factory, utcnow  # noqa: E402
from linktracker.employees.services import create_employee  # noqa: E402
from linktracker.links.services import get_or_create_link  # noqa: E402
from linktracker.migrate import upgrade_database  # noqa: E402
from linktracker.webhooks.models import WebhookDelivery  # noqa: E402
from linktracker.webhooks.services import create_webhook, deliver_due  # noqa: E402

# --pin: wrk on one core, every gunicorn (the bare app and ours alike) on the other, so the
# load generator and the server under test never take each other's core. PostgreSQL is not
# pinned (its backends are forked by the shared server).
WRK_CPU = "0"
SERVER_CPU = "1"
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
# `linktracker run`'s worker: gthread reading each request in its event loop first.
BUFFERED = "linktracker.http_worker.BufferedThreadWorker"
SECRET = "bench-secret-bench-secret"

# wrk's own totals: answered responses, latency percentiles, and errors by kind. A Lua
# response() callback could tally every status exactly, but it halves wrk's own throughput
# on two cores and would make the baseline, not the server, the bottleneck.
WRK_SCRIPT = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "seconds": %f, "p50_us": %d, "p99_us": %d, "max_us": %d, '
    .. '"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.timeout, e.status))
end
"""


@dataclass(frozen=True)
class ServerSettings:
    worker_class: str  # sync, gthread or BUFFERED
    workers: int
    threads: int
    # CPUs gunicorn (bare and app alike) may run on, e.g. "1"; None: wherever the OS likes.
    cpus: str | None = None
    # A listening socket per worker (SO_REUSEPORT), as `linktracker run` gives several workers.
    reuse_port: bool = False

    @classmethod
    def of(cls, kind: str, workers: int, threads: int, cpus: str | None) -> ServerSettings:
        """``buffered`` (as `linktracker run`), ``sync``, ``gthread`` (a socket per worker)
        or ``gthread-shared`` (one socket)."""
        if kind not in ("buffered", "sync", "gthread", "gthread-shared"):
            raise SystemExit(f"unknown server {kind!r} (buffered, sync, gthread, gthread-shared)")
        worker_class = BUFFERED if kind == "buffered" else kind.split("-")[0]
        reuse_port = kind in ("buffered", "gthread")
        return cls(worker_class, workers, threads, cpus, reuse_port=reuse_port)

    @property
    def label(self) -> str:
        pinned = f" cpu{self.cpus}" if self.cpus else ""
        if self.worker_class == "sync":
            return f"gunicorn sync x{self.workers}{pinned}"
        kind = "buffered" if self.worker_class == BUFFERED else "gthread"
        shared = "" if self.reuse_port else " shared"
        return f"gunicorn {kind} {self.workers}x{self.threads}{shared}{pinned}"

    @property
    def name(self) -> str:
        """For file names."""
        return self.label.removeprefix("gunicorn ").replace(" ", "-")

    def pinning(self) -> list[str]:
        """The command prefix that keeps gunicorn and its workers on `cpus`."""
        return ["taskset", "-c", self.cpus] if self.cpus else []

    def arguments(self) -> list[str]:
        args = ["--workers", str(self.workers), "--worker-class", self.worker_class]
        if self.worker_class != "sync":
            args += ["--threads", str(self.threads)]
        if self.reuse_port:
            args.append("--reuse-port")
        return args + ["--backlog", "2048", "--graceful-timeout", "10", "--timeout", "30"]


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    error_statuses: int  # answered with 4xx/5xx

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Row:
    server: str
    database: str
    load: LoadResult
    clicks: int | None = None
    notes: list[str] = field(default_factory=list)
    rounds: list[LoadResult] = field(default_factory=list)
    countries: str = "-"  # the countries stored on the run's clicks ("-": none)


# ----------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A gunicorn process group we started, always stopped again."""

    def __init__(
        self,
        target: str,
        settings: ServerSettings,
        env: dict[str, str],
        log: Path,
        extra: tuple[str, ...] = (),
    ):
        self.port = free_port()
        self.log = log
        command = [
            *settings.pinning(), sys.executable, "-m", "gunicorn", target,
            "--bind", f"127.0.0.1:{self.port}",
            *settings.arguments(), *extra,
        ]  # fmt: skip
        self._log_handle = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Ctrl+C here does not reach it
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, path: str = "/healthz", timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early, see {self.log}")
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            try:
                connection.request("GET", path)
                if connection.getresponse().status < 500:
                    return  # it answers (redirects are not followed)
            except OSError:
                pass
            finally:
                connection.close()
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer {path} within {timeout}s, see {self.log}")

    def worker_pids(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        ).stdout
        return [int(pid) for pid in out.split()]

    def stop(self) -> None:
        """Graceful stop (workers finish in-flight requests), then force."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # Workers are in the same group; make sure none outlives the arbiter.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self._log_handle.close()


@contextlib.contextmanager
def serving(
    target: str,
    settings: ServerSettings,
    env: dict[str, str],
    log: Path,
    ready_path: str,
    extra: tuple[str, ...] = (),
) -> Iterator[Server]:
    for attempt in (1, 2):  # a port picked free can be taken before gunicorn binds it
        server = Server(target, settings, env, log, extra)
        try:
            server.wait_ready(ready_path)
            break
        except RuntimeError:
            server.stop()
            if attempt == 2:
                raise
    try:
        yield server
    finally:
        server.stop()


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is not installed: install it (e.g. `apt-get install -y wrk`) and run again.")
    return wrk


def run_wrk(
    url: str,
    seconds: float,
    connections: int,
    workdir: Path,
    threads: int = 2,
    cpus: str | None = None,
    headers: tuple[str, ...] = (),
) -> LoadResult:
    """Load `url` for a fixed time (on `cpus` if given); wrk reports every response it received."""
    script = workdir / "count.lua"
    script.write_text(WRK_SCRIPT)
    command = [
        *(["taskset", "-c", cpus] if cpus else []),
        require_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
        "-s", str(script), *[arg for header in headers for arg in ("-H", header)], url,
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"no summary from wrk:\n{out}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    return LoadResult(
        requests=int(data["requests"]),
        seconds=float(data["seconds"]),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        error_statuses=int(data["status"]),
    )


# ----------------------------------------------------------------------------- databases


def fresh_database(kind: str, workdir: Path, pg_database: str = "lt_bench") -> str:
    """A new, migrated database with one live link; returns its URL."""
    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'bench.db'}"
    elif kind == "postgresql":
        admin = make_engine(f"{PG_SERVER}/postgres").execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            quoted = admin.dialect.identifier_preparer.quote(pg_database)
            connection.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {quoted}"))
        admin.dispose()
        url = f"{PG_SERVER}/{pg_database}"
    else:
        raise SystemExit(f"unknown database {kind!r} (sqlite or postgresql)")
    engine = make_engine(url)
    upgrade_database(engine)
    engine.dispose()
    return url


def create_bench_link(url: str) -> str:
    """One campaign, one employee, one link, made through the services."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        allowed = ["www.example.com"]
        campaign = create_campaign(
            session,
            name="Bench campaign",
            destination_url="https://www.example.com/landing",
            allowed_domains=allowed,
            channels=["linkedin"],
        )
        employee = create_employee(session, name="Advocate 01", email="advocate01@example.com")
        link = get_or_create_link(
            session,
            campaign_slug=campaign.slug,
            employee_handle=employee.handle,
            channel="linkedin",
            medium="social",
            allowed_domains=allowed,
        ).link
        code = link.code
    engine.dispose()
    return code


def count_clicks(url: str, since: datetime) -> int:
    """Clicks recorded from `since` on: warm-up clicks stored late do not count."""
    engine = make_engine(url)
    with engine.connect() as connection:
        query = select(func.count(Click.id)).where(Click.created_at >= since)
        count = int(connection.scalar(query) or 0)
    engine.dispose()
    return count


def click_countries(url: str, since: datetime) -> str:
    """The distinct countries stored on the clicks from `since` on ("-" for none)."""
    engine = make_engine(url)
    with engine.connect() as connection:
        query = select(Click.country).where(Click.created_at >= since).distinct()
        found = sorted(country or "-" for country in connection.scalars(query))
    engine.dispose()
    return ",".join(found) or "-"


def app_env(url: str, workdir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "SPOOL_FOLDER": str(workdir / "spool"),
        "UPLOAD_FOLDER": str(workdir / "uploads"),
        "ALLOWED_DOMAINS": "www.example.com",
        **(extra or {}),
    }


# --country-lookup: every request comes from this public address (a GB one), through one
# trusted proxy hop, so the lookup runs on each click as it would in production.
PUBLIC_ADDRESS = "81.2.69.142"
COUNTRY_RUNS = {
    "": {"COUNTRY_LOOKUP": "0", "TRUSTED_PROXIES": "1"},
    "+country": {"COUNTRY_LOOKUP": "1", "TRUSTED_PROXIES": "1"},
}


# ----------------------------------------------------------------------------- runs


@dataclass
class Target:
    """One server under load: the bare app, or our app on one database."""

    database: str
    server: Server
    path: str
    url: str | None = None  # the app's database
    workdir: Path | None = None
    load_started: datetime | None = None
    loads: list[LoadResult] = field(default_factory=list)
    receiver: WebhookReceiver | None = None


def start_targets(
    stack: contextlib.ExitStack, settings: ServerSettings, args: argparse.Namespace, base: Path
) -> list[Target]:
    databases = [kind.strip() for kind in args.db.split(",") if kind.strip()]
    bare_log = base / f"bare-{settings.name}.log"
    bare = stack.enter_context(serving("bench.bare_app:app", settings, {}, bare_log, "/"))
    targets = [Target("bare 302", bare, "/anything")]
    receiver = stack.enter_context(webhook_receiver()) if args.webhook else None
    if receiver is not None or not args.country_lookup:
        variants = [(kind, False) for kind in databases]
        if receiver is not None:
            variants += [(kind, True) for kind in databases]
        for kind, subscribed in variants:
            name = f"{kind}+webhook" if subscribed else kind
            workdir = base / f"{name}-{settings.name}"
            workdir.mkdir()
            pg_database = f"{args.pg_database}_webhook" if subscribed else args.pg_database
            url = fresh_database(kind, workdir, pg_database)
            code = create_bench_link(url)
            env = app_env(url, workdir)
            extra: tuple[str, ...] = ()
            if receiver is not None:
                # Both app variants run what `linktracker run` runs in a worker (click writer and
                # webhook deliverer); only "+webhook" has a click.created subscriber.
                extra = ("--config", "python:bench.serving_hooks")
                env["WEBHOOK_ALLOW_PRIVATE"] = "true"
            if subscribed and receiver is not None:
                subscribe_clicks(url, receiver.url)
            log = workdir / "gunicorn.log"
            server = stack.enter_context(serving("wsgi:app", settings, env, log, "/healthz", extra))
            targets.append(Target(name, server, f"/{code}", url, workdir, receiver=receiver))
    else:
        runs = COUNTRY_RUNS if args.country_lookup else {"": {}}
        for kind in databases:
            for suffix, extra in runs.items():
                workdir = base / f"{kind}{suffix}-{settings.name}"
                workdir.mkdir()
                url = fresh_database(kind, workdir, args.pg_database + suffix.replace("+", "_"))
                code = create_bench_link(url)
                log = workdir / "gunicorn.log"
                server = stack.enter_context(
                    serving("wsgi:app", settings, app_env(url, workdir, extra), log, "/healthz")
                )
                targets.append(Target(kind + suffix, server, f"/{code}", url, workdir))
    return targets


class WebhookReceiver:
    """A loopback receiver answering 204, counting the clicks it was sent."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        self.requests = 0
        self.clicks = 0


@contextlib.contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver: WebhookReceiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.requests += 1
            receiver.clicks += len(json.loads(body)["data"].get("clicks", []))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    receiver = WebhookReceiver(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


def subscribe_clicks(url: str, receiver_url: str) -> None:
    """A click.created webhook through the service, bots included: wrk sends no User-Agent,
    so its requests count as a bot's, and every one of them is to become an event."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        create_webhook(
            session,
            url=receiver_url,
            events=["click.created"],
            allow_private=True,
            include_bots=True,
        )
    engine.dispose()


def webhook_note(url: str, receiver: WebhookReceiver) -> str:
    """How many of the stored clicks' events reached the receiver."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        deadline = time.monotonic() + 30
        while True:  # stopped servers deliver nothing more: send the rest as the CLI would
            ClickEvents(make_session_factory(engine)).queue()
            run = deliver_due(make_session_factory(engine), allow_private=True)
            if not run.attempted or time.monotonic() > deadline:
                break
        pending = session.scalar(
            select(func.count(WebhookDelivery.id)).where(WebhookDelivery.status != "delivered")
        )
    engine.dispose()
    return (
        f"webhook: {receiver.clicks} click(s) in {receiver.requests} click.created "
        f"deliveries, {pending} not delivered"
    )


def bench_settings(settings: ServerSettings, args: argparse.Namespace, base: Path) -> list[Row]:
    """Alternate the targets round by round, so a noisy neighbour hits them all alike."""
    wrk_cpus = WRK_CPU if settings.cpus else None
    headers = (f"X-Forwarded-For: {PUBLIC_ADDRESS}",) if args.country_lookup else ()
    with contextlib.ExitStack() as stack:
        targets = start_targets(stack, settings, args, base)
        for _ in range(2):  # warm caches, imports and pools; a second pass after the
            time.sleep(1.2)  # recorder's breaker lets any warm-up spool replay
            for target in targets:
                url = target.server.url + target.path
                run_wrk(url, 1, args.connections, base, cpus=wrk_cpus, headers=headers)
        time.sleep(0.5)  # the warm-up's last in-flight requests finish
        started = utcnow()  # clicks are counted by their time: warm-up ones come before
        for target in targets:
            target.load_started = started
        for _ in range(args.rounds):
            for target in targets:
                url = target.server.url + target.path
                load = run_wrk(
                    url, args.seconds, args.connections, base, cpus=wrk_cpus, headers=headers
                )
                target.loads.append(load)
    # Every server has stopped gracefully: every request it took is finished and stored.
    rows = [finish(target, settings) for target in targets]
    for row, target in zip(rows, targets, strict=True):
        row.rounds = list(target.loads)
    return rows


def finish(target: Target, settings: ServerSettings) -> Row:
    row = Row(settings.label, target.database, combine(target.loads), rounds=target.loads)
    if target.url is None or target.workdir is None or target.load_started is None:
        return row
    row.clicks = count_clicks(target.url, target.load_started)
    if target.database.endswith("+webhook") and target.receiver is not None:
        row.notes.append(webhook_note(target.url, target.receiver))
    row.countries = click_countries(target.url, target.load_started)
    spooled = replay_spool_left(target.url, target.workdir / "spool")
    if spooled:
        row.notes.append(f"{spooled} click(s) were still spooled after the stop; replayed now")
        row.clicks = count_clicks(target.url, target.load_started)
    return row


def replay_spool_left(url: str, folder: Path) -> int:
    engine = make_engine(url)
    try:
        return replay_spool(engine, folder).inserted
    finally:
        engine.dispose()


def combine(loads: list[LoadResult]) -> LoadResult:
    """Rounds summed; p50 averaged, p99 and max the worst round's (conservative)."""
    return LoadResult(
        requests=sum(load.requests for load in loads),
        seconds=sum(load.seconds for load in loads),
        p50_ms=sum(load.p50_ms for load in loads) / len(loads),
        p99_ms=max(load.p99_ms for load in loads),
        max_ms=max(load.max_ms for load in loads),
        socket_errors=sum(load.socket_errors for load in loads),
        error_statuses=sum(load.error_statuses for load in loads),
    )


def print_table(rows: list[Row], bare: dict[str, Row]) -> None:
    header = (
        f"{'server':<26} {'database':<11} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'vs bare':>7} {'clicks/answered':>22} {'4xx/5xx':>7} {'sock err':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        load = row.load
        base = bare.get(row.server)
        ratio = f"{load.rps / base.load.rps:.2f}" if base and base.load.rps else "-"
        if row.clicks is None:
            recorded = "-"
        else:
            extra = row.clicks - load.requests
            recorded = f"{row.clicks}/{load.requests}"
            recorded += f" ({row.clicks / load.requests:.4f})" if load.requests else ""
            if extra > 0:
                recorded += f" +{extra}"
        print(
            f"{row.server:<26} {row.database:<11} {load.rps:>8.0f} {load.p50_ms:>7.2f} "
            f"{load.p99_ms:>7.2f} {ratio:>7} {recorded:>22} {load.error_statuses:>7} "
            f"{load.socket_errors:>8}"
        )
        for note in row.notes:
            print(f"    note: {note}")
    print_webhook_ratios(rows)


def print_webhook_ratios(rows: list[Row]) -> None:
    """Each "+webhook" row against its plain twin: medians of the rounds, and their ratio."""
    plain = {(row.server, row.database): row for row in rows}
    pairs = [
        (plain[(row.server, row.database.removesuffix("+webhook"))], row)
        for row in rows
        if row.database.endswith("+webhook")
    ]
    if not pairs:
        return
    print(f"\n{'webhook cost':<38} {'req/s median':>13} {'p50 ms median':>14}")
    for before, after in pairs:
        for label, row in (("without a subscriber", before), ("with click.created", after)):
            rps = statistics.median(load.rps for load in row.rounds)
            p50 = statistics.median(load.p50_ms for load in row.rounds)
            print(f"{before.database + ' ' + label:<38} {rps:>13.0f} {p50:>14.2f}")
        ratio = statistics.median(load.rps for load in after.rounds) / statistics.median(
            load.rps for load in before.rounds
        )
        print(f"{'ratio (with / without)':<38} {ratio:>13.3f}")


def in_process_country_ratio(kind: str, args: argparse.Namespace, base: Path) -> str:
    """Per-request time of the redirect in one process, lookup off and on in alternating
    rounds; a line with the medians and their ratio."""
    from linktracker import create_app

    workdir = base / f"{kind}-in-process"
    workdir.mkdir()
    url = fresh_database(kind, workdir, args.pg_database + "_in_process")
    code = create_bench_link(url)
    env = app_env(url, workdir, {"TRUSTED_PROXIES": 1})
    app = create_app({**env, "INSTANCE_PATH": str(workdir / "instance")})
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": f"/{code}", "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_X_FORWARDED_FOR": PUBLIC_ADDRESS, "HTTP_USER_AGENT": "wrk", "wsgi.url_scheme": "http",
    }  # fmt: skip

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        assert status.startswith("302"), status

    def round_us(lookup: bool) -> float:
        app.config["COUNTRY_LOOKUP"] = lookup
        started = time.perf_counter()
        for _ in range(args.in_process_requests):
            app(dict(environ), start_response)
        return (time.perf_counter() - started) / args.in_process_requests * 1e6

    times: dict[bool, list[float]] = {False: [], True: []}
    since = utcnow()
    try:
        round_us(True)  # warm up: imports, caches, the writer thread
        for n in range(args.in_process_rounds):
            for lookup in (False, True) if n % 2 == 0 else (True, False):
                times[lookup].append(round_us(lookup))
        app.extensions["linktracker"].recorder.flush(30)
    finally:
        app.extensions["linktracker"].dispose()
    countries = click_countries(url, since)
    off, on = statistics.median(times[False]), statistics.median(times[True])
    lookup = lookup_cost_us({**environ, "REMOTE_ADDR": PUBLIC_ADDRESS})
    return (
        f"{kind:<11} {off:>9.1f} {on:>9.1f} {on / off:>7.3f} {lookup:>10.2f} "
        f"{lookup / off:>11.2%} {len(times[True]):>7} {countries:>10}"
    )


def lookup_cost_us(environ: dict[str, str], rounds: int = 21, calls: int = 20_000) -> float:
    """What the lookup adds to a redirect: the median, over alternating rounds, of the time
    to read the visitor with the lookup on minus off (µs per request). Only this step differs
    between the two, and a tight loop measures it far more steadily than whole redirects."""
    from linktracker.clicks.visitor import Visitor

    def per_call(lookup: bool) -> float:
        started = time.perf_counter()
        for _ in range(calls):
            Visitor.from_environ(environ, country_lookup=lookup)
        return (time.perf_counter() - started) / calls * 1e6

    differences = []
    for _ in range(rounds):
        off = per_call(False)
        differences.append(per_call(True) - off)
    return statistics.median(differences)


def print_country_table(rows: list[Row]) -> None:
    """The lookup's cost: per-round medians of each database with the lookup off and on."""
    by_name = {(row.server, row.database): row for row in rows}
    header = (
        f"{'server':<26} {'database':<11} {'req/s off':>9} {'req/s on':>9} {'on/off':>7} "
        f"{'p50 off':>8} {'p50 on':>8} {'countries off/on':>17}"
    )
    print("\ncountry lookup: medians of the alternating rounds")
    print(header)
    print("-" * len(header))
    for (server, database), on in by_name.items():
        off = by_name.get((server, database.removesuffix("+country")))
        if not database.endswith("+country") or off is None:
            continue
        off_rps = statistics.median(load.rps for load in off.rounds)
        on_rps = statistics.median(load.rps for load in on.rounds)
        off_p50 = statistics.median(load.p50_ms for load in off.rounds)
        on_p50 = statistics.median(load.p50_ms for load in on.rounds)
        print(
            f"{server:<26} {off.database:<11} {off_rps:>9.0f} {on_rps:>9.0f} "
            f"{on_rps / off_rps if off_rps else 0:>7.3f} {off_p50:>8.2f} {on_p50:>8.2f} "
            f"{off.countries + '/' + on.countries:>17}"
        )


@contextlib.contextmanager
def scratch_run(workdir: Path, *, keep: bool, kept: str) -> Iterator[None]:
    """Run in a scratch folder: Ctrl-C stops the run (servers stopped), then the folder goes.

    With ``keep`` the folder stays and its place is printed ("<kept> kept in <folder>").
    """
    try:
        yield
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
    finally:
        if keep:
            print(f"{kept} kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def parse_servers(args: argparse.Namespace) -> list[ServerSettings]:
    kinds = [kind.strip() for kind in args.servers.split(",") if kind.strip()]
    placements = {"no": [None], "yes": [SERVER_CPU], "both": [None, SERVER_CPU]}[args.pin]
    return [
        ServerSettings.of(kind, args.workers, args.threads, cpus)
        for cpus in placements
        for kind in kinds
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--db", default="sqlite,postgresql", help="comma-separated")
    parser.add_argument(
        "--servers",
        default="buffered",
        help="comma-separated: buffered (as `linktracker run`: gthread reading each request in "
        "its event loop, a listening socket per worker), sync, gthread (gunicorn's own, a "
        "socket per worker), gthread-shared (one socket for all workers, gunicorn's default)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per gthread worker (as `linktracker run`)"
    )
    parser.add_argument("--rounds", type=int, default=2, help="alternating runs per target")
    parser.add_argument(
        "--pg-database",
        default="lt_bench",
        help="PostgreSQL database to drop, re-create and use (on 127.0.0.1:5432)",
    )
    parser.add_argument(
        "--pin",
        choices=["no", "yes", "both"],
        default="no",
        help=f"yes: wrk on CPU {WRK_CPU}, gunicorn (bare and app alike) on CPU {SERVER_CPU}; "
        "both: unpinned and pinned runs",
    )
    parser.add_argument(
        "--webhook",
        action="store_true",
        help="also serve each database with a click.created webhook to a loopback receiver "
        "(<db>+webhook; a second PostgreSQL database, <pg-database>_webhook)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, spool)")
    parser.add_argument("--in-process-rounds", type=int, default=20)
    parser.add_argument("--in-process-requests", type=int, default=500)
    parser.add_argument(
        "--country-lookup",
        action="store_true",
        help="each database with the offline country lookup off and on (X-Forwarded-For from "
        f"{PUBLIC_ADDRESS}); prints their ratio",
    )
    args = parser.parse_args()
    require_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="lt-bench-"))
    rows: list[Row] = []
    bare: dict[str, Row] = {}
    with scratch_run(workdir, keep=args.keep, kept="logs and spool"):
        for settings in parse_servers(args):
            settings_rows = bench_settings(settings, args, workdir)
            bare[settings.label] = settings_rows[0]
            rows += settings_rows
    print(
        f"\nwrk -t2 -c{args.connections} -d{args.seconds}s x {args.rounds} alternating rounds "
        f"on 127.0.0.1, {os.cpu_count()} CPUs; +N = finished after wrk stopped counting"
    )
    if args.pin != "no":
        print(f"cpu{SERVER_CPU}: gunicorn pinned to CPU {SERVER_CPU}, wrk to CPU {WRK_CPU}")
    print_table(rows, bare)
    if args.country_lookup:
        print_country_table(rows)
        print(
            f"\ncountry lookup in-process: median µs per redirect of {args.in_process_rounds} "
            f"alternating rounds of {args.in_process_requests} (journal durability); lookup µs: "
            "what the lookup itself adds (median of alternating tight loops), lookup/off: that "
            "as a share of a redirect"
        )
        header = (
            f"{'database':<11} {'µs off':>9} {'µs on':>9} {'on/off':>7} {'lookup µs':>10} "
            f"{'lookup/off':>11} {'rounds':>7} {'countries':>10}"
        )
        print(header)
        print("-" * len(header))
        scratch = Path(tempfile.mkdtemp(prefix="lt-bench-in-process-"))
        with scratch_run(scratch, keep=args.keep, kept="in-process data"):
            for kind in [kind.strip() for kind in args.db.split(",") if kind.strip()]:
                print(in_process_country_ratio(kind, args, scratch), flush=True)


if __name__ == "__main__":
    main()
