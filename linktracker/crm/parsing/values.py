"""Cell values of CRM exports: dates, amounts, flags, stages, emails, URL parameters.

Every parser takes the raw cell text and returns a typed value, ``None`` for an empty
cell, or raises :class:`ValueProblem` whose message is the reason shown to the user.
Nothing here knows about columns or files; per-file decisions (day-first dates, decimal
comma) come in as arguments.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Final, Literal
from urllib.parse import unquote_plus
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateutil_parser

__all__ = [
    "DateParser",
    "Outcome",
    "ValueProblem",
    "amount_decimal_hint",
    "classify_stage",
    "currency_code",
    "date_order_hint",
    "normalise_email",
    "parse_amount",
    "parse_flag",
    "query_params",
    "zone",
]


class ValueProblem(ValueError):
    """A cell could not be read; the message is the reason reported for the row."""


# Spreadsheet and database exports write these for "no value"; they are not errors.
_NULLS: Final = frozenset({"-", "--", "—", "–", "n/a", "na", "null", "none", "nil", "(blank)"})


def _is_null(text: str) -> bool:
    return not text or text.casefold() in _NULLS or text.startswith("0000-00-00")


# ---------------------------------------------------------------------------------------
# Dates

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
            if _is_null(value):
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


# ---------------------------------------------------------------------------------------
# Amounts

# ISO 4217 active codes, so that `abc 12` is refused instead of inventing currency ABC.
_ISO_CODES: Final = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL
    BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN
    ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR
    ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL
    MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
    PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD
    SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND
    VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL"""
_ISO_4217: Final = frozenset(_ISO_CODES.split())
# Symbols as exports print them. `$` is read as USD and `¥` as JPY: a currency column,
# when the file has one, always wins over a symbol.
_SYMBOLS: Final[dict[str, str | None]] = {
    "$": "USD",
    "US$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "￥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "₪": "ILS",
    "₫": "VND",
    "₱": "PHP",
    "₴": "UAH",
    "฿": "THB",
    "R$": "BRL",
    "C$": "CAD",
    "CA$": "CAD",
    "A$": "AUD",
    "AU$": "AUD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "S$": "SGD",
    "zł": "PLN",
    "Kč": "CZK",
    "Fr.": "CHF",
    # Swedish, Norwegian, Danish and Icelandic crowns all print as `kr`.
    "kr": None,
    "kr.": None,
}
_SYMBOL_PATTERN = "|".join(re.escape(s) for s in sorted(_SYMBOLS, key=len, reverse=True))
_CURRENCY = rf"(?:{_SYMBOL_PATTERN}|[A-Za-z]{{3}}(?![A-Za-z]))"
# Grouping may use `.`, `,`, apostrophes (Swiss) or spaces, including the no-break and
# narrow no-break spaces spreadsheets insert; the number must start and end with a digit.
_NUMBER = r"(?:\d[\d.,'’ \u00a0\u202f\u2009]*\d|\d|[.,]\d+)"
_AMOUNT: Final = re.compile(
    rf"""(?P<sign1>[-+−])?\s*(?P<cur1>{_CURRENCY})?\s*(?P<sign2>[-+−])?\s*
    (?P<num>{_NUMBER})\s*(?P<cur2>{_CURRENCY})?\s*(?P<sign3>-)?""",
    re.X,
)
_PLAIN_NUMBER: Final = re.compile(r"-?\d+(?:\.\d+)?")
_GROUPING_JUNK: Final = str.maketrans("", "", "'’ \u00a0\u202f\u2009")


def currency_code(text: str) -> str | None:
    """Return the ISO 4217 code for a currency cell (`EUR`, `eur`, `€`), None when empty."""
    value = text.strip()
    if _is_null(value):
        return None
    if value in _SYMBOLS:
        return _SYMBOLS[value]
    code = value.upper()
    if code in _ISO_4217:
        return code
    raise ValueProblem(f"unknown currency {value!r}")


def _split_amount(text: str) -> tuple[bool, str, str | None] | None:
    """Return (negative, digits-and-separators, currency text) or None when not an amount."""
    value = text.strip()
    negative = False
    if value.startswith("(") and value.endswith(")"):
        # Accounting notation: `(1,000.00)` is minus one thousand.
        negative = True
        value = value[1:-1].strip()
    match = _AMOUNT.fullmatch(value)
    if match is None:
        return None
    signs = [s for s in (match["sign1"], match["sign2"], match["sign3"]) if s]
    if len(signs) > 1 or (match["cur1"] and match["cur2"]):
        return None
    if signs and signs[0] != "+":
        negative = not negative
    return negative, match["num"].translate(_GROUPING_JUNK), match["cur1"] or match["cur2"]


def _decimal_separator(number: str, decimal_comma: bool) -> str | None:
    """Return which of `.`/`,` is the decimal separator of ``number`` (None: integer)."""
    last_dot, last_comma = number.rfind("."), number.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        return "." if last_dot > last_comma else ","
    sep = "." if last_dot >= 0 else "," if last_comma >= 0 else None
    if sep is None:
        return None
    if number.count(sep) > 1:
        return None
    # One separator followed by exactly three digits (`1.234`, `1,234`) is the only
    # ambiguous shape; everything else (`12.5`, `1234,56`) shows its decimal part.
    if len(number) - number.index(sep) - 1 != 3:
        return sep
    # Only the file's decimal separator can be decimal here; the other one groups
    # thousands, so `1.234` is 1234 in a decimal-comma file and 1.234 elsewhere.
    return sep if (sep == ",") == decimal_comma else None


def _valid_grouping(integer: str, group: str) -> bool:
    if group not in integer:
        return integer.isdigit()
    parts = integer.split(group)
    head, *middle, tail = parts
    # 1-3 leading digits, groups of three; Indian lakh grouping (`1,23,456`) uses twos
    # before the last group of three.
    return (
        1 <= len(head) <= 3
        and head.isdigit()
        and len(tail) == 3
        and tail.isdigit()
        and all(len(p) in (2, 3) and p.isdigit() for p in middle)
    )


def parse_amount(text: str, *, decimal_comma: bool) -> tuple[Decimal, str | None] | None:
    """Parse a money cell into (amount, ISO currency or None); None when empty."""
    if _PLAIN_NUMBER.fullmatch(text):
        # Most exports write bare numbers (`23815.01`): Decimal reads those directly,
        # unless `1.234` must be read with the file's decimal comma.
        dot = text.find(".")
        if not (decimal_comma and dot >= 0 and len(text) - dot == 4):
            return Decimal(text), None
    if _is_null(text.strip()):
        return None
    parts = _split_amount(text)
    if parts is None:
        raise ValueProblem(f"not an amount: {text.strip()!r}")
    negative, number, currency_text = parts
    currency = None
    if currency_text is not None:
        currency = currency_code(currency_text)
    sep = _decimal_separator(number, decimal_comma)
    if sep is None:
        integer, fraction = number, ""
        group = "," if "," in number else "."
    else:
        integer, _, fraction = number.rpartition(sep)
        group = "." if sep == "," else ","
        if not fraction.isdigit():
            raise ValueProblem(f"not an amount: {text.strip()!r}")
    if integer and not _valid_grouping(integer, group):
        raise ValueProblem(f"ambiguous or malformed number in amount {text.strip()!r}")
    digits = integer.replace(group, "") or "0"
    try:
        amount = Decimal(f"{digits}.{fraction}" if fraction else digits)
    except InvalidOperation as exc:  # pragma: no cover - the pattern only lets digits in
        raise ValueProblem(f"not an amount: {text.strip()!r}") from exc
    return (-amount if negative else amount), currency


def amount_decimal_hint(text: str) -> str | None:
    """Return the decimal separator an amount shows unambiguously (`.` or `,`), else None."""
    parts = _split_amount(text)
    if parts is None:
        return None
    number = parts[1]
    has_dot, has_comma = "." in number, "," in number
    if has_dot and has_comma:
        return "." if number.rfind(".") > number.rfind(",") else ","
    sep = "." if has_dot else "," if has_comma else None
    if sep is None:
        return None
    if number.count(sep) > 1:
        # Repeated: it can only be the grouping separator, so the other one is decimal.
        return "," if sep == "." else "."
    if len(number) - number.index(sep) - 1 != 3:
        return sep
    return None


# ---------------------------------------------------------------------------------------
# Flags and stages

_TRUE: Final = frozenset(
    {"1", "true", "yes", "y", "x", "t", "won", "converted", "wahr", "ja", "oui", "si", "sí"}
)
_FALSE: Final = frozenset({"0", "false", "no", "n", "f", "lost", "falsch", "nein", "non"})
_FLAG_NULLS: Final = _NULLS - _FALSE


def parse_flag(text: str) -> bool | None:
    """Read a yes/no cell (1/0, true/false, yes/no, x, won/lost); None when empty."""
    value = text.strip().casefold()
    if not value or value in _FLAG_NULLS:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueProblem(f"not a yes/no value: {text.strip()!r}")


Outcome = Literal["won", "lost", "closed", "open"]

# Lost is tested first so that `Closed - Not Converted` is not read as converted.
_LOST: Final = re.compile(
    r"(?i)\b(?:closed\s*[-_]?\s*lost|lost|not\s*[-_]?\s*converted|unconverted|disqualified"
    r"|unqualified|verloren|perdu|perdue|perdido|perdida|perso)\b"
)
_WON: Final = re.compile(
    r"(?i)\b(?:closed\s*[-_]?\s*won|won(?!['’]t)|converted|gewonnen|gagn[ée]e?|ganado|ganada"
    r"|vinto|ganho)\b"
)
_CLOSED: Final = re.compile(r"(?i)\b(?:closed|geschlossen|ferm[ée]e?|cerrad[oa])\b")


def classify_stage(text: str) -> Outcome | None:
    """Classify a stage or status text as won, lost, closed (neither) or open."""
    value = text.strip()
    if not value:
        return None
    if _LOST.search(value):
        return "lost"
    if _WON.search(value):
        return "won"
    if _CLOSED.search(value):
        return "closed"
    return "open"


# ---------------------------------------------------------------------------------------
# Emails and URLs

_EMAIL_SPLIT: Final = re.compile(r"[;,\s]+")


def normalise_email(text: str) -> str | None:
    """Return the first address of an email cell, stripped and lowercased; None if none."""
    value = text.strip()
    if "<" in value and ">" in value:
        # `Ana Souza <ana@example.com>` as some exports write contacts.
        value = value[value.index("<") + 1 : value.rindex(">")]
    for candidate in _EMAIL_SPLIT.split(value):
        if "@" in candidate:
            return candidate.strip().lower()
    return None


def query_params(url: str, names: Collection[str]) -> dict[str, str]:
    """Return the (first, non-empty) values of ``names`` in the query string of ``url``."""
    end = url.find("#")
    end = len(url) if end < 0 else end
    question = url.find("?", 0, end)
    if question < 0:
        return {}
    query = url[question + 1 : end]
    if ";" in query:
        # The old HTML recommendation allowed `;` between parameters.
        query = query.replace(";", "&")
    found: dict[str, str] = {}
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if "%" in key or "+" in key:
            key = unquote_plus(key)
        if value and key in names and key not in found:
            found[key] = unquote_plus(value) if ("%" in value or "+" in value) else value
    return found
