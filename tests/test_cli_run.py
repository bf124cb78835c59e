"""`linktracker run`: links are built on the address served, or on BASE_URL / --public-url."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
from click.testing import Result
from flask import Flask

import linktracker.serve
from linktracker import create_app
from linktracker.auth.services import create_token, create_user
from linktracker.cli import main
from tests.factories import make_link
from tests.support import PASSWORD

Run = Callable[..., tuple[Result, list[str]]]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def run(config: dict[str, object], app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    """`run ARGS` on an app with BASE_URL as given (None: unset), and the short URL its API
    then hands out (a test client stands in for the server)."""
    monkeypatch.delenv("BASE_URL", raising=False)
    made: list[Flask] = []

    def invoke(*args: str, base_url: str | None = None) -> tuple[Result, list[str]]:
        settings = {key: value for key, value in config.items() if key != "BASE_URL"}
        served = create_app(settings | ({"BASE_URL": base_url} if base_url else {}))
        made.append(served)
        urls: list[str] = []
        monkeypatch.setattr(linktracker.serve, "serve", lambda *a, **k: urls.extend(_links(a[0])))
        result = served.test_cli_runner().invoke(main, ["run", "--no-demo", *args])
        return result, urls

    yield invoke
    for served in made:
        served.extensions["linktracker"].dispose()


def _links(app: Flask) -> list[str]:
    """The short URL of a new link, as the API gives it."""
    runtime = app.extensions["linktracker"]
    with runtime.sessions() as session:
        link = make_link(session)
        code = link.code
        create_user(session, "ops@example.com", "admin", PASSWORD)
        token = create_token(session, "ops@example.com").token
    client = app.test_client()
    api = client.get(f"/api/v1/links/{code}", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200, api.text
    return [api.json["short_url"]] if api.json else []


def test_run_on_a_port_builds_links_on_that_port(run: Run) -> None:
    port = _free_port()
    result, urls = run("--port", str(port))
    assert result.exit_code == 0, result.output
    assert urls and urls[0].startswith(f"http://127.0.0.1:{port}/")
    assert f"Links are built on http://127.0.0.1:{port}\n" in result.stdout
    assert "Warning" not in result.output


def test_run_on_every_interface_builds_links_on_the_host_name(run: Run) -> None:
    port = _free_port()
    result, urls = run("--host", "0.0.0.0", "--port", str(port))
    assert result.exit_code == 0, result.output
    expected = f"http://{socket.gethostname()}:{port}"
    assert urls[0].startswith(expected + "/")
    assert f"Links are built on {expected} (this machine's host name;" in result.stdout
    assert "--public-url" in result.stdout


def test_run_prints_a_set_base_url_and_warns_when_it_is_another_server(run: Run) -> None:
    port = _free_port()
    result, urls = run("--port", str(port), base_url="http://127.0.0.1:5000/")
    assert result.exit_code == 0, result.output
    assert urls[0].startswith("http://127.0.0.1:5000/")
    assert "Links are built on http://127.0.0.1:5000\n" in result.stdout
    assert result.stderr == (
        f"Warning: BASE_URL http://127.0.0.1:5000 is not the address served (127.0.0.1:{port}), "
        "so links lead elsewhere. Behind a proxy that is intended: start with "
        "--public-url http://127.0.0.1:5000 to silence this warning.\n"
    )


def test_run_with_a_base_url_naming_the_served_address_does_not_warn(run: Run) -> None:
    port = _free_port()
    result, urls = run("--port", str(port), base_url=f"http://localhost:{port}")
    assert result.exit_code == 0, result.output
    assert urls[0].startswith(f"http://localhost:{port}/")
    assert result.stderr == ""


def test_run_with_a_public_url_builds_links_on_it_without_a_warning(run: Run) -> None:
    port = _free_port()
    result, urls = run(
        "--port", str(port), "--public-url", "https://go.example.com/", base_url="http://lt.test"
    )
    assert result.exit_code == 0, result.output
    assert urls[0].startswith("https://go.example.com/")
    assert "Links are built on https://go.example.com\n" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("value", ["go.example.com", "ftp://go.example.com", "https://"])
def test_run_refuses_a_public_url_that_is_not_an_origin(run: Run, value: str) -> None:
    result, urls = run("--port", str(_free_port()), "--public-url", value)
    assert result.exit_code == 2
    assert "Invalid value for '--public-url': give an origin such as https://go.example.com." in (
        result.stderr
    )
    assert urls == []  # never served
