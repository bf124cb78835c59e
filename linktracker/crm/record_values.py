"""A parsed CRM record as stored: checked lengths, hashed email, content hash; SQLite's row.

Pure (no database, no Flask): an import's parsing process builds the stored values, so the
importing process only compares content hashes, converts what it writes, and writes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

from linktracker.crm.parsing import ParsedRecord, RowError

_CENT: Final = Decimal("0.01")
_MAX_AMOUNT: Final = Decimal(10) ** 16  # Numeric(18, 2)
_EMAIL_KEY_LABEL: Final = b"linktracker crm email"
# Values longer than their column are rejected with the row rather than cut silently.
_LIMITS: Final = (
    ("external_id", 128),
    ("owner", 200),
    ("stage", 120),
    ("utm_source", 200),
    ("utm_medium", 200),
    ("utm_campaign", 200),
    ("utm_content", 200),
    ("utm_term", 200),
    ("click_id", 40),
    ("source", 200),
)

# Stored values of a record in this order: external id, the fields below, content hash.
# The fields are the parsed record's own, kind to landing_url; its source is lead_source;
# then its name and company.
Values = tuple[Any, ...]
# The same values as the SQLite writer binds them (external id first, hash last).
SqliteRow = tuple[Any, ...]
_PARSED: Final = ParsedRecord._fields
RECORD_FIELDS: Final = (
    *_PARSED[_PARSED.index("kind") : _PARSED.index("source")],
    "lead_source",
    "name",
    "company",
)


def email_key(secret: bytes) -> bytes:
    return hmac.digest(secret, _EMAIL_KEY_LABEL, "sha256")


def email_hasher(key: bytes) -> Callable[[str], str]:
    """HMAC-SHA256 of an email under ``key``, hex: the same value as ``hmac.digest``.

    The keyed HMAC is set up once and copied per email, cheaper than ``hmac.digest``
    setting up OpenSSL's HMAC for every row.
    """
    keyed = hmac.new(key, digestmod=hashlib.sha256)

    def hash_email(email: str) -> str:
        mac = keyed.copy()
        mac.update(email.encode())
        return mac.hexdigest()

    return hash_email


def value_builder(email_key: bytes | None) -> Callable[[ParsedRecord], Values | RowError]:
    """Build the function turning a parsed record into stored values (or a row error)."""
    blake2b = hashlib.blake2b
    hash_email = None if email_key is None else email_hasher(email_key)
    limits = [(_PARSED.index(name), name, limit) for name, limit in _LIMITS]
    cent = _CENT
    max_amount = _MAX_AMOUNT
    head = slice(_PARSED.index("external_id"), _PARSED.index("amount"))
    tail = slice(_PARSED.index("utm_source"), _PARSED.index("source") + 1)
    assert _PARSED[head.stop : tail.start] == ("amount", "currency", "email")
    names = slice(_PARSED.index("name"), _PARSED.index("company") + 1)

    def to_values(record: ParsedRecord) -> Values | RowError:
        for position, name, limit in limits:
            value: str | None = record[position]  # type: ignore[assignment]
            if value is not None and len(value) > limit:
                return RowError(
                    record.line, None, f"{name} is longer than {limit} characters", record.raw
                )
        amount = record.amount
        if amount is not None:
            if abs(amount) >= max_amount:
                return RowError(record.line, None, f"amount {amount} is too large", record.raw)
            amount = amount.quantize(cent)
        email = record.email
        if email is not None:
            if hash_email is not None:
                email = hash_email(email)
            elif len(email) > 320:
                return RowError(
                    record.line, None, "email is longer than 320 characters", record.raw
                )
        if "\x00" in "".join(record.raw):
            return RowError(record.line, None, "the row contains NUL characters", record.raw)
        # ParsedRecord's fields from external_id to source, amount and email as stored.
        fields: tuple[Any, ...] = record
        stored = fields[head] + (amount, record.currency, email) + fields[tail] + fields[names]
        # repr() of the stored values tells None from 'None' and 1.50 from 1.5 (quantized).
        return (*stored, blake2b(repr(stored).encode(), digest_size=16).hexdigest())

    return to_values


def sqlite_row(v: Values) -> SqliteRow:
    """Values as SQLAlchemy stores them on SQLite: naive UTC text, integer flags, REAL money.

    Bound straight on the DB-API cursor: SQLAlchemy's per-value bind processing would cost
    more than SQLite's work. The dates are UTC, so their text is the aware one without its
    "+00:00" (slicing it off is cheaper than replace(tzinfo=None), which parses keywords).
    """
    return (
        v[0],
        v[1],
        v[2].isoformat(" ", "microseconds")[:26],
        v[3],
        v[4],
        int(v[5]),
        None if v[6] is None else v[6].isoformat(" ", "microseconds")[:26],
        None if v[7] is None else float(v[7]),
        *v[8:],
    )
