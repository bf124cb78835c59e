"""Click breakdowns as JSON-ready dicts and as tables (the API's CSV and the pages' downloads)."""

from __future__ import annotations

from datetime import date
from typing import Any

from linktracker.reports.audience import Audience, Breakdown, Key
from linktracker.reports.present import Table, period

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DIRECT = "direct or dark social"


def json_key(key: Key) -> str | int | None:
    """A row key for JSON: a day as YYYY-MM-DD, hours and weekdays as numbers."""
    return key.isoformat() if isinstance(key, date) else key


def clicks_dict(report: Breakdown) -> dict[str, Any]:
    """The API answer: {from, to, by, rows, total, bots, previews} (and the filters)."""
    return period(report.filters, report.timezone) | {
        "by": report.by,
        "rows": [
            {"key": json_key(row.key), "clicks": row.clicks, "unique_visitors": row.unique_visitors}
            for row in report.rows
        ],
        "total": {"clicks": report.clicks, "unique_visitors": report.unique_visitors},
        "bots": report.bots,
        "previews": report.previews,
    }


def clicks_table(report: Breakdown) -> Table:
    """One row per value, then the total; an unknown value is an empty cell."""
    header = [report.by, "clicks", "unique_visitors"]
    rows: list[list[object]] = [
        [json_key(row.key), row.clicks, row.unique_visitors] for row in report.rows
    ]
    rows.append(["total", report.clicks, report.unique_visitors])
    return header, rows


def matrix_table(audience: Audience) -> Table:
    """Clicks per referrer channel (rows) and link channel (columns)."""
    matrix = audience.matrix
    header = ["referrer_channel", *matrix.link_channels]
    rows: list[list[object]] = [
        [
            ref if ref is not None else DIRECT,
            *(matrix.clicks(ref, link) for link in matrix.link_channels),
        ]
        for ref in matrix.referrer_channels
    ]
    return header, rows


def heatmap_table(audience: Audience) -> Table:
    """Clicks per weekday (rows) and local hour (columns)."""
    header = ["weekday", *(str(hour) for hour in range(24))]
    rows: list[list[object]] = [
        [name, *(audience.heatmap.get((day, hour), 0) for hour in range(24))]
        for day, name in enumerate(WEEKDAYS)
    ]
    return header, rows


def block_table(audience: Audience, block: str) -> Table:
    """The table of one Audience block by name: a breakdown, `matrix` or `heatmap`."""
    if block == "matrix":
        return matrix_table(audience)
    if block == "heatmap":
        return heatmap_table(audience)
    return clicks_table(audience.breakdowns[block])
