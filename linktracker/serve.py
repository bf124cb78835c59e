"""Serving the app with gunicorn, the production WSGI server, from the CLI."""

from __future__ import annotations

import errno
import socket
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication


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
) -> None:
    """Serve until interrupted.

    ``reuse_port`` gives every worker a listening socket of its own (``SO_REUSEPORT``) so
    the kernel deals new connections out evenly; default: for threaded workers, of which
    there are several. One shared socket lets whichever threaded worker wakes first take
    the connections: measured under load, one of two workers often held all 32 keep-alive
    connections (and one core) while the other idled. Sync workers take a connection only
    when free, so they share one socket; so does a single worker.

    gunicorn's control socket (for ``gunicornc``) goes in ``control_folder`` (the instance
    folder), named by port, instead of one path in the user's home that every server on the
    machine would take from the others; none when that path would be too long.
    """
    if reuse_port is None:
        reuse_port = threads > 1 and workers > 1
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "reuse_port": reuse_port,
        "accesslog": "-",
        "timeout": 60,
    }
    control = Path(control_folder, f"gunicorn-{port}.ctl") if control_folder else None
    if control is not None and len(str(control)) <= UNIX_PATH_MAX:
        options["control_socket"] = str(control)
    else:
        options["control_socket_disable"] = True
    GunicornServer(app, options).run()
