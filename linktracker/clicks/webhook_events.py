"""`click.created` events made from the stored clicks, off the redirect's path.

The clicks table is the events' durable source: a redirect and the click writer do nothing
for webhooks. Each webhook keeps a cursor, the position of the last stored click its events
have covered (webhooks.click_after_id, and on PostgreSQL click_after_xact), and each delivery
round (the serving process's delivery thread, `linktracker webhooks deliver`) turns the clicks
stored past it into outbox rows and moves it on, in one transaction. So exactly the clicks
that are stored produce events, however they were stored (the writer, a spool or journal
replay after an outage or a crash), and a crash between a click and its event loses
nothing: the next round starts from the cursor committed with the last events.

Clicks are read in the order they were stored, with the raw click export's paging
(clicks/export.py): by id on SQLite, by (xact_id, id) below the oldest running transaction
on PostgreSQL, so a click committed late with a low id is never skipped. Two rounds at once
(several workers) cannot both move a cursor: it moves by a conditional UPDATE, and the round
that finds it moved rolls its events back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from linktracker.clicks.export import (
    FIELDS,
    ClickExport,
    Position,
    created_at_text,
    export_statement,
    read_horizon,
    row_position,
)
from linktracker.clicks.models import Click
from linktracker.webhooks.models import Webhook
from linktracker.webhooks.services import enqueue_event, subscribers

log = logging.getLogger(__name__)

EVENT = "click.created"
# Clicks per click.created event: the delivery's cost is mostly per event (claim, POST,
# attempt row, commit), so large events keep it small beside the redirects (~300 KB each).
MAX_CLICKS_PER_EVENT = 1000
# Clicks read per transaction, and at most this many pages per webhook per round.
PAGE_CLICKS = 2000
MAX_PAGES = 25
# Past every id a click can have: a PostgreSQL cursor "after every row of transaction x".
_LAST_ID = 2**62

_COLUMN = {name: FIELDS.index(name) for name in FIELDS}


class ClickEvents:
    """Turns the clicks stored past each click.created webhook's cursor into events."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def queue(self) -> int:
        """Queue the events of every click stored since the last round; how many clicks.

        Never raises: a failed round is logged and the next one starts from the same cursor.
        """
        queued = 0
        try:
            with self.sessions() as session:
                hook_ids = [hook.id for hook in subscribers(session, EVENT)]
            for hook_id in hook_ids:
                for _ in range(MAX_PAGES):
                    done, more = self._page(hook_id)
                    queued += done
                    if not more:
                        break
        except Exception:  # noqa: BLE001 - the clicks stay stored; the next round retries
            log.exception("click.created events could not be queued; retrying next round")
        return queued

    def _page(self, hook_id: int) -> tuple[int, bool]:
        """One transaction: a page of clicks past the cursor, their events, the cursor moved.
        Returns the clicks it covered and whether more may wait."""
        with self.sessions() as session:
            hook = session.get(Webhook, hook_id)
            if hook is None or EVENT not in hook.events:
                return 0, False
            dialect = session.get_bind().dialect.name
            postgresql = dialect == "postgresql"
            old = (hook.click_after_id, hook.click_after_xact)
            start = _cursor(hook, postgresql) or _first_cursor(session, hook.created_at, postgresql)
            export = ClickExport(after=start, limit=PAGE_CLICKS, include_bots=hook.include_bots)
            rows = session.execute(export_statement(export, dialect)).all()
            end = row_position(rows[-1], postgresql=postgresql) if rows else start
            clicks = [_click_json(row) for row in rows]
            for first in range(0, len(clicks), MAX_CLICKS_PER_EVENT):
                batch = clicks[first : first + MAX_CLICKS_PER_EVENT]
                enqueue_event(session, EVENT, {"clicks": batch}, hooks=[hook])
            if (end.id, end.xact_id) != old and not _move(session, hook_id, old, end):
                session.rollback()  # another round moved it first: its events stand
                return 0, False
            try:
                session.commit()
            except DBAPIError:  # SQLite: another round wrote first (a stale snapshot)
                session.rollback()
                log.info("click.created round of webhook %s yields to another", hook_id)
                return 0, False
            return len(rows), len(rows) == PAGE_CLICKS


def _cursor(hook: Webhook, postgresql: bool) -> Position | None:
    if hook.click_after_id is None:
        return None
    return Position(hook.click_after_id, (hook.click_after_xact or 0) if postgresql else None)


def _first_cursor(session: Session, since: datetime, postgresql: bool) -> Position:
    """Where a new webhook starts: before the first click stored from its creation on."""
    made_since = Click.created_at >= since
    if not postgresql:
        first = session.scalar(select(func.min(Click.id)).where(made_since))
        if first is not None:
            return Position(first - 1)
        return Position(session.scalar(select(func.coalesce(func.max(Click.id), 0))) or 0)
    # Every transaction still running, or yet to start, has an xact_id of at least the horizon.
    horizon = read_horizon(session)
    start = Position(_LAST_ID, horizon - 1)
    found = session.execute(
        select(Click.xact_id, Click.id).where(made_since).order_by(Click.xact_id, Click.id).limit(1)
    ).first()
    if found is not None and (found[0] or 0, found[1]) < (horizon - 1, _LAST_ID):
        start = Position(found[1] - 1, found[0] or 0)
    return start


def _move(
    session: Session, hook_id: int, old: tuple[int | None, int | None], new: Position
) -> bool:
    """Move the cursor if it is still where this round read it from."""
    old_id, old_xact = old
    same_id = (
        Webhook.click_after_id.is_(None) if old_id is None else Webhook.click_after_id == old_id
    )
    same_xact = (
        Webhook.click_after_xact.is_(None)
        if old_xact is None
        else Webhook.click_after_xact == old_xact
    )
    moved = session.execute(
        update(Webhook)
        .where(Webhook.id == hook_id, same_id, same_xact)
        .values(click_after_id=new.id, click_after_xact=new.xact_id)
        .execution_options(synchronize_session=False)
    )
    return bool(moved.rowcount == 1)  # type: ignore[attr-defined]


def _click_json(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "click_id": row[_COLUMN["click_id"]],
        "created_at": created_at_text(row[_COLUMN["created_at"]]),
        "link": row[_COLUMN["code"]],
        "campaign": row[_COLUMN["campaign"]],
        "employee": row[_COLUMN["employee"]],
        "channel": row[_COLUMN["channel"]],
        # The export's rows hold the flags as the text it writes: 'true' or 'false'.
        "is_bot": row[_COLUMN["is_bot"]] == "true",
        "is_preview": row[_COLUMN["is_preview"]] == "true",
        "bot_name": row[_COLUMN["bot_name"]],
        "country": row[_COLUMN["country"]],
        "device_type": row[_COLUMN["device"]],
        "referrer_host": row[_COLUMN["referrer_host"]],
    }
