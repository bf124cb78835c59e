"""`linktracker run` faces clients directly: slow or silent ones must not hold up the rest."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.redirect import create_bench_link
from linktracker.db import make_engine
from linktracker.migrate import upgrade_database
from tests.reliability.test_serve import _free_port, _running

SLOW_CLIENTS = 64
PROMPT = 2.0  # seconds: a redirect or a page while the slow clients hold their connections


def _database_with_a_link(folder: Path) -> str:
    """serve.db (where `_running` serves from) migrated, with one link; returns its code."""
    engine = make_engine(f"sqlite:///{folder / 'serve.db'}")
    upgrade_database(engine)
    engine.dispose()
    return create_bench_link(f"sqlite:///{folder / 'serve.db'}")


@contextmanager
def _slow_clients(port: int, count: int) -> Iterator[list[socket.socket]]:
    """Half send a request head a line at a time and never finish it; half send nothing."""
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    dribblers = clients[: count // 2]
    stop = threading.Event()

    def dribble() -> None:
        for client in dribblers:
            client.sendall(b"GET /app/ HTTP/1.1\r\n")
        line = 0
        while not stop.wait(0.2):
            line += 1
            for client in dribblers:
                try:
                    client.sendall(b"X-Slow-%d: %s\r\n" % (line, b"a" * (line % 7)))
                except OSError:
                    return  # the server dropped it: what it may do after its read timeout

    sender = threading.Thread(target=dribble, daemon=True)
    sender.start()
    try:
        yield clients
    finally:
        stop.set()
        sender.join(timeout=5)
        for client in clients:
            client.close()


def _timed(port: int, path: str) -> tuple[int, float]:
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


def test_redirects_and_pages_answer_promptly_while_64_slow_clients_hold_connections(
    tmp_path: Path,
) -> None:
    code = _database_with_a_link(tmp_path)
    port = _free_port()
    env = {"ALLOWED_DOMAINS": "www.example.com"}
    with (
        _running(tmp_path, port, "--workers", "2", "--threads", "4", env=env),
        _slow_clients(port, SLOW_CLIENTS),
    ):
        time.sleep(1.0)  # every slow connection accepted and dribbling
        answers = [_timed(port, f"/{code}"), _timed(port, "/app/login")]
        time.sleep(1.0)  # several header lines later
        answers += [_timed(port, f"/{code}"), _timed(port, "/app/login")]
    assert [status for status, _ in answers] == [302, 200, 302, 200]
    assert max(seconds for _, seconds in answers) < PROMPT, answers
