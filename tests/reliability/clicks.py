"""Clicks as the reliability tests record and count them."""

from __future__ import annotations

import json

from sqlalchemy import Engine, select

from linktracker.clicks.models import Click
from linktracker.db import utcnow
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


def spool_line(link: Link, click_id: str) -> str:
    """A click as a process writes it to its spool during an outage (one JSON line)."""
    row = {
        "click_id": click_id, "created_at": utcnow().isoformat(), "link_id": link.id,
        "employee_id": link.employee_id, "campaign_id": link.campaign_id,
        "channel": link.channel, "method": "GET", "referrer": None, "referrer_host": None,
        "referrer_channel": None, "browser": "Chrome", "os": "Windows",
        "device_type": "desktop", "is_bot": False, "bot_name": None, "is_preview": False,
        "visitor_hash": "0" * 32, "country": None,
    }  # fmt: skip
    return json.dumps(row) + "\n"
