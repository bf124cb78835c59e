"""Webhooks: endpoints, the outbox events are queued in, and the delivery of what is due.

An event is written to the outbox (one delivery row per subscribed webhook) in the
transaction of the change it reports, and sent later by a deliverer: the server's
background thread or `linktracker webhooks deliver`. A failed attempt is retried with
exponential backoff, with the same `webhook-id`, for RETRY_HOURS; then it is marked failed.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from linktracker.db import get_or_not_found, utcnow
from linktracker.errors import InvalidInput
from linktracker.webhooks import signing
from linktracker.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery
from linktracker.webhooks.targets import UnsafeTarget, check_target, post

log = logging.getLogger(__name__)

EVENTS: Final = ("click.created", "lead.attributed", "deal.won", "import.finished")
RETRY_HOURS: Final = 24
FIRST_RETRY_SECONDS: Final = 5
BACKOFF_FACTOR: Final = 3
MAX_RETRY_SECONDS: Final = 6 * 3600
# A deliverer owns a claimed row this long: longer than any attempt's timeout.
CLAIM_SECONDS: Final = 120
DEFAULT_TIMEOUT: Final = 10.0
DEFAULT_BATCH: Final = 50


@dataclass(frozen=True)
class CreatedWebhook:
    """A new webhook, with its secret (shown this once)."""

    id: int
    url: str
    events: list[str]
    include_bots: bool
    secret: str


@dataclass(frozen=True)
class DeliveryRun:
    """What one call of deliver_due did."""

    delivered: int
    retrying: int
    failed: int

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed


def _events(events: Any) -> list[str]:
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise InvalidInput(
            f"'events' must be a non-empty list of event types ({', '.join(EVENTS)}).",
            {"events": "Required."},
        )
    unknown = [event for event in events if event not in EVENTS]
    if unknown:
        raise InvalidInput(
            f"Unknown event type {unknown[0]!r}; the events are {', '.join(EVENTS)}.",
            {"events": "Unknown event type."},
        )
    return list(dict.fromkeys(events))


def create_webhook(
    session: Session,
    *,
    url: str,
    events: Any,
    allow_private: bool,
    include_bots: bool = False,
    created_by: int | None = None,
) -> CreatedWebhook:
    """Register a webhook after checking where its URL leads (UnsafeTarget if refused)."""
    chosen = _events(events)
    check_target(url, allow_private=allow_private)
    webhook = Webhook(
        url=url.strip(),
        events=chosen,
        secret=signing.new_secret(),
        include_bots=include_bots,
        created_by=created_by,
    )
    session.add(webhook)
    session.commit()
    return CreatedWebhook(webhook.id, webhook.url, chosen, include_bots, webhook.secret)


def list_webhooks(session: Session) -> list[Webhook]:
    """Every webhook, oldest first."""
    return list(session.scalars(select(Webhook).order_by(Webhook.id)))


def get_webhook(session: Session, webhook_id: int) -> Webhook:
    """One webhook (NotFound if unknown)."""
    return get_or_not_found(session, Webhook, webhook_id, "Webhook")


def delete_webhook(session: Session, webhook_id: int) -> None:
    """Remove a webhook with its outbox rows and their attempts."""
    get_webhook(session, webhook_id)
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == webhook_id)
    session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id))
    session.execute(delete(Webhook).where(Webhook.id == webhook_id))
    session.commit()


def list_deliveries(
    session: Session, webhook_id: int | None = None, *, limit: int = 100
) -> list[WebhookDelivery]:
    """The newest deliveries (of one webhook, or of all)."""
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if webhook_id is not None:
        get_webhook(session, webhook_id)
        query = query.where(WebhookDelivery.webhook_id == webhook_id)
    return list(session.scalars(query))


def list_attempts(session: Session, delivery_ids: Iterable[int]) -> dict[int, list[WebhookAttempt]]:
    """The attempts of these deliveries, oldest first, by delivery id."""
    ids = list(delivery_ids)
    found: dict[int, list[WebhookAttempt]] = {i: [] for i in ids}
    if ids:
        query = (
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(ids))
            .order_by(WebhookAttempt.id)
        )
        for attempt in session.scalars(query):
            found[attempt.delivery_id].append(attempt)
    return found


def subscribers(session: Session, event_type: str) -> list[Webhook]:
    """The webhooks that take this event type."""
    return [hook for hook in list_webhooks(session) if event_type in hook.events]


def enqueue_event(
    session: Session,
    event_type: str,
    data: Mapping[str, Any],
    *,
    hooks: Iterable[Webhook] | None = None,
    now: datetime | None = None,
) -> int:
    """Queue one event for its subscribers in the caller's transaction; how many rows queued."""
    if event_type not in EVENTS:
        raise ValueError(f"unknown webhook event {event_type!r}")
    moment = now or utcnow()
    chosen = subscribers(session, event_type) if hooks is None else list(hooks)
    if not chosen:
        return 0
    body = json.dumps(
        {"type": event_type, "timestamp": moment.isoformat(), "data": data},
        separators=(",", ":"),
        default=str,
    )
    session.add_all(
        WebhookDelivery(
            webhook_id=hook.id,
            message_id=f"msg_{uuid.uuid4().hex}",
            event_type=event_type,
            body=body,
            status="pending",
            attempts=0,
            created_at=moment,
            next_attempt_at=moment,
        )
        for hook in chosen
    )
    return len(chosen)


def retry_delay(attempts: int) -> timedelta:
    """How long after its n-th failed attempt a delivery is tried again."""
    seconds = FIRST_RETRY_SECONDS * BACKOFF_FACTOR ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, MAX_RETRY_SECONDS))


def deliver_due(
    sessions: sessionmaker[Session],
    *,
    allow_private: bool,
    timeout: float = DEFAULT_TIMEOUT,
    now: datetime | None = None,
    batch: int = DEFAULT_BATCH,
) -> DeliveryRun:
    """Send every delivery that is due (in batches) and return; safe to run in many processes."""
    delivered = retrying = failed = 0
    while True:
        moment = now or utcnow()
        claimed = _claim(sessions, moment, batch)
        for delivery_id in claimed:
            outcome = _attempt(sessions, delivery_id, moment, allow_private, timeout)
            delivered += outcome == "delivered"
            retrying += outcome == "pending"
            failed += outcome == "failed"
        if len(claimed) < batch:
            return DeliveryRun(delivered, retrying, failed)


def _claim(sessions: sessionmaker[Session], now: datetime, batch: int) -> list[int]:
    """Take up to `batch` due rows with one conditional UPDATE, so each has one sender: a row
    another deliverer took in the meantime no longer matches and is not returned."""
    free = or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until < now)
    due = (WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now, free)
    with sessions() as session:
        candidates = session.scalars(
            select(WebhookDelivery.id)
            .where(*due)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(batch)
        ).all()
        session.rollback()  # read nothing more under this snapshot
        if not candidates:
            return []
        taken = session.scalars(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(candidates), *due)
            .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
            .returning(WebhookDelivery.id)
            .execution_options(synchronize_session=False)
        ).all()
        session.commit()
    order = {delivery_id: n for n, delivery_id in enumerate(candidates)}
    return sorted(taken, key=order.__getitem__)


def _attempt(
    sessions: sessionmaker[Session],
    delivery_id: int,
    now: datetime,
    allow_private: bool,
    timeout: float,
) -> str:
    """One attempt at one claimed delivery; its new status.

    Core statements, not the ORM: this runs once per event in every serving process, beside
    the redirects (one query, one insert, one update, one commit).
    """
    with sessions() as session:
        found = session.execute(
            select(
                WebhookDelivery.attempts,
                WebhookDelivery.created_at,
                WebhookDelivery.message_id,
                WebhookDelivery.body,
                Webhook.url,
                Webhook.secret,
            )
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(WebhookDelivery.id == delivery_id)
        ).first()
        if found is None:
            return "gone"
        attempts, created_at, message_id, text, url, secret = found
        code, error, started = None, None, time.monotonic()
        body = text.encode()
        try:
            target = check_target(url, allow_private=allow_private)
            headers = signing.headers(secret, message_id, int(time.time()), body)
            code = post(target, body, headers, timeout)
            if not 200 <= code < 300:
                error = f"HTTP {code}"
        except UnsafeTarget as exc:
            error = str(exc)
        except (OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        error = error[:500] if error else None
        session.execute(
            insert(WebhookAttempt).values(
                delivery_id=delivery_id,
                attempted_at=now,
                response_code=code,
                error=error,
                duration_ms=int((time.monotonic() - started) * 1000),
            )
        )
        attempts += 1
        changes: dict[str, Any] = {
            "attempts": attempts,
            "last_attempt_at": now,
            "response_code": code,
            "last_error": error,
            "claimed_until": None,
        }
        status = "pending"
        if error is None:
            status = "delivered"
            changes |= {"status": status, "delivered_at": now}
        else:
            retry_at = now + retry_delay(attempts)
            if retry_at > created_at + timedelta(hours=RETRY_HOURS):
                status = "failed"
                changes["status"] = status
                log.warning("webhook delivery %s given up: %s", message_id, error)
            else:
                changes["next_attempt_at"] = retry_at
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(**changes)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return status
