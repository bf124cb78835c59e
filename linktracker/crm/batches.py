"""An import's rows cut into batches: stored values by external id, row errors, position.

Pure (no database): the same loop runs in the importing process's parsing thread or in a
parsing process of its own (``parser_process``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from linktracker.crm.parsing import Converter, ParsedRecord, Row, RowError
from linktracker.crm.record_values import Values


@dataclass
class Batch:
    """Rows read since the last batch: records by external id, row errors, where it ends."""

    records: dict[str, Values] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    last_line: int = 0
    bytes_read: int = 0

    def __len__(self) -> int:
        return len(self.records) + len(self.errors)


def cut_batches(
    rows: Iterator[Row],
    stream: BinaryIO,
    *,
    done: int,
    batch_size: int,
    convert: Converter,
    to_values: Callable[[ParsedRecord], Values | RowError],
    part: int = 0,
    parts: int = 1,
) -> Iterator[Batch]:
    """Batches of ``batch_size`` rows after line ``done`` (the committed progress line).

    With ``parts`` > 1 the batches are dealt out like cards: this call converts and yields
    only batches ``part``, ``part + parts``, … and merely counts the rows of the others,
    so that ``parts`` readers of one file, each given its ``part``, cut the same batches
    and together yield each exactly once.
    """
    batch = Batch()
    records, errors = batch.records, batch.errors
    parsed: dict[str, ParsedRecord] = {}  # this batch's records as read, for a duplicate
    line = done
    dealt = 0  # batches cut so far, this reader's and the others'
    counted = 0  # rows of the current batch, when it is another reader's
    for line, row in rows:
        if line <= done:
            continue
        if dealt % parts != part:
            counted += 1
            if counted >= batch_size:
                dealt, counted = dealt + 1, 0
            continue
        item = convert(line, row)
        if isinstance(item, RowError):
            errors.append(item)
        else:
            values = to_values(item)
            if isinstance(values, RowError):
                errors.append(values)
            else:
                external_id = item.external_id
                if records.pop(external_id, None) is not None:
                    # The parser reports in-file duplicates; this guards a batch anyway.
                    errors.append(_superseded(parsed[external_id], line))
                records[external_id] = values
                parsed[external_id] = item
        # Every row adds one record or one error (a duplicate swaps a record for an error).
        if len(records) + len(errors) >= batch_size:
            batch.last_line, batch.bytes_read = line, stream.tell()
            yield batch
            dealt += 1
            batch = Batch()
            records, errors = batch.records, batch.errors
            parsed = {}
    if batch:
        batch.last_line, batch.bytes_read = line, stream.tell()
        yield batch


def _superseded(record: ParsedRecord, later: int) -> RowError:
    message = f"duplicate id {record.external_id}, superseded by line {later}"
    return RowError(record.line, None, message, record.raw)
