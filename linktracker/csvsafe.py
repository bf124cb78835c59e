"""CSV that is safe to open in a spreadsheet (no formula injection, OWASP's rule)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

# A cell starting with one of these is run as a formula by Excel, LibreOffice or Sheets.
FORMULA_STARTERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The cell text, with a leading quote when a spreadsheet would take it for a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        # Our own numbers (including negative ones) are data, not formulas.
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTERS) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV document (CRLF line ends, every cell neutralised)."""
    return "".join(iter_csv(header, rows))


def iter_csv(
    header: Sequence[str], rows: Iterable[Sequence[object]], *, chunk_rows: int = 500
) -> Iterator[str]:
    """The same document as ``to_csv``, in pieces of ``chunk_rows`` rows, for streaming."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(h) for h in header])
    for n, row in enumerate(rows, 1):
        writer.writerow([safe_cell(cell) for cell in row])
        if n % chunk_rows == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
