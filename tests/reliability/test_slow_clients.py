"""`linktracker run` faces clients directly: slow or silent ones must not hold up the rest."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from linktracker.http_worker import REQUEST_READ_SECONDS
from tests.reliability.servers import database_with_a_link, free_port, running_server, timed_request

SLOW_CLIENTS = 64
PROMPT = 2.0  # seconds: a redirect or a page while the slow clients hold their connections


@contextmanager
def _slow_clients(port: int, count: int) -> Iterator[list[socket.socket]]:
    """A third send a request head a line at a time, a third a sign-in form's body a byte at a
    time, and a third send nothing; none ever finishes its request."""
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    heads, bodies = clients[: count // 3], clients[count // 3 : 2 * count // 3]
    stop = threading.Event()

    def dribble() -> None:
        for client in heads:
            client.sendall(b"GET /app/ HTTP/1.1\r\n")
        for client in bodies:
            client.sendall(
                b"POST /app/login HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n\r\nemail="
            )
        line = 0
        while not stop.wait(0.2):
            line += 1
            try:
                for client in heads:
                    client.sendall(b"X-Slow-%d: %s\r\n" % (line, b"a" * (line % 7)))
                for client in bodies:
                    client.sendall(b"a")
            except OSError:
                return  # the server dropped one: what it may do after its read timeout

    sender = threading.Thread(target=dribble, daemon=True)
    sender.start()
    try:
        yield clients
    finally:
        stop.set()
        sender.join(timeout=5)
        for client in clients:
            client.close()


def test_redirects_and_pages_answer_promptly_while_64_slow_clients_hold_connections(
    tmp_path: Path,
) -> None:
    code = database_with_a_link(tmp_path)
    port = free_port()
    env = {"ALLOWED_DOMAINS": "www.example.com"}
    with (
        running_server(tmp_path, port, "--workers", "2", "--threads", "4", env=env),
        _slow_clients(port, SLOW_CLIENTS) as clients,
    ):
        opened = time.monotonic()
        time.sleep(1.0)  # every slow connection accepted and dribbling
        answers = [timed_request(port, f"/{code}"), timed_request(port, "/app/login")]
        time.sleep(1.0)  # several header lines later
        answers += [timed_request(port, f"/{code}"), timed_request(port, "/app/login")]
        # However fast they dribble, requests not complete in time are dropped.
        deadline = opened + REQUEST_READ_SECONDS + 5
        dropped = sum(_closed_by_server(client, deadline) for client in clients)
    assert [status for status, _ in answers] == [302, 200, 302, 200]
    assert max(seconds for _, seconds in answers) < PROMPT, answers
    assert dropped == SLOW_CLIENTS


def _closed_by_server(client: socket.socket, deadline: float) -> bool:
    try:
        while True:
            client.settimeout(max(deadline - time.monotonic(), 0.01))
            if not client.recv(4096):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_pipelined_requests_are_each_answered(tmp_path: Path) -> None:
    port = free_port()
    with running_server(tmp_path, port, "--workers", "2", "--threads", "4"):
        client = socket.create_connection(("127.0.0.1", port), timeout=10)
        try:
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 3)
            received = b""
            while received.count(b"HTTP/1.1 200") < 3:
                data = client.recv(65536)
                assert data, f"connection closed after {received!r}"
                received += data
        finally:
            client.close()
