"""`linktracker run` under gunicorn: how its workers take connections."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.reliability.servers import RUN, free_port, running_server, server_env, worker_pids

pytestmark = pytest.mark.skipif(
    not hasattr(socket, "SO_REUSEPORT") or not Path("/proc/net/tcp").exists(),
    reason="needs Linux's SO_REUSEPORT and /proc",
)


def _refused(folder: Path, database: str, *options: str) -> subprocess.CompletedProcess[str]:
    """A `run` expected to stop at once."""
    return subprocess.run(  # noqa: S603 - our own interpreter and CLI
        [*RUN, *options],
        env=server_env(folder, database),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _sockets(port: int, state: str) -> set[int]:
    """Inodes of this port's local TCP sockets in ``state`` (hex, as /proc/net/tcp has it)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            inodes.add(int(fields[9]))
    return inodes


def _owned(pid: int, inodes: set[int]) -> int:
    """How many of ``inodes`` process ``pid`` holds open."""
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:[") and int(target[8:-1]) in inodes:
            held += 1
    return held


LISTEN, ESTABLISHED = "0A", "01"


def test_threaded_workers_each_listen_and_share_the_connections(tmp_path: Path) -> None:
    port = free_port()
    with running_server(tmp_path, port, "--workers", "2", "--threads", "4") as server:
        workers = worker_pids(server)
        deadline = time.monotonic() + 10  # a busy machine may start the second worker later
        while len(_sockets(port, LISTEN)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        listening = _sockets(port, LISTEN)
        assert len(listening) == 2  # a socket each, not one shared
        assert [_owned(pid, listening) for pid in workers] == [1, 1]
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
        try:
            for client in clients:  # each connection is accepted by the time it is answered
                client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                assert client.recv(1024).startswith(b"HTTP/1.1 200")
            held = [_owned(pid, _sockets(port, ESTABLISHED)) for pid in workers]
        finally:
            for client in clients:
                client.close()
        assert sum(held) == 32
        assert min(held) >= 4, held  # by chance: ~3 in a million


def test_shared_socket_workers_share_one_listening_socket_and_the_control_socket_is_theirs(
    tmp_path: Path,
) -> None:
    port = free_port()
    control = tmp_path / "instance" / f"gunicorn-{port}.ctl"
    options = ("--workers", "2", "--threads", "1", "--shared-socket")
    with running_server(tmp_path, port, *options) as server:
        listening = _sockets(port, LISTEN)
        assert len(listening) == 1
        assert [_owned(pid, listening) for pid in worker_pids(server)] == [1, 1]
        # gunicornc -s PATH reaches this server; one path in $HOME would be every server's.
        deadline = time.monotonic() + 10  # gunicorn opens it after starting the workers
        while not control.is_socket() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert control.is_socket()
    assert not control.exists()


def test_a_port_in_use_is_refused_with_a_message(tmp_path: Path) -> None:
    port = free_port()
    with running_server(tmp_path, port, "--workers", "2", "--threads", "4"):
        second = _refused(tmp_path, "other.db", "--port", str(port))
    assert second.returncode != 0
    assert f"127.0.0.1:{port} is already in use" in second.stderr
    assert "Serving linktracker" not in second.stdout


def test_an_address_that_cannot_be_listened_on_is_refused_with_a_message(tmp_path: Path) -> None:
    result = _refused(tmp_path, "never.db", "--host", "no-such-host.invalid", "--port", "5999")
    assert result.returncode != 0
    assert "Cannot listen on no-such-host.invalid:5999: " in result.stderr
    assert not (tmp_path / "never.db").exists()  # refused before anything was created


def test_the_startup_output_names_the_address_listened_on(tmp_path: Path) -> None:
    port = free_port()
    with running_server(tmp_path, port, "--workers", "2", "--threads", "4") as server:
        pass
    assert server.stdout is not None
    output = server.stdout.read()
    # A socket per worker: the arbiter listens on nothing itself, and used to say so.
    assert f"Listening at: http://127.0.0.1:{port} (a socket per worker)" in output
    assert "Listening at:  (" not in output
