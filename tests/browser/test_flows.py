"""Each audience's main flow in headless Chromium against a real server with CSRF on."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

from playwright.sync_api import Page, expect
from sqlalchemy import select

from linktracker.campaigns.models import Campaign
from linktracker.campaigns.services import create_campaign, set_campaign_active
from linktracker.employees.models import Employee
from linktracker.links.services import get_or_create_link
from tests.browser.live import BAD_ROWS, LiveServer, SignIn


def test_employee_copies_a_link_and_downloads_its_qr_code(
    page: Page, live_server: LiveServer, sign_in: SignIn
):
    sign_in(page, "employee")

    expect(page).to_have_url(re.compile(r"/app/links/$"))
    expect(page.get_by_role("heading", name="My links", level=1)).to_be_visible()
    first_row = page.locator(".link-row").first
    short_url = first_row.locator("input[readonly]").input_value()
    assert short_url.startswith(live_server.url + "/")

    copy = first_row.get_by_role("button", name="Copy link")
    copy.focus()
    page.keyboard.press("Enter")  # keyboard-usable, not only by mouse
    expect(first_row.get_by_role("button", name="Copied ✓")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == short_url

    first_row.get_by_role("link", name=re.compile("QR code")).click()
    dialog = first_row.locator("dialog")
    expect(dialog).to_be_visible()
    with page.expect_download() as png_info:
        dialog.get_by_role("link", name="Download PNG").click()
    png = png_info.value
    assert png.suggested_filename.endswith("-qr.png")
    with open(png.path(), "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    with page.expect_download() as svg_info:
        dialog.get_by_role("link", name="Download SVG").click()
    with open(svg_info.value.path(), encoding="utf-8") as handle:
        assert "<svg" in handle.read()


def test_marketer_creates_a_campaign_generates_links_and_sees_the_click(
    page: Page, live_server: LiveServer, sign_in: SignIn
):
    sign_in(page, "marketer")
    expect(page).to_have_url(re.compile(r"/app/reports/$"))
    page.get_by_role("link", name="Campaigns").first.click()
    page.get_by_role("link", name="New campaign").click()

    page.get_by_label("Name").fill("Browser launch")
    page.get_by_label("Destination URL").fill("https://phishing.invalid/login")
    page.get_by_role("button", name="Create campaign").click()
    error = page.locator("#destination_url-error")
    expect(error).to_contain_text("allowed")
    expect(page.get_by_label("Name")).to_have_value("Browser launch")  # nothing lost

    page.get_by_label("Destination URL").fill(f"{live_server.landing_url}/landing?ref=browser")
    page.get_by_role("button", name="Preview final URL").click()
    expect(page.locator(".preview").first).to_contain_text("utm_campaign=browser-launch")
    page.get_by_role("button", name="Create campaign").click()
    expect(page.get_by_role("heading", name="Browser launch", level=1)).to_be_visible()

    page.get_by_role("button", name="Generate links for all employees").click()
    expect(page.locator(".flash-success")).to_contain_text("new link(s) made")
    first = page.locator("section[aria-labelledby=links-title] tbody tr").first
    rep_name = first.locator("td").first.inner_text()
    short_url = first.locator("a.mono").get_attribute("href")
    assert short_url and short_url.startswith(live_server.url)

    page.goto(short_url)
    expect(page.get_by_role("heading", name="Landing page")).to_be_visible()
    query = parse_qs(urlsplit(page.url).query)
    assert query["ref"] == ["browser"]
    assert query["utm_campaign"] == ["browser-launch"]
    assert query["utm_medium"] == ["social"]
    assert query["utm_content"][0].startswith("a-")
    assert len(query["lt_cid"][0]) >= 16

    page.goto(f"{live_server.url}/app/reports/leaderboard?campaign=browser-launch")
    row = page.locator("tbody tr", has_text=rep_name).first
    expect(row.locator("td").nth(2)).to_have_text("1")
    with live_server.session() as session:  # its landing page is a test fixture: retire it
        campaign = session.scalar(select(Campaign).where(Campaign.slug == "browser-launch"))
        set_campaign_active(session, campaign.id, False)


def test_a_campaign_named_like_a_script_renders_as_text(
    page: Page, live_server: LiveServer, sign_in: SignIn
):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    name = "<script>alert(1)</script>"
    sign_in(page, "marketer")
    page.goto(f"{live_server.url}/app/campaigns/new")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Slug").fill("script-test")
    page.get_by_label("Destination URL").fill("https://www.example.com/xss")
    page.get_by_role("button", name="Create campaign").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)

    page.goto(f"{live_server.url}/app/campaigns/")
    expect(page.get_by_role("link", name=name)).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "employee")
    expect(page.get_by_role("heading", name=name, level=3)).to_be_visible()
    assert dialogs == []
    with live_server.session() as session:  # keep it out of the screenshots
        campaign = session.scalar(select(Campaign).where(Campaign.slug == "script-test"))
        set_campaign_active(session, campaign.id, False)


def test_sales_ops_uploads_an_export_sees_the_rejected_rows_and_downloads_them(
    page: Page, sign_in: SignIn
):
    sign_in(page, "sales_ops")
    expect(page).to_have_url(re.compile(r"/app/crm/$"))
    page.get_by_label("CRM export (CSV or .xlsx)").set_input_files(str(BAD_ROWS))
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.get_by_role("heading", name="Check the mapping")).to_be_visible()
    expect(page.get_by_label("Record ID")).to_have_value("external_id")
    page.get_by_role("button", name="Import this file").click()

    expect(page.locator(".flash-warning")).to_contain_text("5 rejected")
    errors = page.locator("section[aria-labelledby=errors-title] tbody tr")
    expect(errors).to_have_count(5)
    expect(errors.first).to_contain_text("duplicate id 1")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download rejected rows").click()
    download = info.value
    assert download.suggested_filename == "hubspot_with_bad_rows-rejected.csv"
    with open(download.path(), encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    assert lines[0].endswith(",error") and len(lines) == 6


def test_a_link_to_a_unicode_path_lands_on_that_path(page: Page, live_server: LiveServer):
    allowed = live_server.app.extensions["linktracker"].settings().allowed_domains
    with live_server.session() as session:
        campaign = create_campaign(
            session,
            name="Über uns",
            destination_url=f"{live_server.landing_url}/über-uns?q=€",
            allowed_domains=allowed,
            channels=["linkedin"],
        )
        employee = session.scalars(select(Employee).where(Employee.active.is_(True))).first()
        link = get_or_create_link(
            session,
            campaign_slug=campaign.slug,
            employee_handle=employee.handle,
            channel="linkedin",
            medium="social",
            allowed_domains=allowed,
        ).link

    page.goto(f"{live_server.url}/{link.code}")
    expect(page.get_by_role("heading", name="Landing page")).to_be_visible()
    landed = urlsplit(page.url)
    assert unquote(landed.path) == "/über-uns"
    assert parse_qs(landed.query)["q"] == ["€"]
