"""The webhook delivery log for admins: each endpoint's deliveries, their status and retries."""

from __future__ import annotations

from flask import Blueprint, render_template

from linktracker.auth.roles import ADMINS
from linktracker.web.context import db, require_roles
from linktracker.webhooks.services import list_deliveries, list_webhooks

webhook_pages = Blueprint("webhook_pages", __name__, url_prefix="/app/webhooks")


@webhook_pages.get("/")
@require_roles(*ADMINS)
def index() -> str:
    hooks = {hook.id: hook for hook in list_webhooks(db())}
    deliveries = list_deliveries(db(), limit=200)
    return render_template("webhooks/index.html", hooks=hooks, deliveries=deliveries)
