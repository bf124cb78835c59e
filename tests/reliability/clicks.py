"""Clicks as the reliability tests record and count them."""

from __future__ import annotations

from sqlalchemy import Engine, select

from linktracker.clicks.models import Click
from linktracker.links.models import Link
from linktracker.links.services import LinkTarget

FAST = 0.1  # seconds: the redirect's budget while the database is down


def stored_click_ids(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(select(Click.click_id)))


def link_target(link: Link) -> LinkTarget:
    return LinkTarget(
        link.id, link.employee_id, link.campaign_id, link.channel, link.destination_url,
        False, None,
    )  # fmt: skip
