"""Reading outcome exports (CRM today): from an uploaded CSV file or workbook to records and row
errors.

Pure: no database, no Flask (an import-linter contract holds it). ``inspect_export`` is
the entry point (``export``); each step lives in a module of its own: ``layout`` (the
sample: encoding, delimiter, header row), ``headers`` with ``aliases`` (columns to fields),
``prescan`` (duplicates, decimal separator), ``date_order`` (day/month order, decided
once per file), ``convert`` (a row to a record or a row error), ``dates`` and ``values``
(one cell's value), ``records`` (what comes out); ``workbooks`` turns an .xlsx sheet into the
CSV the rest reads (``csv_view``).
"""

from linktracker.crm.parsing.aliases import CRM_ALIASES, AliasTable
from linktracker.crm.parsing.export import ExportInfo, ExportRows, export_header, inspect_export
from linktracker.crm.parsing.records import (
    Converter,
    ParsedRecord,
    Row,
    RowError,
    UnreadableExport,
)
from linktracker.crm.parsing.workbooks import (
    WORKBOOK_ENCODING,
    CsvView,
    Workbook,
    csv_view,
    upload_text,
)

__all__ = [
    "CRM_ALIASES",
    "WORKBOOK_ENCODING",
    "AliasTable",
    "Converter",
    "CsvView",
    "ExportInfo",
    "ExportRows",
    "ParsedRecord",
    "Row",
    "RowError",
    "UnreadableExport",
    "Workbook",
    "csv_view",
    "export_header",
    "inspect_export",
    "upload_text",
]
