"""CRM export parsing end to end: real-convention samples, encodings, layout, refusals."""

from __future__ import annotations

import contextlib
import csv
import io
import time
import tracemalloc
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, BinaryIO, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linktracker.crm.parsing import (
    CRM_ALIASES,
    AliasTable,
    ExportInfo,
    ParsedRecord,
    RowError,
    UnreadableExport,
    inspect_export,
)
from linktracker.errors import InvalidInput
from tests.support import TEST_DATA

CRM = TEST_DATA / "crm"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


Parsed = tuple[ExportInfo, list[ParsedRecord], list[RowError]]


def parse(data: bytes | BinaryIO, **options: Any) -> Parsed:
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    info, rows = inspect_export(stream, **options)
    items = list(rows.read(stream))
    records = [r for r in items if isinstance(r, ParsedRecord)]
    errors = [r for r in items if isinstance(r, RowError)]
    assert len(records) + len(errors) == len(items)
    lines = [r.line for r in items]
    assert lines == sorted(lines), "items come in file order"
    return info, records, errors


def parse_file(name: str, **options: Any) -> Parsed:
    with (CRM / name).open("rb") as stream:
        return parse(stream, **options)


def by_id(records: list[ParsedRecord]) -> dict[str, ParsedRecord]:
    return {r.external_id: r for r in records}


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


# --- the shared real-convention samples ------------------------------------------------

SAMPLE_COUNTS = [
    # (file, records, errors, format, kind, encoding, delimiter)
    ("salesforce_leads_report.csv", 40, 0, "salesforce", "lead", "utf-8", ","),
    ("salesforce_opportunities_de.csv", 25, 0, "salesforce", "deal", "utf-8", ";"),
    ("hubspot_deals_export.csv", 30, 0, "hubspot", "deal", "utf-8-sig", ","),
    ("pipedrive_deals.csv", 20, 0, "pipedrive", "deal", "utf-8", ";"),
    ("hubspot_with_bad_rows.csv", 2, 5, "hubspot", "deal", "utf-8", ","),
]


@pytest.mark.parametrize(
    ("name", "records", "errors", "fmt", "kind", "encoding", "delimiter"), SAMPLE_COUNTS
)
def test_sample_file_yields_exact_record_and_error_counts(
    name: str, records: int, errors: int, fmt: str, kind: str, encoding: str, delimiter: str
) -> None:
    info, found, rejected = parse_file(name)
    assert (len(found), len(rejected)) == (records, errors), rejected
    assert (info.format, info.kind, info.encoding, info.delimiter) == (
        fmt,
        kind,
        encoding,
        delimiter,
    )
    assert info.source == fmt
    assert all(r.created_at.tzinfo is UTC for r in found)


def test_salesforce_leads_report_reads_us_dates_converted_flag_and_skips_footer() -> None:
    info, records, errors = parse_file("salesforce_leads_report.csv")
    assert not errors, "footer lines are not errors"
    assert info.dayfirst is False
    assert info.dayfirst_reason.startswith("detected from ")
    assert info.mapping["Converted"] == "won"
    assert info.mapping["Converted Date"] == "closed_at"
    leads = by_id(records)
    converted = leads["00Q5g0000000009AbC"]
    assert converted.line == 10
    assert converted.kind == "lead"
    assert converted.created_at == utc(2026, 9, 16, 12, 11)
    assert converted.won is True
    # `10/19/2026` has no time: a whole day, closed at the creation's time of day.
    assert converted.closed_at == utc(2026, 10, 19, 12, 11)
    assert converted.stage == "Converted"
    assert converted.owner == "Tom Berg"
    assert converted.email == "buyer8@customer8.test"
    assert (converted.utm_source, converted.utm_medium) == ("linkedin", "social")
    assert (converted.utm_campaign, converted.utm_content) == ("we-are-hiring", "m2t6yf")
    assert converted.source == "Employee Advocacy"
    not_converted = leads["00Q5g0000000001AbC"]
    assert not_converted.stage == "Closed - Not Converted"
    assert (not_converted.won, not_converted.closed_at) == (False, None)
    assert not_converted.utm_content is None
    assert leads["00Q5g0000000002AbC"].created_at == utc(2026, 8, 7, 16, 14)
    assert records[-1].line == 41


def test_salesforce_leads_report_naive_times_are_read_in_the_given_timezone() -> None:
    info, records, _ = parse_file("salesforce_leads_report.csv", timezone="America/New_York")
    assert info.timezone == "America/New_York"
    first = by_id(records)["00Q5g0000000001AbC"]
    assert first.created_at == utc(2026, 8, 11, 15, 57)  # 11:57 AM EDT
    assert first.created_at.tzinfo is UTC


def test_german_salesforce_opportunities_use_day_first_dates_and_decimal_comma() -> None:
    info, records, _ = parse_file("salesforce_opportunities_de.csv")
    assert info.dayfirst is True
    assert info.dayfirst_reason.startswith("detected from ")
    assert (info.decimal_separator, info.decimal_reason[:13]) == (",", "detected from")
    deals = by_id(records)
    won = deals["0065g0000000002XyZ"]
    assert won.created_at == utc(2026, 8, 4, 11, 22)
    assert (won.amount, won.currency) == (Decimal("53375.39"), "EUR")
    assert (won.won, won.closed_at) == (True, utc(2026, 8, 28, 11, 22))  # a whole day
    assert (won.name, won.company) == ("Deal 00002", "Kunde 00002 GmbH")
    assert won.utm_content == "k3v9qa"
    lost = deals["0065g0000000004XyZ"]
    lost_at = utc(2026, 10, 8, 12, 32)
    assert (lost.won, lost.closed_at, lost.stage) == (False, lost_at, "Closed Lost")
    assert lost.amount == Decimal("47615.78")
    open_deal = deals["0065g0000000001XyZ"]
    assert (open_deal.won, open_deal.closed_at, open_deal.amount) == (False, None, None)
    assert open_deal.currency is None
    assert deals["0065g0000000020XyZ"].amount == Decimal("4211.11")


def test_german_salesforce_opportunities_in_berlin_time_shift_to_utc() -> None:
    _, records, _ = parse_file("salesforce_opportunities_de.csv", timezone="Europe/Berlin")
    assert by_id(records)["0065g0000000002XyZ"].created_at == utc(2026, 8, 4, 9, 22)


def test_hubspot_deals_take_utm_and_click_id_from_the_first_page_seen_url() -> None:
    info, records, _ = parse_file("hubspot_deals_export.csv")
    assert info.mapping["First Page Seen"] == "landing_url"
    assert info.mapping["Original Source Drill-Down 1"] == "source_detail"
    deals = by_id(records)
    first = deals["9000000001"]
    assert first.click_id == "AKsdMAP72ipT"
    assert (first.utm_source, first.utm_medium) == ("linkedin", "social")
    assert (first.utm_campaign, first.utm_content) == ("we-are-hiring", "m2t6yf")
    assert first.utm_term is None
    assert first.created_at == utc(2026, 9, 23, 11, 36)
    assert (first.won, first.closed_at) == (True, utc(2026, 10, 28, 11, 36))
    assert (first.amount, first.currency) == (Decimal("23815.01"), None)
    assert (first.source, first.source_detail) == ("SOCIAL_MEDIA", "LinkedIn / we-are-hiring")
    assert first.stage == "Closed won"
    paid = deals["9000000002"]
    assert (paid.won, paid.closed_at, paid.amount) == (False, utc(2026, 10, 19, 17, 59), None)
    assert (paid.click_id, paid.utm_content, paid.source_detail) == (None, None, None)
    assert paid.landing_url == "https://www.example.com/pricing"
    in_progress = deals["9000000004"]
    assert (in_progress.won, in_progress.closed_at) == (False, None)
    assert sum(r.won for r in records) == 9
    assert sum(r.click_id is not None for r in records) == 21


def test_pipedrive_status_decides_won_and_lost_time_closes_lost_deals() -> None:
    info, records, _ = parse_file("pipedrive_deals.csv")
    assert info.mapping["Deal - Lost time"] == "lost_at"
    assert "'Deal - Status'" in info.won_rule
    deals = by_id(records)
    won = deals["1"]
    assert (won.won, won.stage, won.closed_at) == (True, "won", utc(2026, 9, 13, 13, 34))
    assert (won.amount, won.currency, won.owner) == (Decimal("39998.87"), "USD", "Tom Berg")
    assert (won.utm_content, won.utm_campaign) == ("p7x2mt", "we-are-hiring")
    assert won.created_at == utc(2026, 8, 26, 13, 34)
    lost = deals["2"]
    assert (lost.won, lost.stage, lost.closed_at) == (False, "lost", utc(2026, 9, 14, 11, 3))
    still_open = deals["3"]
    assert (still_open.won, still_open.closed_at) == (False, None)
    assert still_open.stage == "Negotiations Started"
    assert (still_open.amount, still_open.currency) == (None, None)
    assert [r.won for r in records].count(True) == 3


def test_hubspot_bad_rows_are_rejected_with_line_column_and_reason() -> None:
    _, records, errors = parse_file("hubspot_with_bad_rows.csv")
    assert [(r.line, r.external_id) for r in records] == [(6, "5"), (7, "1")]
    assert [(e.line, e.column) for e in errors] == [
        (2, "Record ID"),
        (3, "Record ID"),
        (4, "Create Date"),
        (5, "Amount"),
        (8, "Deal Stage"),
    ]
    reasons = [e.reason for e in errors]
    assert reasons[0] == "duplicate id 1, superseded by line 7"
    assert reasons[1] == "missing id"
    assert "yesterday" in reasons[2]
    assert "twelve" in reasons[3]
    assert reasons[4].startswith("short row: 2 of 5 cells")
    assert errors[4].raw == ("6", "2026-10-05")
    assert errors[0].raw == ("1", "2026-10-01", "Closed won", "1200", "k3v9qa")


def test_binary_file_is_refused_whole_with_a_clear_message() -> None:
    with pytest.raises(UnreadableExport, match="not a CSV text file") as refused:
        parse_file("broken_not_a_csv.csv")
    assert "binary" in str(refused.value)
    assert isinstance(refused.value, InvalidInput)
    assert refused.value.status == 422


def test_a_file_without_id_and_date_columns_is_refused_naming_found_and_needed() -> None:
    with pytest.raises(UnreadableExport) as refused:
        parse_file("employees.csv")
    message = str(refused.value)
    assert "No id column and no creation-date column" in message
    assert "'name', 'email', 'handle', 'team', 'connections'" in message
    assert "Record ID" in message and "Create Date" in message


# --- encodings -------------------------------------------------------------------------

ACCENTED = [
    ["Record ID", "Create Date", "Deal owner", "Amount", "Deal Stage", "UTM Content"],
    ["A-1", "2026-09-07 16:14", "José Müller", "€1.234,50", "Closed won", "k3v9qa"],
    ["A-2", "2026-09-08", "Zoë Ørsted", "€99,90", "Négociation", "p7x2mt"],
    ["A-3", "2026-09-09T08:00:00Z", "François", "€12", "Closed lost", ""],
]


@pytest.mark.parametrize(
    ("data", "encoding", "delimiter"),
    [
        (csv_bytes(ACCENTED), "utf-8", ","),
        (b"\xef\xbb\xbf" + csv_bytes(ACCENTED), "utf-8-sig", ","),
        (
            b"\xff\xfe" + csv_bytes(ACCENTED, delimiter="\t", encoding="utf-16-le"),
            "utf-16-le",
            "\t",
        ),
        (
            b"\xfe\xff" + csv_bytes(ACCENTED, delimiter="\t", encoding="utf-16-be"),
            "utf-16-be",
            "\t",
        ),
        (csv_bytes(ACCENTED, delimiter="\t", encoding="utf-16-le"), "utf-16-le", "\t"),
        (csv_bytes(ACCENTED, delimiter=";", encoding="cp1252"), "cp1252", ";"),
        (csv_bytes(ACCENTED, delimiter="|"), "utf-8", "|"),
    ],
    ids=[
        "utf8",
        "utf8-bom",
        "utf16le-bom-tab",
        "utf16be-bom-tab",
        "utf16le-no-bom",
        "cp1252",
        "pipe",
    ],
)
def test_the_same_rows_in_any_encoding_give_identical_records(
    data: bytes, encoding: str, delimiter: str
) -> None:
    info, records, errors = parse(data)
    _, expected, _ = parse(csv_bytes(ACCENTED))
    assert (info.encoding, info.delimiter, errors) == (encoding, delimiter, [])
    assert records == expected
    first = records[0]
    assert (first.owner, first.amount, first.currency) == ("José Müller", Decimal("1234.50"), "EUR")
    assert records[1].owner == "Zoë Ørsted"


def test_cp1252_bytes_after_an_ascii_sample_switch_the_file_to_cp1252() -> None:
    header = ["id", "created", "owner"]
    rows = [header] + [[str(i), "2026-09-07", "Plain Owner"] for i in range(4000)]
    rows.append(["late", "2026-09-08", "Renée"])
    data = csv_bytes(rows, encoding="cp1252")
    assert len(data) > 64 * 1024
    info, records, errors = parse(data)
    assert (info.encoding, errors) == ("cp1252", [])
    assert records[-1].owner == "Renée"


@pytest.mark.parametrize("padding", [0, 5000], ids=["in-sample", "after-sample"])
def test_invalid_utf8_bytes_reject_only_their_row(padding: int) -> None:
    rows = [["id", "created", "owner"], ["1", "2026-09-07", "Ærøskøbing"]]
    rows += [[f"p{i}", "2026-09-07", "Åsa"] for i in range(padding)]
    data = csv_bytes(rows) + b"2,2026-09-07,bad \xff byte\r\n3,2026-09-07,fine\r\n"
    info, records, errors = parse(data)
    assert info.encoding == "utf-8"
    assert [r.external_id for r in records if not r.external_id.startswith("p")] == ["1", "3"]
    assert records[0].owner == "Ærøskøbing"
    assert [(e.line, e.column) for e in errors] == [(padding + 3, "owner")]
    assert "not valid text" in errors[0].reason


def test_utf8_after_an_ascii_sample_stays_utf8_despite_a_damaged_byte() -> None:
    rows = [["id", "created", "owner"]] + [[str(i), "2026-09-07", "Plain"] for i in range(4000)]
    rows += [["late", "2026-09-08", "Renée"], ["later", "2026-09-08", "Zoë"]]
    data = csv_bytes(rows) + b"bad,2026-09-09,\xe9\r\n"
    info, records, errors = parse(data)
    assert (info.encoding, [e.line for e in errors]) == ("utf-8", [4004])
    assert [r.owner for r in records[-2:]] == ["Renée", "Zoë"]


# --- layout: delimiters, line breaks, footers, preambles --------------------------------

HEADER = "Record ID,Create Date,Deal Stage,Amount"


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_quoted_fields_with_embedded_newlines_keep_physical_line_numbers(newline: str) -> None:
    text = newline.join(
        [
            HEADER + ",Notes",
            '1,2026-09-01,Open,10,"two',
            'lines"',
            '2,2026-09-02,Open,20,"three',
            "",
            'lines"',
            "3,2026-09-03,Open,30,one",
            "4,bad date,Open,40,one",
            "",
        ]
    )
    _, records, errors = parse(text.encode())
    assert [(r.external_id, r.line) for r in records] == [("1", 2), ("2", 4), ("3", 7)]
    assert records[1].raw[4] == f"three{newline}{newline}lines"
    assert [(e.line, e.column) for e in errors] == [(8, "Create Date")]


def test_salesforce_style_footer_after_a_blank_line_is_skipped() -> None:
    text = "\r\n".join(
        [
            '"Lead ID","Create Date","Email"',
            '"L1","9/7/2026 4:14 PM","A@Example.com "',
            "",
            '"Grand Totals (1 records)"',
            "",
            '"Confidential Information - Do Not Distribute"',
            '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."',
            "",
        ]
    )
    _, records, errors = parse(text.encode())
    assert (len(records), errors) == (1, [])
    assert records[0].email == "a@example.com"


@pytest.mark.parametrize(
    "tail",
    [
        ["Grand Totals (2 records)"],
        ['"Total",,,'],
        ["", "Report generated 2026-10-01 by Maria"],
        ["", "Some title", "", "", "Filtered By: Owner equals Maria"],
        ["", "", ""],
    ],
    ids=["total-right-after-data", "padded-total", "generated-by", "several", "blank-lines"],
)
def test_trailing_report_footers_are_not_errors(tail: list[str]) -> None:
    text = "\n".join([HEADER, "1,2026-09-01,Open,10", "2,2026-09-02,Open,20", *tail])
    _, records, errors = parse(text.encode())
    assert (len(records), errors) == (2, [])


def test_single_cell_rows_followed_by_data_are_short_rows_not_footers() -> None:
    text = "\n".join([HEADER, "1,2026-09-01,Open,10", "", "7", "", "2,2026-09-02,Open,20"])
    _, records, errors = parse(text.encode())
    assert [r.external_id for r in records] == ["1", "2"]
    assert [(e.line, e.column) for e in errors] == [(4, "Create Date")]
    assert errors[0].reason.startswith("short row: 1 of 4 cells")


def test_blank_lines_between_rows_are_skipped() -> None:
    text = "\n".join([HEADER, "", "1,2026-09-01,Open,10", ",,,", "   ", "2,2026-09-02,Open,20"])
    _, records, errors = parse(text.encode())
    assert ([r.line for r in records], errors) == ([3, 6], [])


def test_report_title_lines_before_the_header_are_skipped() -> None:
    text = "\n".join(["Opportunity Pipeline Report", "", HEADER, "1,2026-09-01,Open,10"])
    info, records, errors = parse(text.encode())
    assert (info.header_line, errors) == (3, [])
    assert records[0].line == 4


def test_excel_sep_line_declares_the_delimiter() -> None:
    text = "sep=;\n" + HEADER.replace(",", ";") + "\n1;2026-09-01;Open;10,5\n"
    info, records, _ = parse(text.encode())
    assert (info.delimiter, info.header_line, records[0].amount) == (";", 2, Decimal("10.5"))


def test_semicolon_file_with_commas_in_values_is_split_on_semicolons() -> None:
    text = (
        "Deal - ID;Deal - Title;Deal - Add time;Deal - Value\n"
        "7;Smith, Jones & Co;2026-09-01;1.234,5\n"
    )
    info, records, _ = parse(text.encode())
    assert info.delimiter == ";"
    assert (records[0].name, records[0].amount) == ("Smith, Jones & Co", Decimal("1234.5"))


def test_extra_empty_cells_are_fine_but_extra_values_reject_the_row() -> None:
    text = "\n".join([HEADER, "1,2026-09-01,Open,10,,", "2,2026-09-02,Open,1,200"])
    _, records, errors = parse(text.encode())
    assert [r.external_id for r in records] == ["1"]
    assert (errors[0].line, errors[0].column) == (3, None)
    assert "5 cells but the header has 4" in errors[0].reason


# --- row validation and derived values --------------------------------------------------


def test_duplicate_ids_keep_the_last_row_and_report_each_earlier_one() -> None:
    rows = [["id", "created", "stage"]]
    rows += [[str(i), "2026-09-01", "Open"] for i in range(5000)]
    rows += [
        ["17", "2026-09-02", "Won"],
        ["42", "2026-09-03", "Open"],
        ["17", "2026-09-04", "Lost"],
    ]
    _, records, errors = parse(csv_bytes(rows))
    assert len(records) == 5000
    assert [(e.line, e.reason) for e in errors] == [
        (19, "duplicate id 17, superseded by line 5004"),
        (44, "duplicate id 42, superseded by line 5003"),
        (5002, "duplicate id 17, superseded by line 5004"),
    ]
    assert by_id(records)["17"].stage == "Lost"


def test_a_superseding_row_that_is_itself_bad_rejects_both() -> None:
    text = "\n".join([HEADER, "1,2026-09-01,Open,10", "1,never,Open,10"])
    _, records, errors = parse(text.encode())
    assert records == []
    assert [e.reason for e in errors] == [
        "duplicate id 1, superseded by line 3",
        "unparseable date 'never'",
    ]


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (",2026-09-01,Open,10", "Record ID", "missing id"),
        ("  ,2026-09-01,Open,10", "Record ID", "missing id"),
        ("1,,Open,10", "Create Date", "missing creation date"),
        ("1,31/31/2026,Open,10", "Create Date", "invalid date '31/31/2026'"),
        ("1,2026-09-01,Open,$1.2.3", "Amount", "malformed number"),
        ("1,2026-09-01,Open,10 XYZ", "Amount", "unknown currency 'XYZ'"),
        ("1,2026-09-01", "Deal Stage", "short row: 2 of 4 cells"),
    ],
)
def test_row_errors_name_the_column_and_the_reason(row: str, column: str, reason: str) -> None:
    _, records, errors = parse(f"{HEADER}\n{row}\n".encode())
    assert records == []
    assert (errors[0].line, errors[0].column) == (2, column)
    assert reason in errors[0].reason


def test_won_flag_column_beats_stage_and_unknown_flags_are_errors() -> None:
    text = "\n".join(
        [
            "id,created,stage,won,closed,close date",
            "1,2026-09-01,Negotiation,yes,,2026-09-20",
            "2,2026-09-01,Closed Won,0,1,2026-09-21",
            "3,2026-09-01,Closed Won,,,2026-09-22",
            "4,2026-09-01,Open,maybe,,",
            "5,2026-09-01,Proposal,,,2026-12-31",
        ]
    )
    _, records, errors = parse(text.encode())
    got = {r.external_id: (r.won, r.closed_at) for r in records}
    assert got == {
        "1": (True, utc(2026, 9, 20)),
        "2": (False, utc(2026, 9, 21)),
        "3": (True, utc(2026, 9, 22)),
        "5": (False, None),  # an open deal's close date is only expected
    }
    assert [(e.line, e.column) for e in errors] == [(5, "won")]


def test_close_date_alone_closes_a_record_when_nothing_else_says() -> None:
    text = "id,created,close date\n1,2026-09-01,2026-09-05\n2,2026-09-01,\n"
    _, records, _ = parse(text.encode())
    assert [(r.won, r.closed_at) for r in records] == [(False, utc(2026, 9, 5)), (False, None)]


def test_kind_column_overrides_the_file_kind_per_row() -> None:
    text = "\n".join(
        [
            "id,created,kind",
            "1,2026-09-01,Opportunity",
            "2,2026-09-01,",
            "3,2026-09-01,contact",
            "4,2026-09-01,Account",
        ]
    )
    info, records, errors = parse(text.encode())
    assert info.kind == "lead"
    assert [r.kind for r in records] == ["deal", "lead", "contact"]
    assert [(e.line, e.column) for e in errors] == [(5, "kind")]


def test_click_id_column_wins_over_the_landing_url_and_the_parameter_is_configurable() -> None:
    text = "\n".join(
        [
            "id,created,landing url,click id",
            "1,2026-09-01,https://x.test/p?ref=R1&lt_cid=L1&utm_content=abc,",
            "2,2026-09-01,https://x.test/p?lt_cid=L2,C2",
        ]
    )
    _, default, _ = parse(text.encode())
    assert [(r.click_id, r.utm_content) for r in default] == [("L1", "abc"), ("C2", None)]
    _, custom, _ = parse(text.encode(), click_id_param="ref")
    assert [r.click_id for r in custom] == ["R1", "C2"]


def test_currency_column_beats_the_amount_symbol() -> None:
    text = "id,created,amount,currency\n1,2026-09-01,$1500,CAD\n2,2026-09-01,£20,\n"
    _, records, _ = parse(text.encode())
    assert [(r.amount, r.currency) for r in records] == [
        (Decimal("1500"), "CAD"),
        (Decimal("20"), "GBP"),
    ]


# --- per-file decisions -------------------------------------------------------------------


def test_day_first_is_detected_from_unambiguous_rows_and_applied_to_the_rest() -> None:
    text = "id,created\n1,03/04/2026\n2,25/04/2026\n3,13/05/2026 10:00\n"
    info, records, _ = parse(text.encode())
    assert (info.dayfirst, info.dayfirst_reason) == (True, "detected from 2 unambiguous dates")
    assert records[0].created_at == utc(2026, 4, 3)


def test_month_first_default_when_no_date_is_unambiguous() -> None:
    info, records, _ = parse(b"id,created\n1,03/04/2026\n")
    assert (info.dayfirst, info.dayfirst_reason) == (False, "default (month first)")
    assert records[0].created_at == utc(2026, 3, 4)


def test_dotted_and_semicolon_exports_default_to_day_first() -> None:
    dotted, _, _ = parse(b"id,created\n1,03.04.2026\n")
    semicolon, _, _ = parse(b"id;created\n1;03/04/2026\n")
    assert dotted.dayfirst and semicolon.dayfirst
    assert "DD.MM.YYYY" in dotted.dayfirst_reason
    assert "';'" in semicolon.dayfirst_reason


def test_explicit_dayfirst_wins_and_contradicting_rows_are_rejected() -> None:
    text = b"id,created\n1,03/04/2026\n2,25/04/2026\n"
    info, records, errors = parse(text, dayfirst=False)
    assert (info.dayfirst, info.dayfirst_reason) == (False, "explicit")
    assert [r.created_at for r in records] == [utc(2026, 3, 4)]
    assert "month first" in errors[0].reason


def test_ambiguous_thousands_follow_the_file_decimal_separator() -> None:
    comma_file, comma_records, _ = parse(
        b"id;created;amount\n1;2026-09-01;1.234\n2;2026-09-01;5,5\n"
    )
    point_file, point_records, _ = parse(
        b'id,created,amount\n1,2026-09-01,"1,234"\n2,2026-09-01,2.50\n'
    )
    assert comma_file.decimal_separator == "," and point_file.decimal_separator == "."
    assert [r.amount for r in comma_records] == [Decimal("1234"), Decimal("5.5")]
    assert [r.amount for r in point_records] == [Decimal("1234"), Decimal("2.50")]


# --- explicit mapping --------------------------------------------------------------------


def test_explicit_mapping_names_columns_and_ignores_others() -> None:
    text = "Ref,Created On,Close Date,Notes\nR1,2026-09-01,2026-09-30,hello\n"
    mapping: Mapping[str, str | None] = {"Ref": "external_id", "Created On": "created_at"}
    info, records, _ = parse(text.encode(), mapping={**mapping, "Close Date": None})
    assert info.mapping == {
        "Ref": "external_id",
        "Created On": "created_at",
        "Close Date": None,
        "Notes": None,
    }
    assert (records[0].external_id, records[0].closed_at) == ("R1", None)


def test_explicit_mapping_displaces_the_automatic_choice() -> None:
    text = "id,created,Real Created\n1,2026-01-01,2026-09-01\n"
    info, records, _ = parse(text.encode(), mapping={"real created": "created_at"})
    assert info.mapping == {"id": "external_id", "created": None, "Real Created": "created_at"}
    assert records[0].created_at == utc(2026, 9, 1)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"Nope": "created_at"}, "column 'Nope', which is not in the file"),
        ({"created": "birthday"}, "unknown field 'birthday'"),
        ({"id": "created_at", "created": "created_at"}, "both 'id' and 'created'"),
        ({"id": None}, "No id column found"),
    ],
)
def test_invalid_explicit_mappings_refuse_the_file(
    mapping: Mapping[str, str | None], message: str
) -> None:
    with pytest.raises(UnreadableExport, match=message):
        parse(b"id,created\n1,2026-09-01\n", mapping=mapping)


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"\xef\xbb\xbf\r\n  \r\n", "The file is empty"),
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)), "Excel .xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "Excel 97-2003"),
        (b"%PDF-1.7\n" + bytes(range(40)), "PDF"),
        (b"id\n1\n2\n", "single column"),
        (
            b"Lead ID,Owner\nL1,Maria\n",
            r"No creation-date column found\. Columns found: 'Lead ID', 'Owner'",
        ),
        (b"Created Date,Owner\n2026-09-01,Maria\n", "No id column found"),
    ],
    ids=["empty", "blank", "xlsx", "xls", "pdf", "one-column", "no-date", "no-id"],
)
def test_unusable_files_are_refused_whole(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableExport, match=message):
        parse(data)


@pytest.mark.parametrize("rest", [b"3,2026-09-03,fine\n", b"x,y\n" * 40_000])
def test_a_quote_that_is_never_closed_refuses_the_file(rest: bytes) -> None:
    data = b'id,created,notes\n1,2026-09-01,ok\n2,2026-09-02,"unterminated\n' + rest
    with pytest.raises(UnreadableExport, match="^Line 3: "):
        parse(data)


def test_a_closed_quoted_value_ending_in_a_line_break_is_fine() -> None:
    _, records, _ = parse(b'id,created,notes\r\n1,2026-09-01,"two\r\nlines\r\n"\r\n')
    assert records[0].raw[2] == "two\r\nlines\r\n"


def test_unknown_timezone_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        parse(b"id,created\n1,2026-09-01\n", timezone="Mars/Olympus")


def test_the_callers_stream_stays_open_and_seekable() -> None:
    stream = io.BytesIO(b"id,created\n1,2026-09-01\n")
    _, rows = inspect_export(stream)
    assert len(list(rows.read(stream))) == 1
    assert not stream.closed
    stream.seek(0)
    assert stream.read(2) == b"id"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_random_bytes_never_raise_anything_but_unreadable_export(data: bytes) -> None:
    with contextlib.suppress(UnreadableExport):
        parse(data)


CELL = st.text(alphabet=st.sampled_from(list('ab1,;"\t\r\n .-/:€$é') + ["\x00", "\ufffd"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(CELL, max_size=6), max_size=12), st.sampled_from([",", ";", "\t"]))
def test_random_rows_under_a_valid_header_yield_only_records_and_errors(
    rows: list[list[str]], delimiter: str
) -> None:
    data = csv_bytes([["id", "created", "amount", "close date"], *rows], delimiter=delimiter)
    # Noise-only samples may leave the delimiter sniffer without a usable header.
    with contextlib.suppress(UnreadableExport):
        parse(data)


# --- streaming -----------------------------------------------------------------------------

BENCH_HEADER = (
    "Record ID,Deal Name,Deal Stage,Create Date,Close Date,Deal owner,Amount,"
    "Original Source,First Page Seen,UTM Content,UTM Campaign\r\n"
)


BLOCK = 1000


def bench_lines(count: int) -> Iterator[bytes]:
    """Yield the header, then blocks of 1,000 rows with distinct ids and click ids."""
    rows = []
    for i in range(BLOCK):
        stage = ("Closed won", "Closed lost", "Appointment scheduled")[i % 3]
        rows.append(
            f"9#####{i:03d},Deal {i},{stage},2026-{1 + i % 12:02d}-{1 + i % 28:02d} "
            f"{i % 24:02d}:{i % 60:02d},2026-12-{1 + i % 28:02d} 10:00,Rep {i % 40},"
            f"{i * 37 % 90_000}.{i % 100:02d},SOCIAL_MEDIA,https://www.example.com/p?utm_source="
            f"linkedin&utm_medium=social&lt_cid=C#####{i:03d},h{i % 50:04d},campaign-{i % 7}\r\n"
        )
    # Formatting once and stamping the block number keeps the generator cheap, so
    # that memory and time measure the parser.
    template = "".join(rows).encode()
    yield BENCH_HEADER.encode()
    for block in range(count // BLOCK):
        yield template.replace(b"#####", b"%05d" % block)


class GeneratedStream(io.RawIOBase):
    """A seekable stream whose bytes come from a generator, never all in memory."""

    def __init__(self, make: Callable[[], Iterator[bytes]]) -> None:
        super().__init__()
        self._make = make
        self._restart()

    def _restart(self) -> None:
        self._chunks = self._make()
        self._pending = b""
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR and offset == 0:
            return self._position
        if whence != io.SEEK_SET:
            raise io.UnsupportedOperation("generated streams do not know their end")
        self._restart()
        while self._position < offset:
            self._position += len(self.read(offset - self._position) or b"")
        return self._position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        parts, size = [self._pending], len(self._pending)
        while size < len(view):
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            parts.append(chunk)
            size += len(chunk)
        data = b"".join(parts)
        size = min(len(view), len(data))
        view[:size] = data[:size]
        self._pending = data[size:]
        self._position += size
        return size


def consume(rows: Iterator[ParsedRecord | RowError]) -> tuple[int, int]:
    good = bad = 0
    for item in rows:
        if isinstance(item, RowError):
            bad += 1
        else:
            good += 1
    return good, bad


ROWS = 200_000


@pytest.mark.slow
def test_two_hundred_thousand_rows_stream_in_small_memory() -> None:
    stream = cast(BinaryIO, GeneratedStream(lambda: bench_lines(ROWS)))
    tracemalloc.start()
    try:
        info, rows = inspect_export(stream)
        assert consume(rows.read(stream)) == (ROWS, 0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.format == "hubspot"
    size = sum(len(line) for line in bench_lines(ROWS))
    print(f"\npeak memory {peak / 1e6:.1f} MB while parsing {size / 1e6:.0f} MB")
    assert peak < 12e6, f"peak {peak / 1e6:.1f} MB"


@pytest.mark.slow
def test_parsing_throughput_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    # Generated up front so that the figure measures parsing, not the generator.
    stream = io.BytesIO(b"".join(bench_lines(ROWS)))
    started, cpu_started = time.perf_counter(), time.process_time()
    info, rows = inspect_export(stream)
    scanned = time.perf_counter()
    assert consume(rows.read(stream)) == (ROWS, 0)
    elapsed = time.perf_counter() - started
    # CPU time too: on a shared machine the wall clock also measures the neighbours.
    cpu_rate = ROWS / (time.process_time() - cpu_started)
    with capsys.disabled():
        print(
            f"\nCRM parsing: {ROWS:,} rows ({len(stream.getvalue()) / 1e6:.0f} MB) in "
            f"{elapsed:.2f} s = {ROWS / elapsed:,.0f} rows/s wall, {cpu_rate:,.0f} rows/s CPU "
            f"(pre-scan {scanned - started:.2f} s)"
        )
    assert info.dayfirst_reason == "not needed (no DD/MM or MM/DD dates)"
    # The target is 60,000 rows/s on a developer machine; the bar here only catches
    # regressions by an order of magnitude on slow CI runners.
    assert cpu_rate > 15_000


def test_another_sources_alias_table_reads_its_own_column_names() -> None:
    aliases = AliasTable(
        {
            "external_id": ("Application ID",),
            "created_at": ("Applied On",),
            "stage": ("Application Stage",),
            "utm_campaign": ("Source Campaign",),
        }
    )
    data = (
        b"Application ID,Applied On,Application Stage,Source Campaign,Created Date\n"
        b"A-1,2026-09-01,Hired,spring-launch,2020-01-01\n"
    )
    info, records, errors = parse(data, aliases=aliases)
    assert errors == []
    assert info.mapping == {
        "Application ID": "external_id",
        "Applied On": "created_at",
        "Application Stage": "stage",
        "Source Campaign": "utm_campaign",
        "Created Date": None,
    }
    (record,) = records
    assert (record.external_id, record.created_at) == ("A-1", utc(2026, 9, 1))
    assert (record.stage, record.utm_campaign) == ("Hired", "spring-launch")


def test_the_crm_alias_table_is_the_default() -> None:
    data = b"Record ID,Create Date\n7,2026-09-01\n"
    assert parse(data)[0].mapping == parse(data, aliases=CRM_ALIASES)[0].mapping
    with pytest.raises(UnreadableExport, match="No id column and no creation-date column"):
        parse(data, aliases=AliasTable({"name": ("Record ID",)}))
