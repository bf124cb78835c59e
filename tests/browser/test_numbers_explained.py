"""Numbers that explain themselves, in the browser on a desktop and a phone: who got the credit
of an import, the campaign list's time frame and its all-time toggle, the channel totals and
chart, and the one-line notes beside figures that look wrong but are not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.live import DESKTOP_UA, LiveServer, SignIn

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def _page(browser: Browser, size: str) -> Page:
    width, height = SIZES[size]
    context = browser.new_context(
        viewport={"width": width, "height": height}, user_agent=DESKTOP_UA
    )
    context.set_default_timeout(10_000)
    return context.new_page()


def _fits(page: Page, size: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size][0]


@pytest.mark.parametrize("size", list(SIZES))
def test_an_import_says_who_got_the_credit(
    browser: Browser, live_server: LiveServer, sign_in: SignIn, tmp_path: Path, size: str
) -> None:
    from sqlalchemy import select

    from linktracker.campaigns.models import Campaign
    from linktracker.employees.models import Employee

    with live_server.session() as session:
        handle, name = session.execute(select(Employee.handle, Employee.name).limit(1)).one()
        slug = session.scalar(select(Campaign.slug).limit(1))
    export = tmp_path / f"credited-{size}.csv"
    export.write_text(
        "Record ID,Create Date,utm_campaign,utm_content\n"
        f"CR-{size}-1,2026-11-30,{slug},{handle}\nCR-{size}-2,2026-11-30,{slug},{handle}\n"
        f"CR-{size}-3,2026-11-30,,\n"
    )
    page = _page(browser, size)
    sign_in(page, "admin")  # imports are sales ops' and admins'; rep pages managers'
    page.goto(f"{live_server.url}/app/crm/")
    page.locator("input[type=file]").set_input_files(str(export))
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url(re.compile(r"/app/crm/\d+/preview"))
    expect(page.locator("td[data-credited]").first).to_contain_text(name)
    page.get_by_role("button", name="Import this file").click()
    page.wait_for_url(re.compile(r"/app/crm/\d+$"))
    credits = page.locator("[data-credits]")
    expect(credits.get_by_role("heading", name="Who got the credit")).to_be_visible()
    expect(credits.get_by_role("row", name=re.compile("UTM"))).to_contain_text("2")
    rep = credits.get_by_role("link", name=name)
    expect(rep).to_be_visible()
    _fits(page, size)
    rep.click()
    page.wait_for_url(re.compile(r"/app/reports/reps/[^?]+\?.*import="))
    expect(page.locator("#records-title")).to_be_visible()
    page.context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_campaign_list_says_its_time_frame_and_switches_to_all_time(
    browser: Browser, live_server: LiveServer, sign_in: SignIn, size: str
) -> None:
    page = _page(browser, size)
    sign_in(page, "marketer")
    page.goto(f"{live_server.url}/app/campaigns/")
    expect(page.locator(".subtitle")).to_contain_text("Clicks and leads from ")
    page.get_by_role("link", name="All time").click()
    page.wait_for_url(re.compile(r"range=all"))
    expect(page.locator(".subtitle")).to_contain_text("over all time, from ")
    expect(page.get_by_role("link", name="Last 30 days")).to_be_visible()
    _fits(page, size)
    page.context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_channel_results_have_a_total_row_and_a_drawn_chart(
    browser: Browser, live_server: LiveServer, sign_in: SignIn, size: str
) -> None:
    page = _page(browser, size)
    sign_in(page, "marketer")
    page.goto(f"{live_server.url}/app/reports/channels?from=2000-01-01")
    expect(page.locator("tr.total")).to_contain_text("All advocacy")
    expect(page.locator("canvas[data-chart]")).to_be_visible()
    assert page.evaluate(
        "() => !!window.Chart && !!Chart.getChart(document.querySelector('canvas[data-chart]'))"
    )
    _fits(page, size)
    page.context.close()


@pytest.fixture(scope="module")
def quiet_rep(live_server: LiveServer) -> str:
    """A rep with a lead credited by UTM and no click at all."""
    from tests.factories import make_crm_record, make_employee

    with live_server.session() as session:
        rep = make_employee(session, name="Quiet Rep", email="quiet.rep@example.com")
        make_crm_record(session, employee_id=rep.id, attribution_method="utm")
        return rep.handle


@pytest.mark.parametrize("size", list(SIZES))
def test_a_figure_that_looks_wrong_carries_its_note(
    browser: Browser, live_server: LiveServer, sign_in: SignIn, quiet_rep: str, size: str
) -> None:
    page = _page(browser, size)
    sign_in(page, "marketer")
    page.goto(f"{live_server.url}/app/reports/reps/{quiet_rep}")
    note = page.locator(".plausibility-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("Leads without clicks: 1 lead credited by UTM")
    _fits(page, size)
    page.goto(f"{live_server.url}/app/reports/campaigns/no-such-campaign")
    expect(page.get_by_text("No campaign with slug 'no-such-campaign'.")).to_be_visible()
    page.context.close()
