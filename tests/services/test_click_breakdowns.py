"""Click breakdowns: exact rows for every `by=` on a hand-computed program, filters, the
channel matrix and heatmap, and the audience rollup staying exact (late clicks, spool
replays, a changed reporting time zone) against the live count of the same clicks."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linktracker.clicks.services import insert_click_rows
from linktracker.errors import InvalidInput, NotFound
from linktracker.reports import audience_rollup
from linktracker.reports.audience import (
    Breakdown,
    parse_dimension,
    report_audience,
    report_clicks,
)
from linktracker.reports.audience_present import clicks_dict
from linktracker.reports.audience_queries import DIMENSIONS
from linktracker.reports.filters import ReportFilters, today_in
from linktracker.reports.models import AudienceCount, AudienceDay
from tests import audience_data as data
from tests.factories import CHROME


def _rows(report: Breakdown) -> list[tuple[Any, int, int]]:
    return [(r["key"], r["clicks"], r["unique_visitors"]) for r in clicks_dict(report)["rows"]]


@pytest.fixture
def program(session: Session) -> data.Program:
    return data.build(session)


@pytest.mark.parametrize("rollup", [True, False], ids=["rollup", "live"])
@pytest.mark.parametrize("by", DIMENSIONS)
def test_every_breakdown_gives_the_hand_computed_rows(
    session: Session, program: data.Program, by: str, rollup: bool
) -> None:
    report = report_clicks(
        session, data.FILTERS, parse_dimension(by), timezone=data.TIMEZONE, rollup=rollup
    )
    answer = clicks_dict(report)
    assert _rows(report) == data.EXPECTED[by]
    assert answer["total"] == (data.BOT_TOTAL if by == "bot_name" else data.TOTAL)
    assert (answer["bots"], answer["previews"]) == (data.BOTS, data.PREVIEWS)
    assert sum(row["clicks"] for row in answer["rows"]) == answer["total"]["clicks"]
    assert (answer["from"], answer["to"], answer["by"]) == ("2026-03-02", "2026-03-04", by)


def test_the_unfiltered_report_reads_closed_utc_days_from_the_rollup(
    session: Session, program: data.Program
) -> None:
    report_clicks(session, data.FILTERS, "hour", timezone=data.TIMEZONE)
    # The range's whole UTC days are 03-02 and 03-03; its edges are counted live.
    days = session.scalars(select(AudienceDay.day).where(AudienceDay.timezone == data.TIMEZONE))
    assert sorted(days) == [date(2026, 3, 2), date(2026, 3, 3)]
    stored = session.scalar(
        select(func.sum(AudienceCount.clicks)).where(
            AudienceCount.dimension == "hour", AudienceCount.campaign_id == 0
        )
    )
    assert stored == 5  # clicks 1-5; click 6 is on 03-04, a live edge
    per_campaign = session.execute(
        select(AudienceCount.campaign_id, func.sum(AudienceCount.clicks))
        .where(AudienceCount.dimension == "hour", AudienceCount.campaign_id != 0)
        .group_by(AudienceCount.campaign_id)
    )
    assert dict(per_campaign.all()) == {program.spring.id: 4, program.autumn.id: 1}


def _with(filters: ReportFilters, **narrowing: str | None) -> ReportFilters:
    return ReportFilters(filters.date_from, filters.date_to, **narrowing)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("narrowing", "by", "rows"),
    [
        ({"campaign": "spring"}, "link_channel", [("linkedin", 3, 2), ("email", 2, 2)]),
        ({"employee": "ann"}, "country", [("DE", 3, 2), ("US", 1, 1)]),
        ({"channel": "email"}, "device", [("desktop", 1, 1), ("mobile", 1, 1)]),
        ({"team": "South"}, "os", [("Windows", 1, 1), ("iOS", 1, 1)]),
        ({"campaign": "autumn"}, "hour", [(15, 1, 1)]),
        (
            {"employee": "ann"},
            "bot_name",
            [("Googlebot", 1, 1), ("LinkedInBot", 1, 1), (None, 1, 1)],
        ),
    ],
)
def test_filters_narrow_the_clicks_counted(
    session: Session,
    program: data.Program,
    narrowing: dict[str, str],
    by: str,
    rows: list[tuple[Any, int, int]],
) -> None:
    filters = _with(data.FILTERS, **narrowing)
    report = report_clicks(session, filters, parse_dimension(by), timezone=data.TIMEZONE)
    assert _rows(report) == rows
    assert report.clicks == sum(row[1] for row in rows)


def test_one_link_is_counted_alone(session: Session, program: data.Program) -> None:
    l1 = program.links[0]
    report = report_clicks(session, data.FILTERS, "referrer_channel", timezone=data.TIMEZONE,
                           link=l1.code)  # fmt: skip
    assert _rows(report) == [("linkedin", 2, 1), ("slack", 1, 1)]
    assert (report.bots, report.previews) == (1, 2)
    with pytest.raises(NotFound, match="No link with code 'nope'."):
        report_clicks(session, data.FILTERS, "country", timezone=data.TIMEZONE, link="nope")


def test_the_audience_section_has_the_matrix_and_heatmap(
    session: Session, program: data.Program
) -> None:
    audience = report_audience(session, data.FILTERS, timezone=data.TIMEZONE)
    matrix = audience.matrix
    assert matrix.link_channels == ("email", "linkedin", "x")
    assert matrix.referrer_channels == ("linkedin", "slack", "x", None)
    assert matrix.clicks("linkedin", "linkedin") == 2
    assert matrix.clicks("slack", "linkedin") == 1  # a LinkedIn link shared in Slack
    assert matrix.clicks(None, "email") == 2
    assert (matrix.matching, matrix.elsewhere, matrix.direct) == (3, 1, 2)
    # (weekday, local hour): Monday 08h twice, Tuesday 00h, 15h twice, Wednesday 23h.
    assert dict(audience.heatmap) == {(0, 8): 2, (1, 0): 1, (1, 15): 2, (2, 23): 1}
    assert audience.heatmap_peak == 2
    assert _rows(audience.breakdowns["country"]) == data.EXPECTED["country"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "'by' is required: one of referrer_host, referrer_channel,"),
        ("", "'by' is required"),
        ("city", "Unknown breakdown 'city': use one of referrer_host, referrer_channel, "
                 "link_channel, country, device, browser, os, hour, weekday, day, bot_name."),
    ],
)  # fmt: skip
def test_an_unknown_breakdown_is_refused_with_the_names_there_are(
    value: str | None, message: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_dimension(value)
    assert error.value.message.startswith(message)
    assert "bot_name" in error.value.fields["by"]


def test_an_unknown_campaign_or_employee_is_refused(
    session: Session, program: data.Program
) -> None:
    with pytest.raises(InvalidInput, match="Unknown filter value.") as error:
        report_clicks(session, _with(data.FILTERS, campaign="nope", employee="zed"), "country",
                      timezone=data.TIMEZONE)  # fmt: skip
    assert error.value.fields == {
        "campaign": "No campaign with slug 'nope'.",
        "employee": "No employee with handle 'zed'.",
    }
    assert session.scalar(select(func.count()).select_from(AudienceDay)) == 0


def test_a_late_click_replayed_into_a_rolled_up_day_is_counted(
    session: Session, program: data.Program
) -> None:
    before = report_clicks(session, data.FILTERS, "country", timezone=data.TIMEZONE)
    assert before.clicks == 6
    # What a spool replay does: rows hours old land in a day the rollup already holds.
    late = [
        data.click(program.links[1], data.at(3, 2, 12, 0), CHROME, "1", None, "US"),
        data.click(program.links[1], data.at(3, 2, 12, 1), data.GOOGLEBOT, "60"),
    ]
    insert_click_rows(session.connection(), late)
    session.commit()
    after = report_clicks(session, data.FILTERS, "country", timezone=data.TIMEZONE)
    assert _rows(after) == [("DE", 3, 2), ("US", 2, 2), ("FR", 1, 1), (None, 1, 1)]
    # The late visitor (ip .1, Chrome, 03-02) is click 1's: a new US visitor, not a new one.
    assert (after.clicks, after.unique_visitors, after.bots) == (7, 5, 2)
    hours = report_clicks(session, data.FILTERS, "hour", timezone=data.TIMEZONE)
    assert (17, 1, 1) in _rows(hours)  # 12:00 UTC is 17:30 in Kolkata


def test_a_new_reporting_time_zone_rebuilds_the_local_keys(
    session: Session, program: data.Program
) -> None:
    kolkata = report_clicks(session, data.FILTERS, "hour", timezone=data.TIMEZONE)
    assert _rows(kolkata)[0] == (8, 2, 1)
    utc = report_clicks(session, data.FILTERS, "hour", timezone="UTC")
    # UTC range 03-02 00:00 to 03-05 00:00: clicks 1-6, plus the one at 18:31 on 03-04.
    assert _rows(utc) == [(3, 2, 1), (10, 2, 2), (18, 2, 2), (19, 1, 1)]
    days = session.scalars(select(AudienceDay.timezone).distinct())
    assert list(days) == ["UTC"]


# ---------------------------------------------------------------- random programs

AGENTS = (CHROME, data.IPHONE, data.GOOGLEBOT, data.LINKEDINBOT)
REFERRERS = (None, "https://www.linkedin.com/", "https://t.co/a", "https://app.slack.com/",
             "https://news.example.org/x")  # fmt: skip
COUNTRIES = (None, "DE", "US", "IN", "NZ")


def _random_clicks(
    session: Session, program: data.Program, now: datetime, seed: int, days: int
) -> None:
    rng = random.Random(seed)
    rows = [
        data.click(
            rng.choice(program.links),
            now - timedelta(seconds=rng.randrange(days * 86400)),
            rng.choice(AGENTS),
            str(rng.randrange(6)),
            rng.choice(REFERRERS),
            rng.choice(COUNTRIES),
            "HEAD" if rng.random() < 0.03 else "GET",
        )
        for _ in range(40 * days)
    ]
    insert_click_rows(session.connection(), rows)
    session.commit()


@pytest.mark.parametrize(
    ("seed", "timezone"),
    [(1, "Asia/Kolkata"), (2, "America/New_York"), (3, "Pacific/Chatham"), (4, "Europe/Berlin")],
)
def test_rollup_rows_equal_live_rows_for_every_breakdown(
    session: Session, program: data.Program, seed: int, timezone: str
) -> None:
    now = datetime.now(UTC)
    _random_clicks(session, program, now, seed, days=40)
    today = today_in(timezone)
    filters = ReportFilters(today - timedelta(days=30), today)
    spring = ReportFilters(filters.date_from, filters.date_to, campaign="spring")
    for by in DIMENSIONS:
        for scope in (filters, spring):
            rolled = report_clicks(session, scope, by, timezone=timezone)
            live = _live(session, scope, by, timezone)
            assert rolled.rows == live.rows, (by, scope)
            assert (rolled.clicks, rolled.unique_visitors, rolled.bots, rolled.previews) == (
                live.clicks, live.unique_visitors, live.bots, live.previews)  # fmt: skip
    assert session.scalar(select(func.count()).select_from(AudienceDay)) >= 29
    # A replayed batch into an old day: the next report counts it.
    _random_clicks(session, program, now - timedelta(days=10), seed + 100, days=2)
    for by in ("hour", "weekday", "day", "country", "bot_name"):
        for scope in (filters, spring):
            rolled = report_clicks(session, scope, by, timezone=timezone)
            live = _live(session, scope, by, timezone)
            assert (rolled.rows, rolled.clicks) == (live.rows, live.clicks), (by, scope)


def _live(session: Session, filters: ReportFilters, by: str, timezone: str) -> Breakdown:
    return report_clicks(session, filters, parse_dimension(by), timezone=timezone, rollup=False)


def test_refresh_all_rolls_up_each_closed_day_once(session: Session, program: data.Program) -> None:
    assert audience_rollup.refresh_all(session, data.TIMEZONE, date(2026, 3, 6)) == 5
    assert audience_rollup.refresh_all(session, data.TIMEZONE, date(2026, 3, 6)) == 0


def test_report_refresh_rolls_up_the_audience_days_too(
    program: data.Program, runner: FlaskCliRunner
) -> None:
    first = runner.invoke(args=["report", "refresh"])
    assert first.exit_code == 0, first.output
    # Closed UTC days from the first click (03-01) to yesterday, in the default zone.
    days = (datetime.now(UTC).date() - date(2026, 3, 1)).days
    assert f"Audience: rolled up {days} UTC days (UTC)." in first.output
    again = runner.invoke(args=["report", "refresh"])
    assert "Audience: rolled up 0 UTC days (UTC)." in again.output
