"""How an export is read: the import options, their checks, and the CLI's `--map` entries."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

from linktracker.crm.parsing import ExportInfo, ExportRows, inspect_export
from linktracker.crm.parsing.headers import TARGETS
from linktracker.errors import InvalidInput


@dataclass(frozen=True)
class ImportOptions:
    """How a file is read; recorded on the import so a resumed run reads it the same way."""

    mapping: dict[str, str | None] | None = None
    dayfirst: bool | None = None
    timezone: str = "UTC"
    click_id_param: str = "lt_cid"
    keep_emails: bool = False
    dry_run: bool = False
    sheet: str | None = None  # a workbook's sheet by name; None: the first visible one

    def reading(self) -> dict[str, Any]:
        """The arguments of ``inspect_export`` (and its ATS twin) these options set."""
        return {
            "mapping": self.mapping,
            "dayfirst": self.dayfirst,
            "timezone": self.timezone,
            "click_id_param": self.click_id_param,
        }

    def as_json(self) -> dict[str, Any]:
        """The options as stored in ``CrmImport.options``."""
        return {
            "mapping": self.mapping,
            "dayfirst": self.dayfirst,
            "timezone": self.timezone,
            "click_id_param": self.click_id_param,
            "keep_emails": self.keep_emails,
            "dry_run": self.dry_run,
            "sheet": self.sheet,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ImportOptions:
        """Options as recorded by an earlier run."""
        return cls(
            mapping=data.get("mapping"),
            dayfirst=data.get("dayfirst"),
            timezone=data.get("timezone", "UTC"),
            click_id_param=data.get("click_id_param", "lt_cid"),
            keep_emails=bool(data.get("keep_emails", False)),
            dry_run=bool(data.get("dry_run", False)),
            sheet=data.get("sheet"),
        )


def check_options(options: ImportOptions) -> None:
    try:
        zoneinfo.ZoneInfo(options.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"{options.timezone!r} is not a known time zone (e.g. Europe/Berlin).",
            {"timezone": "Unknown time zone."},
        ) from exc
    check_mapping(options.mapping, TARGETS)


def check_mapping(mapping: Mapping[str, str | None] | None, fields: tuple[str, ...]) -> None:
    """Refuse a mapping with an empty column name or a field not in ``fields``."""
    for column, target in (mapping or {}).items():
        if not isinstance(column, str) or not column.strip():
            raise InvalidInput("The mapping has an empty column name.", {"mapping": "Invalid."})
        if target is not None and target not in fields:
            raise InvalidInput(
                f"The mapping sends column {column!r} to unknown field {target!r}. "
                f"Fields: {', '.join(fields)}.",
                {"mapping": "Unknown field."},
            )


def parse_mapping_option(entries: Iterable[str]) -> dict[str, str | None]:
    """`Created On=created_at` entries (CLI `--map`) as a mapping; `Column=` ignores it."""
    mapping: dict[str, str | None] = {}
    for entry in entries:
        column, equals, target = entry.rpartition("=")
        if not equals or not column.strip():
            raise InvalidInput(
                f"--map {entry!r}: write COLUMN=FIELD, e.g. 'Created On=created_at' "
                "(COLUMN= ignores the column).",
                {"mapping": "Invalid."},
            )
        mapping[column.strip()] = target.strip() or None
    return mapping


def inspect_with_options(
    stream: BinaryIO, options: ImportOptions, source: str | None
) -> tuple[ExportInfo, ExportRows]:
    """Inspect an export the way these options read it (raises ``UnreadableExport``)."""
    return inspect_export(stream, source=source, **options.reading())
