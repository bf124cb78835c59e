"""Audience sections: on a link's page (own links only for employees), the rep, campaign and
program pages, and every block's CSV download (formula-safe)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy.orm import Session

from linktracker.clicks.services import insert_click_rows
from tests import audience_data as data
from tests.web.clients import SignIn, text

RANGE = "from=2026-03-02&to=2026-03-04"
BLOCKS = ("referrer_host", "matrix", "country", "device", "browser", "os", "heatmap", "bot_name")


@pytest.fixture
def config(config: dict[str, object]) -> dict[str, object]:
    return config | {"REPORTING_TIMEZONE": data.TIMEZONE}


@pytest.fixture
def program(session: Session) -> data.Program:
    return data.build(session)


def _blocks(html: str) -> set[str]:
    return set(re.findall(r'data-block="([a-z_]+)"', html))


def _cell(html: str, title_start: str) -> str:
    match = re.search(r'<td class="(heat-\d)" title="' + re.escape(title_start), html)
    assert match is not None, title_start
    return match.group(1)


def _csv(response: object) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text(response))))


def test_an_employee_sees_their_own_link_with_every_block(
    sign_in: SignIn, program: data.Program
) -> None:
    client = sign_in("employee", program.ann.email)
    l1 = program.links[0]
    page = client.get(f"/app/links/{l1.code}?{RANGE}")
    assert page.status_code == 200
    html = text(page)
    assert set(BLOCKS) <= _blocks(html)
    assert "Audience" in html
    # L1: a LinkedIn link opened from LinkedIn twice and from Slack once (a mismatch, shown).
    assert re.search(r'class="num mismatch" title="linkedin link opened from slack">1<', html)
    assert re.search(r'class="num match"\s*>2<', html)
    assert "\U0001f1e9\U0001f1ea" in html  # the German flag beside DE
    assert _cell(html, "Mon 8:00") == "heat-5" and _cell(html, "Tue 0:00") == "heat-3"
    assert _cell(html, "Wed 23:00") == "heat-0"  # bob's click, not on this link
    assert "1 bot request and 2 link previews" in html


def test_another_employees_link_is_not_found(sign_in: SignIn, program: data.Program) -> None:
    client = sign_in("employee", program.ann.email)
    bobs = program.links[2].code
    for url in (f"/app/links/{bobs}", f"/app/links/{bobs}/audience/country.csv"):
        response = client.get(url)
        assert response.status_code == 404
        assert "There is no such link among yours." in text(response)
    assert client.get(f"/app/reports/audience/country.csv?{RANGE}").status_code == 403
    others = client.get(f"/app/reports/audience/country.csv?{RANGE}&employee=bob")
    assert others.status_code == 404


def test_my_results_audience_csv_links_work_for_the_employee(
    sign_in: SignIn, program: data.Program
) -> None:
    client = sign_in("employee", program.ann.email)
    page = text(client.get(f"/app/reports/me?{RANGE}"))
    link = re.search(r'href="(/app/reports/audience/country\.csv\?[^"]+)"', page)
    assert link is not None and "employee=ann" in link.group(1)
    download = client.get(link.group(1).replace("&amp;", "&"))
    assert download.status_code == 200
    assert _csv(download)[1:] == [["DE", "3", "2"], ["US", "1", "1"], ["total", "4", "3"]]


def test_a_marketer_reaches_any_link_page_from_the_campaign_page(
    sign_in: SignIn, program: data.Program
) -> None:
    client = sign_in("marketer")
    campaign = client.get(f"/app/campaigns/{program.spring.id}?{RANGE}")
    assert campaign.status_code == 200
    html = text(campaign)
    assert set(BLOCKS) <= _blocks(html)
    bobs = program.links[2].code
    assert f'href="/app/links/{bobs}?from=2026-03-02&amp;to=2026-03-04"' in html
    assert client.get(f"/app/links/{bobs}?{RANGE}").status_code == 200
    # The campaign's clicks only: spring has L1 and L3, five people's clicks.
    assert "5 clicks by people" in html


@pytest.mark.parametrize(
    ("url", "clicks"),
    [
        (f"/app/reports/?{RANGE}", "6 clicks by people"),
        (f"/app/reports/reps/ann?{RANGE}", "4 clicks by people"),
        (f"/app/reports/?{RANGE}&team=South", "2 clicks by people"),
    ],
)
def test_the_program_and_rep_pages_have_an_audience_section(
    sign_in: SignIn, program: data.Program, url: str, clicks: str
) -> None:
    page = sign_in("admin").get(url)
    assert page.status_code == 200
    html = text(page)
    assert set(BLOCKS) <= _blocks(html)
    assert clicks in html


def test_each_block_downloads_as_csv_with_the_page_filters(
    sign_in: SignIn, program: data.Program
) -> None:
    client = sign_in("marketer")
    country = client.get(f"/app/reports/audience/country.csv?{RANGE}&employee=ann")
    assert country.status_code == 200 and country.mimetype == "text/csv"
    assert (
        "audience-ann-country-2026-03-02-2026-03-04.csv" in country.headers["Content-Disposition"]
    )
    assert _csv(country) == [
        ["country", "clicks", "unique_visitors"],
        ["DE", "3", "2"],
        ["US", "1", "1"],
        ["total", "4", "3"],
    ]
    matrix = _csv(client.get(f"/app/reports/audience/matrix.csv?{RANGE}"))
    assert matrix[0] == ["referrer_channel", "email", "linkedin", "x"]
    assert ["direct or dark social", "2", "0", "0"] in matrix
    heatmap = _csv(client.get(f"/app/reports/audience/heatmap.csv?{RANGE}"))
    assert heatmap[0] == ["weekday", *map(str, range(24))]
    assert heatmap[1][1 + 8] == "2"  # Monday, 08h local
    own = sign_in("employee", program.ann.email)
    l1 = program.links[0].code
    hosts = _csv(own.get(f"/app/links/{l1}/audience/referrer_host.csv?{RANGE}"))
    assert hosts[1:] == [
        ["app.slack.com", "1", "1"],
        ["linkedin.com", "1", "1"],
        ["lnkd.in", "1", "1"],
        ["total", "3", "2"],
    ]
    missing = client.get(f"/app/reports/audience/cities.csv?{RANGE}")
    assert missing.status_code == 404
    assert escape("No audience block 'cities'.") in text(missing)


def test_csv_cells_cannot_start_a_formula(
    sign_in: SignIn, program: data.Program, session: Session
) -> None:
    row = data.click(program.links[0], data.at(3, 3, 9, 0), data.GOOGLEBOT, "70")
    row["bot_name"] = '=HYPERLINK("http://evil.example")'
    insert_click_rows(session.connection(), [row])
    session.commit()
    client: FlaskClient = sign_in("admin")
    rows = _csv(client.get(f"/app/reports/audience/bot_name.csv?{RANGE}"))
    assert ['\'=HYPERLINK("http://evil.example")', "1", "1"] in rows
