"""`linktracker links …`: making a campaign's links, disabling and re-enabling one."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from linktracker.cli.common import current_runtime, service_session
from linktracker.links.services import create_campaign_links, set_link_disabled

links_group = AppGroup("links", help="Short links: make a campaign's, disable or enable one.")


@links_group.command(
    "generate",
    help="Make every missing link of a campaign: each active employee × its channels.",
)
@click.argument("campaign")
def generate_links_command(campaign: str) -> None:
    settings = current_runtime().settings()
    with service_session() as session:
        result = create_campaign_links(
            session,
            campaign_slug=campaign,
            medium=settings.utm_medium,
            allowed_domains=settings.allowed_domains,
        )
    click.echo(f"created {result.created}, already there {result.existing}")


@links_group.command("disable", help="Disable a link: it answers 410 (or FALLBACK_URL).")
@click.argument("code")
def disable_link_command(code: str) -> None:
    _set_disabled(code, disabled=True)


@links_group.command("enable", help="Re-enable a disabled link.")
@click.argument("code")
def enable_link_command(code: str) -> None:
    _set_disabled(code, disabled=False)


def _set_disabled(code: str, *, disabled: bool) -> None:
    with service_session() as session:
        link = set_link_disabled(session, code, disabled)
        state = "disabled" if link.disabled else "enabled"
    click.echo(f"{current_runtime().config.base_url}/{code} {state}")
