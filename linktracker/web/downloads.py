"""Download headers that survive any filename an upload came with."""

from __future__ import annotations


def attachment(filename: str) -> str:
    """A Content-Disposition value; quotes, backslashes and non-ASCII become '_'."""
    safe = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f'attachment; filename="{safe}"'
