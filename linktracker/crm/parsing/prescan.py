"""The pre-scan: one pass over every row for what only the whole file can tell.

Which rows a later row with the same id supersedes, the votes on the day/month order of
dates (decided in ``date_order``) and on the decimal separator of amounts (decided here).
A file the csv module cannot split is refused here, before anything is imported.

Duplicate ids are found with a bit filter (one bit per id) plus an exact map of the few
ids whose bit was already set, so memory stays at about 4 bytes per row instead of a set
of every id.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Final

from linktracker.crm.parsing.date_order import DateOrderVotes
from linktracker.crm.parsing.encodings import CP1252, Encoding, open_text, recheck_ascii_sample
from linktracker.crm.parsing.headers import HeaderMapping
from linktracker.crm.parsing.layout import Layout
from linktracker.crm.parsing.records import UnreadableExport
from linktracker.crm.parsing.values import amount_decimal_hint

__all__ = ["Scan", "decide_decimal", "filter_bits", "prescan", "skip_header"]

_VOTE_LIMIT: Final = 1000  # unambiguous amounts after which the votes stop being counted
_BITS_PER_ROW: Final = 32  # duplicate filter size: ~1.5 % of rows become exact candidates
_MIN_FILTER_BITS: Final = 1 << 16
_MAX_FILTER_BITS: Final = 1 << 28
_UNSIZED_FILTER_BITS: Final = 1 << 24  # 2 MB, for streams that cannot tell their size


@dataclass
class Scan:
    """What the pre-scan learned from every row."""

    encoding: Encoding
    errors: str
    nul_seen: bool = False
    last_line: int = 0  # the file's last physical line: how many rows, roughly
    superseded: dict[str, int] = field(default_factory=dict)  # id -> last line, maybe repeated
    dates: DateOrderVotes = field(default_factory=DateOrderVotes)
    comma_decimals: int = 0
    point_decimals: int = 0

    def vote_amount(self, text: str) -> bool:
        """Count the amount's decimal separator; False once enough amounts showed one."""
        hint = amount_decimal_hint(text)
        if hint == ",":
            self.comma_decimals += 1
        elif hint == ".":
            self.point_decimals += 1
        return self.comma_decimals + self.point_decimals < _VOTE_LIMIT


def filter_bits(stream: BinaryIO, start: int, sample: bytes, lines: int) -> int:
    """Size the duplicate filter from the file size and the sample's line length."""
    try:
        size = stream.seek(0, io.SEEK_END) - start
    except (OSError, ValueError):
        return _UNSIZED_FILTER_BITS
    rows = size * max(lines, 1) // max(len(sample), 1) + 1
    bits = _MIN_FILTER_BITS
    while bits < rows * _BITS_PER_ROW and bits < _MAX_FILTER_BITS:
        bits <<= 1
    return bits


def skip_header(reader: Iterator[list[str]], line_num: Callable[[], int], body_line: int) -> None:
    """Read ``reader`` past the header row (and any title lines above it)."""
    while line_num() < body_line:
        if next(reader, None) is None:
            return


def _scan_rows(
    stream: BinaryIO,
    start: int,
    scan: Scan,
    layout: Layout,
    header: HeaderMapping,
    *,
    want_dates: bool,
    filter_bits: int,
) -> None:
    """One pass over every row: duplicate candidates, date order and decimal votes."""
    text, source = open_text(stream, start, scan.encoding, errors=scan.errors)
    last = 0
    try:
        reader = csv.reader(text, delimiter=layout.delimiter)
        skip_header(reader, lambda: reader.line_num, layout.body_line)
        id_at = header.index("external_id")
        assert id_at is not None  # map_header refuses headers without one
        date_at = [i for t in header.date_fields for i in header.indexes(t)] if want_dates else []
        amount_at = header.index("amount")
        bits = bytearray(filter_bits // 8)
        mask = filter_bits - 1
        candidates: dict[str, int] = {}
        last = reader.line_num
        final: list[str] = []
        final_line = 0
        for row in reader:
            line, last = last + 1, reader.line_num
            final, final_line = row, line
            if len(row) <= id_at or len(row) - row.count("") < 2:
                continue
            external_id = row[id_at].strip()
            if external_id:
                # A Bloom-style bit filter: an id whose bit is already set may repeat,
                # so it is kept exactly with its last line; most ids cost one bit.
                bit = hash(external_id) & mask
                if bits[bit >> 3] & (1 << (bit & 7)):
                    candidates[external_id] = line
                else:
                    bits[bit >> 3] |= 1 << (bit & 7)
            if date_at and not scan.dates.vote(row, date_at):
                date_at = []
            if (
                amount_at is not None
                and amount_at < len(row)
                and row[amount_at]
                and not scan.vote_amount(row[amount_at])
            ):
                amount_at = None
        _check_last_quote(source.tail.decode(scan.encoding.codec, "ignore"), final, final_line)
        scan.superseded = candidates
        scan.last_line = last
        scan.nul_seen = source.nul_seen
    except csv.Error as exc:
        raise UnreadableExport(
            f"Line {last + 1}: the file cannot be split into rows ({exc})."
        ) from exc
    finally:
        text.close()


def _check_last_quote(tail: str, final: list[str], final_line: int) -> None:
    # The csv module ends an unclosed quoted value at the end of the file, line breaks
    # included, where a closed one would have stopped at its quote.
    if final and final[-1].endswith(("\n", "\r")) and not tail.rstrip().endswith('"'):
        raise UnreadableExport(
            f"Line {final_line}: a quoted value is never closed, so the rest of the file "
            "cannot be split into rows."
        )


def prescan(
    stream: BinaryIO,
    start: int,
    encoding: Encoding,
    layout: Layout,
    header: HeaderMapping,
    *,
    want_dates: bool,
    filter_bits: int,
) -> Scan:
    """Run the pre-scan, settling the encoding if bytes beyond the sample disagree."""
    scan = Scan(encoding=encoding, errors="strict")
    while True:
        try:
            _scan_rows(
                stream,
                start,
                scan,
                layout,
                header,
                want_dates=want_dates,
                filter_bits=filter_bits,
            )
            return scan
        except UnicodeDecodeError:
            if scan.encoding.ascii_sample:
                scan = Scan(encoding=recheck_ascii_sample(stream, start), errors="strict")
                if scan.encoding != CP1252:
                    scan.errors = "replace"
            else:
                # Undecodable bytes in a file that is otherwise in this encoding: the
                # rows that hold them are rejected, the rest imports.
                scan = Scan(encoding=scan.encoding, errors="replace")


def decide_decimal(scan: Scan, header: HeaderMapping, delimiter: str) -> tuple[str, str]:
    """The file's decimal separator of amounts, and the reason in words."""
    if header.index("amount") is None:
        return ".", "not needed (no amount column)"
    comma, point = scan.comma_decimals, scan.point_decimals
    if comma or point:
        separator = "," if comma > point else "."
        count = max(comma, point)
        return separator, f"detected from {count} amount{'s' if count != 1 else ''}"
    if delimiter == ";":
        return ",", "default for ';'-separated exports (decimal comma)"
    return ".", "default (decimal point)"
