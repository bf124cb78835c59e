"""`linktracker run` started on a free port for a test, and stopped again however it ends."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.redirect import create_bench_link
from linktracker.db import make_engine
from linktracker.migrate import upgrade_database


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


RUN = [sys.executable, "-c", "from linktracker.cli import main; main()", "run", "--no-demo"]


def server_env(folder: Path, database: str) -> dict[str, str]:
    """The environment of a `run` on its own SQLite database ``database`` in ``folder``."""
    return dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{folder / database}",
        INSTANCE_PATH=str(folder / "instance"),
        SECRET_KEY="serve-test-secret-serve-test-secret",
        SPOOL_FOLDER=str(folder / "spool"),
        UPLOAD_FOLDER=str(folder / "uploads"),
    )


@contextmanager
def running_server(
    tmp_path: Path, port: int, *options: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[str]]:
    """`linktracker run` on its own SQLite database, stopped again however the test ends."""
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and CLI
        [*RUN, "--port", str(port), *options],
        env=server_env(tmp_path, "serve.db") | (env or {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_ready(server, port)
        yield server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _wait_ready(server: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            assert server.stdout is not None
            pytest.fail(f"linktracker run exited early:\n{server.stdout.read()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200 and len(worker_pids(server)) >= 2:
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail("linktracker run did not answer /healthz within 60 s")


def worker_pids(server: subprocess.Popen[str]) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text()
    return [int(pid) for pid in children.split()]


def database_with_a_link(folder: Path) -> str:
    """serve.db (where `running_server` serves from) migrated, with one link; returns its code."""
    engine = make_engine(f"sqlite:///{folder / 'serve.db'}")
    upgrade_database(engine)
    engine.dispose()
    return create_bench_link(f"sqlite:///{folder / 'serve.db'}")


def timed_request(port: int, path: str) -> tuple[int, float]:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"User-Agent": "Mozilla/5.0 Chrome/120.0"})
        status = connection.getresponse().status
    except TimeoutError:
        status = 0
    finally:
        connection.close()
    return status, time.monotonic() - started
