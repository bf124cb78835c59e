"""The paged records table of a rep and of a campaign: next/previous, sort, search, on a
desktop and on a 390 px phone. Runs after the screenshots, so they do not show its records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import delete, select

from linktracker.campaigns.models import Campaign
from linktracker.crm.models import CrmRecord
from linktracker.db import utcnow
from linktracker.employees.models import Employee
from tests.browser.live import DESKTOP_UA, LiveServer, SignIn

RECORDS = 60
PHONE_390 = {"width": 390, "height": 844}


@pytest.fixture
def rep(live_server: LiveServer) -> Iterator[tuple[str, int]]:
    """A rep with 60 attributed deals this week (amounts 1,000 … 60,000); removed after."""
    with live_server.session() as session:
        employee = session.scalars(select(Employee).order_by(Employee.id).limit(1)).one()
        campaign = session.scalars(select(Campaign).order_by(Campaign.id).limit(1)).one()
        now = utcnow()
        for n in range(RECORDS):
            session.add(
                CrmRecord(
                    source="browser",
                    external_id=f"BR{n:02d}",
                    kind="deal",
                    name=f"Browser deal {n:02d}",
                    company="Acme" if n % 2 else "Globex",
                    owner="Olga Owner",
                    stage="Qualified",
                    created_at=now - timedelta(hours=n + 1),
                    amount=Decimal(1000 * ((n * 7) % RECORDS + 1)),
                    currency="EUR",
                    content_hash=f"browser{n}",
                    attribution_method="utm",
                    employee_id=employee.id,
                    campaign_id=campaign.id,
                )
            )
        session.commit()
        handle, campaign_id = employee.handle, campaign.id
    yield handle, campaign_id
    with live_server.session() as session:
        session.execute(delete(CrmRecord).where(CrmRecord.source == "browser"))
        session.commit()


def _names(page: Page) -> list[str]:
    return page.locator("[data-records-table] .record-name").all_inner_texts()


def _follow(page: Page, target: Locator) -> None:
    """Click a link or button that loads a new page, and wait for that page: read at once, the
    table could still be the old page's, or none while the new one loads (seen in CI)."""
    with page.expect_navigation():
        target.click()


def _browse(page: Page, url: str) -> None:
    page.goto(url)
    table = page.locator("[data-records-table]")
    expect(table).to_be_visible()
    first = _names(page)
    assert len(first) == 25 and first[0] == "Browser deal 00"  # newest first
    _follow(page, page.get_by_role("link", name="Next →"))
    second = _names(page)
    assert len(second) == 25 and not set(first) & set(second)
    _follow(page, page.get_by_role("link", name="← Previous"))
    assert _names(page) == first
    _follow(page, page.locator("[data-records-sort=amount]"))
    amounts = page.locator("[data-records-table] tbody td.num").all_inner_texts()
    assert amounts[0] == "60,000.00 EUR" and amounts[1] == "59,000.00 EUR"
    _follow(page, page.locator("[data-records-sort=amount]"))  # again: the other direction
    assert page.locator("[data-records-table] tbody td.num").first.inner_text() != "60,000.00 EUR"
    page.get_by_label("Search records").fill("browser deal 07")
    _follow(page, page.get_by_role("button", name="Search"))
    assert _names(page) == ["Browser deal 07"]
    expect(page.get_by_role("link", name="Next →")).to_have_count(0)


def test_a_reps_records_page_sort_and_search_on_a_desktop(
    page: Page, live_server: LiveServer, sign_in: SignIn, rep: tuple[str, int]
) -> None:
    sign_in(page, "admin")
    _browse(page, f"{live_server.url}/app/reports/reps/{rep[0]}")


def test_a_campaigns_records_page_sort_and_search_on_a_desktop(
    page: Page, live_server: LiveServer, sign_in: SignIn, rep: tuple[str, int]
) -> None:
    sign_in(page, "admin")
    page.goto(f"{live_server.url}/app/campaigns/{rep[1]}?q=browser")
    assert len(_names(page)) == 25
    _browse(page, f"{live_server.url}/app/campaigns/{rep[1]}?q=browser+deal")


def test_the_records_table_works_on_a_390_px_phone(
    browser: Browser, live_server: LiveServer, sign_in: SignIn, rep: tuple[str, int]
) -> None:
    context = browser.new_context(viewport=PHONE_390, user_agent=DESKTOP_UA)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, "admin")
        _browse(page, f"{live_server.url}/app/reports/reps/{rep[0]}")
        # The page itself does not scroll sideways; only a table may, inside its own box.
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= PHONE_390["width"], width
        box = page.get_by_role("button", name="Search").bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE_390["width"]
    finally:
        context.close()
