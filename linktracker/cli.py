"""The `linktracker` command: one Flask CLI group, commands registered on the app's own CLI."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO, cast
from urllib.parse import urlsplit

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, routes_command, shell_command, with_appcontext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.auth.roles import ROLES
from linktracker.auth.services import create_token, create_user, list_tokens, revoke_token
from linktracker.config import WILDCARD_HOSTS, points_elsewhere, served_base_url
from linktracker.employees.models import Employee
from linktracker.employees.services import import_employees
from linktracker.errors import DomainError
from linktracker.migrate import upgrade_database
from linktracker.runtime import Runtime

DEMO_LOGINS = "demo-logins.txt"
# The CLI waits longer than a web request for the import running before it.
CLI_IMPORT_WAIT_SECONDS = 3600.0


def _runtime() -> Runtime:
    return cast(Runtime, current_app.extensions["linktracker"])


def _fail(exc: DomainError) -> click.ClickException:
    details = "".join(f"\n  {field}: {message}" for field, message in exc.fields.items())
    return click.ClickException(exc.message + details)


@contextmanager
def _service_session() -> Iterator[Session]:
    """A session whose service errors end the command with their message (exit code 1)."""
    with _runtime().sessions() as session:
        try:
            yield session
        except DomainError as exc:
            raise _fail(exc) from exc


db_group = AppGroup("db", help="Database schema commands.")


@db_group.command("upgrade", help="Create or migrate the database schema to the latest version.")
def db_upgrade() -> None:
    upgrade_database(_runtime().engine)
    click.echo("Database is up to date.")


@click.command(
    "create-user",
    help="Create a user who can sign in (roles: admin, marketer, sales_ops, employee).",
)
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option(
    "--password",
    is_flag=False,
    flag_value="",
    default=None,
    help="Set this password; give the flag alone to be prompted; omit to generate one.",
)
@with_appcontext
def create_user_command(email: str, role: str, password: str | None) -> None:
    generated = password is None
    if password == "":
        password = str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    if password is None:
        password = secrets.token_urlsafe(12)
    with _service_session() as session:
        user = create_user(session, email, role, password)
    click.echo(f"Created {user.role} {user.email}.")
    if generated:
        click.echo(f"Password: {password}")


@click.command(
    "create-token",
    help="Issue an API token; the token is printed alone on the last line and never shown again.",
)
@click.argument("email")
@click.option("--name", default="", help="A label to recognise the token by.")
@click.option("--role", default=None, help="Scope the token to a lesser role than the user's.")
@with_appcontext
def create_token_command(email: str, name: str, role: str | None) -> None:
    with _service_session() as session:
        issued = create_token(session, email, name, role)
    click.echo(f"Token for {email} (role {issued.record.role}); store it now:")
    click.echo(issued.token)


@click.command("list-tokens", help="List a user's API tokens (never the tokens themselves).")
@click.argument("email")
@with_appcontext
def list_tokens_command(email: str) -> None:
    with _service_session() as session:
        tokens = list_tokens(session, email)
    click.echo(f"{'id':>5}  {'prefix':<12} {'role':<10} {'created':<20} {'last used':<20} status")
    for token in tokens:
        used = f"{token.last_used_at:%Y-%m-%d %H:%M:%S}" if token.last_used_at else "-"
        status = "revoked" if token.revoked_at else "active"
        click.echo(
            f"{token.id:>5}  {token.prefix:<12} {token.role:<10} "
            f"{token.created_at:%Y-%m-%d %H:%M:%S}  {used:<20} {status}"
        )


@click.command("revoke-token", help="Revoke an API token by its id (see list-tokens).")
@click.argument("token_id", type=int)
@with_appcontext
def revoke_token_command(token_id: int) -> None:
    with _service_session() as session:
        token = revoke_token(session, token_id)
    click.echo(f"Token {token.id} ({token.prefix}…) is revoked.")


@click.command(
    "import-employees",
    help="Create or update employees from a CSV file with the "
    "columns name,email,handle,team,connections.",
)
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@with_appcontext
def import_employees_command(file: TextIO) -> None:
    try:
        text = file.read()
    except UnicodeDecodeError:
        raise click.ClickException(
            "The file is not UTF-8 text. Save it as “CSV UTF-8” and import again."
        ) from None
    with _service_session() as session:
        result = import_employees(session, text)
    click.echo(
        f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}, "
        f"rejected {len(result.errors)}"
    )
    for line, reason in result.errors:
        click.echo(f"  line {line}: {reason}", err=True)
    if result.errors:
        raise SystemExit(1)


@click.command(
    "demo-data",
    help="Load a realistic demo program (employees, campaigns, links, "
    "clicks) into an empty database.",
)
@click.option("--force", is_flag=True, help="Load even if the database already has employees.")
@click.option("--seed", default=7, show_default=True, help="Random seed, for repeatable data.")
@with_appcontext
def demo_data_command(force: bool, seed: int) -> None:
    from linktracker.demo import load_demo_data

    runtime = _runtime()
    with runtime.sessions() as session:
        if session.scalar(select(func.count(Employee.id))) and not force:
            raise click.ClickException("The database already has employees; use --force.")
        summary = load_demo_data(session, runtime.settings(), seed=seed,
                                 upload_folder=runtime.config.upload_folder,
                                 email_secret=runtime.secret)  # fmt: skip
    logins = Path(current_app.instance_path) / DEMO_LOGINS
    logins.parent.mkdir(parents=True, exist_ok=True)
    logins.write_text("\n".join(summary) + "\n")
    logins.chmod(0o600)
    for line in summary:
        click.echo(line)
    click.echo(f"(also written to {logins})")


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
    runtime = _runtime()
    upgrade_database(runtime.engine)
    with runtime.sessions() as session:
        empty = not session.scalar(select(func.count(Employee.id)))
        _purge_raw_files(session, None)
    if empty and not no_demo:
        ctx.invoke(demo_data_command, force=False, seed=7)
    elif (Path(current_app.instance_path) / DEMO_LOGINS).exists():
        click.echo(f"Demo sign-ins: {Path(current_app.instance_path) / DEMO_LOGINS}")
    runtime.dispose()  # no pooled connection may cross the fork into the workers
    click.echo(f"Serving linktracker on http://{host}:{port}/app/ (Ctrl+C to stop)")
    _choose_base_url(host, port, public_url)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    serve(
        app, host, port, workers, threads,
        reuse_port=reuse_port, control_folder=app.instance_path,
        on_worker_start=runtime.start_serving,
    )  # fmt: skip


@click.command(
    "reattribute",
    help="Re-run attribution over every CRM record (after new "
    "clicks, imports or handle changes); prints counts per method.",
)
@with_appcontext
def reattribute_command() -> None:
    from linktracker.attribution.services import attribute_records

    runtime = _runtime()
    program = runtime.settings()
    with runtime.sessions() as session:
        summary = attribute_records(
            session,
            window_days=program.attribution_window_days,
            click_id_param=program.click_id_param,
        )
    for line in summary.lines():
        click.echo(line)


report_group = AppGroup(
    "report",
    help="Attribution reports (clicks, leads, won, rates, time to close) as tables or CSV.",
)


def _report_options(command: click.Command) -> click.Command:
    options = [
        click.option("--from", "date_from", metavar="DATE", help="First day (default: -29 days)."),
        click.option("--to", "date_to", metavar="DATE", help="Last day (default: today)."),
        click.option("--campaign", help="Campaign slug."),
        click.option("--channel", help="Channel, e.g. linkedin."),
        click.option("--team", help="Employee team."),
        click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _print_report(
    kind: str,
    date_from: str | None,
    date_to: str | None,
    campaign: str | None,
    channel: str | None,
    team: str | None,
    as_csv: bool,
) -> None:
    from linktracker.csvsafe import to_csv
    from linktracker.reports import filters as report_filters
    from linktracker.reports import present, services

    runtime = _runtime()
    program = runtime.settings()
    zone = program.reporting_timezone
    currency = program.default_currency
    with runtime.sessions() as session:
        try:
            asked = dict(campaign=campaign, channel=channel, team=team)
            filters = report_filters.parse_report_filters(
                {"from": date_from, "to": date_to, **asked}, today=report_filters.today_in(zone)
            )
            start, end = filters.date_from, filters.date_to
            if kind == "reps":
                reps = services.report_reps(session, filters, timezone=zone, currency=currency)
                table = present.reps_table(reps)
            elif kind == "campaigns":
                report = services.report_campaigns(
                    session, filters, timezone=zone, currency=currency
                )
                table = present.campaigns_table(report)
            elif kind == "channels":
                report_ = services.report_channels(
                    session, filters, timezone=zone, currency=currency
                )
                table = present.channels_table(report_)
            else:
                table = present.program_table(
                    services.report_program(
                        session,
                        filters,
                        timezone=zone,
                        cpm=program.cpm,
                        cost_per_lead=program.cost_per_lead,
                        currency=currency,
                    )
                )
        except DomainError as exc:
            raise _fail(exc) from exc
    if as_csv:
        click.echo(to_csv(*table), nl=False)
        return
    click.echo(f"{kind} {start.isoformat()} .. {end.isoformat()} ({zone})")
    click.echo(present.text_table(table))


for _kind in ("reps", "campaigns", "channels", "program"):

    def _make(kind: str) -> click.Command:
        @with_appcontext
        def command(**options: object) -> None:
            _print_report(kind, **options)  # type: ignore[arg-type]

        help_text = f"The {kind} report for a date range (YYYY-MM-DD, reporting time zone)."
        return _report_options(click.Command(kind, callback=command, help=help_text))

    report_group.add_command(_make(_kind))


@report_group.command(
    "refresh",
    help="Roll up clicks per closed UTC day for the reports (they also do it as needed); "
    "only days that are missing or got new clicks are rebuilt.",
)
def report_refresh_command() -> None:
    from linktracker.db import utcnow
    from linktracker.reports.rollup import refresh_rollups

    with _runtime().sessions() as session:
        summary = refresh_rollups(session, utcnow().date())
    click.echo(f"Rolled up {summary.rebuilt} of {summary.days} closed UTC days.")


spool_group = AppGroup("spool", help="Clicks spooled while the database was unavailable.")


@spool_group.command("status", help="List spool files and how many clicks each holds.")
def spool_status_command() -> None:
    from linktracker.clicks.spool import spool_status

    folder = _runtime().config.spool_folder
    files = spool_status(folder)
    for file in files:
        if file.live_journal:
            state = "a running server's click journal, stored as it goes"
        else:
            state = "in use by a running process" if file.in_use else "waiting for replay"
        torn = f", {file.unreadable} unreadable line(s)" if file.unreadable else ""
        click.echo(f"{file.path.name}: {file.rows} click(s){torn}, {state}")
    waiting = [file for file in files if not file.live_journal]
    total = sum(file.rows for file in waiting)
    click.echo(f"{total} spooled click(s) in {len(waiting)} file(s) in {folder}.")


@spool_group.command("replay", help="Insert spooled clicks into the database, exactly once.")
def spool_replay_command() -> None:
    from sqlalchemy.exc import DBAPIError

    from linktracker.clicks.spool import replay_spool

    runtime = _runtime()
    try:
        result = replay_spool(runtime.engine, runtime.config.spool_folder)
    except DBAPIError as exc:
        raise click.ClickException(
            f"The database is still unavailable ({exc.__class__.__name__}); nothing was lost, "
            "the spool files are kept: run this again later."
        ) from exc
    click.echo(
        f"Replayed {result.files} file(s): {result.rows} click(s) read, {result.inserted} new, "
        f"{result.rows - result.inserted} already stored."
    )
    if result.unreadable:
        click.echo(f"Skipped {result.unreadable} torn line(s) (requests never answered).")
    if result.in_use:
        click.echo(f"{result.in_use} file(s) still in use by a running server; it replays them.")


@click.command(
    "import-crm",
    help="Import a CRM export (CSV from Salesforce, HubSpot, Pipedrive, Zoho or a spreadsheet); "
    "records upsert by source and id, the raw file is kept.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option(
    "--source",
    help="Source system the ids belong to, e.g. salesforce, hubspot, pipedrive, zoho, generic "
    "(default: the detected format).",
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="Map a column explicitly, e.g. --map 'Created On=created_at' (repeatable; 'COLUMN=' "
    "ignores the column).",
)
@click.option(
    "--dayfirst/--monthfirst",
    default=None,
    help="Read 01/02/2026 as 1 February (--dayfirst) or as January 2 (--monthfirst); default: "
    "decided from the file's unambiguous dates.",
)
@click.option("--dry-run", is_flag=True, help="Read and count everything, write no records.")
@click.option("--errors", "shown_errors", default=20, show_default=True, help="Row errors listed.")
@with_appcontext
def import_crm_command(
    file: str,
    source: str | None,
    mapping: tuple[str, ...],
    dayfirst: bool | None,
    dry_run: bool,
    shown_errors: int,
) -> None:
    from linktracker.attribution.services import attribute_records
    from linktracker.crm import services as crm

    runtime = _runtime()
    config = runtime.config
    program = runtime.settings()
    path = Path(file)
    try:
        options = crm.ImportOptions(
            mapping=crm.parse_mapping_option(mapping) or None,
            dayfirst=dayfirst,
            timezone=config.crm_timezone,
            click_id_param=program.click_id_param,
            keep_emails=config.crm_keep_emails,
            dry_run=dry_run,
        )
    except DomainError as exc:
        raise _fail(exc) from exc
    size = path.stat().st_size
    bar = click.progressbar(length=size, label=f"Importing {path.name}", show_eta=True)
    shown = [0]

    def progress(step: crm.ImportProgress) -> None:
        if size >= crm.PROGRESS_BAR_BYTES:  # a bar only where it helps
            bar.update(step.bytes_read - shown[0])
            shown[0] = step.bytes_read

    with runtime.sessions() as session, path.open("rb") as stream:
        try:
            summary = crm.upload_and_import(
                session,
                stream,
                filename=path.name,
                upload_folder=config.upload_folder,
                email_secret=runtime.secret,
                max_bytes=config.max_content_length,
                source=source,
                options=options,
                window_days=program.attribution_window_days,
                attribute=attribute_records,
                progress=progress,
                wait_seconds=CLI_IMPORT_WAIT_SECONDS,
                raw_retention_days=config.crm_raw_retention_days,
            )
        except crm.ImportRefused as exc:
            message = f"{path.name} was refused (import {exc.import_id}): {exc.message}"
            raise click.ClickException(message) from exc
        except DomainError as exc:
            raise _fail(exc) from exc
        finally:
            if shown[0]:
                bar.render_finish()
    click.echo(crm.summary_table(summary))
    for error in summary.errors[:shown_errors]:
        where = f"line {error.line}" + (f", {error.column}" if error.column else "")
        click.echo(f"  {where}: {error.reason}")
    if summary.rejected > shown_errors:
        click.echo(
            f"  … and {summary.rejected - shown_errors} more: "
            f"GET /api/v1/crm/imports/{summary.id}/rejected.csv lists them all."
        )


crm_group = AppGroup("crm", help="CRM imports: run one again, delete raw files past retention.")


@crm_group.command(
    "run", help="Run a stored import again: resumes an interrupted one with its options."
)
@click.argument("import_id", type=int)
@with_appcontext
def crm_run_command(import_id: int) -> None:
    from linktracker.attribution.services import attribute_records
    from linktracker.crm import services as crm

    runtime = _runtime()
    config = runtime.config
    with _service_session() as session:
        summary = crm.import_crm_file(
            session,
            import_id,
            upload_folder=config.upload_folder,
            email_secret=runtime.secret,
            window_days=runtime.settings().attribution_window_days,
            attribute=attribute_records,
            wait_seconds=CLI_IMPORT_WAIT_SECONDS,
            raw_retention_days=config.crm_raw_retention_days,
        )
    click.echo(crm.summary_table(summary))


@crm_group.command(
    "purge-raw",
    help="Delete the raw CRM uploads past retention (CRM_RAW_RETENTION_DAYS); the imports' "
    "records and summaries stay.",
)
@click.option(
    "--days",
    type=int,
    default=None,
    help="Keep raw files this many days after their import finished instead of "
    "CRM_RAW_RETENTION_DAYS (0: delete every finished import's raw file).",
)
@with_appcontext
def crm_purge_raw_command(days: int | None) -> None:
    with _service_session() as session:
        _purge_raw_files(session, days)


def _purge_raw_files(session: Session, days: int | None) -> None:
    from linktracker.crm.services import purge_raw_files

    config = _runtime().config
    days = config.crm_raw_retention_days if days is None else days
    purged = purge_raw_files(session, upload_folder=config.upload_folder, retention_days=days)
    ids = ", ".join(str(i) for i in purged.import_ids) or "none"
    click.echo(
        f"Deleted the raw files of {len(purged.import_ids)} import(s) older than {days} day(s) "
        f"({purged.files} file(s); imports {ids}); their records and summaries are kept."
    )


def register_cli(app: Flask) -> None:
    """Put every command on the app's own CLI group."""
    for command in (
        spool_group,
        reattribute_command,
        report_group,
        db_group,
        create_user_command,
        create_token_command,
        list_tokens_command,
        revoke_token_command,
        import_employees_command,
        import_crm_command,
        crm_group,
        demo_data_command,
    ):
        app.cli.add_command(command)
    app.cli.add_command(run_command, "serve")


def _create_app() -> Flask:
    from linktracker import create_app

    return create_app()


main = FlaskGroup(
    name="linktracker",
    help="linktracker: personal UTM short links, click logging and CRM attribution.",
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
)
main.add_command(run_command, "run")
main.add_command(shell_command)
main.add_command(routes_command)
