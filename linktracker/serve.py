"""Serving the app with gunicorn, the production WSGI server, from the CLI."""

from __future__ import annotations

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


def serve(app: Any, host: str, port: int, workers: int, threads: int) -> None:
    """Serve until interrupted."""
    GunicornServer(
        app,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread" if threads > 1 else "sync",
            "accesslog": "-",
            "timeout": 60,
        },
    ).run()
