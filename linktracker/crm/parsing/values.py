"""Cell values of CRM exports: amounts, flags, stages, emails, URL parameters (dates: ``dates``).

Every parser takes the raw cell text and returns a typed value, ``None`` for an empty
cell, or raises :class:`ValueProblem` whose message is the reason shown to the user.
Nothing here knows about columns or files; per-file decisions (day-first dates, decimal
comma) come in as arguments.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from decimal import Decimal, InvalidOperation
from typing import Final, Literal
from urllib.parse import unquote_plus

__all__ = [
    "Outcome",
    "ValueProblem",
    "amount_decimal_hint",
    "classify_stage",
    "currency_code",
    "is_null",
    "normalise_email",
    "parse_amount",
    "parse_flag",
    "query_params",
]


class ValueProblem(ValueError):
    """A cell could not be read; the message is the reason reported for the row."""


# Spreadsheet and database exports write these for "no value"; they are not errors.
_NULLS: Final = frozenset({"-", "--", "—", "–", "n/a", "na", "null", "none", "nil", "(blank)"})


def is_null(text: str) -> bool:
    """Whether a cell says "no value" (empty, `n/a`, `-`, a zero date…)."""
    return not text or text.casefold() in _NULLS or text.startswith("0000-00-00")


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
    if is_null(value):
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
    if is_null(text.strip()):
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
