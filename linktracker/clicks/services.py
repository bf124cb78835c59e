"""Recording clicks and counting them per link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Dialect, case, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
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
    """insert(Click) compiled once for a dialect, run as one executemany on a DBAPI connection.

    The click writer stores every batch through this: SQLAlchemy still renders the statement
    and converts each value with the column's own type (so rows read back exactly as if
    inserted through the ORM), but per batch there is no pool checkout, compile-cache lookup
    or event dispatch, only the driver's executemany and a commit.
    """

    def __init__(self, dialect: Dialect) -> None:
        columns = [column for column in Click.__table__.columns if column.key != "id"]
        # A click id already stored (the spool's replay got there first) is skipped, not an
        # error; inline(): no RETURNING of the new ids, which nobody reads.
        statement = insert_ignoring_stored_clicks(dialect).inline()
        compiled = statement.compile(dialect=dialect, column_keys=[c.key for c in columns])
        self.sql = str(compiled)
        self.positional = bool(compiled.positional)
        names = list(compiled.positiontup or []) if self.positional else [c.key for c in columns]
        types = {column.key: column.type for column in columns}
        self._converters = [
            (name, types[name].dialect_impl(dialect).bind_processor(dialect)) for name in names
        ]

    def parameters(self, row: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        """One row's parameters in the driver's format, converted by the column types."""
        values = [
            convert(row[name]) if convert else row[name] for name, convert in self._converters
        ]
        if self.positional:
            return tuple(values)
        return {name: value for (name, _), value in zip(self._converters, values, strict=True)}

    def execute(self, dbapi_connection: Any, rows: list[dict[str, Any]]) -> None:
        """Insert the rows and commit (the caller handles the driver's errors)."""
        # In click id order, so two writers never wait on each other's rows in a cycle.
        ordered = sorted(rows, key=lambda row: str(row["click_id"]))
        cursor = dbapi_connection.cursor()
        try:
            cursor.executemany(self.sql, [self.parameters(row) for row in ordered])
        finally:
            cursor.close()
        dbapi_connection.commit()


@dataclass(frozen=True)
class LinkClickCounts:
    clicks: int
    bot_clicks: int
    preview_clicks: int
    unique_visitors: int


def count_link_clicks(session: Session, link_id: int) -> LinkClickCounts:
    """Human clicks, bot and preview requests, and daily unique visitors of one link."""
    human = ~Click.is_bot & ~Click.is_preview
    row = session.execute(
        select(
            func.count(case((human, 1))),
            func.count(case((Click.is_bot & ~Click.is_preview, 1))),
            func.count(case((Click.is_preview, 1))),
        ).where(Click.link_id == link_id)
    ).one()
    # Visitor hashes are per day, so distinct hashes = daily uniques summed (SPEC §3.6).
    uniques = session.scalar(
        select(func.count(func.distinct(Click.visitor_hash))).where(Click.link_id == link_id, human)
    )
    return LinkClickCounts(row[0], row[1], row[2], int(uniques or 0))
