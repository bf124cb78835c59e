"""The report metrics, one function each: their arithmetic and their empty denominators."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from linktracker.reports import figures
from linktracker.reports.figures import (
    FORMULAS,
    CloseTimes,
    click_to_lead_rate,
    clicks_per_link,
    days_click_to_close,
    days_to_close,
    earned_media_value,
    estimated_impressions,
    group_figures,
    join_rate,
    lead_cost_savings,
    lead_to_won_rate,
    mean,
    median,
    participation_rate,
)

CREATED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("metric", "numerator", "denominator", "expected"),
    [
        (click_to_lead_rate, 3, 12, 0.25),
        (click_to_lead_rate, 3, 0, None),
        (click_to_lead_rate, 0, None, None),
        (lead_to_won_rate, 1, 4, 0.25),
        (lead_to_won_rate, 0, 0, None),
        (join_rate, 5, 10, 0.5),
        (join_rate, 0, 0, None),
        (participation_rate, 2, 8, 0.25),
        (participation_rate, 2, 0, None),
        (clicks_per_link, 9, 3, 3.0),
        (clicks_per_link, 9, 0, None),
    ],
)
def test_rates_divide_and_are_none_without_a_denominator(
    metric: object, numerator: int, denominator: int | None, expected: float | None
) -> None:
    assert callable(metric)
    assert metric(numerator, denominator) == expected


def test_days_to_close_counts_fractional_days_and_refuses_closing_before_creation() -> None:
    assert days_to_close(CREATED, CREATED) == 0.0
    assert days_to_close(CREATED, CREATED + timedelta(days=2, hours=12)) == 2.5
    assert days_to_close(CREATED, CREATED - timedelta(seconds=1)) is None


def test_days_click_to_close_adds_the_time_from_click_to_creation() -> None:
    closed = CREATED + timedelta(days=1)
    assert days_click_to_close(CREATED, closed, 43200) == 1.5
    assert days_click_to_close(CREATED, CREATED - timedelta(days=1), 43200) is None


def test_reach_and_money() -> None:
    assert estimated_impressions([(500, 2), (1000, 1), (0, 4)]) == 2000
    assert estimated_impressions([]) == 0
    assert earned_media_value(2000, 12.5) == 25.0
    assert earned_media_value(1234, 3.33) == 4.11  # to the cent
    assert lead_cost_savings(3, 40.5) == 121.5
    assert lead_cost_savings(0, 40.0) == 0.0


def test_median_and_mean_are_none_for_no_values() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0 and mean([1.0, 2.0]) == 1.5
    assert median([]) is None and mean([]) is None


def test_close_times_leave_out_records_without_or_before_their_creation() -> None:
    times = CloseTimes()
    times.add(CREATED, CREATED + timedelta(days=2), 86400)
    times.add(CREATED, CREATED + timedelta(days=4), None)
    times.add(CREATED, None, 3600)
    times.add(CREATED, CREATED - timedelta(days=1), 3600)
    assert times.to_close == [2.0, 4.0] and times.click_to_close == [3.0]
    assert (times.without_close_date, times.closed_before_created) == (1, 1)
    other = CloseTimes([1.0], [1.5], 2, 0)
    times.merge(other)
    assert times.to_close == [2.0, 4.0, 1.0] and times.click_to_close == [3.0, 1.5]
    assert (times.without_close_date, times.closed_before_created) == (3, 1)


def test_group_figures_from_counts() -> None:
    traffic = SimpleNamespace(
        clicks=10, unique_visitors=8, bot_clicks=2, preview_clicks=1, links_shared=3
    )
    times = CloseTimes([1.0, 3.0], [2.0], 1, 0)
    revenue = {"USD": Decimal("5.00"), "EUR": Decimal("10.00")}
    result = group_figures(traffic, 4, 2, times, revenue)
    assert (result.clicks, result.unique_visitors, result.links_shared) == (10, 8, 3)
    assert result.click_to_lead_rate == 0.5 and result.lead_to_won_rate == 0.5
    assert result.median_days_to_close == 2.0 and result.mean_days_click_to_close == 2.0
    assert result.won_without_close_date == 1
    assert list(result.revenue) == ["EUR", "USD"]
    quiet = group_figures(None, 0, 0, CloseTimes(), {})
    assert (quiet.clicks, quiet.unique_visitors, quiet.click_to_lead_rate) == (0, 0, None)
    assert quiet.median_days_to_close is None and quiet.lead_to_won_rate is None
    baseline = group_figures(None, 2, 1, CloseTimes(), {}, with_traffic=False)
    assert baseline.clicks is None and baseline.click_to_lead_rate is None
    assert baseline.lead_to_won_rate == 0.5


def test_every_metric_function_has_a_docstring_and_every_rate_a_formula() -> None:
    functions = [
        f for name, f in inspect.getmembers(figures, inspect.isfunction)
        if f.__module__ == figures.__name__ and not name.startswith("_")
    ]  # fmt: skip
    assert functions and all(inspect.getdoc(f) for f in functions)
    for name in ("click_to_lead_rate", "lead_to_won_rate", "join_rate", "participation_rate",
                 "earned_media_value", "lead_cost_savings", "estimated_impressions"):  # fmt: skip
        assert hasattr(figures, name) and FORMULAS[name]
