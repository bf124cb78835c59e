"""Reports on a hand-computed scenario: every figure below was worked out by hand.

Reporting time zone Europe/Berlin, range 2026-03-01 .. 2026-03-31, i.e. the UTC interval
[2026-02-28 23:00, 2026-03-31 22:00) (CET, then CEST from 2026-03-29).

Employees: rep-a (Sales, 500 connections), rep-b (Sales, 300), rep-c (Marketing, 1000, joined,
no links), rep-d (Marketing, never joined). Campaigns spring and summer.
Links: LA1 = rep-a/spring/linkedin, LA2 = rep-a/summer/x, LB1 = rep-b/spring/linkedin.

Clicks (UTC):            link  kind     visitor (ip, UTC day)
  c1  03-02 10:00        LA1   human    ip1 d0302
  c2  03-02 11:00        LA1   human    ip1 d0302 (same hash as c1)
  c3  03-03 09:00        LA1   human    ip1 d0303
  c4  03-03 09:30        LA1   bot
  c5  03-03 09:31        LA1   preview (LinkedInBot)
  c6  03-05 12:00        LA1   preview (HEAD)
  c7  02-28 22:30        LA1   human    ip2  -> 23:30 Feb 28 in Berlin: out of range
  c8  02-28 23:30        LA1   human    ip2  -> 00:30 Mar 1 in Berlin: in range
  c9  03-10 08:00        LA2   human    ip3
  c10 03-15 10:00        LB1   human    ip4
  c11 03-15 10:00        LB1   human    ip5 (same instant as c10, higher row id)
  c12 03-20 10:00        LB1   bot
  c13 03-31 22:30        LB1   human    -> 00:30 Apr 1 in Berlin: out of range

CRM records (UTC; kind lead unless said):
  r1  03-02 12:00 click_id=c1                      won, closed 03-12 12:00, 1000 EUR
  r2  03-10 20:00 landing URL with lt_cid=c9       won, closed 03-14 20:00, 500 USD
  r3  03-16 10:00 click_id=c12 (bot), utm rep-b/spring   -> utm, last human click c11
  r4  03-31 11:00 utm rep-a/spring                 won, no close date, 200 EUR -> click c3
  r5  03-20 00:00 utm rep-c/summer, source Facebook won, closed 03-19 (before created), 300 EUR
  r6  03-06 00:00 utm rep-a/unknown-campaign (contact) -> last click any campaign: c3 (spring)
  r7  03-05 00:00 no UTM                           won, closed 03-25 00:00, 800 EUR
  r8  03-07 00:00 no UTM
  r9  03-08 00:00 no UTM                           won, closed 03-10 00:00, 100 EUR
  r11 02-28 22:00 utm rep-a -> out of range (no click in window: c7 is later)
  r12 03-09 00:00 unknown click id
  r13 03-31 22:30 utm rep-b -> out of range; click c13 at the same instant
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from linktracker.attribution.services import AttributionSummary, attribute_records
from linktracker.clicks.models import Click
from linktracker.errors import InvalidInput, NotFound
from linktracker.reports.filters import ReportFilters
from linktracker.reports.results import Figures
from linktracker.reports.services import (
    report_campaigns,
    report_channels,
    report_program,
    report_rep,
    report_reps,
)
from tests.factories import make_campaign, make_click, make_crm_record, make_employee, make_link

TZ = "Europe/Berlin"
MARCH = ReportFilters(date(2026, 3, 1), date(2026, 3, 31))
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
LINKEDINBOT = (
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)"
)
CLICK_DAYS = 10 + 2 / 24, 4 + 12 / 24  # r1, r2: close minus attributed click, in days


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Scenario:
    summary: AttributionSummary
    clicks: dict[str, int]


@pytest.fixture
def scenario(session: Session) -> Scenario:
    a = make_employee(session, handle="rep-a", name="Advocate A", team="Sales", connections=500)
    b = make_employee(session, handle="rep-b", name="Advocate B", team="Sales", connections=300)
    c = make_employee(session, handle="rep-c", name="Advocate C", team="Marketing",
                      connections=1000)  # fmt: skip
    make_employee(session, handle="rep-d", name="Advocate D", team="Marketing", connections=50)
    c.joined_at = at(2, 1)
    session.commit()
    spring = make_campaign(session, slug="spring", name="Spring")
    summer = make_campaign(session, slug="summer", name="Summer")
    la1 = make_link(session, spring, a, "linkedin")
    la2 = make_link(session, summer, a, "x")
    lb1 = make_link(session, spring, b, "linkedin")
    rows: dict[str, dict[str, Any]] = {
        "c1": make_click(session, la1, at=at(3, 2, 10), ip="192.0.2.1"),
        "c2": make_click(session, la1, at=at(3, 2, 11), ip="192.0.2.1"),
        "c3": make_click(session, la1, at=at(3, 3, 9), ip="192.0.2.1"),
        "c4": make_click(session, la1, at=at(3, 3, 9, 30), user_agent=GOOGLEBOT),
        "c5": make_click(session, la1, at=at(3, 3, 9, 31), user_agent=LINKEDINBOT),
        "c6": make_click(session, la1, at=at(3, 5, 12), method="HEAD"),
        "c7": make_click(session, la1, at=at(2, 28, 22, 30), ip="192.0.2.2"),
        "c8": make_click(session, la1, at=at(2, 28, 23, 30), ip="192.0.2.2"),
        "c9": make_click(session, la2, at=at(3, 10, 8), ip="192.0.2.3"),
        "c10": make_click(session, lb1, at=at(3, 15, 10), ip="192.0.2.4"),
        "c11": make_click(session, lb1, at=at(3, 15, 10), ip="192.0.2.5"),
        "c12": make_click(session, lb1, at=at(3, 20, 10), user_agent=GOOGLEBOT),
        "c13": make_click(session, lb1, at=at(3, 31, 22, 30), ip="192.0.2.6"),
    }
    cid = {name: row["click_id"] for name, row in rows.items()}
    pk = {name: session.scalar(select(Click.id).where(Click.click_id == c)) or 0
          for name, c in cid.items()}  # fmt: skip
    record = make_crm_record
    record(session, external_id="r1", click_id=cid["c1"], created_at=at(3, 2, 12), won=True,
           closed_at=at(3, 12, 12), amount=Decimal("1000"), currency="EUR")  # fmt: skip
    record(session, external_id="r2", created_at=at(3, 10, 20), won=True,
           landing_url=f"https://www.example.com/l?utm_source=x&lt_cid={cid['c9']}#form",
           closed_at=at(3, 14, 20), amount=Decimal("500"), currency="USD")  # fmt: skip
    record(session, external_id="r3", click_id=cid["c12"], utm_content="REP-B",
           utm_campaign="spring", created_at=at(3, 16, 10))  # fmt: skip
    record(session, external_id="r4", utm_content="rep-a", utm_campaign="spring",
           created_at=at(3, 31, 11), won=True, amount=Decimal("200"), currency="EUR")  # fmt: skip
    record(session, external_id="r5", utm_content="rep-c", utm_campaign="summer",
           utm_source="Facebook", created_at=at(3, 20), won=True, closed_at=at(3, 19),
           amount=Decimal("300"), currency="EUR")  # fmt: skip
    record(session, external_id="r6", kind="contact", utm_content="rep-a",
           utm_campaign="unknown-campaign", created_at=at(3, 6))  # fmt: skip
    record(session, external_id="r7", created_at=at(3, 5), won=True, closed_at=at(3, 25),
           amount=Decimal("800"), currency="EUR")  # fmt: skip
    record(session, external_id="r8", created_at=at(3, 7))
    record(session, external_id="r9", created_at=at(3, 8), won=True, closed_at=at(3, 10),
           amount=Decimal("100"), currency="EUR")  # fmt: skip
    record(session, external_id="r11", utm_content="rep-a", created_at=at(2, 28, 22))
    record(session, external_id="r12", click_id="no-such-click", created_at=at(3, 9))
    record(session, external_id="r13", utm_content="rep-b", created_at=at(3, 31, 22, 30))
    summary = attribute_records(session, window_days=30)
    return Scenario(summary, pk)


def test_attribution_of_the_scenario(scenario: Scenario) -> None:
    # click_id: r1 r2; utm: r3 r4 r5 r6 r11 r13 (r5, r11 without click); none: r7 r8 r9 r12
    assert scenario.summary == AttributionSummary(
        records=12, click_id=2, utm=6, utm_without_click=2, none=4
    )


A = Figures(
    clicks=5, unique_visitors=4, bot_clicks=1, preview_clicks=2, links_shared=2,
    leads=4, won=3, click_to_lead_rate=1.0, lead_to_won_rate=0.75,
    median_days_to_close=7.0, mean_days_to_close=7.0,
    median_days_click_to_close=sum(CLICK_DAYS) / 2, mean_days_click_to_close=sum(CLICK_DAYS) / 2,
    won_without_close_date=1, closed_before_created=0,
    revenue={"EUR": Decimal("1200.00"), "USD": Decimal("500.00")},
)  # fmt: skip
B = Figures(
    clicks=2, unique_visitors=2, bot_clicks=1, preview_clicks=0, links_shared=1,
    leads=1, won=0, click_to_lead_rate=0.5, lead_to_won_rate=0.0,
    median_days_to_close=None, mean_days_to_close=None,
    median_days_click_to_close=None, mean_days_click_to_close=None,
    won_without_close_date=0, closed_before_created=0, revenue={},
)  # fmt: skip
C = Figures(
    clicks=0, unique_visitors=0, bot_clicks=0, preview_clicks=0, links_shared=0,
    leads=1, won=1, click_to_lead_rate=None, lead_to_won_rate=1.0,
    median_days_to_close=None, mean_days_to_close=None,
    median_days_click_to_close=None, mean_days_click_to_close=None,
    won_without_close_date=0, closed_before_created=1, revenue={"EUR": Decimal("300.00")},
)  # fmt: skip
TOTALS = Figures(
    clicks=7, unique_visitors=6, bot_clicks=2, preview_clicks=2, links_shared=3,
    leads=6, won=4, click_to_lead_rate=1.0, lead_to_won_rate=4 / 6,
    median_days_to_close=7.0, mean_days_to_close=7.0,
    median_days_click_to_close=sum(CLICK_DAYS) / 2, mean_days_click_to_close=sum(CLICK_DAYS) / 2,
    won_without_close_date=1, closed_before_created=1,
    revenue={"EUR": Decimal("1500.00"), "USD": Decimal("500.00")},
)  # fmt: skip
BASELINE = Figures(
    clicks=None, unique_visitors=None, bot_clicks=None, preview_clicks=None, links_shared=None,
    leads=4, won=2, click_to_lead_rate=None, lead_to_won_rate=0.5,
    median_days_to_close=11.0, mean_days_to_close=11.0,
    median_days_click_to_close=None, mean_days_click_to_close=None,
    won_without_close_date=0, closed_before_created=0, revenue={"EUR": Decimal("900.00")},
)  # fmt: skip


def test_leaderboard_figures_per_rep_totals_and_baseline(
    session: Session, scenario: Scenario
) -> None:
    report = report_reps(session, MARCH, timezone=TZ)
    assert [r.employee.handle for r in report.reps] == ["rep-a", "rep-b", "rep-c"]
    assert [r.figures for r in report.reps] == [A, B, C]
    assert report.reps[0].employee.name == "Advocate A" and report.reps[0].employee.team == "Sales"
    assert report.totals == TOTALS
    assert report.baseline == BASELINE


def test_team_filter_narrows_reps_and_totals_but_not_the_baseline(
    session: Session, scenario: Scenario
) -> None:
    report = report_reps(session, ReportFilters(MARCH.date_from, MARCH.date_to, team="Marketing"),
                         timezone=TZ)  # fmt: skip
    assert [(r.employee.handle, r.figures) for r in report.reps] == [("rep-c", C)]
    assert (report.totals.clicks, report.totals.leads, report.totals.won) == (0, 1, 1)
    assert report.baseline == BASELINE


def test_campaign_and_channel_filters(session: Session, scenario: Scenario) -> None:
    spring = report_reps(session, ReportFilters(MARCH.date_from, MARCH.date_to,
                                                campaign="spring"), timezone=TZ)  # fmt: skip
    assert [(r.employee.handle, r.figures.clicks, r.figures.leads) for r in spring.reps] == [
        ("rep-a", 4, 3), ("rep-b", 2, 1)
    ]  # fmt: skip
    x = report_reps(session, ReportFilters(MARCH.date_from, MARCH.date_to, channel="x"),
                    timezone=TZ)  # fmt: skip
    assert [(r.employee.handle, r.figures.clicks, r.figures.leads) for r in x.reps] == [
        ("rep-a", 1, 1)
    ]


def test_campaign_report(session: Session, scenario: Scenario) -> None:
    report = report_campaigns(session, MARCH, timezone=TZ)
    rows = {r.campaign.slug if r.campaign else None: r.figures for r in report.campaigns}
    assert [r.campaign.slug for r in report.campaigns if r.campaign] == ["spring", "summer"]
    spring, summer = rows["spring"], rows["summer"]
    assert (spring.clicks, spring.unique_visitors, spring.bot_clicks, spring.preview_clicks,
            spring.links_shared) == (6, 5, 2, 2, 2)  # fmt: skip
    assert (spring.leads, spring.won, spring.median_days_to_close) == (4, 2, 10.0)
    assert spring.revenue == {"EUR": Decimal("1200.00")}
    assert (summer.clicks, summer.unique_visitors, summer.leads, summer.won) == (1, 1, 2, 2)
    assert (summer.median_days_to_close, summer.closed_before_created) == (4.0, 1)
    assert summer.revenue == {"EUR": Decimal("300.00"), "USD": Decimal("500.00")}
    assert report.totals == TOTALS and report.baseline == BASELINE


def test_channel_report(session: Session, scenario: Scenario) -> None:
    report = report_channels(session, MARCH, timezone=TZ)
    rows = [(r.channel, r.figures.clicks, r.figures.leads, r.figures.won) for r in report.channels]
    # facebook: a lead without click takes its channel from utm_source.
    assert rows == [("linkedin", 6, 4, 2), ("x", 1, 1, 1), ("facebook", 0, 1, 1)]


def test_program_report(session: Session, scenario: Scenario) -> None:
    report = report_program(session, MARCH, timezone=TZ, cpm=12.5, cost_per_lead=40.0)
    assert (report.invited, report.joined, report.join_rate) == (4, 3, 0.75)
    assert (report.active, report.participation_rate) == (2, 2 / 3)
    assert (report.clicks, report.unique_visitors, report.leads, report.won) == (7, 6, 6, 4)
    # shares: (rep-a, spring), (rep-a, summer), (rep-b, spring) -> 500 + 500 + 300
    assert report.estimated_impressions == 1300
    assert report.earned_media_value == 16.25
    assert report.lead_cost_savings == 240.0
    rankings = {r.metric: [(c.employee.handle, c.value) for c in r.contributors]
                for r in report.top_contributors}  # fmt: skip
    assert rankings == {
        "clicks": [("rep-a", 5.0), ("rep-b", 2.0)],
        "clicks_per_link": [("rep-a", 2.5), ("rep-b", 2.0)],
        "leads": [("rep-a", 4.0), ("rep-b", 1.0), ("rep-c", 1.0)],
        "approved_contributions": [],
    }
    assert report.baseline == BASELINE
    assert "impressions / 1000 * CPM" in report.formulas["earned_media_value"]


def test_top_contributors_are_the_ten_best_with_ties_by_handle(session: Session) -> None:
    campaign = make_campaign(session)
    for n in range(12):  # rep-00 .. rep-11; rep-11 clicks twice, the rest once each
        link = make_link(session, campaign, make_employee(session, handle=f"rep-{n:02}"))
        for _ in range(2 if n == 11 else 1):
            make_click(session, link, at=at(3, 5, 10))
    report = report_program(session, MARCH, timezone=TZ, cpm=10, cost_per_lead=50)
    by_clicks = report.top_contributors[0]
    assert by_clicks.metric == "clicks"
    assert [(c.employee.handle, c.value) for c in by_clicks.contributors] == [
        ("rep-11", 2.0),
        *((f"rep-{n:02}", 1.0) for n in range(9)),
    ]
    assert by_clicks.contributors[0].employee.name.startswith("Employee")


def test_rep_detail_weekly_series_links_records_and_funnel(
    session: Session, scenario: Scenario
) -> None:
    detail = report_rep(session, "rep-a", MARCH, timezone=TZ, bucket="week")
    assert detail.figures == A
    assert [(p.start, p.clicks, p.unique_visitors, p.leads, p.won) for p in detail.series] == [
        (date(2026, 2, 23), 1, 1, 0, 0),  # c8 (00:30 on Mar 1 in Berlin)
        (date(2026, 3, 2), 3, 2, 2, 1),  # c1 c2 c3; r1 r6
        (date(2026, 3, 9), 1, 1, 1, 1),  # c9; r2
        (date(2026, 3, 16), 0, 0, 0, 0),
        (date(2026, 3, 23), 0, 0, 0, 0),
        (date(2026, 3, 30), 0, 0, 1, 1),  # r4
    ]
    links = [(x.campaign, x.channel, x.clicks, x.unique_visitors, x.bot_clicks,
              x.preview_clicks, x.leads, x.won) for x in detail.links]  # fmt: skip
    assert links == [("spring", "linkedin", 4, 3, 1, 2, 3, 2), ("summer", "x", 1, 1, 0, 0, 1, 1)]
    assert [(r.external_id, r.method, r.campaign, r.channel) for r in detail.records] == [
        ("r4", "utm", "spring", "linkedin"),
        ("r2", "click_id", "summer", "x"),
        ("r6", "utm", "spring", "linkedin"),
        ("r1", "click_id", "spring", "linkedin"),
    ]
    assert detail.records[0].seconds_from_click == 28 * 86400 + 2 * 3600
    assert (detail.funnel.clicks, detail.funnel.unique_visitors, detail.funnel.leads,
            detail.funnel.won) == (5, 4, 4, 3)  # fmt: skip
    assert detail.baseline == BASELINE


def test_daily_buckets_follow_the_reporting_time_zone(session: Session, scenario: Scenario) -> None:
    detail = report_rep(session, "rep-a", ReportFilters(date(2026, 3, 1), date(2026, 3, 3)),
                        timezone=TZ)  # fmt: skip
    assert [(p.start.day, p.clicks) for p in detail.series] == [(1, 1), (2, 2), (3, 1)]
    utc = report_rep(session, "rep-a", ReportFilters(date(2026, 2, 28), date(2026, 3, 3)),
                     timezone="UTC")  # fmt: skip
    assert [(p.start.day, p.clicks) for p in utc.series] == [(28, 2), (1, 0), (2, 2), (3, 1)]


def test_monthly_buckets(session: Session, scenario: Scenario) -> None:
    detail = report_rep(session, "rep-b", ReportFilters(date(2026, 2, 1), date(2026, 4, 30)),
                        timezone=TZ, bucket="month")  # fmt: skip
    # c13 is on April 1st in Berlin; r13 too.
    assert [(p.start, p.clicks, p.leads) for p in detail.series] == [
        (date(2026, 2, 1), 0, 0), (date(2026, 3, 1), 2, 1), (date(2026, 4, 1), 1, 1)
    ]  # fmt: skip


def test_empty_range_gives_zeros_and_null_rates(session: Session, scenario: Scenario) -> None:
    report = report_reps(session, ReportFilters(date(2025, 1, 1), date(2025, 1, 31)), timezone=TZ)
    assert report.reps == ()
    assert (report.totals.clicks, report.totals.leads) == (0, 0)
    assert report.totals.click_to_lead_rate is None and report.totals.lead_to_won_rate is None
    assert report.baseline.median_days_to_close is None and report.baseline.revenue == {}
    program = report_program(session, ReportFilters(date(2025, 1, 1), date(2025, 1, 31)),
                             timezone=TZ, cpm=10, cost_per_lead=50)  # fmt: skip
    assert (program.active, program.participation_rate, program.estimated_impressions) == (
        0,
        0.0,
        0,
    )
    assert all(r.contributors == () for r in program.top_contributors)


def test_unknown_filters_and_handles_are_refused(session: Session, scenario: Scenario) -> None:
    with pytest.raises(InvalidInput) as error:
        report_reps(session, ReportFilters(MARCH.date_from, MARCH.date_to, campaign="nope",
                                           employee="nobody"), timezone=TZ)  # fmt: skip
    assert error.value.fields == {"campaign": "No campaign with slug 'nope'.",
                                  "employee": "No employee with handle 'nobody'."}  # fmt: skip
    with pytest.raises(NotFound, match="No employee with handle 'nobody'"):
        report_rep(session, "nobody", MARCH, timezone=TZ)
    with pytest.raises(InvalidInput, match="time bucket"):
        report_rep(session, "rep-a", MARCH, timezone=TZ, bucket="year")  # type: ignore[arg-type]
