"""The one door every click goes through: database first, durable spool when it is down."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from linktracker.clicks.services import click_row, insert_click_rows
from linktracker.clicks.spool import ClickSpool, replay_spool
from linktracker.clicks.visitor import Visitor, new_click_id
from linktracker.links.services import LinkTarget

log = logging.getLogger(__name__)

# After a failure, skip the database for this long: a dead database must not slow redirects.
BREAKER_SECONDS = 1.0


class ClickRecorder:
    """Records clicks; never raises for a database problem, never loses an answered click."""

    def __init__(self, engine: Engine, secret: bytes, spool_folder: str | Path) -> None:
        self.engine = engine
        self.secret = secret
        self.spool = ClickSpool(spool_folder)
        self._lock = threading.Lock()
        self._skip_database_until = 0.0

    def record(self, target: LinkTarget, visitor: Visitor, now: datetime) -> str:
        """Store one click and return its click id."""
        row = click_row(target, visitor, secret=self.secret, now=now, click_id=new_click_id())
        if time.monotonic() >= self._skip_database_until:
            try:
                with self.engine.begin() as connection:
                    insert_click_rows(connection, [row])
            except DBAPIError as exc:
                log.warning("click spooled, database unavailable: %s", exc.__class__.__name__)
                self._skip_database_until = time.monotonic() + BREAKER_SECONDS
            else:
                if self.spool.holding:
                    self._drain()
                return str(row["click_id"])
        with self._lock:
            self.spool.append(row)
        return str(row["click_id"])

    def _drain(self) -> None:
        # The database answers again: hand our spool file over and replay every free file.
        with self._lock:
            self.spool.close()
        try:
            replayed = replay_spool(self.engine, self.spool.folder)
            log.info("replayed %d spooled clicks", replayed)
        except DBAPIError:
            log.warning("spool replay failed; it will be retried", exc_info=True)
