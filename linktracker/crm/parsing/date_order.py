"""Where the day/month order of an export's dates is decided: the whole file votes.

``03/04/2026`` is March or April depending on the file, never on the row. The pre-scan
shows every date of the date columns to :meth:`DateOrderVotes.vote` (the shape of one value
is read by ``values.date_order_hint``); :func:`decide_date_order` then settles the order
for the whole file, with the reason shown to people. An explicit ``dayfirst`` skips both.
The rows read the other way are rejected by ``values.DateParser``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from linktracker.crm.parsing.dates import date_order_hint

__all__ = ["DATE_FIELDS", "DateOrderVotes", "decide_date_order"]

DATE_FIELDS: Final = ("created_at", "closed_at", "won_at", "lost_at")
_VOTE_LIMIT: Final = 1000  # unambiguous dates after which the votes stop being counted


@dataclass
class DateOrderVotes:
    """How the dates seen so far read: day first, month first, either way."""

    day: int = 0  # dates only valid day first (13/04/2026)
    month: int = 0  # dates only valid month first (04/13/2026)
    ambiguous: int = 0  # dates valid both ways (03/04/2026)
    dotted: int = 0  # ambiguous dates written with dots (03.04.2026): a day-first habit
    rows: int = 0

    def vote(self, row: list[str], positions: list[int]) -> bool:
        """Count the row's dates; False once more rows cannot change the decision."""
        for i in positions:
            if i < len(row) and row[i]:
                hint = date_order_hint(row[i])
                if hint is None:
                    continue
                vote, separator = hint
                if vote > 0:
                    self.day += 1
                elif vote < 0:
                    self.month += 1
                else:
                    self.ambiguous += 1
                    self.dotted += separator == "."
        self.rows += 1
        # Enough votes, or a file whose dates are not DD/MM-MM/DD-shaped at all.
        return not (
            self.day + self.month >= _VOTE_LIMIT
            or (self.rows >= _VOTE_LIMIT and not (self.ambiguous or self.day or self.month))
        )


def decide_date_order(votes: DateOrderVotes, delimiter: str) -> tuple[bool, str]:
    """Day first or not for the whole file, and the reason in words."""
    day, month = votes.day, votes.month
    if day or month:
        dayfirst = day > month
        agree, disagree = (day, month) if dayfirst else (month, day)
        reason = f"detected from {agree} unambiguous date{'s' if agree != 1 else ''}"
        if disagree:
            reason += f" ({disagree} read the other way and are rejected)"
        return dayfirst, reason
    if not votes.ambiguous:
        return False, "not needed (no DD/MM or MM/DD dates)"
    if votes.dotted * 2 > votes.ambiguous:
        return True, "default for DD.MM.YYYY dates (day first)"
    if delimiter == ";":
        # Excel separates with ';' where ',' is the decimal mark: continental Europe and
        # Latin America, which write the day first.
        return True, "default for ';'-separated exports (day first)"
    return False, "default (month first)"
