"""The report metrics, one named function each, and FORMULAS: their definitions in words.

"Where is the conversion rate computed?" -> click_to_lead_rate, here. Counting happens in SQL
(reports/queries.py, reports/rollup_queries.py); these functions turn the counts into rates,
days and money. A rate or a number of days is None when its denominator is empty (never 0,
never an error).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from linktracker.reports.results import Figures

SECONDS_PER_DAY = 86400


def rate(numerator: int, denominator: int | None) -> float | None:
    """numerator / denominator, or None when the denominator is 0 or unknown."""
    return numerator / denominator if denominator else None


def click_to_lead_rate(leads: int, unique_visitors: int | None) -> float | None:
    """The conversion rate: leads / unique_visitors (None without visitors)."""
    return rate(leads, unique_visitors)


def lead_to_won_rate(won: int, leads: int) -> float | None:
    """won / leads (None without leads)."""
    return rate(won, leads)


def join_rate(joined: int, invited: int) -> float | None:
    """Employees who joined / employees on file (None when nobody is on file)."""
    return rate(joined, invited)


def participation_rate(active: int, joined: int) -> float | None:
    """Employees with a human click in range / employees who joined (None without joiners)."""
    return rate(active, joined)


def clicks_per_link(clicks: int, links_shared: int) -> float | None:
    """Human clicks / links with a human click in range (None without such links)."""
    return rate(clicks, links_shared)


def days_to_close(created_at: datetime, closed_at: datetime) -> float | None:
    """(closed_at - created_at) in days; None when the record closed before it was created.

    A close date without a time was imported as a whole day (closed at the creation's time of
    day), so a same-day win is 0 days."""
    seconds = (closed_at - created_at).total_seconds()
    return seconds / SECONDS_PER_DAY if seconds >= 0 else None


def days_click_to_close(
    created_at: datetime, closed_at: datetime, seconds_from_click: int
) -> float | None:
    """(closed_at - attributed click time) in days, where the click came `seconds_from_click`
    before the record's creation; None when the record closed before it was created."""
    seconds = (closed_at - created_at).total_seconds()
    return (seconds + seconds_from_click) / SECONDS_PER_DAY if seconds >= 0 else None


def estimated_impressions(shares: Iterable[tuple[int, int]]) -> int:
    """Sum over (connections, campaigns shared) per sharer of connections * campaigns shared:
    every share is seen by the sharer's connections."""
    return sum(connections * campaigns for connections, campaigns in shares)


def earned_media_value(impressions: int, cpm: float) -> float:
    """What the impressions would cost as ads: impressions / 1000 * CPM, to the cent."""
    return round(impressions / 1000 * cpm, 2)


def lead_cost_savings(leads: int, cost_per_lead: float) -> float:
    """What the leads would cost bought: leads * cost per lead, to the cent."""
    return round(leads * cost_per_lead, 2)


def median(values: list[float]) -> float | None:
    """The median, or None for no values."""
    return statistics.median(values) if values else None


def mean(values: list[float]) -> float | None:
    """The arithmetic mean, or None for no values."""
    return statistics.fmean(values) if values else None


@dataclass
class CloseTimes:
    """Days to close of a group's won records, and how many records they leave out.

    A won record without close date counts as won and is left out of time to close; one
    closed before it was created is left out and counted in `closed_before_created` (the
    import keeps it: the CRM is the source of truth)."""

    to_close: list[float] = field(default_factory=list)
    click_to_close: list[float] = field(default_factory=list)
    without_close_date: int = 0
    closed_before_created: int = 0

    def add(self, created: datetime, closed: datetime | None, from_click: int | None) -> None:
        """Count one won record."""
        if closed is None:
            self.without_close_date += 1
            return
        days = days_to_close(created, closed)
        if days is None:
            self.closed_before_created += 1
            return
        self.to_close.append(days)
        from_click_days = (
            days_click_to_close(created, closed, from_click) if from_click is not None else None
        )
        if from_click_days is not None:
            self.click_to_close.append(from_click_days)

    def merge(self, other: CloseTimes) -> None:
        """Add another group's records to these."""
        self.to_close += other.to_close
        self.click_to_close += other.click_to_close
        self.without_close_date += other.without_close_date
        self.closed_before_created += other.closed_before_created


def group_figures(
    traffic: Any | None,
    leads: int,
    won: int,
    close_times: CloseTimes,
    revenue: Mapping[str, Decimal],
    *,
    with_traffic: bool = True,
) -> Figures:
    """A group's Figures from its counts. `traffic` is a row with clicks, unique_visitors,
    bot_clicks, preview_clicks and links_shared (None: no traffic, all 0); without
    `with_traffic` (the baseline) the traffic figures and the click-to-lead rate are None."""
    clicks = unique = bots = previews = shared = None
    if with_traffic:
        clicks, unique, bots, previews, shared = (
            (traffic.clicks, traffic.unique_visitors, traffic.bot_clicks,
             traffic.preview_clicks, traffic.links_shared)
            if traffic is not None else (0, 0, 0, 0, 0)
        )  # fmt: skip
    return Figures(
        clicks=clicks,
        unique_visitors=unique,
        bot_clicks=bots,
        preview_clicks=previews,
        links_shared=shared,
        leads=leads,
        won=won,
        click_to_lead_rate=click_to_lead_rate(leads, unique) if with_traffic else None,
        lead_to_won_rate=lead_to_won_rate(won, leads),
        median_days_to_close=median(close_times.to_close),
        mean_days_to_close=mean(close_times.to_close),
        median_days_click_to_close=median(close_times.click_to_close),
        mean_days_click_to_close=mean(close_times.click_to_close),
        won_without_close_date=close_times.without_close_date,
        closed_before_created=close_times.closed_before_created,
        revenue=dict(sorted(revenue.items())),
    )


FORMULAS: dict[str, str] = {
    "clicks": "count of human, non-preview click rows in range",
    "unique_visitors": "count of distinct per-day visitor hashes of those clicks "
    "(= daily unique visitors summed over the range)",
    "bot_clicks": "count of bot requests (not previews) in range, excluded from clicks",
    "preview_clicks": "count of link-preview requests (incl. HEAD) in range, excluded from clicks",
    "links_shared": "count of links with >= 1 human click in range",
    "leads": "count of attributed CRM records (kind lead/contact/deal) created in range",
    "won": "leads with the won flag",
    "click_to_lead_rate": "leads / unique_visitors (null when unique_visitors = 0)",
    "lead_to_won_rate": "won / leads (null when leads = 0)",
    "median_days_to_close": "median over won leads with closed_at >= created_at of "
    "(closed_at - created_at) in days (a close date without a time counts whole days)",
    "mean_days_to_close": "mean over the same records of (closed_at - created_at) in days",
    "median_days_click_to_close": "median over those with an attributed click of "
    "(closed_at - attributed click time) in days",
    "mean_days_click_to_close": "mean of (closed_at - attributed click time) in days",
    "revenue": "sum of amount over won leads, per currency (the default currency for "
    "amounts imported without one)",
    "invited": "employees on file",
    "joined": "employees who signed in or got a link (joined_at set)",
    "join_rate": "joined / invited",
    "active": "employees with >= 1 human click in range",
    "participation_rate": "active / joined",
    "estimated_impressions": "sum over shares of the sharer's connections; a share is a "
    "distinct (employee, campaign) pair with >= 1 human click in range",
    "earned_media_value": "estimated_impressions / 1000 * CPM",
    "lead_cost_savings": "leads * cost per lead",
    "top_by_clicks": "clicks",
    "top_by_clicks_per_link": "clicks / links_shared",
    "top_by_leads": "leads",
    "top_by_approved_contributions": "approved story suggestions made in range",
    "contributions_submitted": "story suggestions employees made in range",
    "contributions_approved": "of those, the ones a marketer approved into a campaign",
    "contributors": "employees with >= 1 story suggestion in range",
}
