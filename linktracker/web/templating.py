"""Values every template may use."""

from __future__ import annotations

from typing import Any

from flask import Flask

from linktracker.web.context import Unauthenticated, identity
from linktracker.web.pages import nav_items


def _globals() -> dict[str, Any]:
    try:
        who = identity()
    except Unauthenticated:
        who = None
    return {"current_identity": who, "nav_items": nav_items(who)}


def register_templating(app: Flask) -> None:
    """Expose the signed-in identity and its navigation to templates."""
    app.context_processor(_globals)
