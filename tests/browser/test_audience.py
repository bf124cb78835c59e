"""Audience: an employee goes from My links to one link's audience and downloads a block;
a marketer sees the program's Audience section on the dashboard."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import Page, expect

from tests.browser.live import LiveServer, Screenshot, SignIn, busiest_link

BLOCK_TITLES = (
    "Top referrers",
    "Channels: shared on vs came from",
    "Countries",
    "Devices, browsers and systems",
    "When people click",
    "Bots and link previews",
)


def test_employee_opens_a_links_audience_and_downloads_its_countries(
    page: Page, live_server: LiveServer, sign_in: SignIn, screenshot: Screenshot
) -> None:
    sign_in(page, "employee")
    code = busiest_link(live_server, live_server.users["employee"])
    page.goto(f"{live_server.url}/app/links/")
    page.locator(f'a[href="/app/links/{code}"]').click()
    expect(page).to_have_url(re.compile(rf"/app/links/{code}$"))
    expect(page.get_by_role("heading", name="Audience", level=2)).to_be_visible()
    for title in BLOCK_TITLES:
        expect(page.get_by_role("heading", name=title, level=3)).to_be_visible()
    heatmap = page.locator("table.heatmap")
    expect(heatmap.locator("tbody tr")).to_have_count(7)
    expect(heatmap.locator("td.heat-5").first).to_be_visible()  # the busiest hour
    expect(page.locator("table.matrix td.match").first).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV of Countries").click()
    download = info.value
    day = r"\d{4}-\d{2}-\d{2}"
    assert re.fullmatch(rf"audience-{code}-country-{day}-{day}\.csv", download.suggested_filename)
    rows = list(csv.reader(io.StringIO(download.path().read_text(encoding="utf-8"))))
    assert rows[0] == ["country", "clicks", "unique_visitors"] and rows[-1][0] == "total"
    page.locator("section.audience").scroll_into_view_if_needed()
    screenshot(page, "link-audience-full-desktop")


def test_marketer_sees_the_programs_audience_on_the_dashboard(
    page: Page, live_server: LiveServer, sign_in: SignIn
) -> None:
    page.set_default_timeout(60_000)  # the first report of a fresh server rolls its days up
    sign_in(page, "marketer")
    page.goto(f"{live_server.url}/app/reports/")
    section = page.locator("section.audience")
    expect(section.get_by_role("heading", name="Audience", level=2)).to_be_visible()
    # The demo's links travel beyond their channel now and then: a highlighted mismatch.
    expect(section.locator("table.matrix td.mismatch").first).to_be_visible()
    expect(section.get_by_text("slack", exact=True).first).to_be_visible()
