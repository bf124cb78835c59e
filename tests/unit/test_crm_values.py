"""Cell values of CRM exports: dates, amounts, yes/no flags, stages, emails, URL parameters."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from linktracker.crm.parsing.dates import DateParser, date_order_hint, zone
from linktracker.crm.parsing.values import (
    ValueProblem,
    amount_decimal_hint,
    classify_stage,
    currency_code,
    normalise_email,
    parse_amount,
    parse_flag,
    query_params,
)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


DATES = [
    # (text, dayfirst, expected UTC)
    ("2026-09-07", False, utc(2026, 9, 7)),
    ("  2026-09-07  ", False, utc(2026, 9, 7)),
    ("2026-09-07 16:14", False, utc(2026, 9, 7, 16, 14)),
    ("2026-09-07 16:14:59", False, utc(2026, 9, 7, 16, 14, 59)),
    ("2026-09-07T16:14:00Z", False, utc(2026, 9, 7, 16, 14)),
    ("2026-09-07T16:14:00+02:00", False, utc(2026, 9, 7, 14, 14)),
    ("2026-09-07T16:14:00+0200", False, utc(2026, 9, 7, 14, 14)),
    ("2026-09-07T16:14:00.123456-05:00", False, utc(2026, 9, 7, 21, 14, 0, 123456)),
    ("2026-09-07 16:14:00 UTC", False, utc(2026, 9, 7, 16, 14)),
    ("2026-9-7", False, utc(2026, 9, 7)),
    ("2026/09/07", False, utc(2026, 9, 7)),
    ("2026/9/7 4:14 pm", False, utc(2026, 9, 7, 16, 14)),
    ("9/7/2026", False, utc(2026, 9, 7)),
    ("9/7/2026 4:14 PM", False, utc(2026, 9, 7, 16, 14)),
    ("9/7/2026 4:14 p.m.", False, utc(2026, 9, 7, 16, 14)),
    ("9/7/2026 12:05 AM", False, utc(2026, 9, 7, 0, 5)),
    ("9/7/2026 12:05 PM", False, utc(2026, 9, 7, 12, 5)),
    ("09/07/2026 08:30:15", False, utc(2026, 9, 7, 8, 30, 15)),
    ("12/31/26", False, utc(2026, 12, 31)),
    ("09/07/2026", True, utc(2026, 7, 9)),
    ("31/12/2026", True, utc(2026, 12, 31)),
    ("07.09.2026", True, utc(2026, 9, 7)),
    ("07.09.2026 14:43", True, utc(2026, 9, 7, 14, 43)),
    ("7-9-26", True, utc(2026, 9, 7)),
    ("7/9/2026 16:14Z", True, utc(2026, 9, 7, 16, 14)),
    ("Sep 7, 2026", False, utc(2026, 9, 7)),
    ("Sep 7, 2026 4:14 PM", False, utc(2026, 9, 7, 16, 14)),
    ("7 September 2026 16:14", True, utc(2026, 9, 7, 16, 14)),
    ("07-Sep-2026", False, utc(2026, 9, 7)),
    ("Mon, 07 Sep 2026 16:14:00 GMT", False, utc(2026, 9, 7, 16, 14)),
]


@pytest.mark.parametrize(("text", "dayfirst", "expected"), DATES)
def test_dates_in_common_export_formats_become_utc(
    text: str, dayfirst: bool, expected: datetime
) -> None:
    parsed = DateParser(dayfirst=dayfirst)(text)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-09-07 16:14", utc(2026, 9, 7, 14, 14)),  # CEST, UTC+2
        ("2026-01-07 16:14", utc(2026, 1, 7, 15, 14)),  # CET, UTC+1
        ("07.09.2026", utc(2026, 9, 6, 22, 0)),
        ("2026-09-07T16:14:00Z", utc(2026, 9, 7, 16, 14)),  # explicit zone wins
    ],
)
def test_naive_dates_are_read_in_the_file_timezone(text: str, expected: datetime) -> None:
    assert DateParser(dayfirst=True, timezone="Europe/Berlin")(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "-", "N/A", "null", "0000-00-00 00:00:00"])
def test_empty_date_cells_are_none(text: str) -> None:
    assert DateParser(dayfirst=False)(text) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("yesterday", "unparseable date 'yesterday'"),
        ("12", "unparseable date"),
        ("2026", "unparseable date"),
        ("2026-13-01", "invalid date"),
        ("2026-02-30", "invalid date"),
        ("13/25/2026", "invalid date"),
        ("25/12/2026", "read month first"),
        ("9/7/2026 13:00 PM", "hour 13 with AM/PM"),
        ("Sep 2026", "incomplete date"),
        ("Sep 7, 2026 4:14 PM EST", "unknown time zone abbreviation 'EST'"),
        ("1850-01-01", "implausible date"),
        ("2026-09-07 16:14 +25:00", "invalid UTC offset"),
    ],
)
def test_unreadable_dates_raise_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueProblem, match=reason):
        DateParser(dayfirst=False)(text)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("25/04/2026", (1, "/")),
        ("04/25/2026 10:00 AM", (-1, "/")),
        ("03/04/2026", (0, "/")),
        ("03.04.2026", (0, ".")),
        ("13.04.26", (1, ".")),
        ("2026-04-03", None),
        ("Sep 7, 2026", None),
    ],
)
def test_date_order_hints_vote_on_day_first(text: str, hint: tuple[int, str] | None) -> None:
    assert date_order_hint(text) == hint


def test_unknown_timezone_names_are_refused() -> None:
    assert zone("UTC") is UTC
    with pytest.raises(ValueError, match="unknown time zone 'Nowhere/City'"):
        zone("Nowhere/City")


AMOUNTS = [
    # (text, decimal_comma, amount, currency)
    ("1234", False, "1234", None),
    ("1234.50", False, "1234.50", None),
    ("-12.5", False, "-12.5", None),
    ("+1,000", False, "1000", None),
    ("$1,234.50", False, "1234.50", "USD"),
    ("-$1,234.50", False, "-1234.50", "USD"),
    ("$-1,234.50", False, "-1234.50", "USD"),
    ("(1,000.00)", False, "-1000.00", None),
    ("($1,000.00)", False, "-1000.00", "USD"),
    ("1234.50-", False, "-1234.50", None),
    ("EUR 53.375,39", True, "53375.39", "EUR"),
    ("EUR 53.375,39", False, "53375.39", "EUR"),
    ("53.375,39 EUR", True, "53375.39", "EUR"),
    ("1 234,50 €", True, "1234.50", "EUR"),
    ("1\u00a0234,50\u00a0€", True, "1234.50", "EUR"),
    ("1\u202f234,50 €", False, "1234.50", "EUR"),
    ("€1.234,50", False, "1234.50", "EUR"),
    ("£99", False, "99", "GBP"),
    ("¥120,000", False, "120000", "JPY"),
    ("R$ 1.234,56", True, "1234.56", "BRL"),
    ("USD 1,234", False, "1234", "USD"),
    ("1000 usd", False, "1000", "USD"),
    ("1.234", False, "1.234", None),
    ("1.234", True, "1234", None),
    ("1,234", False, "1234", None),
    ("1,234", True, "1.234", None),
    ("12,5", False, "12.5", None),
    ("1,234,567.89", False, "1234567.89", None),
    ("1.234.567,89", False, "1234567.89", None),
    ("1.234.567", False, "1234567", None),
    ("1'234.50 CHF", False, "1234.50", "CHF"),
    ("CHF 1’234.50", False, "1234.50", "CHF"),
    ("1,23,456.00", False, "123456.00", None),
    (".5", False, "0.5", None),
    ("kr 1 234,50", True, "1234.50", None),
]


@pytest.mark.parametrize(("text", "decimal_comma", "amount", "currency"), AMOUNTS)
def test_amounts_with_symbols_codes_and_separators(
    text: str, decimal_comma: bool, amount: str, currency: str | None
) -> None:
    assert parse_amount(text, decimal_comma=decimal_comma) == (Decimal(amount), currency)


@pytest.mark.parametrize("text", ["", "  ", "-", "N/A"])
def test_empty_amount_cells_are_none(text: str) -> None:
    assert parse_amount(text, decimal_comma=False) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("twelve", "not an amount"),
        ("12%", "not an amount"),
        ("1e5", "not an amount"),
        ("NaN", "not an amount"),
        ("--5", "not an amount"),
        ("5 EUR USD", "not an amount"),
        ("$ 5 €", "not an amount"),
        ("abc 12", "unknown currency 'abc'"),
        ("1.2.3", "malformed number"),
        ("1,2345,678", "malformed number"),
    ],
)
def test_unreadable_amounts_raise_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueProblem, match=reason):
        parse_amount(text, decimal_comma=False)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("1,234.50", "."),
        ("1.234,50", ","),
        ("12,5", ","),
        ("12.50", "."),
        ("1.234.567", ","),
        ("1.234", None),
        ("1234", None),
        ("twelve", None),
    ],
)
def test_amount_decimal_hints(text: str, hint: str | None) -> None:
    assert amount_decimal_hint(text) == hint


@pytest.mark.parametrize(
    ("text", "code"), [("EUR", "EUR"), (" usd ", "USD"), ("€", "EUR"), ("", None), ("kr", None)]
)
def test_currency_cells_become_iso_codes(text: str, code: str | None) -> None:
    assert currency_code(text) == code


def test_unknown_currency_cells_raise() -> None:
    with pytest.raises(ValueProblem, match="unknown currency 'Euro'"):
        currency_code("Euro")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", True),
        ("true", True),
        ("TRUE", True),
        ("Yes", True),
        ("x", True),
        ("Won", True),
        ("Converted", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("n", False),
        ("lost", False),
        ("", None),
        ("  ", None),
        ("n/a", None),
    ],
)
def test_yes_no_flags(text: str, value: bool | None) -> None:
    assert parse_flag(text) is value


def test_unknown_flag_values_raise() -> None:
    with pytest.raises(ValueProblem, match="not a yes/no value: 'maybe'"):
        parse_flag("maybe")


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("Closed Won", "won"),
        ("Closed won", "won"),
        ("closedwon", "won"),
        ("Closed - Won", "won"),
        ("won", "won"),
        ("Converted", "won"),
        ("Gewonnen", "won"),
        ("Closed Lost", "lost"),
        ("closedlost", "lost"),
        ("lost", "lost"),
        ("Closed - Not Converted", "lost"),
        ("Unqualified", "lost"),
        ("Verloren", "lost"),
        ("Closed", "closed"),
        ("Open - Not Contacted", "open"),
        ("Qualified to buy", "open"),
        ("Negotiation/Review", "open"),
        ("Won't proceed", "open"),
        ("", None),
    ],
)
def test_stage_texts_are_classified(text: str, outcome: str | None) -> None:
    assert classify_stage(text) == outcome


@pytest.mark.parametrize(
    ("text", "email"),
    [
        (" Ana.Souza@Example.COM ", "ana.souza@example.com"),
        ("Ana Souza <Ana@Example.com>", "ana@example.com"),
        ("a@x.test; b@y.test", "a@x.test"),
        ("not an email", None),
        ("", None),
    ],
)
def test_emails_are_normalised(text: str, email: str | None) -> None:
    assert normalise_email(text) == email


NAMES = frozenset({"utm_source", "utm_content", "lt_cid"})


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("https://x.test/p", {}),
        ("https://x.test/p?utm_source=linkedin&a=1", {"utm_source": "linkedin"}),
        (
            "https://x.test/p?utm_content=a%20b&lt_cid=X1#frag",
            {"utm_content": "a b", "lt_cid": "X1"},
        ),
        ("https://x.test/p?utm_content=a+b;lt_cid=X2", {"utm_content": "a b", "lt_cid": "X2"}),
        ("https://x.test/p?lt_cid=&lt_cid=X3&lt_cid=X4", {"lt_cid": "X3"}),
        ("https://x.test/p?utm%5Fsource=fb", {"utm_source": "fb"}),
        ("https://x.test/p#?lt_cid=no", {}),
    ],
)
def test_query_params_are_read_from_landing_urls(url: str, params: dict[str, str]) -> None:
    assert query_params(url, NAMES) == params


@pytest.mark.parametrize(
    ("text", "timezone", "expected"),
    [
        # A day without a time is a whole day: closed at the creation's time of day.
        ("2026-03-10", "UTC", utc(2026, 3, 10, 14, 30)),
        ("10/03/2026", "UTC", utc(2026, 3, 10, 14, 30)),
        ("Mar 12, 2026", "UTC", utc(2026, 3, 12, 14, 30)),
        ("2026-03-12", "Europe/Berlin", utc(2026, 3, 12, 14, 30)),
        # A time, even midnight, is kept as written.
        ("2026-03-10 09:00", "UTC", utc(2026, 3, 10, 9)),
        ("2026-03-10T00:00:00", "UTC", utc(2026, 3, 10)),
        # Really before the creation day: kept, so reports can count it.
        ("2026-03-09", "UTC", utc(2026, 3, 9)),
        ("", "UTC", None),
    ],
)
def test_date_only_close_dates_are_whole_days_from_creation(
    text: str, timezone: str, expected: datetime | None
) -> None:
    dates = DateParser(dayfirst=True, timezone=timezone)
    created = utc(2026, 3, 10, 14, 30)
    assert dates.closing(text, created) == expected
