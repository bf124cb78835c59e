"""What the reports return: frozen dataclasses, so templates and exports never lazy-load.

Each figure's definition is in reports/figures.py (FORMULAS); rates and days are None when
their denominator is empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from linktracker.contributions.services import ContributionCounts
from linktracker.reports.filters import Bucket, ReportFilters


@dataclass(frozen=True)
class EmployeeRef:
    handle: str
    name: str
    team: str | None


@dataclass(frozen=True)
class CampaignRef:
    slug: str
    name: str


@dataclass(frozen=True)
class Figures:
    """The report figures of one group; traffic fields are None for the baseline."""

    clicks: int | None
    unique_visitors: int | None
    bot_clicks: int | None
    preview_clicks: int | None
    links_shared: int | None
    leads: int
    won: int
    click_to_lead_rate: float | None
    lead_to_won_rate: float | None
    median_days_to_close: float | None
    mean_days_to_close: float | None
    median_days_click_to_close: float | None
    mean_days_click_to_close: float | None
    won_without_close_date: int
    closed_before_created: int
    revenue: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class RepRow:
    employee: EmployeeRef
    figures: Figures


@dataclass(frozen=True)
class CampaignRow:
    campaign: CampaignRef | None  # None: leads credited to a rep without a campaign
    figures: Figures


@dataclass(frozen=True)
class ChannelRow:
    channel: str | None  # None: leads whose channel is unknown
    figures: Figures


@dataclass(frozen=True, kw_only=True)
class GroupedReport:
    """What every report by group has besides its rows: its filters, totals and baseline."""

    filters: ReportFilters
    timezone: str
    totals: Figures
    baseline: Figures


@dataclass(frozen=True, kw_only=True)
class RepsReport(GroupedReport):
    reps: tuple[RepRow, ...]


@dataclass(frozen=True, kw_only=True)
class CampaignsReport(GroupedReport):
    campaigns: tuple[CampaignRow, ...]


@dataclass(frozen=True, kw_only=True)
class ChannelsReport(GroupedReport):
    channels: tuple[ChannelRow, ...]


@dataclass(frozen=True)
class SeriesPoint:
    start: date
    clicks: int
    unique_visitors: int
    leads: int
    won: int


@dataclass(frozen=True)
class LinkFigures:
    code: str
    campaign: str
    channel: str
    created_at: datetime
    disabled: bool
    clicks: int
    unique_visitors: int
    bot_clicks: int
    preview_clicks: int
    leads: int
    won: int


@dataclass(frozen=True)
class AttributedRecord:
    source: str
    external_id: str
    name: str | None
    company: str | None
    owner: str | None
    stage: str | None
    kind: str
    created_at: datetime
    method: str
    won: bool
    closed_at: datetime | None
    amount: Decimal | None
    currency: str | None
    campaign: str | None
    channel: str | None
    click_at: datetime | None
    seconds_from_click: int | None


@dataclass(frozen=True)
class Funnel:
    clicks: int
    unique_visitors: int
    leads: int
    won: int


@dataclass(frozen=True)
class RepDetail:
    filters: ReportFilters
    timezone: str
    bucket: Bucket
    employee: EmployeeRef
    figures: Figures
    baseline: Figures
    funnel: Funnel
    series: tuple[SeriesPoint, ...]
    links: tuple[LinkFigures, ...]
    records: tuple[AttributedRecord, ...]
    records_total: int


@dataclass(frozen=True)
class Contributor:
    employee: EmployeeRef
    value: float


@dataclass(frozen=True)
class Ranking:
    metric: str
    formula: str
    contributors: tuple[Contributor, ...]


@dataclass(frozen=True)
class ProgramReport:
    filters: ReportFilters
    timezone: str
    invited: int
    joined: int
    join_rate: float | None
    active: int
    participation_rate: float | None
    clicks: int
    unique_visitors: int
    leads: int
    won: int
    lead_to_won_rate: float | None
    click_to_lead_rate: float | None
    revenue: Mapping[str, Decimal]
    estimated_impressions: int
    earned_media_value: float
    lead_cost_savings: float
    cpm: float
    cost_per_lead: float
    currency: str  # of earned media value, lead-cost savings, CPM and cost per lead
    top_contributors: tuple[Ranking, ...]
    totals: Figures
    baseline: Figures
    formulas: Mapping[str, str]
    # Story suggestions made in range (by submission time; the team filter applies).
    contributions: ContributionCounts
