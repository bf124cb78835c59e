"""Report filters: one reader for the API, the pages and the CLI."""

from __future__ import annotations

from datetime import date

import pytest

from linktracker.errors import InvalidInput
from linktracker.reports.filters import (
    ReportFilters,
    parse_bucket,
    parse_report_dates,
    parse_report_filters,
    read_report_filters,
)

TODAY = date(2026, 3, 31)
CAMPAIGNS = {"spring"}
CHANNELS = ("linkedin", "x")


@pytest.mark.parametrize(
    ("date_from", "date_to", "fields"),
    [
        ("2026-13-01", "2026-03-01", {"from": "Use a date as YYYY-MM-DD."}),
        ("2026-03-01", "yesterday", {"to": "Use a date as YYYY-MM-DD."}),
        ("2026-03-02", "2026-03-01", {"from": "Must not be after 'to'."}),
        ("2000-01-01", "2026-03-01", {"from": "Ranges are limited to 3660 days."}),
    ],
)
def test_bad_dates_are_refused_with_field_errors(
    date_from: str, date_to: str, fields: dict[str, str]
) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_report_dates(date_from, date_to, today=date(2026, 3, 31))
    assert error.value.fields == fields


def test_dates_default_to_the_last_30_days() -> None:
    assert parse_report_dates(None, "", today=date(2026, 3, 31)) == (
        date(2026, 3, 2), date(2026, 3, 31)
    )  # fmt: skip


def test_filters_read_dates_and_narrowing_an_empty_value_meaning_none() -> None:
    values = {"from": "2026-03-01", "to": "2026-03-10", "campaign": "spring", "channel": "",
              "team": "Sales", "employee": "rep-a"}  # fmt: skip
    assert parse_report_filters(values, today=TODAY) == ReportFilters(
        date(2026, 3, 1), date(2026, 3, 10), "spring", None, "Sales", "rep-a"
    )
    assert parse_report_filters({}, today=TODAY, default_days=7) == ReportFilters(
        date(2026, 3, 25), TODAY
    )


def test_a_narrowing_not_offered_is_ignored() -> None:
    values = {"team": "Sales", "employee": "rep-a"}
    filters = parse_report_filters(values, today=TODAY, offered=("campaign", "channel", "team"))
    assert (filters.team, filters.employee) == ("Sales", None)


def test_strict_filters_refuse_a_bad_range_and_leave_unknown_slugs_to_the_report() -> None:
    with pytest.raises(InvalidInput, match="The date range is invalid.") as error:
        parse_report_filters({"from": "2026-03-05", "to": "2026-03-01"}, today=TODAY)
    assert error.value.fields == {"from": "Must not be after 'to'."}
    filters = parse_report_filters({"campaign": "nope", "channel": "fax"}, today=TODAY)
    assert (filters.campaign, filters.channel) == ("nope", "fax")


def test_lenient_filters_fall_back_and_say_why() -> None:
    reading = read_report_filters(
        {"from": "yesterday", "to": "2026-03-10", "campaign": "nope", "channel": "fax",
         "team": "Sales"},
        today=TODAY, campaigns=CAMPAIGNS, channels=CHANNELS, default_days=10,
    )  # fmt: skip
    assert reading.filters == ReportFilters(date(2026, 3, 22), TODAY, team="Sales")
    assert reading.errors == {
        "from": "Use a date as YYYY-MM-DD.",
        "campaign": "Unknown campaign.",
        "channel": "Unknown channel.",
    }


def test_lenient_filters_keep_good_values() -> None:
    reading = read_report_filters(
        {"from": "2026-03-01", "to": "2026-03-10", "campaign": "spring", "channel": "x"},
        today=TODAY, campaigns=CAMPAIGNS, channels=CHANNELS,
    )  # fmt: skip
    assert reading.errors == {}
    assert reading.filters == ReportFilters(date(2026, 3, 1), date(2026, 3, 10), "spring", "x")


def test_buckets_are_day_week_or_month() -> None:
    assert [parse_bucket(name) for name in ("day", "week", "month")] == ["day", "week", "month"]
    with pytest.raises(InvalidInput, match="Unknown time bucket.") as error:
        parse_bucket("year")
    assert error.value.fields == {"bucket": "Use day, week or month."}
