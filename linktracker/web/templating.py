"""Values every template may use."""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from linktracker.web.context import Unauthenticated, identity
from linktracker.web.pages import nav_items


def _globals() -> dict[str, Any]:
    try:
        who = identity()
    except Unauthenticated:
        who = None
    items = nav_items(who)
    return {"current_identity": who, "nav_items": items, "current_nav": current_nav(items)}


def current_nav(items: list[tuple[str, str]]) -> str | None:
    """The navigation entry this page belongs to: itself, else the last one of its blueprint."""
    endpoints = [endpoint for endpoint, _label in items]
    here = request.endpoint or ""
    if here in endpoints:
        return here
    same_area = [e for e in endpoints if e.split(".")[0] == here.split(".")[0]]
    return same_area[-1] if same_area else None


def register_templating(app: Flask) -> None:
    """Expose the signed-in identity and its navigation to templates."""
    app.context_processor(_globals)
