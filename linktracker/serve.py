"""Serving the app with gunicorn, the production WSGI server, from the CLI."""

from __future__ import annotations

import errno
import ipaddress
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from linktracker.http_worker import BufferedThreadWorker


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """gunicorn without a config file: options come from the `run` command."""

    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


# Request headers that carry a client's address (gunicorn's access log atoms "{name}i").
ADDRESS_HEADERS = ("x-forwarded-for", "x-real-ip", "forwarded", "true-client-ip", "x-client-ip")
# Address-like words in a header or log message: IPv4, and IPv6 (with a colon at least twice).
_ADDRESS = re.compile(r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*|\d{1,3}(?:\.\d{1,3}){3}")
_LOGGED_IP = re.compile(r"ip=(\S+?)(?=:? |$)")


def anonymise_ip(address: str) -> str:
    """``address`` with its last IPv4 octet or its last 80 IPv6 bits zeroed (as Shlink does).

    Anything that is not an address gives "-": a log never holds what it cannot check.
    """
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return "-"
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/48", strict=False).network_address)
    v4 = ip.ipv4_mapped if ip.version == 6 else ip
    return str(ipaddress.ip_network(f"{v4}/24", strict=False).network_address)


def anonymise_addresses(text: str) -> str:
    """``text`` with every address in it anonymised (see ``anonymise_ip``)."""

    def one(match: re.Match[str]) -> str:
        word = match.group(0)
        anonymised = anonymise_ip(word)
        return word if anonymised == "-" and ":" in word and "." not in word else anonymised

    return _ADDRESS.sub(one, text)


def _without_logged_ip(msg: str) -> str:
    return _LOGGED_IP.sub(lambda match: f"ip={anonymise_ip(match.group(1))}", msg)


class ServerLog(Logger):  # type: ignore[misc]
    """gunicorn's log, without a client's full address, naming the address served.

    Access log lines carry the client's address anonymised (``anonymise_ip``), and so do
    the address headers a proxy sets; gunicorn's "Invalid request from ip=..." warning too.

    With a socket per worker the arbiter itself listens on nothing, and gunicorn's startup
    line read "Listening at:  (pid)"; the workers bind the configured (resolved) address.
    """

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        atoms["h"] = anonymise_ip(str(atoms.get("h", "")))
        for name in ADDRESS_HEADERS:
            if f"{{{name}}}i" in atoms:
                atoms[f"{{{name}}}i"] = anonymise_addresses(str(atoms[f"{{{name}}}i"]))
        return atoms

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().warning(_without_logged_ip(msg), *args, **kwargs)

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().debug(_without_logged_ip(msg), *args, **kwargs)

    def info(self, msg: str, *args: Any, **kwargs: Any) -> None:
        if msg.startswith("Listening at: ") and args and not args[0]:
            addresses = ",".join(f"http://{_host(host)}:{port}" for host, port in self.cfg.address)
            args = (f"{addresses} (a socket per worker)", *args[1:])
        super().info(msg, *args, **kwargs)


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def listening_address(host: str, port: int) -> tuple[str, int]:
    """The numeric address ``host:port`` is served on (the first one it resolves to)."""
    info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    address = info[0][4]
    return str(address[0]), int(address[1])


def address_in_use(host: str, port: int) -> bool:
    """Whether something already listens on (or holds) ``host:port``.

    A socket bound with ``SO_REUSEPORT`` shares its port with any later one that sets it
    too, so a second server started by mistake would silently take half the connections;
    this bind without it fails instead. Other failures (a host that does not resolve, a
    port not allowed) raise ``OSError``.
    """
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


# Unix socket paths longer than this do not fit in sockaddr_un on every platform.
UNIX_PATH_MAX = 100


def serve(
    app: Any,
    host: str,
    port: int,
    workers: int,
    threads: int,
    *,
    reuse_port: bool | None = None,
    control_folder: str | None = None,
    on_worker_start: Callable[[], None] | None = None,
    access_log: bool = True,
) -> None:
    """Serve until interrupted.

    Workers are gunicorn's threaded ones, reading each request in their event loop before
    a thread takes it (see http_worker.py), so slow or silent clients hold no thread.

    ``reuse_port`` gives every worker a listening socket of its own (``SO_REUSEPORT``) so
    the kernel deals new connections out evenly; default: when there are several workers.
    One shared socket lets whichever worker wakes first take the connections: one of two
    workers often held all 32 keep-alive connections (and one core) while the other idled.

    gunicorn's control socket (for ``gunicornc``) goes in ``control_folder`` (the instance
    folder), named by port, instead of one path in the user's home that every server on the
    machine would take from the others; none when that path would be too long.

    ``on_worker_start`` runs in each worker once it is ready (to start background threads,
    which do not survive the fork).

    ``access_log``: a line per request on stdout, the client's address anonymised (see
    ``ServerLog``); off, none.
    """
    if reuse_port is None:
        reuse_port = workers > 1
    host, port = listening_address(host, port)
    options = {
        "bind": f"{_host(host)}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": BufferedThreadWorker,
        "logger_class": ServerLog,
        "reuse_port": reuse_port,
        "accesslog": "-" if access_log else None,
        "timeout": 60,
    }
    if on_worker_start is not None:
        options["post_worker_init"] = lambda _worker: on_worker_start()
    control = Path(control_folder, f"gunicorn-{port}.ctl") if control_folder else None
    if control is not None and len(str(control)) <= UNIX_PATH_MAX:
        options["control_socket"] = str(control)
    else:
        options["control_socket_disable"] = True
    GunicornServer(app, options).run()
