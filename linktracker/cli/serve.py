"""`linktracker run`: migrate, load the demo program on first run, and serve."""

from __future__ import annotations

from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from linktracker.cli.common import current_runtime
from linktracker.cli.crm import purge_raw_files
from linktracker.cli.demo import demo_data_command, demo_logins
from linktracker.cli.privacy import DailyRetention, run_retention
from linktracker.config import WILDCARD_HOSTS, points_elsewhere, served_base_url
from linktracker.employees.models import Employee
from linktracker.migrate import upgrade_database
from linktracker.runtime import Runtime


def _check_public_url(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter("give an origin such as https://go.example.com.")
    return value.rstrip("/")


def _choose_base_url(host: str, port: int, public_url: str | None) -> None:
    """Set the origin links are built on, and say which; warn when it is not this server."""
    config = current_app.config
    if public_url:
        config["BASE_URL"] = public_url
    elif not config["BASE_URL_SET"]:
        config["BASE_URL"] = served_base_url(host, port)
    base_url = config["BASE_URL"]
    if host in WILDCARD_HOSTS and not public_url and not config["BASE_URL_SET"]:
        click.echo(
            f"Links are built on {base_url} (this machine's host name; start with "
            "--public-url URL if clients reach it by another name)"
        )
    else:
        click.echo(f"Links are built on {base_url}")
    if not public_url and config["BASE_URL_SET"] and points_elsewhere(base_url, host, port):
        click.echo(
            f"Warning: BASE_URL {base_url} is not the address served ({host}:{port}), so "
            "links lead elsewhere. Behind a proxy that is intended: start with "
            f"--public-url {base_url} to silence this warning.",
            err=True,
        )


@click.command("run", help="Migrate the database, load demo data on first run, and serve.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
@click.option(
    "--reuse-port/--shared-socket",
    default=None,
    help="A listening socket per worker, so the kernel spreads connections evenly "
    "[default: with several workers].",
)
@click.option("--no-demo", is_flag=True, help="Do not load demo data into an empty database.")
@click.option(
    "--public-url",
    metavar="URL",
    callback=_check_public_url,
    help="Build links on URL (e.g. the proxy's https://go.example.com) instead of BASE_URL "
    "or the address served.",
)
@click.pass_context
@with_appcontext
def run_command(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int,
    threads: int,
    reuse_port: bool | None,
    no_demo: bool,
    public_url: str | None,
) -> None:
    from linktracker.serve import address_in_use, serve

    try:
        in_use = address_in_use(host, port)
    except OSError as exc:
        raise click.ClickException(f"Cannot listen on {host}:{port}: {exc.strerror}.") from exc
    if in_use:
        raise click.ClickException(
            f"{host}:{port} is already in use (is linktracker already running?); "
            "stop that server or pick another --port."
        )
    runtime = current_runtime()
    upgrade_database(runtime.engine)
    with runtime.sessions() as session:
        empty = not session.scalar(select(func.count(Employee.id)))
        purge_raw_files(session, None)
        run_retention(session)
    if empty and not no_demo:
        ctx.invoke(demo_data_command, force=False, seed=7)
    elif demo_logins().exists():
        click.echo(f"Demo sign-ins: {demo_logins()}")
    runtime.dispose()  # no pooled connection may cross the fork into the workers
    click.echo(f"Serving linktracker on http://{host}:{port}/app/ (Ctrl+C to stop)")
    _choose_base_url(host, port, public_url)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    serve(
        app, host, port, workers, threads,
        reuse_port=reuse_port, control_folder=app.instance_path,
        on_worker_start=lambda: _start_worker(runtime),
        access_log=bool(app.config.get("ACCESS_LOG", True)),
    )  # fmt: skip


def _start_worker(runtime: Runtime) -> None:
    """In each worker: the click writer, and CRM record retention once a day."""
    runtime.start_serving()
    DailyRetention(runtime).start()
