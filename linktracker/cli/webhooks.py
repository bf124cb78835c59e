"""`linktracker webhooks …`: send the deliveries that are due, list endpoints."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from linktracker.cli.common import current_runtime, service_session
from linktracker.webhooks.services import deliver_due, list_webhooks

webhooks_group = AppGroup("webhooks", help="Outbound webhooks: deliver what is due, list them.")


@webhooks_group.command(
    "deliver",
    help="Queue the click.created events of newly stored clicks, send every webhook delivery "
    "that is due (first tries and retries), then return.",
)
def deliver_command() -> None:
    runtime = current_runtime()
    runtime.click_events.queue()  # the click.created events of the clicks stored since
    run = deliver_due(
        runtime.sessions,
        allow_private=runtime.config.webhook_allow_private,
        timeout=runtime.config.webhook_timeout_seconds,
    )
    click.echo(f"delivered {run.delivered}, to retry {run.retrying}, given up {run.failed}")


@webhooks_group.command("list", help="Every webhook endpoint with its events.")
def list_command() -> None:
    with service_session() as session:
        for hook in list_webhooks(session):
            click.echo(f"{hook.id}\t{hook.url}\t{','.join(hook.events)}")
