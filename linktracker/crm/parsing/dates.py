"""Date cells of CRM exports: one value to a UTC-aware datetime, and its day/month shape.

``DateParser`` reads a cell in the order the whole file was given (``date_order`` decides
it); ``date_order_hint`` tells how one value could read, for that decision. A value read
the other way raises :class:`ValueProblem`, whose message is the reason shown to the user.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateutil_parser

from linktracker.crm.parsing.values import ValueProblem, is_null

__all__ = ["DateParser", "date_order_hint", "zone"]

# A time tail shared by the numeric formats: `14:43`, `4:14 PM`, `11:36:00.123`, `Z`,
# `+02:00`, `UTC`. Seconds and fractions are optional; AM/PM may be written `a.m.`.
_TIME = r"""
    (?:[T\s,]+
        (?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,9}))?)?
        \s*(?P<ampm>[AaPp]\.?[Mm]\.?)?
    )?
    \s*(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})?
    \s*$
"""
# `9/7/2026`, `07.09.2026 14:43`, `7-9-26 4:14 PM`: day and month order is per file.
_DMY: Final = re.compile(
    r"(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})" + _TIME, re.X
)
# `2026/09/07`, `2026.9.7`, and ISO-like values `fromisoformat` refuses (`2026-9-7 4:14 PM`).
_YMD: Final = re.compile(
    r"(?P<y>\d{4})(?P<sep>[/.\-])(?P<a>\d{1,2})(?P=sep)(?P<b>\d{1,2})" + _TIME, re.X
)
# The first three numbers of a DMY/MDY value, enough to vote on the day/month order.
_DMY_HEAD: Final = re.compile(r"\s*(\d{1,2})([/.\-])(\d{1,2})\2\d{2}")
# dateutil is only trusted with values that name a month and a year (`Sep 7, 2026`):
# on anything else it guesses, e.g. `12` becomes the 12th of the current month.
_MONTH_NAME: Final = re.compile(
    r"(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?(?![a-z])"
)
_YEAR: Final = re.compile(r"\b(?:19|20|21)\d\d\b")
_EARLIEST_YEAR: Final = 1900
_LATEST_YEAR: Final = 2199
_CACHE_LIMIT: Final = 4096


def zone(name: str) -> tzinfo:
    """Return the time zone called ``name`` (IANA), raising ValueError for unknown names."""
    if name.upper() in {"UTC", "Z", "ETC/UTC", "GMT"}:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _offset(text: str) -> tzinfo:
    if text in {"Z", "UTC", "GMT"}:
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:])
    if minutes >= 24 * 60:
        raise ValueProblem(f"invalid UTC offset {text!r}")
    return timezone(sign * timedelta(minutes=minutes))


def _dateutil_tz(name: str | None, offset: int | None) -> tzinfo | None:
    # dateutil asks this for every value; unknown abbreviations (EST, CET…) are
    # ambiguous around the world, so the value is refused rather than guessed.
    if offset is not None:
        return timezone(timedelta(seconds=offset))
    if name is None:
        return None
    if name.upper() in {"UTC", "GMT", "Z", "UT"}:
        return UTC
    raise ValueProblem(f"unknown time zone abbreviation {name!r}")


class DateParser:
    """Reads date cells of one file into UTC-aware datetimes."""

    def __init__(self, *, dayfirst: bool, timezone: str = "UTC") -> None:
        self.dayfirst = dayfirst
        self.timezone = zone(timezone)
        self._cache: dict[str, datetime] = {}
        self._whole_days: set[str] = set()  # cached texts that named a day without a time

    def __call__(self, text: str) -> datetime | None:
        """Parse ``text``; None when empty, ValueProblem when it is not a date."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        value = text.strip()
        if not value:
            return None
        parsed: datetime | None = None
        whole_day = False
        if len(value) >= 10 and value[4] == "-" and value[:4].isdigit():
            # ISO 8601 first: most exports use it and fromisoformat is C-fast.
            try:
                parsed = datetime.fromisoformat(value)
                whole_day = len(value) == 10
                if parsed.tzinfo is None and self.timezone is UTC:
                    # Read again as UTC: 0.3 us where replace(tzinfo=…) takes 1.5 us.
                    # A date without a time drops the suffix; replace() handles those.
                    parsed = datetime.fromisoformat(value + "+00:00")
            except ValueError:
                pass  # not ISO: still None; only the re-read failed: the first reading stands
        if parsed is None:
            if is_null(value):
                return None
            parsed, whole_day = self._parse(value)
        if not _EARLIEST_YEAR <= parsed.year <= _LATEST_YEAR:
            raise ValueProblem(f"implausible date {value!r} (year {parsed.year})")
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self.timezone)
        if parsed.tzinfo is not UTC:
            parsed = parsed.astimezone(UTC)
        # Exports repeat dates a lot (date-only columns, minute precision); the cache
        # is cleared rather than evicted because that is cheaper and still bounded.
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
            self._whole_days.clear()
        self._cache[text] = parsed
        if whole_day:
            self._whole_days.add(text)
        return parsed

    def closing(self, text: str, created: datetime) -> datetime | None:
        """Parse a close date; a day without a time closes at the creation's time of day.

        A date-only close date is a whole day: a deal won on the day it was created took
        0 days (not the hours from its creation back to midnight), one won the next day 1.
        """
        parsed = self(text)
        if parsed is None or text not in self._whole_days:
            return parsed
        created_local = created.astimezone(self.timezone)
        day = parsed.astimezone(self.timezone).date()
        if day < created_local.date():
            return parsed  # really closed before it was created: reports count those
        local = datetime.combine(day, created_local.time(), tzinfo=self.timezone)
        return local.astimezone(UTC)

    def _parse(self, value: str) -> tuple[datetime, bool]:
        """Parse a non-ISO value; also say whether it named a day without a time."""
        match = _DMY.match(value)
        if match is not None:
            first, second = int(match["a"]), int(match["b"])
            day, month = (first, second) if self.dayfirst else (second, first)
            year = int(match["y"])
            if year < 100:
                # Two-digit years: the same pivot as POSIX strptime's %y.
                year += 2000 if year < 69 else 1900
            return self._build(value, match, year, month, day), match["H"] is None
        match = _YMD.match(value)
        if match is not None:
            built = self._build(value, match, int(match["y"]), int(match["a"]), int(match["b"]))
            return built, match["H"] is None
        return self._fallback(value)

    def _build(self, value: str, match: re.Match[str], year: int, month: int, day: int) -> datetime:
        hour = minute = second = micro = 0
        if match["H"] is not None:
            hour, minute = int(match["H"]), int(match["M"])
            second = int(match["S"] or 0)
            micro = int((match["f"] or "0")[:6].ljust(6, "0"))
            ampm = match["ampm"]
            if ampm is not None:
                if not 1 <= hour <= 12:
                    raise ValueProblem(f"invalid time in {value!r} (hour {hour} with AM/PM)")
                hour = hour % 12 + (12 if ampm[0] in "Pp" else 0)
        if month > 12 and match.re is _DMY:
            order = "day first (DD/MM)" if self.dayfirst else "month first (MM/DD)"
            raise ValueProblem(f"invalid date {value!r}: dates in this file are read {order}")
        tz = _offset(match["tz"]) if match["tz"] else None
        try:
            return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
        except ValueError as exc:
            raise ValueProblem(f"invalid date {value!r} ({exc})") from exc

    def _fallback(self, value: str) -> tuple[datetime, bool]:
        if _MONTH_NAME.search(value) is None or _YEAR.search(value) is None:
            raise ValueProblem(f"unparseable date {value!r}")
        # Parsing with two different defaults exposes fields dateutil filled in
        # itself: `Sep 2026` has no day and must not become the 1st.
        # The second default's time also exposes a value without a time.
        results = []
        for default in (datetime(2000, 1, 1), datetime(2001, 2, 2, 1, 1)):
            try:
                results.append(
                    dateutil_parser.parse(
                        value, dayfirst=self.dayfirst, default=default, tzinfos=_dateutil_tz
                    )
                )
            except (ValueError, OverflowError) as exc:
                if isinstance(exc, ValueProblem):
                    raise
                raise ValueProblem(f"unparseable date {value!r}") from exc
        if results[0].date() != results[1].date():
            raise ValueProblem(f"incomplete date {value!r} (needs day, month and year)")
        return results[0], results[0].time() != results[1].time()


def date_order_hint(text: str) -> tuple[int, str] | None:
    """Vote on day/month order: (+1 day first, -1 month first, 0 ambiguous, separator)."""
    match = _DMY_HEAD.match(text)
    if match is None:
        return None
    first, second = int(match[1]), int(match[3])
    if first > 12 >= second:
        return 1, match[2]
    if second > 12 >= first:
        return -1, match[2]
    return 0, match[2]
