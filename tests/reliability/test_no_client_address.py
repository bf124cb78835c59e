"""`linktracker run` prints and writes no client's full address: logs carry it anonymised."""

from __future__ import annotations

import http.client
import socket
import time
from pathlib import Path

from linktracker.http_worker import REQUEST_READ_SECONDS
from tests.reliability.servers import database_with_a_link, free_port, running_server

CLIENT = "127.0.0.2"  # the clients' own address: bound for every request below
FORGED_V4 = "10.1.2.3"
FORGED_V6 = "2001:db8:abcd:12:1:2:3:4"
FULL = [CLIENT, FORGED_V4, FORGED_V6, "2001:0db8:abcd:0012"]
ANONYMISED = ["127.0.0.0", "10.1.2.0", "2001:db8:abcd::"]


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> int:
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=10, source_address=(CLIENT, 0)
    )
    try:
        connection.request("GET", path, headers=headers or {})
        return connection.getresponse().status
    finally:
        connection.close()


def _raw(port: int, data: bytes) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", port), timeout=30, source_address=(CLIENT, 0))
    client.sendall(data)
    return client


def _closed_within(client: socket.socket, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    with client:
        while time.monotonic() < deadline:
            try:
                if not client.recv(4096):
                    return True
            except TimeoutError:
                continue
            except OSError:
                return True
    return False


def _everything_written(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file())


def test_no_full_client_address_in_output_or_files(tmp_path: Path) -> None:
    code = database_with_a_link(tmp_path)
    port = free_port()
    with running_server(tmp_path, port, env={"TRUSTED_PROXIES": "1"}) as server:
        slow = _raw(port, b"GET /healthz HTTP/1.1\r\n")  # a request head never finished
        for _ in range(5):
            assert _get(port, f"/{code}") in {301, 302, 307}
        assert _get(port, f"/{code}", {"X-Forwarded-For": f"198.51.100.7, {FORGED_V4}"}) < 400
        assert _get(port, f"/{code}", {"X-Forwarded-For": FORGED_V6}) < 400
        assert _get(port, "/no-such-code-here") == 404
        assert _closed_within(_raw(port, b"NOT A REQUEST\r\n\r\n"), 10)  # gunicorn warns
        assert _closed_within(slow, REQUEST_READ_SECONDS + 5)  # dropped on its timeout
        time.sleep(1)
    assert server.stdout is not None
    printed = server.stdout.read()
    written = _everything_written(tmp_path)

    for address in FULL:
        assert address not in printed, f"{address} printed"
        assert address.encode() not in written, f"{address} written"
    access = [line for line in printed.splitlines() if '"GET /' in line]
    assert len(access) >= 8, printed
    for anonymised in ANONYMISED:
        assert any(line.startswith(f"{anonymised} ") for line in access), (anonymised, printed)
    assert "Invalid request from ip=127.0.0.0" in printed


def test_access_log_can_be_turned_off(tmp_path: Path) -> None:
    code = database_with_a_link(tmp_path)
    port = free_port()
    with running_server(tmp_path, port, env={"ACCESS_LOG": "false"}) as server:
        assert _get(port, f"/{code}") in {301, 302, 307}
        time.sleep(0.5)
    assert server.stdout is not None
    printed = server.stdout.read()
    assert f'"GET /{code} ' not in printed
    assert CLIENT not in printed
