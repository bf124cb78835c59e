"""An employee on a phone (390×844): share first, post text with the link, QR on screen,
formula help by tap and keyboard, and their own results."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.live import DESKTOP_UA, PHONE_390, LiveServer, SignIn


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(
        viewport=PHONE_390,
        user_agent=DESKTOP_UA,
        has_touch=True,
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(10_000)
    # Share dialogs open the networks' own sites: none is reached from a test.
    for network in ("**/*linkedin.com/**", "**/*x.com/**", "**/*facebook.com/**"):
        context.route(
            network, lambda route: route.fulfill(body="shared", content_type="text/plain")
        )
    yield context
    context.close()


@pytest.fixture
def employee_page(phone: BrowserContext, sign_in: SignIn) -> Page:
    page = phone.new_page()
    sign_in(page, "employee")
    page.wait_for_url(re.compile(r"/app/links/$"))
    return page


def test_the_first_share_action_is_on_the_first_screen(employee_page: Page) -> None:
    page = employee_page
    first = page.locator("[data-share-action]").first
    expect(first).to_be_visible()
    box = first.bounding_box()
    assert box is not None and page.evaluate("window.scrollY") == 0
    assert box["y"] + box["height"] <= PHONE_390["height"], box
    # It belongs to the first campaign listed: the newest running one.
    expect(
        page.locator(".campaign-card").first.locator("[data-share-action]").first
    ).to_be_visible()


def test_copy_text_and_link_puts_the_post_text_and_the_link_on_the_clipboard(
    employee_page: Page, live_server: LiveServer
) -> None:
    row = employee_page.locator(".link-row").first
    post_text = row.locator(".post-text").first.inner_text()
    short_url = row.locator("input[readonly]").input_value()
    assert post_text and short_url.startswith(live_server.url + "/")
    row.get_by_role("button", name="Copy text + link").tap()
    expect(row.get_by_role("button", name="Copied ✓")).to_be_visible()
    assert employee_page.evaluate("navigator.clipboard.readText()") == f"{post_text}\n\n{short_url}"


def test_the_x_share_dialog_carries_the_text_and_linkedin_s_copies_it_first(
    employee_page: Page,
) -> None:
    page = employee_page
    card = page.locator(".campaign-card").first
    x_row = card.locator(".link-row", has=page.locator(".channel-x"))
    x_share = x_row.get_by_role("link", name=re.compile("^Share"))
    query = parse_qs(urlsplit(x_share.get_attribute("href") or "").query)
    assert query["text"] == [x_row.locator(".post-text").first.inner_text()]
    assert query["url"] == [x_row.locator("input[readonly]").input_value()]

    li_row = card.locator(".link-row", has=page.locator(".channel-linkedin"))
    expect(li_row.get_by_text("LinkedIn takes only the link")).to_be_visible()
    expected = f"{li_row.locator('.post-text').first.inner_text()}\n\n"
    expected += li_row.locator("input[readonly]").input_value()
    with page.context.expect_page() as popup:
        li_row.get_by_role("link", name=re.compile("^Share")).click()
    assert "linkedin.com/sharing/share-offsite/?url=" in popup.value.url
    assert "text=" not in popup.value.url
    page.bring_to_front()
    assert page.evaluate("navigator.clipboard.readText()") == expected


def test_the_qr_code_opens_on_screen_and_goes_full_screen(employee_page: Page) -> None:
    row = employee_page.locator(".link-row").first
    row.get_by_role("link", name=re.compile("QR code")).tap()
    dialog = row.locator("dialog")
    expect(dialog).to_be_visible()
    image = dialog.get_by_role("img")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    dialog.get_by_role("button", name="Full screen").tap()
    expect(dialog).to_have_class(re.compile("qr-full"))
    box = image.bounding_box()
    assert box is not None and box["width"] >= PHONE_390["width"] * 0.85
    employee_page.keyboard.press("Escape")
    if dialog.is_visible():  # the first Escape may leave the browser's full screen only
        employee_page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_formula_help_opens_by_tap_and_by_keyboard(employee_page: Page) -> None:
    page = employee_page
    clicks = page.locator(".stat", has=page.locator(".stat-label", has_text="Clicks")).first
    summary = clicks.locator("summary")
    formula = clicks.locator(".formula-text")
    expect(formula).to_be_hidden()
    summary.tap()
    expect(formula).to_be_visible()
    expect(formula).to_contain_text("bots and link previews are not counted")
    summary.tap()
    expect(formula).to_be_hidden()
    summary.focus()
    page.keyboard.press("Enter")
    expect(formula).to_be_visible()
    page.keyboard.press("Escape")
    expect(formula).to_be_hidden()
    page.keyboard.press("Space")
    expect(formula).to_be_visible()


def test_searching_my_links_keeps_the_matching_campaigns(employee_page: Page) -> None:
    page = employee_page
    page.get_by_label("Search your campaigns").fill("summer")
    expect(page.locator(".campaign-card:visible")).to_have_count(1)
    expect(page.locator(".campaign-card:visible h3")).to_have_text("Summer customer event")
    expect(page.get_by_role("status").filter(has_text="1 campaign matches")).to_be_visible()
    page.get_by_label("Search your campaigns").fill("nothing like this")
    expect(page.locator(".campaign-card:visible")).to_have_count(0)
    expect(page.get_by_text("No campaign matches.")).to_be_visible()


def test_my_results_shows_the_employee_s_figures_and_rank(employee_page: Page) -> None:
    page = employee_page
    page.get_by_role("navigation").get_by_role("link", name="My results").tap()
    expect(page.get_by_role("heading", name="My results", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Where you stand")).to_be_visible()
    expect(page.locator("ol.ranking li.me").first).to_be_visible()
    expect(page.get_by_text("No attributed CRM records")).to_have_count(0)
