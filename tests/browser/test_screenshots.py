"""Main pages at desktop and phone width: screenshots taken (docs/screenshots with
--update-screenshots), checked for CSP errors."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, ConsoleMessage

from tests.browser.live import (
    DESKTOP,
    DESKTOP_UA,
    PHONE,
    LiveServer,
    Screenshot,
    SignIn,
    busiest_link,
)

# role -> [(file name, path)]; None: signed out.
PAGES: dict[str | None, list[tuple[str, str]]] = {
    None: [("sign-in", "/app/login"), ("link-not-found", "/zzzzzzz")],
    "employee": [
        ("my-links", "/app/links/"),
        ("my-results", "/app/reports/me"),
        ("not-allowed", "/app/settings/"),
        ("suggest-a-story", "/app/stories/"),
        ("link-audience", "/app/links/{code}?from={d90}"),
    ],
    "marketer": [
        ("dashboard", "/app/reports/?from={d90}"),
        ("leaderboard", "/app/reports/leaderboard?from={d90}"),
        ("rep", "/app/reports/reps/{handle}?from={d90}"),
        ("campaigns", "/app/campaigns/"),
        ("campaign-report", "/app/reports/campaigns/{slug}?from={d90}"),
        ("channels", "/app/reports/channels?from={d90}"),
        ("campaign", "/app/campaigns/1"),
        ("campaign-new", "/app/campaigns/new"),
        ("employees", "/app/employees/"),
        ("story-review", "/app/stories/review"),
    ],
    "sales_ops": [
        ("crm-imports", "/app/"),
        ("crm-mapping-preview", "/app/crm/{pending}/preview"),
        ("crm-import-errors", "/app/crm/{bad_rows}"),
    ],
    "admin": [("settings", "/app/settings/"), ("users", "/app/users/")],
}


@pytest.mark.parametrize("width", ["desktop", "phone"])
@pytest.mark.parametrize("role", list(PAGES))
def test_main_pages_render_without_csp_errors(
    browser: Browser,
    live_server: LiveServer,
    sign_in: SignIn,
    screenshot: Screenshot,
    role: str | None,
    width: str,
):
    from datetime import date, timedelta

    from sqlalchemy import select

    from linktracker.campaigns.models import Campaign
    from linktracker.employees.models import Employee

    with live_server.session() as session:
        email = live_server.users["employee"]
        handle = session.scalar(select(Employee.handle).where(Employee.email == email))
        slug = session.scalar(select(Campaign.slug).order_by(Campaign.id))
    values = {
        "d90": (date.today() - timedelta(days=89)).isoformat(),
        "handle": handle,
        "slug": slug,
        "code": busiest_link(live_server, email),
        **live_server.imports,
    }
    context = browser.new_context(
        viewport=DESKTOP if width == "desktop" else PHONE, user_agent=DESKTOP_UA
    )
    problems: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if message.type == "error" and "status of 40" not in message.text:
            problems.append(message.text)

    page = context.new_page()
    page.on("console", watch)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    if role is not None:
        sign_in(page, role)
    for name, path in PAGES[role]:
        page.goto(live_server.url + path.format(**values))
        page.wait_for_load_state("load")
        screenshot(page, f"{name}-{width}", full_page=False)
    context.close()
    assert problems == []
