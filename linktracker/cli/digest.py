"""`linktracker digest …`: the weekly email to employees."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

from linktracker.cli.common import current_runtime, fail, service_session
from linktracker.digest.services import (
    Digest,
    DigestConfig,
    DigestRun,
    channel_name,
    last_full_week,
    send_digests,
)
from linktracker.digest.services import (
    digest_config as config_from,
)
from linktracker.digest.smtp import parse_smtp_url
from linktracker.errors import DomainError
from linktracker.reports.filters import today_in

digest_group = AppGroup("digest", help="The weekly digest email to employees.")


def digest_config() -> DigestConfig:
    """The digest settings of the running app."""
    runtime = current_runtime()
    return config_from(
        runtime.settings(),
        base_url=runtime.config.base_url,
        secret=runtime.secret,
        sender=runtime.config.digest_from,
    )


@digest_group.command(
    "send",
    help="Send the weekly digest (new campaigns with each employee's links, their clicks, "
    "leads and rank) to every employee who did not opt out. A week is sent to an employee "
    "once; failed sends are tried again by the next run.",
)
@click.option("--dry-run", is_flag=True, help="Print who would get what; send and record nothing.")
@click.option(
    "--week",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Any day of the week to send (default: the last full week, Monday to Sunday).",
)
def send_command(dry_run: bool, week: datetime | None) -> None:
    runtime = current_runtime()
    config = digest_config()
    smtp = None
    if not dry_run:
        try:
            smtp = parse_smtp_url(
                runtime.config.smtp_url, timeout=runtime.config.smtp_timeout_seconds
            )
        except DomainError as exc:
            raise fail(exc) from exc
    day = week.date() if week is not None else last_full_week(today_in(config.timezone))
    with service_session() as session:
        run = send_digests(session, day, config, smtp, dry_run=dry_run)
    _report(run)
    if run.failed:
        raise click.ClickException(f"{len(run.failed)} digest(s) could not be sent (see above).")


def _report(run: DigestRun) -> None:
    week = f"week of {run.week_start.isoformat()}"
    if run.dry_run:
        for digest in run.would_send:
            _describe(digest)
        click.echo(
            f"dry run, {week}: would send {len(run.would_send)}, opted out {run.opted_out}, "
            f"already sent {run.already_sent}"
        )
        return
    for digest in run.sent:
        click.echo(f"sent to {digest.email}")
    for digest, reason in run.failed:
        click.echo(f"FAILED {digest.email}: {reason}", err=True)
    click.echo(
        f"{week}: sent {len(run.sent)}, failed {len(run.failed)}, opted out {run.opted_out}, "
        f"already sent {run.already_sent}"
    )


def _describe(digest: Digest) -> None:
    rank = f"rank #{digest.rank} of {digest.ranked}" if digest.rank else "no rank"
    click.echo(
        f"{digest.email}: {digest.clicks} click(s), {digest.leads} lead(s), {rank}; "
        f"{len(digest.campaigns)} new campaign(s)"
    )
    for campaign in digest.campaigns:
        for link in campaign.links:
            url = link.url or "(link made when sent)"
            click.echo(f"  {campaign.name} · {channel_name(link.channel)}: {url}")
