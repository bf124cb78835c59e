"""Input limits read from the schema: text lengths, integer ranges, NUL bytes, days.

Checked before a value reaches the database, so the answer is a field error instead of the
database refusing the statement (PostgreSQL refuses overlong text and any NUL character).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import BigInteger, Integer, SmallInteger, String

from linktracker.db import Base
from linktracker.errors import InvalidInput

NUL = "\x00"
NUL_MESSAGE = "Must not contain a NUL character (\\x00)."
# Report bounds: far enough for any real data, and clear of date arithmetic overflowing.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)
_INTEGER_BITS = ((SmallInteger, 16), (BigInteger, 64), (Integer, 32))


def column_length(model: type[Base], name: str) -> int | None:
    """The declared length of a text column (None for unbounded text)."""
    column_type = model.__table__.c[name].type
    return column_type.length if isinstance(column_type, String) else None


def integer_max(model: type[Base], name: str) -> int:
    """The largest value an integer column holds."""
    column_type = model.__table__.c[name].type
    for kind, bits in _INTEGER_BITS:
        if isinstance(column_type, kind):
            return int(2 ** (bits - 1) - 1)
    raise TypeError(f"{model.__name__}.{name} is not an integer column")


def text_problem(value: str, limit: int | None) -> str | None:
    """Why this text cannot be stored in a column of this length, or None."""
    if NUL in value:
        return NUL_MESSAGE
    if limit is not None and len(value) > limit:
        return f"At most {limit} characters (this has {len(value)})."
    return None


def text_errors(model: type[Base], values: Mapping[str, str | None]) -> dict[str, str]:
    """{column: message} for each value too long for its column or holding a NUL."""
    errors: dict[str, str] = {}
    for name, value in values.items():
        if value is not None:
            problem = text_problem(value, column_length(model, name))
            if problem:
                errors[name] = problem
    return errors


def nul_errors(values: Mapping[str, str | None]) -> dict[str, str]:
    """{field: message} for each value holding a NUL (for values only looked up, never stored)."""
    return {name: NUL_MESSAGE for name, value in values.items() if value and NUL in value}


def refuse_nul(message: str, values: Mapping[str, str | None]) -> None:
    """Raise InvalidInput naming every value that holds a NUL."""
    errors = nul_errors(values)
    if errors:
        raise InvalidInput(message, errors)


def parse_whole_number(
    name: str, raw: str | None, *, default: int, minimum: int = 0, maximum: int
) -> int:
    """A whole number from text (the default when empty), or InvalidInput naming the range."""
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip()
    # int() also reads non-ASCII digits and 4,300-digit numbers; only plain ASCII digits pass.
    digits = value[1:] if value[:1] in "+-" else value
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 20):
        raise InvalidInput(f"'{name}' must be a whole number.", {name: _range(minimum, maximum)})
    number = int(value)
    if not minimum <= number <= maximum:
        raise InvalidInput(f"'{name}' is out of range.", {name: _range(minimum, maximum)})
    return number


def _range(minimum: int, maximum: int) -> str:
    return f"Use a whole number between {minimum} and {maximum}."


def parse_day(name: str, raw: str | None) -> date | None:
    """A YYYY-MM-DD day within FIRST_DAY..LAST_DAY (None when empty), or InvalidInput."""
    if raw is None or raw.strip() == "":
        return None
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput("The date is invalid.", {name: "Use a date as YYYY-MM-DD."}) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(
            "The date is out of range.",
            {name: f"Use a date between {FIRST_DAY} and {LAST_DAY}."},
        )
    return day
