"""`linktracker run --port N` in a real process: its workers hand out links on port N."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from linktracker import create_app
from linktracker.auth.services import create_token, create_user
from tests.factories import make_link
from tests.support import PASSWORD


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    return connection.getresponse()


def test_run_on_a_port_hands_out_links_on_that_port(tmp_path: Path) -> None:
    port = _free_port()
    settings = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "served-links-secret-served-links",
        "SPOOL_FOLDER": str(tmp_path / "spool"),
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
    }
    env = {key: value for key, value in os.environ.items() if key != "BASE_URL"} | settings
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and CLI
        [sys.executable, "-c", "from linktracker.cli import main; main()", "run", "--no-demo",
         "--port", str(port), "--workers", "1", "--threads", "1"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "linktracker run exited early"
            assert time.monotonic() < deadline, "linktracker run did not answer within 60 s"
            try:
                if _get(port, "/healthz").status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        app = create_app(settings)
        with app.extensions["linktracker"].sessions() as session:
            code = make_link(session).code
            create_user(session, "ops@example.com", "admin", PASSWORD)
            token = create_token(session, "ops@example.com").token
        app.extensions["linktracker"].dispose()
        response = _get(port, f"/api/v1/links/{code}", {"Authorization": f"Bearer {token}"})
        assert response.status == 200
        short_url = json.loads(response.read())["short_url"]
        assert short_url == f"http://127.0.0.1:{port}/{code}"
        followed = _get(port, f"/{code}")
        assert followed.status == 302
        assert followed.getheader("Location", "").startswith("https://www.example.com/landing?")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    assert f"Links are built on http://127.0.0.1:{port}\n" in output
    assert "Warning" not in output
