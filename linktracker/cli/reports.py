"""`linktracker report …`: the attribution reports as tables or CSV."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from linktracker.cli.common import current_runtime, fail
from linktracker.errors import DomainError

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

    runtime = current_runtime()
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
            raise fail(exc) from exc
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
    "recruiting",
    help="The recruiting report for a date range: job-link clicks, applications, referrals, "
    "hires and median days to hire per rep, the baseline, the program, and per job (--jobs).",
)
@click.option("--from", "date_from", metavar="DATE", help="First day (default: -29 days).")
@click.option("--to", "date_to", metavar="DATE", help="Last day (default: today).")
@click.option("--team", help="Employee team.")
@click.option("--job", help="One job title only.")
@click.option("--jobs", "per_job", is_flag=True, help="The table per job instead of per rep.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
def report_recruiting_command(
    date_from: str | None,
    date_to: str | None,
    team: str | None,
    job: str | None,
    per_job: bool,
    as_csv: bool,
) -> None:
    from linktracker.csvsafe import to_csv
    from linktracker.reports import filters as report_filters
    from linktracker.reports import present
    from linktracker.reports.recruiting import recruiting_table, report_recruiting

    runtime = current_runtime()
    zone = runtime.settings().reporting_timezone
    with runtime.sessions() as session:
        try:
            filters = report_filters.parse_report_filters(
                {"from": date_from, "to": date_to, "team": team},
                today=report_filters.today_in(zone),
            )
            report = report_recruiting(session, filters, timezone=zone, job=job)
        except DomainError as exc:
            raise fail(exc) from exc
    table = recruiting_table(report, "jobs" if per_job else "reps")
    if as_csv:
        click.echo(to_csv(*table), nl=False)
        return
    click.echo(f"recruiting {report.date_from} .. {report.date_to} ({zone})")
    click.echo(present.text_table(table))


@report_group.command(
    "refresh",
    help="Roll up clicks per closed UTC day for the reports and click breakdowns (they also "
    "do it as needed); only days that are missing or got new clicks are rebuilt.",
)
def report_refresh_command() -> None:
    from linktracker.db import utcnow
    from linktracker.reports.audience_rollup import refresh_all
    from linktracker.reports.rollup import refresh_rollups

    runtime = current_runtime()
    with runtime.sessions() as session:
        summary = refresh_rollups(session, utcnow().date())
        timezone = runtime.settings().reporting_timezone
        audience = refresh_all(session, timezone, utcnow().date())
    click.echo(f"Rolled up {summary.rebuilt} of {summary.days} closed UTC days.")
    click.echo(f"Audience: rolled up {audience} UTC days ({timezone}).")
