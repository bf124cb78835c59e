"""Excel workbooks (.xlsx, .xlsm) read as CSV text, so every import reads them like a CSV export.

``csv_view`` hands the rest of the pipeline CSV bytes: a text file's own stream, or one sheet
of a workbook written once as UTF-8 CSV to a temporary file, which the pre-scan and the
parsing processes then read as often as they read any CSV. A cell's value is written as the
workbook stores it, so the existing parsing reads it without guessing:

* true date and time cells as ISO 8601 (``2026-03-04``, ``2026-03-04 09:30:00``): no
  day/month order is voted on or guessed for them;
* numbers in full, with a decimal point and no grouping (``1234.5``; a whole number
  without a fraction, so numeric ids read as they do in CSV), and a number with exactly
  three decimals gets a fourth zero (``1.2340``), the one shape an amount could otherwise
  read as a thousands group;
* booleans as ``TRUE``/``FALSE``, as Excel's own CSV export writes them; text as typed,
  then parsed like the same text in a CSV file (text dates still vote on the order).

The sheet is streamed row by row with python-calamine-plus (calamine in Rust, decoding rows
straight from the compressed sheet as they are asked for): about 10 times the speed of
openpyxl's streaming mode and of the standard library's ``iterparse`` on this machine, in
constant memory (see docs/performance.md; python-calamine itself holds the whole sheet, about
120 MB per 100,000 rows of 13 columns). The sheet is converted once, and the CSV rows are what
the pre-scan and parsing stream. Lines are sheet rows from row 1 and cells sheet columns from
column A, blank ones included, as Excel's own "Save as CSV" writes them.

Refused with a message: Excel 97-2003 workbooks (``.xls``, an OLE container), encrypted
(password-protected) workbooks (an OLE container holding an ``EncryptedPackage``), ZIP
archives that hold no workbook, and a sheet name the workbook does not have.
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import IO, Any, BinaryIO, Final, cast

import olefile
import python_calamine_plus as calamine

from linktracker.crm.parsing.records import UnreadableExport

__all__ = [
    "WORKBOOK_ENCODING",
    "CsvView",
    "Workbook",
    "csv_view",
    "is_workbook",
    "sheet_cell_text",
    "upload_text",
]

# What an import records as the "encoding" of a workbook upload.
WORKBOOK_ENCODING: Final = "xlsx"
_ZIP: Final = b"PK\x03\x04"
_OLE: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_WORKBOOK_PARTS: Final = ("xl/workbook.xml",)
_SAVE_AS: Final = "In Excel: File › Save As › Excel Workbook (.xlsx) or CSV UTF-8."
# Whole numbers up to 2**53 are exact in a double; larger ones keep their float spelling.
_EXACT_INTEGER: Final = 2**53


@dataclass(frozen=True)
class Workbook:
    """The workbook a CSV view was made of: the sheet read and every sheet's name."""

    sheet: str
    sheets: tuple[str, ...]
    rows: int  # rows written, blank leading rows included (line numbers are sheet rows)


@dataclass(frozen=True)
class CsvView:
    """An export as CSV bytes: ``stream`` to read, ``path`` for other processes to open."""

    stream: BinaryIO
    path: str | None  # None: the caller's own stream (a text file) is the view
    workbook: Workbook | None  # None: the export is a text file


def is_workbook(stream: BinaryIO) -> bool:
    """Whether the stream holds an Excel workbook, readable or not (by its first bytes)."""
    start = stream.tell()
    head = stream.read(8)
    stream.seek(start)
    return head.startswith(_ZIP) or head == _OLE


@contextmanager
def csv_view(
    stream: BinaryIO,
    *,
    sheet: str | None = None,
    limit: int | None = None,
    folder: str | os.PathLike[str] | None = None,
) -> Iterator[CsvView]:
    """The export as CSV: the stream itself for text, a workbook's sheet written to a temporary
    file (in ``folder``, removed on exit) otherwise; ``limit`` stops after that many sheet rows.

    Raises :class:`UnreadableExport` for a workbook that cannot be read, and when ``sheet`` is
    given for a text file.
    """
    if not is_workbook(stream):
        if sheet:
            raise UnreadableExport(
                f"The file is not a workbook, so it has no sheet {sheet!r}: a sheet can only "
                "be chosen in an Excel workbook (.xlsx)."
            )
        yield CsvView(stream, None, None)
        return
    start = stream.tell()
    _check_container(stream)
    stream.seek(start)
    with tempfile.NamedTemporaryFile(
        "w+b", suffix=".csv", prefix="sheet-", dir=folder, delete=True
    ) as out:
        workbook = _write_sheet(stream, out, sheet, limit)
        out.flush()
        out.seek(0)
        yield CsvView(cast(BinaryIO, out), out.name, workbook)


def _check_container(stream: BinaryIO) -> None:
    """Refuse what is not an .xlsx workbook, each with its own message."""
    head = stream.read(8)
    stream.seek(-len(head), io.SEEK_CUR)
    if head == _OLE:
        raise UnreadableExport(_ole_problem(stream))
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        raise UnreadableExport(
            f"The file starts like an Excel workbook (.xlsx) but is damaged or cut short "
            f"({exc}). Open it in Excel and save it again, or save it as CSV UTF-8."
        ) from exc
    if "xl/workbook.bin" in names:
        raise UnreadableExport(
            "The file is an Excel binary workbook (.xlsb), which is not read. " + _SAVE_AS
        )
    if not any(part in names for part in _WORKBOOK_PARTS):
        raise UnreadableExport(
            "The file is a ZIP archive but not an Excel workbook (.xlsx): it has no "
            "xl/workbook.xml. Upload the workbook itself, or the export as CSV."
        )


def _ole_problem(stream: BinaryIO) -> str:
    """Why an OLE container (the pre-2007 Office format) cannot be read."""
    try:
        with olefile.OleFileIO(stream) as ole:
            encrypted = ole.exists("EncryptedPackage")
            legacy = ole.exists("Workbook") or ole.exists("Book")
    except OSError:
        encrypted = legacy = False
    if encrypted:
        return (
            "The workbook is password-protected (encrypted), so it cannot be read. Open it "
            "in Excel, remove the password (File › Info › Protect Workbook › Encrypt with "
            "Password, clear the password), save, and upload it again."
        )
    if legacy:
        return "The file is an Excel 97-2003 workbook (.xls), which is not read. " + _SAVE_AS
    return (
        "The file is a Microsoft Office 97-2003 document, not a workbook or CSV. "
        "Upload the export as .xlsx or CSV UTF-8."
    )


def _open_book(stream: BinaryIO) -> calamine.CalamineWorkbook:
    """The workbook, read from its file where the stream is one (the sheet then streams from
    disk), else from the stream's bytes (the compressed workbook, not the sheet, in memory)."""
    name = getattr(stream, "name", None)
    try:
        if isinstance(name, str) and stream.tell() == 0 and os.path.isfile(name):
            return calamine.CalamineWorkbook.from_path(name)
        return calamine.CalamineWorkbook.from_filelike(stream)
    except calamine.PasswordError as exc:  # pragma: no cover - refused as OLE first
        raise UnreadableExport("The workbook is password-protected, so it cannot be read.") from exc
    except (calamine.CalamineError, ValueError, OSError) as exc:
        raise _damaged(exc) from exc


def _damaged(exc: Exception) -> UnreadableExport:
    return UnreadableExport(
        f"The workbook cannot be read ({exc}). Open it in Excel and save it again, "
        "or save it as CSV UTF-8."
    )


def _chosen_sheet(book: calamine.CalamineWorkbook, sheet: str | None) -> Workbook:
    names = tuple(book.sheet_names)
    if sheet:
        if sheet not in names:
            raise UnreadableExport(
                f"The workbook has no sheet {sheet!r}; its sheets: {', '.join(names)}."
            )
        return Workbook(sheet, names, 0)
    return Workbook(_first_sheet(book), names, 0)


def _first_sheet(book: calamine.CalamineWorkbook) -> str:
    """The first visible worksheet (hidden sheets hold lookups, not the export)."""
    metadata = book.sheets_metadata
    for sheet in metadata:
        if (
            sheet.typ == calamine.SheetTypeEnum.WorkSheet
            and sheet.visible == calamine.SheetVisibleEnum.Visible
        ):
            return sheet.name
    if not metadata:
        raise UnreadableExport("The workbook has no sheets.")
    return metadata[0].name


def _write_sheet(
    stream: BinaryIO, out: IO[bytes], sheet: str | None, limit: int | None
) -> Workbook:
    """Write the chosen sheet to ``out`` as UTF-8 CSV, one line per sheet row, streaming it."""
    book = _open_book(stream)
    try:
        workbook = _chosen_sheet(book, sheet)
        try:
            found = book.stream_sheet_by_name(
                workbook.sheet, max_row=None if limit is None else limit - 1
            )
        except calamine.StreamingNotSupported as exc:  # pragma: no cover - .xlsx only here
            raise _damaged(exc) from exc
        rows, filled = _write_rows(found, out)
    except calamine.CalamineError as exc:  # the sheet's XML is damaged
        raise _damaged(exc) from exc
    finally:
        book.close()
    if not filled:
        raise UnreadableExport(f"The sheet {workbook.sheet!r} is empty.")
    return Workbook(workbook.sheet, workbook.sheets, rows)


def _write_rows(found: Iterable[list[Any]], out: IO[bytes]) -> tuple[int, bool]:
    """Write the rows as CSV: how many, and whether any cell holds something."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
    texts = _RowTexts(found)
    try:
        csv.writer(text, lineterminator="\n").writerows(texts)
    finally:
        text.flush()
        text.detach()
    return texts.count, texts.filled


class _RowTexts:
    """The rows' cells as text, counted; calamine gives every row as wide as the widest
    before it (a sheet has no short rows)."""

    def __init__(self, found: Iterable[list[Any]]) -> None:
        self.found = found
        self.count = 0
        self.filled = False  # whether a cell holds something

    def __iter__(self) -> Iterator[list[str]]:
        cell = sheet_cell_text
        rows = iter(self.found)
        count = 0
        for row in rows:  # the blank rows above the data, and its first row
            count += 1
            yield [v if type(v) is str else cell(v) for v in row]
            if any(value != "" for value in row):
                self.filled = True
                break
        last = count
        for last, row in enumerate(rows, count + 1):  # noqa: B007 - the last one is kept
            # Most cells are text: written as they are, without a call per cell.
            yield [v if type(v) is str else cell(v) for v in row]
        self.count = last


def _any_cell_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return _datetime_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.replace(microsecond=0).isoformat()
    if value is None:
        return ""
    return str(value)


def _datetime_text(value: datetime) -> str:
    if value.microsecond:
        whole = value.replace(microsecond=0)
        if value.microsecond >= 500_000:  # serials carry float noise below the second
            whole += timedelta(seconds=1)
        value = whole
    if not (value.hour or value.minute or value.second):
        return value.date().isoformat()
    return value.isoformat(sep=" ")


def _bool_text(value: bool) -> str:
    return "TRUE" if value else "FALSE"


def _number_text(value: float) -> str:
    if not math.isfinite(value):
        return ""
    if value.is_integer() and abs(value) < _EXACT_INTEGER:
        return str(int(value))
    text = format(Decimal(repr(value)), "f")
    if len(text.partition(".")[2]) == 3:
        return f"{text}0"  # `1.234` could be read as one thousand two hundred and thirty-four
    return text


# The cell types calamine gives, each to its text without the chain of isinstance checks.
_CELL_TEXT: Final[dict[type, Callable[[Any], str]]] = {
    str: str,
    int: str,
    float: _number_text,
    datetime: _datetime_text,
    date: date.isoformat,
    bool: _bool_text,
}


def sheet_cell_text(value: object) -> str:
    """A cell's value as CSV text that the export parsing reads as the value stored."""
    convert = _CELL_TEXT.get(type(value))
    if convert is not None:
        return convert(value)
    return _any_cell_text(value)


def upload_text(stream: BinaryIO, *, sheet: str | None = None) -> str:
    """A small upload (a list of employees) as CSV text: UTF-8 text, or a workbook's sheet.

    Raises :class:`UnreadableExport` for a workbook that cannot be read or text that is not
    UTF-8.
    """
    with csv_view(stream, sheet=sheet) as view:
        data = view.stream.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableExport(
            "The file is not UTF-8 text. Save it as “CSV UTF-8” or as an Excel workbook "
            "(.xlsx) and upload it again."
        ) from None
