"""Recording clicks and counting them per link."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Dialect, bindparam, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from linktracker.clicks.bots import classify_user_agent
from linktracker.clicks.models import Click
from linktracker.clicks.referrers import referrer_channel, referrer_host
from linktracker.clicks.visitor import Visitor, visitor_hash
from linktracker.links.services import LinkTarget

_INSERT = insert(Click)
MAX_REFERRER = 2000


def click_row(
    target: LinkTarget, visitor: Visitor, *, secret: bytes, now: datetime, click_id: str
) -> dict[str, Any]:
    """The Click row for one request: everything derived, nothing raw about the person."""
    verdict = classify_user_agent(visitor.user_agent)
    host = referrer_host(visitor.referrer)
    is_head = visitor.method == "HEAD"
    return {
        "click_id": click_id,
        "created_at": now,
        "link_id": target.id,
        "employee_id": target.employee_id,
        "campaign_id": target.campaign_id,
        "channel": target.channel,
        "method": visitor.method,
        "referrer": visitor.referrer[:MAX_REFERRER] if visitor.referrer else None,
        "referrer_host": host,
        "referrer_channel": referrer_channel(host),
        "browser": verdict.browser,
        "os": verdict.os,
        "device_type": verdict.device_type,
        "is_bot": verdict.is_bot,
        "bot_name": verdict.bot_name,
        # A HEAD request never shows a page to a person: link checkers and unfurlers use it.
        "is_preview": verdict.is_preview or is_head,
        "visitor_hash": visitor_hash(secret, now.date(), visitor.ip, visitor.user_agent),
        "country": visitor.country,
    }


def insert_click_rows(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert already-built click rows in the caller's transaction (demo data, tests)."""
    if rows:
        connection.execute(_INSERT, rows)


def insert_ignoring_stored_clicks(dialect: Dialect) -> Insert:
    """INSERT INTO clicks that skips click ids already stored (PostgreSQL and SQLite)."""
    insert_for = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    return insert_for(Click).on_conflict_do_nothing(index_elements=["click_id"])


class ClickInsert:
    """A batch of click rows stored as ONE INSERT statement on an autocommit DBAPI connection.

    The click writer stores every batch through this. One statement in autocommit is one
    atomic transaction: on PostgreSQL a single round trip (no BEGIN, no separate COMMIT), on
    SQLite one implicit transaction. Each value goes through its column type's bind processor,
    so rows read back exactly as if inserted through the ORM; per batch there is no pool
    checkout, compile-cache lookup or event dispatch. A click id already stored (the spool's
    replay got there first) is skipped, not an error.
    """

    # SQLite: most rows per statement (a power of two), far below its 32,766 bound parameters.
    MAX_ROWS = 256

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        # The database fills in the id and (PostgreSQL) the storing transaction's id.
        self._columns = [
            column for column in Click.__table__.columns if column.key not in ("id", "xact_id")
        ]
        self._convert = {
            column.key: column.type.dialect_impl(dialect).bind_processor(dialect)
            for column in self._columns
        }
        self._statements: dict[int, tuple[str, list[tuple[int, str]]]] = {}
        postgresql = dialect.name == "postgresql"
        self._unnest_sql = self._unnest_statement() if postgresql else ""
        self._one_row = None if postgresql else self._one_row_statement()

    def autocommit(self, dbapi_connection: Any) -> None:
        """Put the writer's connection in autocommit: each batch commits with its statement."""
        driver = getattr(dbapi_connection, "driver_connection", dbapi_connection)
        if self.dialect.name == "sqlite":
            driver.isolation_level = None  # sqlite3: no implicit BEGIN
        else:
            driver.autocommit = True

    def execute(self, dbapi_connection: Any, rows: list[dict[str, Any]]) -> None:
        """Insert the rows, committed (autocommit; the caller handles the driver's errors)."""
        # In click id order, so two writers never wait on each other's rows in a cycle.
        ordered = sorted(rows, key=lambda row: str(row["click_id"]))
        cursor = dbapi_connection.cursor()
        try:
            if self._unnest_sql:
                cursor.execute(*self.statement(ordered))
            else:
                self._insert_slices(cursor, ordered)
        finally:
            cursor.close()

    def _insert_slices(self, cursor: Any, rows: list[dict[str, Any]]) -> None:
        # SQLite: power-of-two slices of the batch, one transaction (and commit) for them all.
        slices = list(_chunks(rows, self.MAX_ROWS))
        if len(slices) == 1:
            cursor.execute(*self.statement(slices[0]))
            return
        cursor.execute("BEGIN")
        try:
            for rows_slice in slices:
                cursor.execute(*self.statement(rows_slice))
            cursor.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                cursor.execute("ROLLBACK")
            raise

    def statement(self, rows: list[dict[str, Any]]) -> tuple[str, Any]:
        """SQL and driver parameters inserting `rows` (converted by the column types)."""
        convert = self._convert
        if self._unnest_sql:
            # One array per column: the statement text is the same for every batch size, so
            # PostgreSQL prepares it once and psycopg converts it once.
            arrays = {}
            for key, processor in convert.items():
                values = [row[key] for row in rows]
                arrays[key] = [processor(value) for value in values] if processor else values
            return self._unnest_sql, arrays
        sql, order = self._values_statement(len(rows))
        parameters = []
        for i, key in order:
            value, processor = rows[i][key], convert[key]
            parameters.append(processor(value) if processor else value)
        return sql, tuple(parameters)

    def _unnest_statement(self) -> str:
        # INSERT ... SELECT * FROM unnest(%(click_id)s::VARCHAR(40)[], ...), from the model.
        preparer = self.dialect.identifier_preparer
        names = ", ".join(preparer.quote(column.name) for column in self._columns)
        arrays = ", ".join(
            f"%({column.key})s::{column.type.compile(dialect=self.dialect)}[]"
            for column in self._columns
        )
        table = preparer.format_table(Click.__table__)
        return (
            f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) "
            "ON CONFLICT (click_id) DO NOTHING"
        )

    def _values_statement(self, size: int) -> tuple[str, list[tuple[int, str]]]:
        # SQLite: INSERT ... VALUES (?, ...), (?, ...): the one-row statement's "(?, ...)"
        # group repeated `size` times (SQLAlchemy compiling a large statement holds the GIL
        # for long); `order` maps each positional parameter to (row index, column key). Sizes
        # are powers of two (see _chunks), so few texts are cached here and in the driver's
        # prepared-statement cache.
        cached = self._statements.get(size)
        if cached is None:
            assert self._one_row is not None  # SQLite
            sql, group, keys = self._one_row
            order = [(i, key) for i in range(size) for key in keys]
            cached = self._statements[size] = (sql.replace(group, ", ".join([group] * size)), order)
        return cached

    def _one_row_statement(self) -> tuple[str, str, list[str]]:
        # The one-row INSERT rendered by SQLAlchemy, its "(?, ...)" group and the column keys
        # of its positional parameters.
        one = (
            insert_ignoring_stored_clicks(self.dialect)
            .values({c.key: bindparam(c.key, type_=c.type) for c in self._columns})
            .compile(dialect=self.dialect)
        )
        keys = list(one.positiontup or [])
        group = "(" + ", ".join(["?"] * len(keys)) + ")"
        sql = str(one)
        if sql.count(group) != 1:
            raise RuntimeError(f"unexpected one-row INSERT: {sql}")
        return sql, group, keys


def _chunks(rows: list[dict[str, Any]], most: int) -> Iterator[list[dict[str, Any]]]:
    """`rows` in slices whose sizes are powers of two, none over `most` (itself one)."""
    start = 0
    while start < len(rows):
        left = len(rows) - start
        size = most if left >= most else 1 << (left.bit_length() - 1)
        yield rows[start : start + size]
        start += size
