"""The sample: how much of the file decides encoding, delimiter and header row, and how."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import BinaryIO, Final

from linktracker.crm.parsing.encodings import (
    MAX_SAMPLE_SIZE,
    SAMPLE_SIZE,
    Encoding,
    NotText,
    decode_sample,
    detect_encoding,
)
from linktracker.crm.parsing.records import UnreadableExport

__all__ = ["Layout", "Sample", "find_layout", "read_layout", "read_sample"]

_DELIMITERS: Final = (",", ";", "\t", "|")
_HEADER_SEARCH_LINES: Final = 50  # report titles may precede the header row
_LAYOUT_ROWS: Final = 50  # data rows that vote on the delimiter
# Excel writes `sep=;` as the first line when asked to declare the delimiter.
_SEP_LINE: Final = re.compile(r"sep=(.)\r?\n")


@dataclass(frozen=True)
class Layout:
    """Where the header row is and how its cells are separated."""

    delimiter: str
    header: list[str]
    header_line: int
    body_line: int  # reader.line_num once the header row has been read


def _filled(row: list[str]) -> int:
    return len(row) - row.count("")


def _trial(text: str, delimiter: str, *, skip_first: bool) -> tuple[tuple[float, int], Layout]:
    """Parse the sample with ``delimiter``; score it by how regular its rows are."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: Layout | None = None
    widths: list[int] = []
    last = 0
    try:
        for row in reader:
            line, last = last + 1, reader.line_num
            if skip_first and line == 1:
                continue
            if header is None:
                if _filled(row) >= 2:
                    header = Layout(delimiter, row, line, last)
                elif line > _HEADER_SEARCH_LINES:
                    break
            elif _filled(row) >= 2:
                widths.append(len(row))
                if len(widths) >= _LAYOUT_ROWS:
                    break
    except csv.Error:
        pass
    if header is None:
        return (0.0, 0), Layout(delimiter, [], 0, 0)
    width = len(header.header)
    regular = sum(1 for w in widths if w == width) / len(widths) if widths else 1.0
    return (regular, width), header


def find_layout(text: str) -> Layout:
    """Find the delimiter and the header row in the decoded sample."""
    declared = _SEP_LINE.match(text)
    delimiters = (declared[1],) if declared else _DELIMITERS
    trials = [_trial(text, d, skip_first=declared is not None) for d in delimiters]
    score, layout = max(trials, key=lambda trial: trial[0])  # ties: the earlier delimiter
    if score[1] >= 2:
        return layout
    first = next((line for line in text.splitlines() if line.strip()), "")
    raise UnreadableExport(
        f"No header row found: the first line ({first[:80]!r}) has a single column. "
        "A CRM export needs at least an id column and a creation-date column, "
        "separated by ',', ';', tab or '|'."
    )


def read_sample(stream: BinaryIO) -> tuple[bytes, bool]:
    """The sample to decide the layout from, and whether it is the whole file.

    It holds at least the header line and the line after it: a sample of wide header lines
    grows (doubling) up to ``MAX_SAMPLE_SIZE``; a first line longer than that is refused.
    """
    want = SAMPLE_SIZE
    sample = stream.read(want)
    while True:
        complete = len(sample) < want or not stream.read(1)
        if complete or _line_breaks(sample) >= 2 or want >= MAX_SAMPLE_SIZE:
            break
        stream.seek(-1, io.SEEK_CUR)  # the byte read to tell whether the file ended
        sample += stream.read(want)
        want *= 2
    if not complete and not _line_breaks(sample):
        raise UnreadableExport(
            f"The first line is longer than {MAX_SAMPLE_SIZE // 1024 // 1024} MB "
            f"({MAX_SAMPLE_SIZE:,} bytes), the longest header line accepted: check that the "
            "file is a CSV export with one record per line."
        )
    return sample, complete


def _line_breaks(sample: bytes) -> int:
    return max(sample.count(b"\n"), sample.count(b"\r"))


@dataclass(frozen=True)
class Sample:
    """The file's first bytes, what they decided, and their text."""

    data: bytes
    encoding: Encoding
    text: str
    layout: Layout

    @property
    def lines(self) -> int:
        """Line breaks in the sample (to estimate the file's rows from its size)."""
        return self.text.count("\n") or self.text.count("\r")


def read_layout(stream: BinaryIO) -> Sample:
    """Read the sample from ``stream`` and decide encoding, delimiter and header row."""
    data, complete = read_sample(stream)
    try:
        encoding = detect_encoding(data, complete=complete)
        text = decode_sample(data, encoding, complete=complete)
    except NotText as exc:
        raise UnreadableExport(str(exc)) from exc
    if not text.strip():
        raise UnreadableExport("The file is empty.")
    return Sample(data, encoding, text, find_layout(text))
