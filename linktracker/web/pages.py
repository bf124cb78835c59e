"""The signed-in app's landing page and navigation."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from linktracker.auth.roles import ADMINS, EVERYONE, IMPORTERS, MANAGERS
from linktracker.web.context import Identity, identity

pages = Blueprint("pages", __name__, url_prefix="/app")

# (endpoint, label, roles): the navigation shows only what the role may use.
NAVIGATION: list[tuple[str, str, tuple[str, ...]]] = [
    ("my_links.index", "My links", EVERYONE),
    ("reports.my_results", "My results", ("employee",)),
    ("stories.index", "Stories", EVERYONE),
    ("digest_pages.index", "Weekly email", ("employee",)),
    ("reports.dashboard", "Dashboard", MANAGERS),
    ("reports.leaderboard", "Attribution", MANAGERS),
    ("campaigns.index", "Campaigns", MANAGERS),
    ("employees.index", "Employees", MANAGERS),
    ("crm.index", "CRM imports", IMPORTERS),
    ("recruiting.index", "ATS imports", IMPORTERS),
    ("users.index", "Users", ADMINS),
    ("settings_pages.index", "Settings", ADMINS),
]

# role -> landing pages in order of preference; the first one that exists wins.
LANDING: dict[str, tuple[str, ...]] = {
    "employee": ("my_links.index",),
    "marketer": ("reports.dashboard", "campaigns.index"),
    "sales_ops": ("crm.index",),
    "admin": ("reports.dashboard", "settings_pages.index"),
}


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
    for endpoint in LANDING.get(who.role, ()):
        if endpoint in current_app.view_functions:
            return redirect(url_for(endpoint))
    return render_template("pages/home.html")
