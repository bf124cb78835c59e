"""Reports read from the per-UTC-day rollups give exactly the live figures.

The unfiltered leaderboard, program report and campaign/channel totals sum whole UTC days from
the rollup; a team filter covering every rep forces the live query over the same clicks, so
both must agree figure for figure. Random clicks span the last 20 days up to now (today's open
UTC day is live), in reporting time zones whose days do not start at UTC midnight (partial
edge days), and a late click landing in an already rolled-up day and month must show up at
once.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.clicks.services import click_row, insert_click_rows
from linktracker.clicks.visitor import Visitor, new_click_id
from linktracker.links.models import Link
from linktracker.links.services import LinkTarget
from linktracker.reports.filters import ReportFilters, today_in
from linktracker.reports.models import ClickDay, ClickMonth
from linktracker.reports.services import (
    report_campaigns,
    report_channels,
    report_program,
    report_reps,
)
from tests.factories import make_campaign, make_employee, make_link

TEAM = "Everyone"
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
)


def _click(link: Link, at: datetime, rng: random.Random) -> dict[str, Any]:
    target = LinkTarget(link.id, link.employee_id, link.campaign_id, link.channel,
                        link.destination_url, False, None)  # fmt: skip
    visitor = Visitor(
        f"198.51.100.{rng.randrange(12)}",
        rng.choice(AGENTS),
        None,
        None,
        "HEAD" if rng.random() < 0.05 else "GET",
        "",
    )
    return click_row(target, visitor, secret=b"test-secret", now=at, click_id=new_click_id())


def _program(session: Session, links: list[Link], seed: int, now: datetime, days: int = 20) -> None:
    rng = random.Random(seed)
    rows = [
        _click(rng.choice(links[:-1]), now - timedelta(seconds=rng.randrange(days * 86400)), rng)
        for _ in range(20 * days)
    ]
    rows.append(_click(links[0], now - timedelta(days=days), rng))  # the first day
    insert_click_rows(session.connection(), rows)
    session.commit()


@pytest.fixture
def links(session: Session) -> list[Link]:
    reps = [make_employee(session, team=TEAM, connections=100 * n) for n in range(1, 6)]
    campaigns = [make_campaign(session) for _ in range(3)]
    made = [
        make_link(session, campaign, rep, channel)
        for rep in reps[:4]  # the fifth rep has no link, hence no clicks
        for campaign in campaigns[:2]
        for channel in ("linkedin", "x")
    ]
    made.append(make_link(session, campaigns[2], reps[0], "email"))
    return made


def _same_as_live(session: Session, filters: ReportFilters, timezone: str) -> None:
    everyone = replace(filters, team=TEAM)  # a filter: the live query, same clicks
    rolled, live = (report_reps(session, f, timezone=timezone) for f in (filters, everyone))
    assert rolled.reps == live.reps
    # Integers as the live counts are (a numeric sum would serialise differently).
    assert {type(r.figures.clicks) for r in rolled.reps} <= {int}
    assert {type(r.figures.links_shared) for r in rolled.reps} <= {int}
    assert rolled.totals == live.totals
    assert rolled.baseline == live.baseline
    rolled_p, live_p = (
        report_program(session, f, timezone=timezone, cpm=10, cost_per_lead=50)
        for f in (filters, everyone)
    )
    assert replace(rolled_p, filters=everyone) == live_p
    # Campaign and channel reports take their totals from the same per-rep traffic.
    assert report_campaigns(session, filters, timezone=timezone).totals == live.totals
    assert report_channels(session, filters, timezone=timezone).totals == live.totals


@pytest.mark.parametrize(
    ("seed", "timezone"),
    [(1, "America/New_York"), (2, "Asia/Kolkata"), (3, "Pacific/Chatham"), (4, "UTC")],
)
def test_rollup_figures_equal_the_live_ones_with_late_clicks_and_today(
    session: Session, links: list[Link], seed: int, timezone: str
) -> None:
    now = datetime.now(UTC)
    _program(session, links, seed, now, days=75)
    today = today_in(timezone)
    filters = ReportFilters(today - timedelta(days=65), today)  # >= 1 whole UTC month
    _same_as_live(session, filters, timezone)
    assert session.scalar(select(func.count()).select_from(ClickDay)) >= 63  # rolled up
    assert session.scalar(select(func.count()).select_from(ClickMonth)) >= 1
    before = report_reps(session, filters, timezone=timezone).totals

    # Hours-old clicks replayed into a day already rolled up, in a whole month: a new visitor,
    # a visitor seen that day already, a bot, and the first click on a link nobody clicked yet.
    rng = random.Random(seed)
    first_of_last_month = (now.replace(day=1) - timedelta(days=1)).replace(day=1)
    late = first_of_last_month.replace(hour=12, minute=0)
    unclicked = links[-1]
    rows = [_click(links[0], late, rng) for _ in range(3)]
    rows[0]["visitor_hash"] = "f" * 32
    rows.append(_click(unclicked, late, random.Random(0)) | {"is_bot": False, "is_preview": False})
    insert_click_rows(session.connection(), rows)
    session.commit()
    after = report_reps(session, filters, timezone=timezone).totals
    humans = sum(1 for row in rows if not row["is_bot"] and not row["is_preview"])
    assert after.clicks == (before.clicks or 0) + humans
    _same_as_live(session, filters, timezone)


@pytest.mark.parametrize("timezone", ["America/Los_Angeles", "Europe/Berlin"])
def test_ranges_without_whole_days_or_in_the_future_match_the_live_figures(
    session: Session, links: list[Link], timezone: str
) -> None:
    _program(session, links, 7, datetime.now(UTC))
    today = today_in(timezone)
    for start, end in [
        (today, today),  # today only: the open day, all live
        (today - timedelta(days=3), today - timedelta(days=3)),  # one local day, 2 UTC pieces
        (today - timedelta(days=5), today + timedelta(days=10)),  # reaching into the future
        (date(2020, 1, 1), date(2020, 1, 31)),  # no clicks at all
    ]:
        _same_as_live(session, ReportFilters(start, end), timezone)


def test_report_refresh_command_rolls_up_closed_days_and_only_changed_ones_again(
    session: Session, links: list[Link], runner: FlaskCliRunner
) -> None:
    now = datetime.now(UTC)
    _program(session, links, 5, now)
    first = runner.invoke(args=["report", "refresh"])
    assert first.exit_code == 0, first.output
    assert "Rolled up 20 of 20 closed UTC days" in first.output
    again = runner.invoke(args=["report", "refresh"])
    assert "Rolled up 0 of 20 closed UTC days" in again.output
    late = now - timedelta(days=3)
    insert_click_rows(session.connection(), [_click(links[0], late, random.Random(1))])
    session.commit()
    third = runner.invoke(args=["report", "refresh"])
    assert "Rolled up 1 of 20 closed UTC days" in third.output
    today = today_in("UTC")
    _same_as_live(session, ReportFilters(today - timedelta(days=19), today), "UTC")
