"""`click.created` events from the click writer's batches, off the redirect's path.

The writer thread calls ClickEvents with each batch it stored. Which webhooks take click
events is re-read every few seconds, so with none subscribed a batch costs a dict lookup.
In a serving process (`deferred`) the writer only hands the rows over and the delivery
thread queues them, every round, as events of up to MAX_CLICKS_PER_EVENT clicks: the writer
stays as fast as without webhooks, and SQLite sees one more write a round, not one a batch.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from linktracker.campaigns.models import Campaign
from linktracker.employees.models import Employee
from linktracker.links.models import Link
from linktracker.webhooks.models import Webhook
from linktracker.webhooks.services import enqueue_event, subscribers

log = logging.getLogger(__name__)

EVENT = "click.created"
SUBSCRIBERS_TTL = 5.0
MAX_CLICKS_PER_EVENT = 100
# Rows handed over but not yet queued are bounded: past this, a batch is queued on the spot.
MAX_HANDED_OVER = 50_000


class ClickEvents:
    """Queues click.created events for the clicks of a stored batch."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._hooks: tuple[float, list[tuple[int, bool]]] = (0.0, [])
        # Set when a delivery thread runs and calls flush(): the writer only hands rows over.
        self.deferred = False
        self._handed: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def _subscribed(self) -> list[tuple[int, bool]]:
        expires, hooks = self._hooks
        if expires > time.monotonic():
            return hooks
        with self.sessions() as session:
            hooks = [(hook.id, hook.include_bots) for hook in subscribers(session, EVENT)]
        self._hooks = (time.monotonic() + SUBSCRIBERS_TTL, hooks)
        return hooks

    def forget(self) -> None:
        """Re-read the subscribers at the next batch (a webhook was added or removed)."""
        self._hooks = (0.0, [])

    def __call__(self, rows: Sequence[dict[str, Any]]) -> None:
        """Queue the events of one stored batch; never raises (the writer must go on)."""
        try:
            hooks = self._subscribed()
            if not hooks:
                return
            if self.deferred:
                with self._lock:
                    if len(self._handed) < MAX_HANDED_OVER:
                        self._handed.extend(rows)
                        return
            self._enqueue(rows, hooks)
        except Exception:  # noqa: BLE001 - clicks are stored; an event lost is logged
            log.exception("click.created events of %d click(s) could not be queued", len(rows))

    def flush(self) -> None:
        """Queue the events of the rows handed over so far (the delivery thread's round)."""
        with self._lock:
            rows, self._handed = self._handed, []
        if not rows:
            return
        try:
            hooks = self._subscribed()
            if hooks:
                self._enqueue(rows, hooks)
        except Exception:  # noqa: BLE001 - clicks are stored; an event lost is logged
            log.exception("click.created events of %d click(s) could not be queued", len(rows))

    def _enqueue(self, rows: Sequence[dict[str, Any]], hooks: list[tuple[int, bool]]) -> None:
        with self.sessions() as session:
            names = self._names(session, {row["link_id"] for row in rows})
            everyone = [_click_json(row, names) for row in rows]
            humans = [c for c, row in zip(everyone, rows, strict=True) if _human(row)]
            for include_bots in (False, True):
                chosen = [session.get(Webhook, i) for i, bots in hooks if bots is include_bots]
                clicks = everyone if include_bots else humans
                for start in range(0, len(clicks), MAX_CLICKS_PER_EVENT):
                    batch = clicks[start : start + MAX_CLICKS_PER_EVENT]
                    enqueue_event(session, EVENT, {"clicks": batch}, hooks=[h for h in chosen if h])
            session.commit()

    @staticmethod
    def _names(session: Session, link_ids: set[int]) -> dict[int, tuple[str, str, str]]:
        if not link_ids:
            return {}
        query = (
            select(Link.id, Link.code, Campaign.slug, Employee.handle)
            .join(Campaign, Campaign.id == Link.campaign_id)
            .join(Employee, Employee.id == Link.employee_id)
            .where(Link.id.in_(link_ids))
        )
        return {row[0]: (row[1], row[2], row[3]) for row in session.execute(query)}


def _human(row: dict[str, Any]) -> bool:
    return not row["is_bot"] and not row["is_preview"]


def _click_json(row: dict[str, Any], names: dict[int, tuple[str, str, str]]) -> dict[str, Any]:
    code, campaign, employee = names.get(row["link_id"], (None, None, None))
    return {
        "click_id": row["click_id"],
        "created_at": row["created_at"].isoformat(),
        "link": code,
        "campaign": campaign,
        "employee": employee,
        "channel": row["channel"],
        "is_bot": bool(row["is_bot"]),
        "is_preview": bool(row["is_preview"]),
        "bot_name": row.get("bot_name"),
        "country": row.get("country"),
        "device_type": row.get("device_type"),
        "referrer_host": row.get("referrer_host"),
    }
