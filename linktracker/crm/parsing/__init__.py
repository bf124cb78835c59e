"""Reading outcome exports (CRM today): from an uploaded CSV file to records and row errors.

Pure: no database, no Flask (an import-linter contract holds it). ``inspect_export`` is
the entry point (``export``); each step lives in a module of its own: ``layout`` (the
sample: encoding, delimiter, header row), ``headers`` with ``aliases`` (columns to fields),
``prescan`` (duplicates, decimal separator), ``date_order`` (day/month order, decided
once per file), ``convert`` (a row to a record or a row error), ``dates`` and ``values``
(one cell's value), ``records`` (what comes out).
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

__all__ = [
    "CRM_ALIASES",
    "AliasTable",
    "Converter",
    "ExportInfo",
    "ExportRows",
    "ParsedRecord",
    "Row",
    "RowError",
    "UnreadableExport",
    "export_header",
    "inspect_export",
]
