"""A story's way: an employee suggests it, a marketer approves it, it is a campaign with links
for everyone, and the dashboard counts it."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.browser.live import DESKTOP, DESKTOP_UA, LiveServer, SignIn


def _stat(page: Page, label: str) -> int:
    tile = page.locator("#story-contributions .stat").filter(has_text=label)
    return int(tile.locator(".stat-value").inner_text().replace(",", ""))


def test_a_suggested_story_becomes_a_campaign_counted_on_the_dashboard(
    page: Page, browser: Browser, live_server: LiveServer, sign_in: SignIn
):
    marketer = browser.new_context(viewport=DESKTOP, user_agent=DESKTOP_UA).new_page()
    sign_in(marketer, "marketer")
    marketer.goto(f"{live_server.url}/app/reports/")
    before = (_stat(marketer, "Stories suggested"), _stat(marketer, "Approved"))

    sign_in(page, "employee")
    page.get_by_role("link", name="Suggest a story").first.click()
    expect(page.get_by_role("heading", name="Suggest a story", level=1)).to_be_visible()
    page.get_by_label("Address (URL)").fill("https://blog.example.com/browser-story")
    page.get_by_label("Title (optional)").fill("A story from the browser")
    page.get_by_label("Why is it worth sharing? (optional)").fill("Everyone asks about it.")
    page.get_by_role("button", name="Suggest this story").click()
    expect(page.locator(".flash-success")).to_contain_text("waiting for a marketer")
    row = page.locator("#my-suggestions tbody tr").filter(has_text="A story from the browser")
    expect(row).to_contain_text("Pending")

    marketer.goto(f"{live_server.url}/app/stories/review")
    story = marketer.locator(".story").filter(has_text="A story from the browser")
    expect(story).to_contain_text("Everyone asks about it.")
    story.get_by_role("button", name="Approve → campaign").click()
    expect(marketer.locator(".flash-success")).to_contain_text(
        re.compile(r"campaign 'A story from the browser' made, with [\d,]+ personal link")
    )

    marketer.goto(f"{live_server.url}/app/campaigns/")
    marketer.get_by_role("link", name="A story from the browser").click()
    expect(marketer.get_by_role("heading", name="A story from the browser")).to_be_visible()

    marketer.goto(f"{live_server.url}/app/reports/")
    assert (_stat(marketer, "Stories suggested"), _stat(marketer, "Approved")) == (
        before[0] + 1,
        before[1] + 1,
    )

    page.reload()
    expect(row).to_contain_text("Approved")
    expect(row).to_contain_text("Now the campaign")
    page.get_by_role("link", name="My links").first.click()
    expect(page.get_by_role("heading", name="A story from the browser")).to_be_visible()
    marketer.context.close()
