"""Which origin links are built on, and when BASE_URL names another server."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from linktracker.config import DEFAULT_BASE_URL, load_config, points_elsewhere, served_base_url


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 5001, "http://127.0.0.1:5001"),
        ("localhost", 8000, "http://localhost:8000"),
        ("::1", 5000, "http://[::1]:5000"),
        ("0.0.0.0", 5000, f"http://{socket.gethostname()}:5000"),
        ("::", 5000, f"http://{socket.gethostname()}:5000"),
    ],
)
def test_links_follow_the_served_address(host: str, port: int, expected: str) -> None:
    assert served_base_url(host, port) == expected


@pytest.mark.parametrize(
    ("base_url", "host", "port", "elsewhere"),
    [
        ("http://127.0.0.1:5000", "127.0.0.1", 5000, False),
        ("http://localhost:5000/", "127.0.0.1", 5000, False),
        ("http://LT.example.com:8080", "lt.example.com", 8080, False),
        ("http://lt.example.com", "0.0.0.0", 80, False),
        ("https://go.example.com", "0.0.0.0", 443, False),
        ("http://127.0.0.1:5000", "127.0.0.1", 5001, True),
        ("https://go.example.com", "127.0.0.1", 5000, True),
        ("http://other.example.com:5000", "127.0.0.1", 5000, True),
        ("http://lt.example.com:5000", "0.0.0.0", 5001, True),
        ("http://lt.example.com:port", "127.0.0.1", 5000, True),
    ],
)
def test_a_base_url_points_elsewhere_when_host_or_port_differ(
    base_url: str, host: str, port: int, elsewhere: bool
) -> None:
    assert points_elsewhere(base_url, host, port) is elsewhere


def test_an_unset_base_url_is_marked_so_and_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BASE_URL", raising=False)
    config = load_config(str(tmp_path), {"SECRET_KEY": "x"})
    assert (config["BASE_URL"], config["BASE_URL_SET"]) == (DEFAULT_BASE_URL, False)
    monkeypatch.setenv("BASE_URL", "https://go.example.com/")
    config = load_config(str(tmp_path), {"SECRET_KEY": "x"})
    assert (config["BASE_URL"], config["BASE_URL_SET"]) == ("https://go.example.com", True)
