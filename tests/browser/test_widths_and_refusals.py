"""Layouts at the widths people use (laptop navigation, the mapping on a phone) and CRM
uploads refused in the browser. Runs after the screenshots, so they do not show its uploads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.live import DESKTOP_UA, TEST_DATA, LiveServer, SignIn

# Every whole word (letters, digits, underscores) of the text under ``root`` that the
# browser laid out over more than one line, with the tag of the element holding it.
SPLIT_WORDS_JS = """
(root) => {
  const split = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const parent = node.parentElement;
    if (!parent || parent.closest("option, script, [hidden]")) continue;
    for (const match of node.data.matchAll(/[\\p{L}\\p{N}_]+/gu)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set(
        Array.from(range.getClientRects()).filter((r) => r.width > 0).map((r) => Math.round(r.top))
      );
      if (lines.size > 1) split.push(`${match[0]} (${parent.tagName.toLowerCase()})`);
    }
  }
  return split;
}
"""

# Selects narrower than their own content (the chosen field name cut off at the arrow).
CUT_SELECTS_JS = """
(root) => Array.from(root.querySelectorAll("select")).filter((select) => {
  const probe = select.cloneNode(true);
  probe.value = select.value;
  probe.style.cssText = "position:absolute;visibility:hidden;width:auto;max-width:none";
  document.body.appendChild(probe);
  const natural = probe.getBoundingClientRect().width;
  probe.remove();
  return select.getBoundingClientRect().width + 0.5 < natural;
}).map((select) => `${select.id}=${select.value}`)
"""

# Nav items not fully visible: outside the viewport or the nav's box, clipped by a scroll
# area, or covered by something else at their centre.
HIDDEN_NAV_ITEMS_JS = """
() => {
  const nav = document.querySelector("nav.mainnav");
  const box = nav.getBoundingClientRect();
  const clipped = nav.scrollWidth > nav.clientWidth + 1;
  return Array.from(nav.querySelectorAll("a")).filter((item) => {
    const r = item.getBoundingClientRect();
    const inside = r.left >= box.left - 0.5 && r.right <= box.right + 0.5 &&
      r.left >= 0 && r.right <= window.innerWidth && r.top >= 0;
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return clipped || !inside || !(hit === item || item.contains(hit));
  }).map((item) => item.textContent.trim());
}
"""

# The same for the report tabs.
HIDDEN_TABS_JS = HIDDEN_NAV_ITEMS_JS.replace("nav.mainnav", "nav.tabs")

NO_ID = b"Ref,Create Date,Deal Stage,Amount,Notes\nA-1,2026-10-01 10:00,Closed Won,100,x\n"


def _page(browser: Browser, width: int, height: int = 800) -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": height}, user_agent=DESKTOP_UA
    )
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.mark.parametrize("width", [1280, 1366, 1440, 1920])
def test_every_admin_navigation_item_is_fully_visible_at_laptop_widths(
    browser: Browser, live_server: LiveServer, sign_in: SignIn, tmp_path: Path, width: int
) -> None:
    page = _page(browser, width)
    sign_in(page, "admin")
    page.goto(f"{live_server.url}/app/settings/")
    items = page.locator("nav.mainnav a")
    assert items.count() == 10  # with Stories (the review queue) and ATS imports
    expect(items.last).to_have_text("Settings")
    assert page.evaluate(HIDDEN_NAV_ITEMS_JS) == []
    page.screenshot(path=str(tmp_path / f"nav-admin-{width}.png"))  # to look at, not docs
    page.context.close()


@pytest.mark.parametrize("role", ["admin", "marketer"])
def test_on_a_phone_the_navigation_and_report_tabs_are_whole_and_visible(
    browser: Browser, live_server: LiveServer, sign_in: SignIn, tmp_path: Path, role: str
) -> None:
    page = _page(browser, 390, 844)
    sign_in(page, role)
    page.goto(f"{live_server.url}/app/reports/leaderboard")
    expect(page.locator("nav.tabs a")).to_have_count(5)
    assert page.evaluate(HIDDEN_NAV_ITEMS_JS) == []
    assert page.evaluate(HIDDEN_TABS_JS) == []
    for selector in ("nav.mainnav", "nav.tabs"):
        assert page.evaluate(SPLIT_WORDS_JS, page.locator(selector).element_handle()) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / f"reports-nav-{role}-390.png"))  # to look at, not docs
    page.context.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_campaign_results_open_a_campaign_report_with_its_chart_and_inactive_reps_on_request(
    browser: Browser, live_server: LiveServer, sign_in: SignIn, tmp_path: Path, width: int
) -> None:
    page = _page(browser, width, 844)
    sign_in(page, "marketer")
    page.goto(f"{live_server.url}/app/reports/campaigns")
    page.locator("table a[href*='/app/reports/campaigns/']").first.click()
    page.wait_for_url(re.compile(r"/app/reports/campaigns/[^/?]+\?"))
    expect(page.get_by_role("heading", name="Reps", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Channels", exact=True)).to_be_visible()
    chart = page.locator("canvas[data-chart]").first
    expect(chart).to_be_visible()
    assert page.evaluate(
        "() => !!window.Chart && !!Chart.getChart(document.querySelector('canvas[data-chart]'))"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=str(tmp_path / f"campaign-report-{width}.png"), full_page=True)
    page.goto(f"{live_server.url}/app/reports/leaderboard")
    page.get_by_role("link", name=re.compile(r"Show inactive employees \(\d+\)")).click()
    expect(
        page.get_by_role("heading", name=re.compile(r"Inactive employees \(\d+\)"))
    ).to_be_visible()
    expect(page.get_by_role("link", name="Hide inactive employees")).to_be_visible()
    page.context.close()


def test_the_mapping_on_a_phone_keeps_column_and_field_names_whole(
    browser: Browser, live_server: LiveServer, sign_in: SignIn, tmp_path: Path
) -> None:
    page = _page(browser, 390, 844)
    sign_in(page, "sales_ops")
    page.goto(f"{live_server.url}/app/crm/{live_server.imports['pending']}/preview")
    mapping = page.locator("table", has=page.locator("select[id^=map-]"))
    expect(mapping).to_be_visible()
    root = mapping.element_handle()
    assert page.evaluate(SPLIT_WORDS_JS, root) == []
    assert page.evaluate(CUT_SELECTS_JS, root) == []
    # Each column name sits whole on its own line, above its full-width field choice.
    for label in mapping.locator("label.mono").all():
        box: Any = label.bounding_box()
        assert box is not None and box["height"] < 30, label.text_content()
    styles = page.evaluate(
        """() => Array.from(document.querySelectorAll("main *"))
              .filter((e) => getComputedStyle(e).wordBreak === "break-all").length"""
    )
    assert styles == 0
    page.screenshot(path=str(tmp_path / "crm-mapping-390.png"), full_page=True)
    page.context.close()


def test_a_refused_upload_has_a_page_of_its_own_that_survives_a_reload(
    browser: Browser, live_server: LiveServer, sign_in: SignIn, tmp_path: Path
) -> None:
    page = _page(browser, 1280)
    sign_in(page, "sales_ops")
    no_id = tmp_path / "deals-without-id.csv"
    no_id.write_bytes(NO_ID)
    page.goto(f"{live_server.url}/app/crm/")
    # Nothing stored (no file chosen): the form comes back with its message, still usable.
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.locator("#file-error")).to_contain_text("Choose the exported CSV file")
    page.get_by_label("CRM export (CSV or .xlsx)").set_input_files(str(no_id))
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url(re.compile(r"/app/crm/\d+/preview$"))
    for _reload in range(2):
        expect(page.locator(".flash-error")).to_contain_text("No id column found")
        # The recognised columns keep their fields; only the unknown ones are ignored.
        expect(page.get_by_label("Create Date")).to_have_value("created_at")
        expect(page.get_by_label("Amount")).to_have_value("amount")
        expect(page.get_by_label("Ref")).to_have_value("")
        page.reload()
    page.goto(f"{live_server.url}/app/crm/")
    row = page.locator("tr", has_text="deals-without-id.csv")
    expect(row).to_contain_text("Refused")

    page.get_by_label("CRM export (CSV or .xlsx)").set_input_files(
        str(TEST_DATA / "crm" / "broken_not_a_csv.csv")
    )
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url(re.compile(r"/app/crm/\d+$"))
    for _reload in range(2):
        expect(page.get_by_role("heading", name="This file was not imported")).to_be_visible()
        expect(page.locator(".badge", has_text="Refused")).to_be_visible()
        page.reload()
    page.context.close()
