"""What reading an export yields: a record per good row, an error per bad row, or a refusal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from linktracker.errors import InvalidInput

__all__ = ["Converter", "ParsedRecord", "Row", "RowError", "UnreadableExport"]


class UnreadableExport(InvalidInput):
    """The upload is refused whole; ``str(exc)`` is the message for the user.

    ``mapping`` is what was recognised of the header when a needed column is missing.
    """

    def __init__(self, message: str, mapping: dict[str, str | None] | None = None) -> None:
        super().__init__(message)
        self.mapping = mapping


class ParsedRecord(NamedTuple):
    """One good row of a CRM export, typed and normalised (datetimes are UTC-aware)."""

    # An immutable NamedTuple rather than a frozen dataclass: one is built per row, and a
    # frozen dataclass of this size costs several times as much to build.
    line: int  # physical line where the row starts, 1-based, header included
    external_id: str
    kind: str  # lead, contact or deal
    created_at: datetime
    owner: str | None
    stage: str | None
    won: bool
    closed_at: datetime | None  # only for closed (won or lost) records
    amount: Decimal | None
    currency: str | None  # ISO 4217
    email: str | None  # stripped, lowercased
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_content: str | None
    utm_term: str | None
    click_id: str | None
    landing_url: str | None
    source: str | None  # lead source / original source as the CRM reports it
    source_detail: str | None  # e.g. HubSpot drill-downs, joined with " / "
    name: str | None  # deal, opportunity or contact name
    company: str | None
    raw: tuple[str, ...]  # the row's cells as read


class RowError(NamedTuple):
    """A rejected row: where it starts, which column is at fault, and why."""

    line: int
    column: str | None  # header name, None when the row as a whole is malformed
    reason: str
    raw: tuple[str, ...]


# A data row as read: its physical line (where it starts, 1-based) and its cells.
Row = tuple[int, list[str]]
Converter = Callable[[int, list[str]], ParsedRecord | RowError]
