"""Report pages that explain themselves: time frames, who is inactive, per-campaign results,
channel totals, figures that look wrong but are not, chart axes that do not mislead."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from linktracker.employees.models import Employee
from tests.factories import make_campaign, make_click, make_crm_record, make_employee, make_link
from tests.web.clients import SignIn, text


def _joined(session: Session, **values: object) -> Employee:
    employee = make_employee(session, **values)
    employee.joined_at = datetime.now(UTC) - timedelta(days=60)
    session.commit()
    return employee


def test_the_leaderboard_shows_participation_per_team_and_on_request_who_is_inactive(
    sign_in: SignIn, session: Session
) -> None:
    sales_active = _joined(session, name="Ada Active", team="Sales")
    _joined(session, name="Ina Idle", team="Sales")
    _joined(session, name="Otto Offline", team="Support")
    make_employee(session, name="Nora Notjoined", team="Support")  # invited, never joined
    make_click(session, make_link(session, employee=sales_active))
    client = sign_in("marketer")

    body = html.unescape(text(client.get("/app/reports/leaderboard")))
    rows = re.findall(
        r"<tr><td>([^<]+)</td><td class=\"num\">(\d+)</td>"
        r"<td class=\"num\">(\d+)</td><td class=\"num\">([^<]+)</td></tr>",
        body,
    )
    assert ("Sales", "2", "1", "50.0%") in rows and ("Support", "1", "0", "0.0%") in rows
    assert "Show inactive employees (2)" in body
    assert "Ina Idle" not in body  # listed only on request

    shown = html.unescape(text(client.get("/app/reports/leaderboard?inactive=1")))
    inactive = shown.split('id="inactive-title"')[1]
    assert "Ina Idle" in inactive and "Otto Offline" in inactive
    assert "Ada Active" not in inactive and "Nora Notjoined" not in inactive
    assert "Joined, and no human click on their links from" in inactive


def test_a_campaign_has_its_own_report_page_linked_from_the_campaign_results(
    sign_in: SignIn, session: Session
) -> None:
    campaign = make_campaign(session, name="Spring launch")
    other = make_campaign(session, name="Other campaign")
    rep = make_employee(session, name="Cam Paign")
    linkedin = make_link(session, campaign, rep, channel="linkedin")
    email = make_link(session, campaign, rep, channel="email")
    for link in (linkedin, linkedin, email):
        make_click(session, link)
    make_click(session, make_link(session, other))
    client = sign_in("marketer")

    results = html.unescape(text(client.get("/app/reports/campaigns")))
    assert f'href="/app/reports/campaigns/{campaign.slug}?' in results

    page = client.get(f"/app/reports/campaigns/{campaign.slug}")
    body = html.unescape(text(page))
    assert page.status_code == 200
    assert "Spring launch" in body and "Cam Paign" in body and "data-chart=" in body
    assert 'class="funnel"' in body and "All reps" in body and "All channels" in body
    assert 'data-block="referrer_host"' in body and f"campaign={campaign.slug}" in body
    reps = body.split('id="reps-title"')[1].split('id="channels-title"')[0]
    assert re.search(
        r"All reps</strong></td><td class=\"hide-phone\"></td>\s*<td class=\"num\">3</td>", reps
    )
    assert "Other campaign" not in body.split("</form>", 1)[1]

    missing = client.get("/app/reports/campaigns/no-such-campaign")
    assert missing.status_code == 404 and "campaign" in text(missing).lower()


def test_the_channel_page_has_totals_a_chart_and_says_what_unknown_channel_is(
    sign_in: SignIn, session: Session
) -> None:
    link = make_link(session, channel="linkedin")
    make_click(session, link)
    make_click(session, make_link(session, channel="x"))
    make_crm_record(  # credited by UTM: a rep and a campaign, no link, so no channel
        session, employee_id=link.employee_id, campaign_id=link.campaign_id,
        attribution_method="utm",
    )  # fmt: skip
    body = html.unescape(text(sign_in("marketer").get("/app/reports/channels")))
    assert re.search(r"All advocacy</strong></td>\s*<td class=\"num\">2</td>", body)
    chart = json.loads(
        html.unescape(
            re.search(
                r'data-chart="([^"]+)"', text(sign_in("admin").get("/app/reports/channels"))
            ).group(1)
        )
    )
    assert chart["type"] == "bar" and "Unknown channel" in chart["labels"]
    assert "Unknown channel</strong> counts leads credited to a rep by UTM parameters" in body


def test_a_click_to_lead_rate_above_100_percent_says_why(sign_in: SignIn, session: Session) -> None:
    link = make_link(session)
    make_click(session, link)
    for _ in range(3):  # three leads, one unique visitor in range
        make_crm_record(session, employee_id=link.employee_id, attribution_method="utm")
    client = sign_in("marketer")
    for url in ("/app/reports/", "/app/reports/leaderboard", "/app/reports/campaigns"):
        body = html.unescape(text(client.get(url)))
        assert "Click→lead above 100 %:" in body, url


def test_leads_without_any_click_in_range_say_why(sign_in: SignIn, session: Session) -> None:
    rep = make_employee(session)
    old = datetime.now(UTC) - timedelta(days=90)
    make_click(session, make_link(session, employee=rep), at=old)
    make_crm_record(session, employee_id=rep.id, attribution_method="utm")
    body = html.unescape(text(sign_in("marketer").get(f"/app/reports/reps/{rep.handle}")))
    assert "Leads without clicks:</strong> 1 lead credited by UTM" in body
    quiet = make_employee(session)
    make_click(session, make_link(session, employee=quiet))
    plain = html.unescape(text(sign_in("marketer").get(f"/app/reports/reps/{quiet.handle}")))
    assert "plausibility-note" not in plain


def test_the_leads_axis_does_not_make_one_lead_look_like_the_busiest_click_day(
    sign_in: SignIn, session: Session
) -> None:
    link = make_link(session)
    for _ in range(40):
        make_click(session, link)
    make_crm_record(session, employee_id=link.employee_id, attribution_method="utm")
    rep = session.get(Employee, link.employee_id)
    assert rep is not None
    body = text(sign_in("marketer").get(f"/app/reports/reps/{rep.handle}"))
    chart = json.loads(html.unescape(re.search(r'data-chart="([^"]+)"', body).group(1)))
    assert chart["scales"]["y2"]["suggestedMax"] >= 5


def _cells(row: str) -> list[str]:
    """The plain numeric cells of a campaign row: links, employees, clicks, won."""
    return re.findall(r'<td class="num[^"]*">(\d+)</td>', row)


def test_the_campaign_list_counts_the_range_picked_and_offers_all_time(
    sign_in: SignIn, session: Session
) -> None:
    campaign = make_campaign(session, name="Ranged")
    link = make_link(session, campaign)
    make_click(session, link)
    make_click(session, link, at=datetime.now(UTC) - timedelta(days=45))
    client = sign_in("marketer")

    recent = html.unescape(text(client.get("/app/campaigns/")))
    today = datetime.now(UTC).date()
    assert "Clicks and leads from " in recent and "range=all" in recent
    row = recent.split("Ranged")[1].split("</tr>")[0]
    assert _cells(row)[2] == "1"

    whole = html.unescape(text(client.get("/app/campaigns/?range=all")))
    assert "over all time, from " in whole and f"to {today}" in whole
    row = whole.split("Ranged")[1].split("</tr>")[0]
    assert _cells(row)[2] == "2"


def test_the_participation_api_gives_teams_and_inactive_employees_as_json_and_csv(
    sign_in: SignIn, session: Session
) -> None:
    active = _joined(session, name="Ada Active", team="Sales")
    idle = _joined(session, name="Ina Idle", team="Sales")
    make_click(session, make_link(session, employee=active))
    client = sign_in("marketer")
    data = client.get("/api/v1/reports/participation").get_json()
    sales = next(t for t in data["teams"] if t["team"] == "Sales")
    assert sales == {"team": "Sales", "joined": 2, "active": 1, "participation_rate": 0.5}
    assert [e["handle"] for e in data["inactive"]] == [idle.handle]
    assert data["joined"] == 2 and data["active"] == 1
    csv = client.get("/api/v1/reports/participation?format=csv")
    assert csv.status_code == 200
    assert csv.get_data(as_text=True).splitlines() == [
        "handle,name,team",
        f"{idle.handle},Ina Idle,Sales",
    ]
    bad = client.get("/api/v1/reports/participation?from=yesterday")
    assert bad.status_code == 422 and "YYYY-MM-DD" in str(bad.get_json())
