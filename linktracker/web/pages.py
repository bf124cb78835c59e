"""The signed-in app's landing page and navigation."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from linktracker.web.context import Identity, identity

pages = Blueprint("pages", __name__, url_prefix="/app")

# (endpoint, label, roles): the navigation shows only what the role may use.
NAVIGATION: list[tuple[str, str, tuple[str, ...]]] = []


def nav_items(who: Identity | None) -> list[tuple[str, str]]:
    """Navigation entries for this role."""
    if who is None:
        return []
    return [(endpoint, label) for endpoint, label, roles in NAVIGATION if who.role in roles]


@pages.get("/")
def home() -> str | BaseResponse:
    who = identity()
    if who is None:
        return redirect(url_for("auth.login"))
    return render_template("pages/home.html")
