"""The example nginx config in front of a real `linktracker run`: links work, visitors are real."""

from __future__ import annotations

import http.client
import os
import pwd
import shutil
import signal
import sqlite3
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest

from linktracker.clicks.visitor import visitor_hash
from tests.reliability.servers import database_with_a_link, free_port, running_server

NGINX = Path("/usr/sbin/nginx")
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "deployment" / "nginx.conf"
SECRET = "serve-test-secret-serve-test-secret"  # the SECRET_KEY `running_server` serves with
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
VISITOR = "127.0.0.2"  # the visitor's own address: connects to nginx from there

pytestmark = [
    pytest.mark.skipif(not NGINX.exists(), reason="nginx is not installed (/usr/sbin/nginx)"),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed"),
]


def _example_config(folder: Path, upstream: int, http_port: int, https_port: int) -> Path:
    """The documented config with this test's ports and certificate, inside a minimal nginx.conf."""
    subprocess.run(  # noqa: S603 - a throwaway self-signed certificate
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=go.example.com", "-keyout", str(folder / "key.pem"),
         "-out", str(folder / "cert.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    site = EXAMPLE.read_text()
    for documented, ours in {
        "server 127.0.0.1:5000;": f"server 127.0.0.1:{upstream};",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "/etc/ssl/certs/go.example.com.pem": str(folder / "cert.pem"),
        "/etc/ssl/private/go.example.com.key": str(folder / "key.pem"),
    }.items():
        assert documented in site, documented
        site = site.replace(documented, ours)
    (folder / "linktracker.conf").write_text(site)
    temp = "\n".join(
        f"  {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = folder / "nginx.conf"
    main.write_text(
        f"user {pwd.getpwuid(os.getuid()).pw_name};\n"
        "events {}\n"
        "http {\n"
        f"  access_log {folder / 'access.log'};\n{temp}\n"
        f"  include {folder / 'linktracker.conf'};\n"
        "}\n"
    )
    return main


@contextmanager
def _nginx(folder: Path, config: Path, port: int) -> Iterator[None]:
    directives = f"daemon off; pid {folder / 'nginx.pid'}; error_log {folder / 'error.log'};"
    server = subprocess.Popen(  # noqa: S603 - the system's nginx on our own config
        [str(NGINX), "-p", str(folder), "-c", str(config), "-g", directives],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            if server.poll() is not None:
                assert server.stdout is not None
                pytest.fail(f"nginx exited: {server.stdout.read()}")
            try:
                with socket_to(port):
                    break
            except OSError:
                assert time.monotonic() < deadline, "nginx did not listen within 20 s"
                time.sleep(0.1)
        yield
    finally:
        os.killpg(server.pid, signal.SIGQUIT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@contextmanager
def socket_to(port: int) -> Iterator[None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    connection.connect()
    try:
        yield
    finally:
        connection.close()


def _get(port: int, path: str, headers: dict[str, str], *, tls: bool) -> http.client.HTTPResponse:
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=10, context=context, source_address=(VISITOR, 0)
        )
    else:
        connection = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=10, source_address=(VISITOR, 0)
        )
    connection.request("GET", path, headers={"Host": "go.example.com", **headers})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def _stored_click(folder: Path) -> tuple[str, str | None, datetime]:
    deadline = time.monotonic() + 10
    while True:
        with sqlite3.connect(folder / "serve.db") as connection:
            row = connection.execute(
                "SELECT visitor_hash, referrer, created_at FROM clicks"
            ).fetchone()
        if row is not None:
            return row[0], row[1], datetime.fromisoformat(row[2])
        assert time.monotonic() < deadline, "the click was not stored"
        time.sleep(0.1)


def test_a_short_link_through_the_example_nginx_config_records_the_real_visitor(
    tmp_path: Path,
) -> None:
    code = database_with_a_link(tmp_path)
    upstream, http_port, https_port = free_port(), free_port(), free_port()
    config = _example_config(tmp_path, upstream, http_port, https_port)
    env = {"ALLOWED_DOMAINS": "www.example.com", "TRUSTED_PROXIES": "1"}
    with (
        running_server(tmp_path, upstream, "--workers", "2", "--threads", "4", env=env),
        _nginx(tmp_path, config, http_port),
    ):
        plain = _get(http_port, f"/{code}", {}, tls=False)
        assert plain.status == 308
        assert plain.headers["Location"] == f"https://go.example.com/{code}"
        headers = {
            "User-Agent": CHROME,
            "Referer": "https://www.linkedin.com/feed/",
            "X-Forwarded-For": "198.51.100.7",  # made up by the visitor: not believed
        }
        redirect = _get(https_port, f"/{code}", headers, tls=True)
        assert redirect.status == 302
        assert redirect.headers["Location"].startswith("https://www.example.com/landing?")
        assert "lt_cid=" in redirect.headers["Location"]
        stored_hash, referrer, created_at = _stored_click(tmp_path)
    assert referrer == "https://www.linkedin.com/feed/"
    hashes = {
        ip: visitor_hash(SECRET.encode(), created_at.date(), ip, CHROME)
        for ip in (VISITOR, "198.51.100.7", "127.0.0.1")
    }
    assert stored_hash == hashes[VISITOR], "the click was not counted for the visitor's address"
