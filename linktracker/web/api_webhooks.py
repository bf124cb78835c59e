"""Webhook endpoints of the JSON API (admin): register, list, delete, delivery log."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from linktracker.auth.roles import ADMINS
from linktracker.errors import InvalidInput
from linktracker.web.api import api, payload, text
from linktracker.web.context import db, identity, require_roles, runtime
from linktracker.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery
from linktracker.webhooks.services import (
    create_webhook,
    delete_webhook,
    list_attempts,
    list_deliveries,
    list_webhooks,
)


def webhook_json(webhook: Webhook) -> dict[str, Any]:
    """The API shape of a webhook (its secret only at creation)."""
    return {
        "id": webhook.id,
        "url": webhook.url,
        "events": list(webhook.events),
        "include_bots": webhook.include_bots,
        "created_at": webhook.created_at.isoformat(),
    }


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment else None


def attempt_json(attempt: WebhookAttempt) -> dict[str, Any]:
    return {
        "attempted_at": attempt.attempted_at.isoformat(),
        "response_code": attempt.response_code,
        "error": attempt.error,
        "duration_ms": attempt.duration_ms,
    }


def delivery_json(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> dict[str, Any]:
    """The API shape of one outbox row with its attempts."""
    return {
        "id": delivery.id,
        "webhook_id": delivery.webhook_id,
        "webhook_message_id": delivery.message_id,
        "type": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "created_at": delivery.created_at.isoformat(),
        "next_attempt_at": None if delivery.status != "pending" else _iso(delivery.next_attempt_at),
        "last_attempt_at": _iso(delivery.last_attempt_at),
        "response_code": delivery.response_code,
        "error": delivery.last_error,
        "delivered_at": _iso(delivery.delivered_at),
        "attempt_log": [attempt_json(attempt) for attempt in attempts],
    }


@api.post("/webhooks")
@require_roles(*ADMINS)
def post_webhook() -> tuple[Response, int]:
    data = payload()
    include_bots = data.get("include_bots", False)
    if not isinstance(include_bots, bool):
        raise InvalidInput("'include_bots' must be true or false.", {"include_bots": "Invalid."})
    who = identity()
    created = create_webhook(
        db(),
        url=text(data, "url", required=True) or "",
        events=data.get("events"),
        allow_private=runtime().config.webhook_allow_private,
        include_bots=include_bots,
        created_by=who.user_id if who else None,
    )
    return jsonify(
        {
            "id": created.id,
            "url": created.url,
            "events": created.events,
            "include_bots": created.include_bots,
            "secret": created.secret,
        }
    ), 201


@api.get("/webhooks")
@require_roles(*ADMINS)
def get_webhooks() -> Response:
    return jsonify({"webhooks": [webhook_json(hook) for hook in list_webhooks(db())]})


@api.delete("/webhooks/<int:webhook_id>")
@require_roles(*ADMINS)
def delete_webhook_view(webhook_id: int) -> tuple[str, int]:
    delete_webhook(db(), webhook_id)
    return "", 204


@api.get("/webhooks/<int:webhook_id>/deliveries")
@require_roles(*ADMINS)
def get_webhook_deliveries(webhook_id: int) -> Response:
    deliveries = list_deliveries(db(), webhook_id)
    attempts = list_attempts(db(), [delivery.id for delivery in deliveries])
    return jsonify({"deliveries": [delivery_json(d, attempts[d.id]) for d in deliveries]})
