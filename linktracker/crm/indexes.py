"""The secondary indexes of CRM records, set aside while a bulk import loads.

Every record an import inserts also goes into five secondary index B-trees (reports, won
records, creation date, last import, campaign). Rows arrive in file order, so each batch
lands all over those trees: on SQLite each batch's commit rewrites most of their pages, on
PostgreSQL each insert dirties a page of every index. Building an index once from the
loaded table sorts instead, which costs a fraction of that (figures in docs/performance.md).
So an import whose first batch projects at least ``DEFER_ROWS`` new records, and
at least as many as the table holds, drops those indexes with that batch and creates them
again after its last one, before attribution reads the records. (A re-import, whose
records are unchanged, keeps them: rebuilding would be all cost.) The unique key (source,
external id), which the upsert stands on, always stays.

While they are away, reports still answer, only slower. An import that fails puts them
back on its way out; one whose process is killed leaves them away until the next import
ends or the database is upgraded (the serve command does it at every start).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from sqlalchemy import Connection, Index, func, select
from sqlalchemy.orm import Session

from linktracker.crm.models import CrmRecord

DEFER_ROWS: Final = 50_000


def deferrable_indexes() -> list[Index]:
    """The record indexes an import may drop: all but the unique key."""
    table = CrmRecord.metadata.tables[CrmRecord.__tablename__]
    return sorted((ix for ix in table.indexes if not ix.unique), key=lambda ix: str(ix.name))


def worth_deferring(connection: Connection, inserting: int) -> bool:
    """Is inserting ``inserting`` records, then indexing them, cheaper than indexing each?"""
    if inserting < DEFER_ROWS:
        return False
    held = connection.scalar(select(func.count()).select_from(CrmRecord))
    return inserting >= (held or 0)


def drop_indexes(connection: Connection) -> None:
    """Drop the deferrable indexes (those already dropped are skipped)."""
    for index in deferrable_indexes():
        index.drop(connection, checkfirst=True)


def restore_indexes(connection: Connection) -> None:
    """Create the deferrable indexes that are missing (none, unless a bulk import ran)."""
    for index in deferrable_indexes():
        index.create(connection, checkfirst=True)


@contextmanager
def indexes_restored(session: Session) -> Iterator[None]:
    """Run the body, which may drop the deferrable indexes; they are back at the end.

    The rebuild commits on its own. When the body fails the indexes are put back as well,
    unless the database itself refuses (then the next import or upgrade does).
    """
    try:
        yield
    except BaseException:
        session.rollback()
        try:
            restore_indexes(session.connection())
            session.commit()
        except Exception:
            session.rollback()
        raise
    restore_indexes(session.connection())
    session.commit()
