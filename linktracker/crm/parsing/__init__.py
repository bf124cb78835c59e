"""Reading outcome exports (CRM today): from an uploaded CSV file to records and row errors.

Pure: no database, no Flask (an import-linter contract holds it). ``inspect_export`` is
the entry point; the steps live in modules of their own.
"""

from linktracker.crm.parsing.export import (
    Converter,
    ExportInfo,
    ExportRows,
    ParsedRecord,
    Row,
    RowError,
    UnreadableExport,
    inspect_export,
)

__all__ = [
    "Converter",
    "ExportInfo",
    "ExportRows",
    "ParsedRecord",
    "Row",
    "RowError",
    "UnreadableExport",
    "inspect_export",
]
