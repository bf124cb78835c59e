"""Report dataclasses as plain JSON-ready dicts and as tables (CSV, CLI, pages share these)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from linktracker.reports.participation import Participation
from linktracker.reports.results import (
    CampaignsReport,
    ChannelsReport,
    EmployeeRef,
    Figures,
    ProgramReport,
    RepDetail,
    RepsReport,
)

TRAFFIC_FIELDS = ("clicks", "unique_visitors", "bot_clicks", "preview_clicks", "links_shared")
LEAD_FIELDS = (
    "leads",
    "won",
    "click_to_lead_rate",
    "lead_to_won_rate",
    "median_days_to_close",
    "mean_days_to_close",
    "median_days_click_to_close",
    "mean_days_click_to_close",
    "won_without_close_date",
    "closed_before_created",
)
FIGURE_FIELDS = TRAFFIC_FIELDS + LEAD_FIELDS
BASELINE_NAME = "All other sources"
TOTALS_NAME = "All advocacy"

Table = tuple[list[str], list[list[object]]]


def money(amount: Decimal) -> float:
    """JSON number for an amount of money (two decimals)."""
    return float(amount.quantize(Decimal("0.01")))


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def employee_dict(employee: EmployeeRef | None) -> dict[str, Any] | None:
    if employee is None:
        return None
    return {"handle": employee.handle, "name": employee.name, "team": employee.team}


def figures_dict(figures: Figures) -> dict[str, Any]:
    """The API row fields of one group (traffic fields null for the baseline)."""
    data: dict[str, Any] = {name: getattr(figures, name) for name in FIGURE_FIELDS}
    data["revenue"] = {currency: money(amount) for currency, amount in figures.revenue.items()}
    return data


def period(filters: Any, timezone: str) -> dict[str, Any]:
    return {
        "from": filters.date_from.isoformat(),
        "to": filters.date_to.isoformat(),
        "timezone": timezone,
        "filters": {
            "campaign": filters.campaign,
            "channel": filters.channel,
            "team": filters.team,
            "employee": filters.employee,
        },
    }


def reps_dict(report: RepsReport) -> dict[str, Any]:
    return period(report.filters, report.timezone) | {
        "reps": [
            {"employee": employee_dict(row.employee)} | figures_dict(row.figures)
            for row in report.reps
        ],
        "totals": {"employee": None} | figures_dict(report.totals),
        "baseline": {"employee": None, "name": BASELINE_NAME} | figures_dict(report.baseline),
    }


def campaigns_dict(report: CampaignsReport) -> dict[str, Any]:
    return period(report.filters, report.timezone) | {
        "campaigns": [
            {
                "campaign": {"slug": row.campaign.slug, "name": row.campaign.name}
                if row.campaign
                else None
            }
            | figures_dict(row.figures)
            for row in report.campaigns
        ],  # fmt: skip
        "totals": figures_dict(report.totals),
        "baseline": {"name": BASELINE_NAME} | figures_dict(report.baseline),
    }


def channels_dict(report: ChannelsReport) -> dict[str, Any]:
    return period(report.filters, report.timezone) | {
        "channels": [
            {"channel": row.channel} | figures_dict(row.figures) for row in report.channels
        ],
        "totals": figures_dict(report.totals),
        "baseline": {"name": BASELINE_NAME} | figures_dict(report.baseline),
    }


def rep_dict(detail: RepDetail) -> dict[str, Any]:
    return period(detail.filters, detail.timezone) | {
        "employee": employee_dict(detail.employee),
        "bucket": detail.bucket,
        "figures": figures_dict(detail.figures),
        "baseline": {"name": BASELINE_NAME} | figures_dict(detail.baseline),
        "funnel": [
            {"stage": "clicks", "count": detail.funnel.clicks},
            {"stage": "unique_visitors", "count": detail.funnel.unique_visitors},
            {"stage": "leads", "count": detail.funnel.leads},
            {"stage": "won", "count": detail.funnel.won},
        ],
        "series": [
            {
                "start": p.start.isoformat(),
                "clicks": p.clicks,
                "unique_visitors": p.unique_visitors,
                "leads": p.leads,
                "won": p.won,
            }
            for p in detail.series
        ],  # fmt: skip
        "links": [
            {
                "code": link.code,
                "campaign": link.campaign,
                "channel": link.channel,
                "created_at": _stamp(link.created_at),
                "disabled": link.disabled,
                "clicks": link.clicks,
                "unique_visitors": link.unique_visitors,
                "bot_clicks": link.bot_clicks,
                "preview_clicks": link.preview_clicks,
                "leads": link.leads,
                "won": link.won,
            }
            for link in detail.links
        ],  # fmt: skip
        "records": [
            {
                "source": r.source,
                "external_id": r.external_id,
                "name": r.name,
                "company": r.company,
                "owner": r.owner,
                "stage": r.stage,
                "kind": r.kind,
                "created_at": _stamp(r.created_at),
                "method": r.method,
                "won": r.won,
                "closed_at": _stamp(r.closed_at),
                "amount": money(r.amount) if r.amount is not None else None,
                "currency": r.currency,
                "campaign": r.campaign,
                "channel": r.channel,
                "click_at": _stamp(r.click_at),
                "seconds_from_click": r.seconds_from_click,
            }
            for r in detail.records
        ],  # fmt: skip
        "records_total": detail.records_total,
    }


def program_dict(report: ProgramReport) -> dict[str, Any]:
    return period(report.filters, report.timezone) | {
        "invited": report.invited,
        "joined": report.joined,
        "join_rate": report.join_rate,
        "active": report.active,
        "participation_rate": report.participation_rate,
        "clicks": report.clicks,
        "unique_visitors": report.unique_visitors,
        "leads": report.leads,
        "won": report.won,
        "click_to_lead_rate": report.click_to_lead_rate,
        "lead_to_won_rate": report.lead_to_won_rate,
        "revenue": {currency: money(amount) for currency, amount in report.revenue.items()},
        "estimated_impressions": report.estimated_impressions,
        "earned_media_value": report.earned_media_value,
        "lead_cost_savings": report.lead_cost_savings,
        "cpm": report.cpm,
        "cost_per_lead": report.cost_per_lead,
        "currency": report.currency,
        "top_contributors": [
            {
                "metric": ranking.metric,
                "formula": ranking.formula,
                "contributors": [
                    {"employee": employee_dict(c.employee), "value": c.value}
                    for c in ranking.contributors
                ],
            }
            for ranking in report.top_contributors
        ],
        "contributions": {
            "submitted": report.contributions.submitted,
            "approved": report.contributions.approved,
            "contributors": report.contributions.contributors,
        },
        "totals": figures_dict(report.totals),
        "baseline": {"name": BASELINE_NAME} | figures_dict(report.baseline),
        "formulas": dict(report.formulas),
    }


# ---------------------------------------------------------------- tables


def participation_dict(report: Participation) -> dict[str, Any]:
    return period(report.filters, report.timezone) | {
        "joined": report.joined,
        "active": report.active,
        "participation_rate": report.participation_rate,
        "teams": [
            {
                "team": t.team,
                "joined": t.joined,
                "active": t.active,
                "participation_rate": t.participation_rate,
            }
            for t in report.teams
        ],
        "inactive": [employee_dict(e) for e in report.inactive],
    }


def participation_table(report: Participation) -> Table:
    """One row per joined employee without activity in range."""
    rows: list[list[object]] = [[e.handle, e.name, e.team] for e in report.inactive]
    return ["handle", "name", "team"], rows


def _currencies(figures: Sequence[Figures]) -> list[str]:
    return sorted({currency for f in figures for currency in f.revenue})


def _figure_cells(figures: Figures, currencies: list[str]) -> list[object]:
    cells: list[object] = [getattr(figures, name) for name in FIGURE_FIELDS]
    return cells + [figures.revenue.get(currency) for currency in currencies]


def _figure_header(currencies: list[str]) -> list[str]:
    return list(FIGURE_FIELDS) + [f"revenue_{currency}" for currency in currencies]


def reps_table(report: RepsReport) -> Table:
    """One line per rep, then the advocacy totals and the baseline."""
    currencies = _currencies([r.figures for r in report.reps] + [report.totals, report.baseline])
    header = ["handle", "name", "team", *_figure_header(currencies)]
    rows: list[list[object]] = [
        [r.employee.handle, r.employee.name, r.employee.team, *_figure_cells(r.figures, currencies)]
        for r in report.reps
    ]
    rows.append(["", TOTALS_NAME, "", *_figure_cells(report.totals, currencies)])
    rows.append(["", BASELINE_NAME, "", *_figure_cells(report.baseline, currencies)])
    return header, rows


def campaigns_table(report: CampaignsReport) -> Table:
    currencies = _currencies(
        [r.figures for r in report.campaigns] + [report.totals, report.baseline]
    )
    header = ["campaign", "name", *_figure_header(currencies)]
    rows: list[list[object]] = [
        [r.campaign.slug if r.campaign else "", r.campaign.name if r.campaign else "(none)",
         *_figure_cells(r.figures, currencies)]
        for r in report.campaigns
    ]  # fmt: skip
    rows.append(["", TOTALS_NAME, *_figure_cells(report.totals, currencies)])
    rows.append(["", BASELINE_NAME, *_figure_cells(report.baseline, currencies)])
    return header, rows


def channels_table(report: ChannelsReport) -> Table:
    currencies = _currencies(
        [r.figures for r in report.channels] + [report.totals, report.baseline]
    )
    header = ["channel", *_figure_header(currencies)]
    rows: list[list[object]] = [
        [r.channel or "(unknown)", *_figure_cells(r.figures, currencies)] for r in report.channels
    ]
    rows.append([TOTALS_NAME, *_figure_cells(report.totals, currencies)])
    rows.append([BASELINE_NAME, *_figure_cells(report.baseline, currencies)])
    return header, rows


RECORDS_HEADER: Final = (
    "source", "external_id", "name", "company", "owner", "stage", "kind", "created_at", "method",
    "won", "closed_at", "amount", "currency", "campaign", "channel", "click_at",
    "seconds_from_click",
)  # fmt: skip


def records_table(records: Iterable[Any]) -> tuple[list[str], Iterator[list[object]]]:
    """The records CSV: a header and a lazy row per attributed record (any record shape
    with the fields of RECORDS_HEADER, such as AttributedRecord or PagedRecord)."""
    rows = (
        [r.source, r.external_id, r.name, r.company, r.owner, r.stage, r.kind,
         _stamp(r.created_at), r.method, r.won, _stamp(r.closed_at), r.amount, r.currency,
         r.campaign, r.channel, _stamp(r.click_at), r.seconds_from_click]
        for r in records
    )  # fmt: skip
    return list(RECORDS_HEADER), rows


def rep_table(detail: RepDetail, table: str = "series") -> Table:
    """A rep's time series, links or attributed records."""
    if table == "links":
        return (
            ["code", "campaign", "channel", "clicks", "unique_visitors", "bot_clicks",
             "preview_clicks", "leads", "won"],
            [[x.code, x.campaign, x.channel, x.clicks, x.unique_visitors, x.bot_clicks,
              x.preview_clicks, x.leads, x.won] for x in detail.links],
        )  # fmt: skip
    if table == "records":
        header, rows = records_table(detail.records)
        return header, list(rows)
    return (
        ["start", "clicks", "unique_visitors", "leads", "won"],
        [[p.start.isoformat(), p.clicks, p.unique_visitors, p.leads, p.won] for p in detail.series],
    )


def program_table(report: ProgramReport) -> Table:
    """metric, value, formula: one line per program figure."""
    data = program_dict(report)
    formulas = report.formulas
    rows: list[list[object]] = []
    for name in ("invited", "joined", "join_rate", "active", "participation_rate", "clicks",
                 "unique_visitors", "leads", "won", "click_to_lead_rate", "lead_to_won_rate",
                 "estimated_impressions", "earned_media_value", "lead_cost_savings"):  # fmt: skip
        rows.append([name, data[name], formulas.get(name, "")])
    for name in ("submitted", "approved", "contributors"):
        key = name if name == "contributors" else f"contributions_{name}"
        rows.append([key, data["contributions"][name], formulas.get(key, "")])
    rows.append(["currency", report.currency, "of earned media value and lead-cost savings"])
    for currency, amount in report.revenue.items():
        rows.append([f"revenue_{currency}", amount, formulas["revenue"]])
    for ranking in report.top_contributors:
        for place, contributor in enumerate(ranking.contributors, start=1):
            rows.append(
                [f"top_by_{ranking.metric}_{place}",
                 f"{contributor.employee.handle} ({_number(contributor.value)})", ranking.formula]
            )  # fmt: skip
    return ["metric", "value", "formula"], rows


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def format_cell(value: object) -> str:
    """Display text for the CLI: rates and days rounded, None blank."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}" if not value.is_integer() else str(int(value))
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def text_table(table: Table) -> str:
    """An aligned plain-text table (numbers right-aligned)."""
    header, rows = table
    cells = [[format_cell(c) for c in row] for row in rows]
    numeric = [
        all(isinstance(row[i], int | float | Decimal) or row[i] is None for row in rows)
        for i in range(len(header))
    ]
    widths = [max([len(header[i])] + [len(r[i]) for r in cells]) for i in range(len(header))]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(widths[i]) if numeric[i] else v.ljust(widths[i]) for i, v in enumerate(values)
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in cells])
