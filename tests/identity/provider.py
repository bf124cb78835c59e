"""A real OpenID Provider (node-oidc-provider, tests/oidc/) on loopback, and a browser for it.

The provider's packages are installed outside the work tree by tests/oidc/install.sh (npm ci
from the committed lock file). Without node or npm the sign-in tests are skipped.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

HERE = Path(__file__).resolve().parent.parent / "oidc"
CLIENT_ID = "linktracker-test"
CLIENT_SECRET = "a-client-secret-of-enough-length-for-hs256-0123456789"
REDIRECT_URI = "http://localhost/app/login/sso/callback"

# account id (the name typed on the provider's login page) -> its claims
ACCOUNTS: dict[str, dict[str, object]] = {
    "new": {"email": "new.person@example.com", "email_verified": True, "name": "New Person"},
    "existing": {"email": "Existing@Example.com", "email_verified": True, "name": "Existing"},
    "unverified": {"email": "unverified@example.com", "email_verified": False},
    "unknown": {"email": "stranger@example.com", "email_verified": True},
    "former": {"email": "former@example.com", "email_verified": True},
    "provisioned": {"email": "provisioned@example.com", "email_verified": True},
}


@dataclass(frozen=True)
class Provider:
    issuer: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _install() -> Path:
    try:
        result = subprocess.run(
            ["bash", str(HERE / "install.sh")], capture_output=True, text=True, timeout=600
        )
    except FileNotFoundError:
        pytest.skip("bash is not installed: the OpenID Provider cannot be installed")
    if result.returncode == 3:
        pytest.skip(f"the OpenID Provider needs node and npm: {result.stderr.strip()}")
    if result.returncode != 0:
        raise RuntimeError(f"npm ci of tests/oidc failed:\n{result.stderr}")
    return Path(result.stdout.strip().splitlines()[-1])


@contextmanager
def running_provider() -> Iterator[Provider]:
    """Start the provider on a free loopback port; stop it afterwards."""
    folder = _install()
    port = _free_port()
    config = {
        "port": port,
        "client": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [REDIRECT_URI],
        },
        "accounts": ACCOUNTS,
    }
    env = os.environ | {"OIDC_TEST_CONFIG": json.dumps(config), "NODE_ENV": "test"}
    process = subprocess.Popen(
        ["node", "server.mjs"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("ready "):
            raise RuntimeError(f"the OpenID Provider did not start: {line!r}")
        yield Provider(line.split()[1].strip())
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _form(html: str, base: str) -> tuple[str, dict[str, str]]:
    action = re.search(r'<form[^>]*action="([^"]+)"', html)
    assert action is not None, html
    fields = {
        unescape(name): unescape(value)
        for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html)
    }
    return urljoin(base, unescape(action.group(1))), fields


def sign_in_at_provider(authorization_url: str, account: str) -> str:
    """Play the browser at the provider: follow its pages, log in as ``account``.

    Returns the URL the provider finally sends the browser back to (our callback).
    """
    browser = requests.Session()
    url = authorization_url
    logged_in = False
    for _ in range(20):
        if url.startswith(REDIRECT_URI):
            return url
        response = browser.get(url, allow_redirects=False, timeout=10)
        if response.is_redirect:
            url = urljoin(url, response.headers["Location"])
            continue
        assert response.status_code == 200, response.text
        assert not logged_in, "the provider asked twice: " + response.text[:500]
        action, fields = _form(response.text, url)
        fields |= {"login": account, "password": "any"}
        response = browser.post(action, data=fields, allow_redirects=False, timeout=10)
        assert response.is_redirect, response.text
        url = urljoin(action, response.headers["Location"])
        logged_in = True
    raise AssertionError("the provider never sent the browser back")


def callback_path(url: str) -> str:
    """The callback URL as a path and query for the Flask test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"
